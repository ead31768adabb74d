/** Default schedule of the retirement sweep: overdue retirements are caught within 5 minutes. */
export const DEFAULT_SWEEP_SCHEDULE = 'rate(5 minutes)';

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.*)\)$/;

/**
 * What is wrong with `expression` as the schedule of the retirement sweep, an EventBridge
 * Scheduler recurring expression (UTC), or undefined when nothing is.
 */
export function sweepScheduleProblem(expression: string): string | undefined {
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const unit = rate[2]!;
    if (value < 1) return 'rate() must be at least 1';
    // As EventBridge: "rate(1 minute)" but "rate(5 minutes)".
    if ((value === 1) !== !unit.endsWith('s')) {
      return 'rate() takes a singular unit for 1 and a plural one otherwise, as in "rate(1 minute)" and "rate(5 minutes)"';
    }
    return undefined;
  }
  const cron = CRON.exec(expression);
  if (cron) {
    const fields = cron[1]!.trim().split(/\s+/);
    if (fields.length !== 6) {
      return `cron() needs 6 fields (minutes hours day-of-month month day-of-week year), found ${fields.length}`;
    }
    if ((fields[2] === '?') === (fields[4] === '?'))
      return 'cron() needs ? in exactly one of day-of-month and day-of-week';
    return undefined;
  }
  return 'must be "rate(N minutes|hours|days)" or "cron(minutes hours day-of-month month day-of-week year)" (UTC)';
}
