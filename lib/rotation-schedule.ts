/**
 * Secrets Manager's rules for a rotation schedule (`rate()` or `cron()`, always UTC) and its
 * window, checked at synth so that a schedule CloudFormation would refuse, or one that rotates
 * more often than Secrets Manager allows, fails before anything is deployed.
 *
 * Rules (Secrets Manager User Guide, "Schedule expressions in Secrets Manager rotation"):
 * - at most one rotation every 4 hours;
 * - `rate(N hours)`: windows open at 00:00 UTC and every N hours after, restarting each day;
 * - `rate(N days)`: the window opens at 00:00 UTC; at most 999 days;
 * - `cron(0 H D M W *)`: minutes 0 (windows open on the hour), year `*`, hour increments restart
 *   each day;
 * - a window is whole hours, 1h to 24h, and must not run into the next window or the next UTC day.
 *
 * Rotor is stricter than the guide in one place: a window must be shorter than the hours between
 * two windows (the guide allows equal), so that one rotation window never ends where the next
 * begins and a credential always lives at least an hour.
 */

/** Secrets Manager's shortest interval between two rotations. */
export const MIN_ROTATION_INTERVAL_HOURS = 4;
/** `rate(24 hours)` and longer are written in days. */
export const MAX_RATE_HOURS = 23;
/** The longest rotation period the Secrets Manager User Guide allows. */
export const MAX_RATE_DAYS = 999;
/** A rotation window is 1 to 24 whole hours. */
export const MAX_WINDOW_HOURS = 24;

/** A schedule expression Secrets Manager accepts, with the UTC hours at which its windows open. */
export interface RotationSchedule {
  /** The expression as written, e.g. `rate(4 hours)`. */
  readonly expression: string;
  /** UTC hours (0-23, ascending) at which a rotation window opens, on each day the schedule runs. */
  readonly windowOpensAt: readonly number[];
  /**
   * Fewest hours between two windows opening on the same day; a window must be shorter.
   * Undefined when at most one window opens per day.
   */
  readonly hoursBetweenWindows?: number;
}

/** Either the parsed schedule or why Secrets Manager would refuse it (without the value). */
export type ScheduleParseResult =
  { readonly ok: true; readonly schedule: RotationSchedule } | { readonly ok: false; readonly problem: string };

const RATE = /^rate\((\d+) (hour|hours|day|days)\)$/;
const CRON = /^cron\((.*)\)$/;
const SCHEDULE_FORMS = 'must be "rate(N hours)", "rate(N days)" or "cron(0 H D M W *)" (UTC)';
const TOO_OFTEN = `Secrets Manager rotates at most every ${MIN_ROTATION_INTERVAL_HOURS} hours`;

/**
 * Parses a Secrets Manager schedule expression.
 *
 * @returns the schedule, or a problem such as `Secrets Manager rotates at most every 4 hours`
 *   that the caller completes with where the expression came from and its value.
 */
export function parseRotationSchedule(expression: string): ScheduleParseResult {
  const rate = RATE.exec(expression);
  if (rate) return parseRate(expression, Number(rate[1]), rate[2]!.startsWith('hour') ? 'hours' : 'days');
  const cron = CRON.exec(expression);
  if (cron) return parseCron(expression, cron[1]!);
  return { ok: false, problem: SCHEDULE_FORMS };
}

function parseRate(expression: string, value: number, unit: 'hours' | 'days'): ScheduleParseResult {
  if (unit === 'days') {
    if (value < 1 || value > MAX_RATE_DAYS) {
      return { ok: false, problem: `rate() in days must be from 1 to ${MAX_RATE_DAYS} days` };
    }
    return { ok: true, schedule: { expression, windowOpensAt: [0] } };
  }
  if (value < MIN_ROTATION_INTERVAL_HOURS) return { ok: false, problem: TOO_OFTEN };
  if (value > MAX_RATE_HOURS) {
    return {
      ok: false,
      problem: `rate() in hours must be at most ${MAX_RATE_HOURS} hours; write longer rates in days`,
    };
  }
  const windowOpensAt: number[] = [];
  for (let hour = 0; hour < 24; hour += value) windowOpensAt.push(hour);
  return { ok: true, schedule: { expression, windowOpensAt, hoursBetweenWindows: value } };
}

// Characters AWS cron allows in the day and month fields; their meaning does not affect the window.
const CRON_FIELD = {
  dayOfMonth: /^[0-9,\-*?/LW]+$/,
  month: /^[0-9A-Za-z,\-*/]+$/,
  dayOfWeek: /^[0-9A-Za-z,\-*?/L#]+$/,
};

function parseCron(expression: string, body: string): ScheduleParseResult {
  const fields = body.trim().split(/\s+/);
  if (fields.length !== 6) {
    return {
      ok: false,
      problem: `cron() needs 6 fields (minutes hours day-of-month month day-of-week year), found ${fields.length}`,
    };
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  if (minutes !== '0')
    return { ok: false, problem: 'cron() minutes must be 0 because rotation windows open on the hour' };
  if (year !== '*')
    return { ok: false, problem: 'cron() year must be * because Secrets Manager rotates at least yearly' };
  if (
    !CRON_FIELD.dayOfMonth.test(dayOfMonth) ||
    !CRON_FIELD.month.test(month) ||
    !CRON_FIELD.dayOfWeek.test(dayOfWeek)
  ) {
    return { ok: false, problem: 'cron() day-of-month, month or day-of-week has a character AWS cron does not allow' };
  }
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    return { ok: false, problem: 'cron() needs ? in exactly one of day-of-month and day-of-week' };
  }
  const windowOpensAt = expandCronHours(hours);
  if (windowOpensAt === undefined) {
    return { ok: false, problem: 'cron() hours must be 0-23, written with , - * and /' };
  }
  let hoursBetweenWindows: number | undefined;
  for (let i = 1; i < windowOpensAt.length; i++) {
    const gap = windowOpensAt[i]! - windowOpensAt[i - 1]!;
    hoursBetweenWindows = Math.min(hoursBetweenWindows ?? gap, gap);
  }
  if (hoursBetweenWindows !== undefined && hoursBetweenWindows < MIN_ROTATION_INTERVAL_HOURS) {
    return { ok: false, problem: TOO_OFTEN };
  }
  return {
    ok: true,
    schedule: { expression, windowOpensAt, ...(hoursBetweenWindows === undefined ? {} : { hoursBetweenWindows }) },
  };
}

/** The hours a cron hours field selects (`4`, `0/6`, `*\/8`, `1,13`, `2-20/6`), or undefined if malformed. */
function expandCronHours(field: string): number[] | undefined {
  const hours = new Set<number>();
  for (const item of field.split(',')) {
    const match = /^(\*|\d{1,2})(?:-(\d{1,2}))?(?:\/(\d{1,2}))?$/.exec(item);
    if (!match) return undefined;
    const [, start, end, step] = match;
    const from = start === '*' ? 0 : Number(start);
    // `N/S` runs from N to the end of the day; `*` and `N-M` without a step select every hour.
    const to = start === '*' ? 23 : end !== undefined ? Number(end) : step !== undefined ? 23 : from;
    const by = step === undefined ? 1 : Number(step);
    if (from > 23 || to > 23 || from > to || by < 1 || (start === '*' && end !== undefined)) return undefined;
    for (let hour = from; hour <= to; hour += by) hours.add(hour);
  }
  return [...hours].sort((a, b) => a - b);
}

/**
 * Why a rotation window of `windowHours` does not fit `schedule` (`must be shorter than ...`), or
 * undefined if it fits. The caller adds where the window came from and its value.
 */
export function rotationWindowProblem(schedule: RotationSchedule, windowHours: number): string | undefined {
  if (!Number.isInteger(windowHours) || windowHours < 1 || windowHours > MAX_WINDOW_HOURS) {
    return `must be whole hours from "1h" to "${MAX_WINDOW_HOURS}h"`;
  }
  const { hoursBetweenWindows, expression } = schedule;
  if (hoursBetweenWindows !== undefined && windowHours >= hoursBetweenWindows) {
    return `must be shorter than the ${hoursBetweenWindows} hours between two windows of "${expression}"`;
  }
  const lastOpening = schedule.windowOpensAt[schedule.windowOpensAt.length - 1] ?? 0;
  if (lastOpening + windowHours > 24) {
    return (
      `must end by midnight UTC: the last window of "${expression}" opens at ` +
      `${String(lastOpening).padStart(2, '0')}:00 UTC, so it can be at most ${24 - lastOpening}h`
    );
  }
  return undefined;
}

/** `"4h"` -> 4; undefined unless the text is whole hours written as `<N>h`. */
export function parseWindowHours(text: string): number | undefined {
  const match = /^([1-9]\d{0,2})h$/.exec(text);
  return match ? Number(match[1]) : undefined;
}
