import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  METRICS_NAMESPACE,
  MetricName,
  RotorAlarmKind,
  rotorShardAlarmName,
  SECRET_NAME_DIMENSION,
  SHARD_DIMENSION,
} from '../lambda/shared/rotor-constants';
import { ALARM_KIND_KEYS, alarmThresholdProblem, type AlarmKindKey, type AlarmThresholds } from './alarm-thresholds';

/** Properties of {@link ShardAlarms}. */
export interface ShardAlarmsProps {
  /** The stage's name: it names the alarms. */
  readonly stage: string;
  /** The shard whose secrets the alarms watch, from 0. */
  readonly shard: number;
  /** The stage's thresholds: every secret of the shard without thresholds of its own has these. */
  readonly thresholds: AlarmThresholds;
  /**
   * Full names of the shard's secrets that have thresholds of their own, and so alarms of their
   * own (SecretAlarms): left out of the shard's alarms, so that one failure does not alarm twice.
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
 * The Metrics Insights query of one shard's alarm of one kind: the Sum of `metricName` per secret
 * (`GROUP BY SecretName`, one contributor per secret) over the metrics whose `Shard` dimension is
 * the shard's, less the secrets that have alarms of their own.
 */
export function shardAlarmQuery(
  metricName: MetricName,
  shard: number,
  excludedSecretNames: readonly string[] = [],
): string {
  const conditions = [
    `${SHARD_DIMENSION} = '${shard}'`,
    ...excludedSecretNames.map((name) => `${SECRET_NAME_DIMENSION} != '${name}'`),
  ];
  return (
    `SELECT SUM(${metricName}) FROM SCHEMA("${METRICS_NAMESPACE}", ${SECRET_NAME_DIMENSION}, ${SHARD_DIMENSION}) ` +
    `WHERE ${conditions.join(' AND ')} GROUP BY ${SECRET_NAME_DIMENSION}`
  );
}

/**
 * A shard's three alarms, each a CloudWatch Metrics Insights alarm over many time series, named
 * `rotorShardAlarmName(stage, kind, shard)`: rotation failures, health-check failures and reuse.
 * Each secret of the shard is a contributor of each alarm, which goes into ALARM on its own when
 * its Sum is at least the threshold in each of the evaluation periods, exactly as a secret's own
 * alarm would. CloudWatch then puts a `CloudWatch Alarm Contributor State Change` event, with the
 * secret in `alarmContributor.attributes.SecretName`, that starts a rollback for the rotation and
 * health-check kinds (see RollbackFunction). A secret without data has no contributor: quiet is
 * healthy. The count of alarms does not grow with the shard's secrets.
 */
export class ShardAlarms extends Construct {
  /** The alarms by kind. */
  readonly alarms: Readonly<Record<AlarmKindKey, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: ShardAlarmsProps) {
    super(scope, id);
    const alarms: Partial<Record<AlarmKindKey, cloudwatch.Alarm>> = {};
    for (const key of ALARM_KIND_KEYS) {
      const { threshold, periodSeconds, evaluationPeriods } = props.thresholds[key];
      const problem = alarmThresholdProblem(props.thresholds[key]);
      if (problem) throw new Error(`ShardAlarms thresholds.${key} ${problem}`);
      const watch = WATCHES[key];
      const alarm = new cloudwatch.Alarm(this, pascalCase(key), {
        alarmName: rotorShardAlarmName(props.stage, RotorAlarmKind[key], props.shard),
        alarmDescription: `Rotor ${props.stage}, shard ${props.shard}: ${watch.meaning} (the contributor names the secret)`,
        metric: new cloudwatch.MathExpression({
          expression: shardAlarmQuery(watch.metricName, props.shard, props.excludedSecretNames),
          period: Duration.seconds(periodSeconds),
          usingMetrics: {},
        }),
        threshold,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmAction) alarm.addAlarmAction(props.alarmAction);
      alarms[key] = alarm;
    }
    this.alarms = alarms as Record<AlarmKindKey, cloudwatch.Alarm>;
  }
}

function pascalCase(key: string): string {
  return key.charAt(0).toUpperCase() + key.slice(1);
}
