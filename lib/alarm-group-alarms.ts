import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  METRICS_NAMESPACE,
  MetricName,
  RotorAlarmKind,
  ALARM_GROUP_DIMENSION,
  rotorAlarmGroupAlarmName,
  SECRET_NAME_DIMENSION,
} from '../lambda/shared/rotor-constants';
import type { AlarmKindKey, AlarmThresholds } from './alarm-thresholds';
import { addKindAlarms } from './kind-alarms';

/** Properties of {@link AlarmGroupAlarms}. */
export interface AlarmGroupAlarmsProps {
  /** The stage's name: it names the alarms. */
  readonly stage: string;
  /** The alarm group whose secrets the alarms watch, from 0 (see alarmGroupOf). */
  readonly group: number;
  /** The stage's thresholds: every secret of the group without thresholds of its own has these. */
  readonly thresholds: AlarmThresholds;
  /**
   * Full names of the group's secrets that have thresholds of their own, and so alarms of their
   * own (SecretAlarms): left out of the group's alarms, so that one failure does not alarm twice.
   *
   * @default - none
   */
  readonly excludedSecretNames?: readonly string[];
  /**
   * What each alarm does when one of its contributors (a secret) enters ALARM, besides the
   * contributor state change event that the rollback rule reacts to.
   *
   * @default - no action
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/** The metric each kind of alarm sums, and what a contributor in ALARM means for an operator. */
const WATCHES: Record<AlarmKindKey, { metricName: MetricName; meaning: string }> = {
  rotationFailures: {
    metricName: MetricName.RotationFailed,
    meaning:
      'rotation of a secret is failing; Rotor rolls it back to its previous credential if it can, or pauses rotation',
  },
  healthCheckFailures: {
    metricName: MetricName.HealthCheckFailed,
    meaning:
      "a secret's current credential fails its test; Rotor rolls it back to its previous credential if it can, or pauses rotation",
  },
  reuseDetected: {
    metricName: MetricName.ReuseDetected,
    meaning: 'a rotated-out credential of a secret was presented after its grace: it may have been stolen',
  },
};

/**
 * The Metrics Insights query of one alarm group's alarm of one kind: the Sum of `metricName` per
 * secret (`GROUP BY SecretName`, one contributor per secret) over the metrics whose `AlarmGroup`
 * dimension is the group's, less the secrets that have alarms of their own. It uses only `=`, `!=`
 * and `AND`, the operators Metrics Insights has documented since its preview.
 */
export function alarmGroupQuery(
  metricName: MetricName,
  group: number,
  excludedSecretNames: readonly string[] = [],
): string {
  const conditions = [
    `${ALARM_GROUP_DIMENSION} = '${group}'`,
    ...excludedSecretNames.map((name) => `${SECRET_NAME_DIMENSION} != '${name}'`),
  ];
  return (
    `SELECT SUM(${metricName}) FROM SCHEMA("${METRICS_NAMESPACE}", ${SECRET_NAME_DIMENSION}, ${ALARM_GROUP_DIMENSION}) ` +
    `WHERE ${conditions.join(' AND ')} GROUP BY ${SECRET_NAME_DIMENSION}`
  );
}

/**
 * An alarm group's three alarms, each a CloudWatch Metrics Insights alarm over many time series,
 * named `rotorAlarmGroupAlarmName(stage, kind, group)`: rotation failures, health-check failures and
 * reuse. Each secret of the group is a contributor of each alarm, which goes into ALARM on its own when
 * its Sum is at least the threshold in each of the evaluation periods, exactly as a secret's own
 * alarm would. CloudWatch then puts a `CloudWatch Alarm Contributor State Change` event, with the
 * secret in `alarmContributor.attributes.SecretName`, that starts a rollback for the rotation and
 * health-check kinds (see RollbackFunction). A secret without data has no contributor: quiet is
 * healthy. The count of alarms does not grow with the group's secrets, nor with the stage's shards.
 */
export class AlarmGroupAlarms extends Construct {
  /** The alarms by kind. */
  readonly alarms: Readonly<Record<AlarmKindKey, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: AlarmGroupAlarmsProps) {
    super(scope, id);
    this.alarms = addKindAlarms(
      this,
      'AlarmGroupAlarms',
      props.thresholds,
      (key, period) => ({
        alarmName: rotorAlarmGroupAlarmName(props.stage, RotorAlarmKind[key], props.group),
        alarmDescription: `Rotor ${props.stage}, alarm group ${props.group}: ${WATCHES[key].meaning} (the contributor names the secret)`,
        metric: new cloudwatch.MathExpression({
          expression: alarmGroupQuery(WATCHES[key].metricName, props.group, props.excludedSecretNames),
          period,
          usingMetrics: {},
        }),
      }),
      props.alarmAction,
    );
  }
}
