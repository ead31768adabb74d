import { createHash } from 'node:crypto';
import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';
import { ACCESS_TOKEN_REFRESH_SCHEDULE_NAME_PREFIX, RotorResourceName } from '../lambda/shared/rotor-constants';
import { MIN_REFRESH_INTERVAL_SECONDS } from './config/oauth2-config';
import type { RotatedSecret } from './rotated-secret';
import type { RotationFunction } from './rotation-function';
import { schedulerPrincipalFor } from './scheduler-trust';
import { acknowledgeInlinePolicies } from './inline-policies';

/** Properties of an {@link AccessTokenRefreshSchedule}. */
export interface AccessTokenRefreshScheduleProps {
  /** The `oauth2-refresh-token` secret whose access token the schedule keeps fresh. */
  readonly secret: RotatedSecret;

  /** The function that rotates the secret: RotateSecret requires the caller to be allowed to invoke it. */
  readonly rotationFunction: RotationFunction;

  /**
   * The stage's group of refresh schedules, `rotor-<stage>.access-token-refresh`
   * ({@link accessTokenRefreshScheduleGroup}): the role trusts schedules of this group only.
   */
  readonly scheduleGroup: scheduler.CfnScheduleGroup;

  /**
   * Seconds between two refreshes: whole minutes, at least 600 (see
   * `effectiveRefreshIntervalSeconds` in lib/config/oauth2-config.ts).
   */
  readonly intervalSeconds: number;

  /**
   * The schedule's expression (UTC), when the stage spreads its refreshes (see
   * spreadRefreshSchedule); it must repeat at least every `intervalSeconds`.
   *
   * @default - `rate(N minutes)` of `intervalSeconds`, which starts when the schedule is created
   */
  readonly scheduleExpression?: string;
}

/**
 * EventBridge Scheduler's universal target for Secrets Manager RotateSecret, in the stack's
 * partition. Called with only `SecretId`, RotateSecret rotates the secret now with its stored
 * rotation function and rules.
 */
export const ROTATE_SECRET_TARGET_ARN = `arn:${Aws.PARTITION}:scheduler:::aws-sdk:secretsmanager:rotateSecret`;

/**
 * Scheduler retries a failed RotateSecret (a rotation still running, throttling) twice, for at most
 * 5 minutes: a run it drops is covered by the next one, at least 10 minutes later.
 */
export const ACCESS_TOKEN_REFRESH_RETRY_POLICY = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 300 } as const;

const MAX_SCHEDULE_NAME_LENGTH = 64;
const SCHEDULE_NAME = /^[0-9A-Za-z_.-]+$/;
const MAX_SCHEDULE_DESCRIPTION_LENGTH = 512;

/**
 * Name of the refresh schedule of the secret named `nameInStage` within its stage:
 * `refresh-<name>` when Scheduler accepts that as it is (letters, digits, `_.-`, at most 64
 * characters), otherwise `refresh-<name with other characters as ->-<8 hex of its SHA-256>`, cut
 * to 64 characters, so that two secrets never share a schedule.
 */
export function accessTokenRefreshScheduleName(nameInStage: string): string {
  const plain = `${ACCESS_TOKEN_REFRESH_SCHEDULE_NAME_PREFIX}${nameInStage}`;
  if (SCHEDULE_NAME.test(nameInStage) && plain.length <= MAX_SCHEDULE_NAME_LENGTH) return plain;
  const hash = createHash('sha256').update(nameInStage).digest('hex').slice(0, 8);
  const room = MAX_SCHEDULE_NAME_LENGTH - ACCESS_TOKEN_REFRESH_SCHEDULE_NAME_PREFIX.length - hash.length - 1;
  const readable = nameInStage.replace(/[^0-9A-Za-z_.-]/g, '-').slice(0, room);
  return `${ACCESS_TOKEN_REFRESH_SCHEDULE_NAME_PREFIX}${readable}-${hash}`;
}

/**
 * The stage's group of access-token refresh schedules, `rotor-<stage>.access-token-refresh`: made
 * once per stack, on first use. The refresh roles trust this group alone, so no retirement, sweep
 * or health-check schedule can assume them, and no refresh schedule can assume theirs. One group
 * per stage rather than per secret: Scheduler allows 500 groups per account and Region, and a
 * refresh role may only rotate its own secret, which every refresh schedule does already.
 */
export function accessTokenRefreshScheduleGroup(scope: Construct, stage: string): scheduler.CfnScheduleGroup {
  const stack = Stack.of(scope);
  const id = 'AccessTokenRefreshScheduleGroup';
  const existing = stack.node.tryFindChild(id);
  if (existing instanceof scheduler.CfnScheduleGroup) return existing;
  return new scheduler.CfnScheduleGroup(stack, id, { name: RotorResourceName.accessTokenRefreshScheduleGroup(stage) });
}

/** `rate(N minutes)` for a whole number of minutes given in seconds. */
export function accessTokenRefreshExpression(intervalSeconds: number): string {
  const minutes = intervalSeconds / 60;
  return `rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`;
}

/**
 * Keeps an OAuth 2.0 secret's access token fresh: an EventBridge Scheduler schedule in the stage's
 * group calls Secrets Manager RotateSecret on the secret every `intervalSeconds` (flexible window
 * off), through Scheduler's universal target, with input `{"SecretId": <secret ARN>}`; each
 * rotation spends the refresh token for a new access token (and refresh token). Secrets Manager's
 * own schedules cannot: they rotate at most every 4 hours, and the IdP's access tokens live
 * 30 minutes or less. The secret's Secrets Manager rotation schedule stays as a backstop.
 *
 * The schedule's own role is trusted only by Scheduler acting for this account and the stage's
 * refresh group (which holds refresh schedules only, each with a role limited to its own secret),
 * and may call `secretsmanager:RotateSecret` on this secret and `lambda:InvokeFunction` on
 * the rotation function (RotateSecret requires it of the caller), nothing else.
 */
export class AccessTokenRefreshSchedule extends Construct {
  /** The recurring schedule. */
  readonly schedule: scheduler.CfnSchedule;
  /** The role Scheduler assumes to call RotateSecret. */
  readonly role: iam.IRole;
  /** Name of the schedule in the group, `refresh-<secret name within the stage>`. */
  readonly scheduleName: string;

  constructor(scope: Construct, id: string, props: AccessTokenRefreshScheduleProps) {
    super(scope, id);
    const { secret, rotationFunction, scheduleGroup, intervalSeconds } = props;
    if (
      !Number.isInteger(intervalSeconds) ||
      intervalSeconds % 60 !== 0 ||
      intervalSeconds < MIN_REFRESH_INTERVAL_SECONDS
    ) {
      throw new Error(
        `AccessTokenRefreshSchedule intervalSeconds must be whole minutes of at least ${MIN_REFRESH_INTERVAL_SECONDS} seconds, got ${intervalSeconds}`,
      );
    }
    const secretArn = secret.secret.secretFullArn;
    if (secretArn === undefined) {
      throw new Error(
        `AccessTokenRefreshSchedule needs a secret with a known full ARN (a partial ARN would need a wildcard), got ${secret.node.path}`,
      );
    }
    const prefix = rotationFunction.secretNamePrefix;
    if (!secret.secretName.startsWith(prefix)) {
      throw new Error(
        `AccessTokenRefreshSchedule secret must be named under the rotation function's prefix "${prefix}", got "${secret.secretName}"`,
      );
    }
    const stage = rotationFunction.stage;
    this.scheduleName = accessTokenRefreshScheduleName(secret.secretName.slice(prefix.length));

    this.role = new iam.Role(this, 'SchedulerRole', {
      description: `Rotor ${stage}: EventBridge Scheduler refreshes the access token of one OAuth 2.0 secret`,
      assumedBy: schedulerPrincipalFor(scheduleGroup),
    });
    acknowledgeInlinePolicies(this.role);
    const rotate = this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['secretsmanager:RotateSecret'], resources: [secretArn] }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [rotationFunction.function.functionArn],
      }),
    );

    // No dead-letter queue: a refresh that fails for good is made again by the next one, and the
    // secret's RotationFailed metric and alarm report failed rotations.
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      name: this.scheduleName,
      groupName: scheduleGroup.ref,
      description: `Rotor ${stage}: refresh the access token of ${secret.secretName} (RotateSecret)`.slice(
        0,
        MAX_SCHEDULE_DESCRIPTION_LENGTH,
      ),
      scheduleExpression: props.scheduleExpression ?? accessTokenRefreshExpression(intervalSeconds),
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: ROTATE_SECRET_TARGET_ARN,
        roleArn: this.role.roleArn,
        input: Stack.of(this).toJsonString({ SecretId: secretArn }),
        retryPolicy: ACCESS_TOKEN_REFRESH_RETRY_POLICY,
      },
    });
    // Its first run must find its permissions in place, and a rotation configured on the secret
    // (RotateSecret with only SecretId uses the stored rotation function).
    if (rotate.policyDependable) this.schedule.node.addDependency(rotate.policyDependable);
    this.schedule.node.addDependency(secret.rotationSchedule);
  }
}
