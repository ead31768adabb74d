import { sweepScheduleProblem } from './sweep-schedule';

/** Default schedule of the health check: a broken credential is noticed within a minute or two. */
export const DEFAULT_HEALTH_CHECK_SCHEDULE = 'rate(1 minute)';

/**
 * What is wrong with `expression` as the schedule of the health check, or undefined when nothing
 * is. It is an EventBridge Scheduler recurring expression (UTC), like the retirement sweep's.
 */
export function healthCheckScheduleProblem(expression: string): string | undefined {
  return sweepScheduleProblem(expression);
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_SECONDS: Readonly<Record<string, number>> = { minute: 60, hour: 3600, day: 86_400 };

/** Seconds between two runs of a `rate()` expression; undefined for a `cron()` one, whose runs need not be even. */
export function scheduleRateSeconds(expression: string): number | undefined {
  const rate = RATE.exec(expression);
  if (!rate) return undefined;
  return Number(rate[1]) * UNIT_SECONDS[rate[2]!.replace(/s$/, '')]!;
}
