import { createHash } from 'node:crypto';
import { parseRotationSchedule, rotationWindowProblem } from './rotation-schedule';

/**
 * Stable hashed offsets that spread a stage's schedules over the hours and minutes they may use,
 * so that thousands of secrets do not all rotate in the same window, nor refresh in the same
 * minute, and stay within Secrets Manager's write quotas (see write-quota-plan.ts). A secret's
 * offset is a hash of its own full name alone: adding or removing a secret never moves another's
 * schedule.
 */

/** A number from 0 to 2^32 - 1 that depends on `parts` alone. */
export function spreadHash(...parts: readonly (string | number)[]): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32BE(0);
}

/**
 * The rotation schedule Rotor gives Secrets Manager for a secret configured with `schedule` and a
 * window of `windowHours`:
 *
 * - `rate(N hours)` opens its windows at 00:00 UTC and every N hours after (Secrets Manager's rule
 *   for rate()), so every secret with that rate would rotate in the same hours. It becomes
 *   `cron(0 K/N * * ? *)`: the same windows every N hours, the same window length, opening K hours
 *   later, with K picked by the secret's hash among the offsets whose last window of the day still
 *   ends by midnight UTC (a window must not run into the next UTC day).
 * - `rate(1 day)` becomes `cron(0 K * * ? *)` likewise, K from 0 to 24 - window.
 * - `rate(N days)` with N > 1 stays: no cron() expression repeats every N days across months.
 * - `cron(...)` stays as written: its author chose the hours.
 */
export function spreadRotationSchedule(secretName: string, schedule: string, windowHours: number): string {
  const rate = /^rate\((\d+) (hours?|days?)\)$/.exec(schedule);
  if (rate === null) return schedule;
  const value = Number(rate[1]);
  const inDays = rate[2]!.startsWith('day');
  if (inDays && value !== 1) return schedule;
  const every = inDays ? 24 : value;
  const offsets = fittingOffsets(every, windowHours);
  if (offsets.length === 0) return schedule;
  const offset = offsets[spreadHash('rotation', secretName) % offsets.length]!;
  return every === 24 ? `cron(0 ${offset} * * ? *)` : `cron(0 ${offset}/${every} * * ? *)`;
}

/** Hours K (0 to every - 1) at which windows every `every` hours from K, each `windowHours` long, end by midnight. */
function fittingOffsets(every: number, windowHours: number): number[] {
  const offsets: number[] = [];
  for (let offset = 0; offset < every && offset < 24; offset += 1) {
    const expression = every === 24 ? `cron(0 ${offset} * * ? *)` : `cron(0 ${offset}/${every} * * ? *)`;
    const parsed = parseRotationSchedule(expression);
    if (parsed.ok && rotationWindowProblem(parsed.schedule, windowHours) === undefined) offsets.push(offset);
  }
  return offsets;
}

/**
 * Refresh intervals, in minutes, that an EventBridge Scheduler cron() expression repeats exactly
 * through the hour and the day: the divisors of an hour from 10 minutes, and whole hours that
 * divide a day.
 */
export const CRON_REFRESH_MINUTES = [10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440] as const;

/** An access-token refresh schedule spread by the secret's hash. */
export interface SpreadRefreshSchedule {
  /** EventBridge Scheduler expression (UTC), e.g. `cron(7/20 * * * ? *)`. */
  readonly expression: string;
  /** Minutes between two refreshes: the configured interval rounded down to {@link CRON_REFRESH_MINUTES}. */
  readonly intervalMinutes: number;
  /** The minute of the day (0-1439) of the first refresh; the others follow every `intervalMinutes`. */
  readonly firstMinuteOfDay: number;
}

/**
 * The access-token refresh schedule of a secret whose configured refresh interval is
 * `intervalSeconds` (whole minutes, at least 10): a cron() expression every
 * {@link SpreadRefreshSchedule.intervalMinutes}, at a minute (and, for intervals of hours, an
 * hour) picked by the secret's hash. A `rate()` schedule would start when it is created, so a
 * deploy would line every secret's refreshes up in the same minutes. An interval that no cron()
 * repeats exactly (40 minutes, say) is rounded down to the next one that does (30): the access
 * token is refreshed a little more often, never later than configured.
 */
export function spreadRefreshSchedule(secretName: string, intervalSeconds: number): SpreadRefreshSchedule {
  const configured = Math.floor(intervalSeconds / 60);
  const intervalMinutes = [...CRON_REFRESH_MINUTES].reverse().find((minutes) => minutes <= configured);
  if (intervalMinutes === undefined) {
    throw new Error(
      `refresh interval must be at least ${CRON_REFRESH_MINUTES[0]} minutes, got ${intervalSeconds} seconds`,
    );
  }
  const hash = spreadHash('refresh', secretName);
  if (intervalMinutes < 60) {
    const minute = hash % intervalMinutes;
    return { expression: `cron(${minute}/${intervalMinutes} * * * ? *)`, intervalMinutes, firstMinuteOfDay: minute };
  }
  const minute = hash % 60;
  const hours = intervalMinutes / 60;
  const hour = Math.floor(hash / 60) % hours;
  const hoursField = hours === 1 ? '*' : hours === 24 ? String(hour) : `${hour}/${hours}`;
  return {
    expression: `cron(${minute} ${hoursField} * * ? *)`,
    intervalMinutes,
    firstMinuteOfDay: (hours === 1 ? 0 : hour * 60) + minute,
  };
}
