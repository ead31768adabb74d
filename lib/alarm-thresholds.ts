import { RotorAlarmKind } from '../lambda/shared/rotor-constants';

/**
 * When one of a secret's alarms goes off: the Sum of its metric over `periodSeconds` is at least
 * `threshold` in each of `evaluationPeriods` consecutive periods.
 */
export interface AlarmThreshold {
  /** Count (Sum over one period) at or above which a period is breaching; at least 1. */
  readonly threshold: number;
  /** Length of one period in seconds: a multiple of 60, because EMF metrics have one-minute resolution. */
  readonly periodSeconds: number;
  /** Consecutive breaching periods before the alarm fires. */
  readonly evaluationPeriods: number;
}

/** The kinds of per-secret alarm, by their config key: `rotationFailures`, `healthCheckFailures`, `reuseDetected`. */
export type AlarmKindKey = keyof typeof RotorAlarmKind;

/** The config keys of the alarm kinds, in the order the alarms are created. */
export const ALARM_KIND_KEYS = Object.keys(RotorAlarmKind) as AlarmKindKey[];

/** One threshold per alarm kind: what a secret's alarms are built from. */
export type AlarmThresholds = Readonly<Record<AlarmKindKey, AlarmThreshold>>;

/**
 * DESIGN.md section 6: two failures within a 60-second period alarm at once; any reuse alarms.
 * The health check reports each secret once per run (every minute by default), so one
 * 60-second period never holds two of its failures: its alarm counts two failing minutes in a
 * row instead (one failure in each of two consecutive periods).
 */
export const DEFAULT_ALARM_THRESHOLDS: AlarmThresholds = {
  rotationFailures: { threshold: 2, periodSeconds: 60, evaluationPeriods: 1 },
  healthCheckFailures: { threshold: 1, periodSeconds: 60, evaluationPeriods: 2 },
  reuseDetected: { threshold: 1, periodSeconds: 60, evaluationPeriods: 1 },
};

/** CloudWatch's longest alarm name. */
export const MAX_ALARM_NAME_LENGTH = 255;
/** Largest threshold Rotor accepts: a count per period that no sane alarm needs more than. */
export const MAX_ALARM_THRESHOLD = 100_000;
/** Longest alarm period Rotor accepts: one day. */
export const MAX_ALARM_PERIOD_SECONDS = 86_400;

const HOUR_SECONDS = 3_600;
const DAY_SECONDS = 86_400;
const WEEK_SECONDS = 7 * DAY_SECONDS;

/**
 * What is wrong with `threshold` as CloudWatch's PutMetricAlarm would see it, or undefined when
 * nothing is. CloudFormation does not check these at synth, and a deploy that fails on the alarm
 * of one secret rolls back the whole stage.
 */
export function alarmThresholdProblem({
  threshold,
  periodSeconds,
  evaluationPeriods,
}: AlarmThreshold): string | undefined {
  if (!Number.isInteger(threshold) || threshold < 1 || threshold > MAX_ALARM_THRESHOLD) {
    return `threshold must be a whole number from 1 to ${MAX_ALARM_THRESHOLD}, got ${threshold}`;
  }
  if (
    !Number.isInteger(periodSeconds) ||
    periodSeconds < 60 ||
    periodSeconds > MAX_ALARM_PERIOD_SECONDS ||
    periodSeconds % 60 !== 0
  ) {
    return `periodSeconds must be a multiple of 60 from 60 to ${MAX_ALARM_PERIOD_SECONDS} (Rotor's metrics have one-minute resolution), got ${periodSeconds}`;
  }
  if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) {
    return `evaluationPeriods must be a whole number of at least 1, got ${evaluationPeriods}`;
  }
  const window = periodSeconds * evaluationPeriods;
  const limit = periodSeconds < HOUR_SECONDS ? DAY_SECONDS : WEEK_SECONDS;
  if (window > limit) {
    return (
      `periodSeconds × evaluationPeriods must be at most ${limit} seconds (${limit === DAY_SECONDS ? 'one day for a period under an hour' : 'seven days'}), ` +
      `got ${periodSeconds} × ${evaluationPeriods} = ${window}`
    );
  }
  return undefined;
}
