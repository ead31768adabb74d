import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type { Construct, IDependable } from 'constructs';
import { alarmGroupOf } from '../lambda/shared/alarm-group-of';
import { AccessTokenRefreshSchedule } from './access-token-refresh-schedule';
import { fullSecretName, type RotorSecretConfig, type RotorStageConfig } from './config/rotor-config';
import { RotatedSecret } from './rotated-secret';
import { spreadRefreshSchedule, spreadRotationSchedule } from './schedule-spread';
import type { RotationFunction } from './rotation-function';
import type { AlarmThresholds } from './alarm-thresholds';
import { SecretAlarms } from './secret-alarms';
import { ownsAlarms } from './watching-alarms';

/** What {@link addStageSecrets} needs from the stage. */
export interface StageSecretsProps {
  /** The stage: its name and secret name prefix. */
  readonly stage: Pick<RotorStageConfig, 'name' | 'secretNamePrefix'>;
  /** The secrets to add, each with its own settings. */
  readonly secrets: readonly RotorSecretConfig[];
  /** Rotates the secrets. */
  readonly rotationFunction: RotationFunction;
  /** The stage's key. */
  readonly encryptionKey: kms.IKey;
  /** The stage's group of access-token refresh schedules (`accessTokenRefreshScheduleGroup`). */
  readonly scheduleGroup: scheduler.CfnScheduleGroup;
  /** What each alarm does when it enters ALARM. @default - no action */
  readonly alarmAction?: cloudwatch.IAlarmAction;
  /**
   * The rotation function's access to every secret of the stage (see StageSecretAccess).
   *
   * @default - each secret grants the function access to itself
   */
  readonly rotationAccess?: IDependable;
  /**
   * The secrets are one shard of a sharded stage: the Metrics Insights alarms of their alarm groups
   * (AlarmGroupAlarms, in the stage's stack) watch them at the stage's thresholds, each secret's
   * metrics carry its group, and only a secret whose thresholds differ from the stage's gets alarms
   * of its own.
   *
   * @default - every secret gets alarms of its own
   */
  readonly alarmGroups?: { readonly count: number; readonly stageThresholds: AlarmThresholds };
}

/** What {@link addStageSecrets} adds, each list in the order of the secrets. */
export interface StageSecrets {
  readonly secrets: readonly RotatedSecret[];
  /** Each secret's own alarms; undefined for a secret watched by its alarm group's alarms alone. */
  readonly alarms: readonly (SecretAlarms | undefined)[];
  /** The refresh schedule of each `oauth2-refresh-token` secret, by its name within the stage. */
  readonly accessTokenRefreshSchedules: ReadonlyMap<string, AccessTokenRefreshSchedule>;
}

/**
 * Adds to `scope` each secret with what belongs to it alone: the rotated secret (`Secret-<name>`),
 * its alarms (`Alarms-<name>`) and, for an OAuth 2.0 secret, its access-token refresh schedule
 * (`AccessTokenRefresh-<name>`); in a shard, no alarms for a secret that has the stage's
 * thresholds (its alarm group's alarms watch it). The construct ids depend only on the secret's
 * name, so a secret's resources keep their logical ids whatever its neighbours are. Rotation
 * schedules given as `rate()` and every refresh schedule are spread by hashed offsets of the
 * secret's name (schedule-spread.ts).
 */
export function addStageSecrets(scope: Construct, props: StageSecretsProps): StageSecrets {
  const { stage, rotationFunction } = props;
  const secrets = props.secrets.map(
    (secret) =>
      new RotatedSecret(scope, `Secret-${secret.name}`, {
        rotationFunction,
        encryptionKey: props.encryptionKey,
        secretName: fullSecretName(stage, secret),
        provider: secret.provider,
        ...(secret.oauth2 === undefined ? {} : { oauth2: secret.oauth2 }),
        ...(secret.gitlab === undefined ? {} : { gitlab: secret.gitlab }),
        // Hashed offsets spread the stage's rotations over the hours its schedules allow (quotas).
        schedule: spreadRotationSchedule(
          fullSecretName(stage, secret),
          secret.schedule,
          secret.window.toHours({ integral: false }),
        ),
        window: secret.window,
        ...(secret.description === undefined ? {} : { description: secret.description }),
        ...(props.rotationAccess === undefined ? {} : { rotationAccess: props.rotationAccess }),
        ...(props.alarmGroups === undefined ? {} : { alarmGroup: alarmGroupOf(secret.name, props.alarmGroups.count) }),
      }),
  );
  // Secrets Manager rotates at most every 4 hours; an OAuth 2.0 access token lives 30 minutes or
  // less, so Scheduler rotates those secrets every refresh interval, in the stage's refresh group.
  const accessTokenRefreshSchedules = new Map(
    props.secrets.flatMap((secret, index) =>
      secret.oauth2 === undefined
        ? []
        : [
            [
              secret.name,
              new AccessTokenRefreshSchedule(scope, `AccessTokenRefresh-${secret.name}`, {
                secret: secrets[index]!,
                rotationFunction,
                scheduleGroup: props.scheduleGroup,
                intervalSeconds: secret.oauth2.refreshIntervalSeconds,
                scheduleExpression: spreadRefreshSchedule(
                  fullSecretName(stage, secret),
                  secret.oauth2.refreshIntervalSeconds,
                ).expression,
              }),
            ] as const,
          ],
    ),
  );
  const alarms = props.secrets.map((secret, index) =>
    ownsAlarms(secret.alarms, props.alarmGroups?.stageThresholds)
      ? new SecretAlarms(scope, `Alarms-${secret.name}`, {
          secret: secrets[index]!,
          thresholds: secret.alarms,
          ...(props.alarmAction === undefined ? {} : { alarmAction: props.alarmAction }),
        })
      : undefined,
  );
  return { secrets, alarms, accessTokenRefreshSchedules };
}
