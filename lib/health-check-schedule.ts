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
