import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { RotorAlarmKind, rotorAlarmName } from '../lambda/shared/rotor-constants';
import {
  DEFAULT_ALARM_THRESHOLDS,
  MAX_ALARM_NAME_LENGTH,
  type AlarmKindKey,
  type AlarmThresholds,
} from './alarm-thresholds';
import { addKindAlarms } from './kind-alarms';
import type { RotatedSecret } from './rotated-secret';

/** Properties of {@link SecretAlarms}. */
export interface SecretAlarmsProps {
  /** The secret whose metrics the alarms watch; its stage and full name name the alarms. */
  readonly secret: RotatedSecret;

  /**
   * Threshold, period and evaluation periods of each alarm.
   *
   * @default DEFAULT_ALARM_THRESHOLDS: 2 rotation or health-check failures within a 60-second period, any reuse
   */
  readonly thresholds?: AlarmThresholds;

  /**
   * What each alarm does when it enters ALARM, besides the state change event that the rollback
   * rule reacts to (for the rotation and health-check alarms).
   *
   * @default - no action
   */
  readonly alarmAction?: cloudwatch.IAlarmAction;
}

/** What each kind of alarm watches, and what its ALARM means for an operator. */
const WATCHES: Record<AlarmKindKey, { metric: (secret: RotatedSecret) => cloudwatch.Metric; meaning: string }> = {
  rotationFailures: {
    metric: (secret) => secret.metricRotationFailed(),
    meaning: 'rotation is failing; Rotor rolls back to the previous credential if it can, or pauses rotation',
  },
  healthCheckFailures: {
    metric: (secret) => secret.metricHealthCheckFailed(),
    meaning:
      'the current credential fails its test; Rotor rolls back to the previous credential if it can, or pauses rotation',
  },
  reuseDetected: {
    metric: (secret) => secret.metricReuseDetected(),
    meaning: 'a rotated-out credential was presented after its grace: it may have been stolen',
  },
};

/**
 * A secret's three alarms, named `rotorAlarmName(stage, kind, secret name)`: rotation failures
 * (`RotationFailed`), health-check failures (`HealthCheckFailed`) and reuse (`ReuseDetected`),
 * each on the Sum of its metric, alarming when it is at least the threshold in each of the
 * evaluation periods. A period without data is not breaching: a secret that is quiet is healthy.
 * The rotation and health-check alarms entering ALARM start a rollback (see RollbackFunction).
 */
export class SecretAlarms extends Construct {
  /** The alarms by kind. */
  readonly alarms: Readonly<Record<AlarmKindKey, cloudwatch.Alarm>>;

  constructor(scope: Construct, id: string, props: SecretAlarmsProps) {
    super(scope, id);
    const { secret } = props;
    this.alarms = addKindAlarms(
      this,
      'SecretAlarms',
      props.thresholds ?? DEFAULT_ALARM_THRESHOLDS,
      (key, period) => {
        const alarmName = rotorAlarmName(secret.stage, RotorAlarmKind[key], secret.secretName);
        if (alarmName.length > MAX_ALARM_NAME_LENGTH) {
          throw new Error(
            `SecretAlarms alarm names must be at most ${MAX_ALARM_NAME_LENGTH} characters: shorten the secret name, got ${alarmName.length} ("${alarmName}")`,
          );
        }
        return {
          alarmName,
          alarmDescription: `Rotor ${secret.stage}: ${WATCHES[key].meaning} (${secret.secretName})`,
          metric: WATCHES[key].metric(secret).with({ period }),
        };
      },
      props.alarmAction,
    );
  }
}
