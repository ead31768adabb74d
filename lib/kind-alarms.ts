import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { ALARM_KIND_KEYS, alarmThresholdProblem, type AlarmKindKey, type AlarmThresholds } from './alarm-thresholds';

/** What sets one alarm apart from the other kinds': its name, its description and what it watches. */
export interface KindAlarm {
  readonly alarmName: string;
  readonly alarmDescription: string;
  readonly metric: cloudwatch.IMetric;
}

/**
 * Adds to `scope` one alarm per kind (construct ids `RotationFailures`, `HealthCheckFailures`,
 * `ReuseDetected`), each alarming when `alarmOf(key, period)`'s metric is at least the kind's
 * threshold in each of its evaluation periods; a period without data is not breaching, since a
 * quiet secret is healthy. `owner` names the construct in the error for a threshold out of range.
 */
export function addKindAlarms(
  scope: Construct,
  owner: string,
  thresholds: AlarmThresholds,
  alarmOf: (key: AlarmKindKey, period: Duration) => KindAlarm,
  alarmAction?: cloudwatch.IAlarmAction,
): Record<AlarmKindKey, cloudwatch.Alarm> {
  const alarms: Partial<Record<AlarmKindKey, cloudwatch.Alarm>> = {};
  for (const key of ALARM_KIND_KEYS) {
    const { threshold, periodSeconds, evaluationPeriods } = thresholds[key];
    const problem = alarmThresholdProblem(thresholds[key]);
    if (problem) throw new Error(`${owner} thresholds.${key} ${problem}`);
    const alarm = new cloudwatch.Alarm(scope, key.charAt(0).toUpperCase() + key.slice(1), {
      ...alarmOf(key, Duration.seconds(periodSeconds)),
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (alarmAction) alarm.addAlarmAction(alarmAction);
    alarms[key] = alarm;
  }
  return alarms as Record<AlarmKindKey, cloudwatch.Alarm>;
}
