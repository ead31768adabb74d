import { type Duration, RemovalPolicy, SecretValue, Stack, Tags } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IDependable } from 'constructs';
import {
  ALARM_GROUP_DIMENSION,
  MANAGED_BY_TAG,
  MetricName,
  METRICS_NAMESPACE,
  SECRET_NAME_DIMENSION,
  type RotorProvider,
} from '../lambda/shared/rotor-constants';
import { GITLAB_PROVIDER, type RotorGitLabConfig } from './config/gitlab-config';
import { OAUTH2_PROVIDER, type RotorOAuth2Config } from './config/oauth2-config';
import type { RotationFunction } from './rotation-function';
import { parseRotationSchedule, rotationWindowProblem } from './rotation-schedule';
import { secretFirstDocument } from './secret-first-document';

/** Properties of a {@link RotatedSecret}. */
export interface RotatedSecretProps {
  /** The function Secrets Manager invokes to rotate the secret; it is granted access to it. */
  readonly rotationFunction: RotationFunction;

  /** Customer-managed key that encrypts every version of the secret. */
  readonly encryptionKey: kms.IKey;

  /** Full Secrets Manager name; must start with the rotation function's secret name prefix. */
  readonly secretName: string;

  /** Provider that issues the secret's credential; written into the secret's first value. */
  readonly provider: RotorProvider;

  /**
   * The IdP and client of an `oauth2-refresh-token` secret: its non-secret settings go into the
   * first value, and the rotation function may read its client certificate secret and publish
   * Rotor's events. Required for that provider, refused for any other.
   *
   * @default - none
   */
  readonly oauth2?: RotorOAuth2Config;

  /**
   * The instance, token type, scopes, mode and manager of a `gitlab-access-token` secret: they go
   * into the first value. Required for that provider, refused for any other.
   *
   * @default - none
   */
  readonly gitlab?: RotorGitLabConfig;

  /** Secrets Manager schedule expression, UTC: `rate(N hours)`, `rate(N days)` or `cron(0 H D M W *)`. */
  readonly schedule: string;

  /** Rotation window: whole hours from 1 to 24 that fit the schedule (see lib/rotation-schedule.ts). */
  readonly window: Duration;

  /**
   * Shown in the Secrets Manager console.
   *
   * @default - no description
   */
  readonly description?: string;

  /**
   * Whether Secrets Manager rotates the secret as soon as the schedule is created or changed.
   * A new `managed-token` secret holds no credential until its first rotation, so this issues one
   * at deploy. An `oauth2-refresh-token` secret cannot rotate before `rotor bootstrap` has given it
   * a refresh token (the rotation would fail with "run rotor bootstrap"), so it must be false.
   *
   * A `gitlab-access-token` secret likewise waits for its first token from `rotor bootstrap`.
   *
   * @default - true, except false for `oauth2-refresh-token` and `gitlab-access-token`
   */
  readonly rotateImmediatelyOnUpdate?: boolean;

  /**
   * The rotation function's access to every secret of the stage, by name prefix and tag (see
   * StageSecretAccess), which a stage of thousands of secrets needs because a role's policy cannot
   * list them all. When given, the secret adds no statement of its own to the function's role and
   * its rotation schedule waits for this instead.
   *
   * @default - the secret grants the function the rotation actions on exactly its own ARN
   */
  readonly rotationAccess?: IDependable;
  /**
   * The secret's alarm group in a sharded stage (alarmGroupOf): its metrics then carry an
   * `AlarmGroup` dimension next to `SecretName`, as the functions of a sharded stage emit them.
   *
   * @default - not sharded: `SecretName` is the only dimension
   */
  readonly alarmGroup?: number;
}

/**
 * The staging labels a reader may ask for: the credential in use and, during the grace after a
 * rotation, the one it replaced. Never `AWSPENDING`: a credential still being tested is no one's.
 */
export const READABLE_VERSION_STAGES = ['AWSCURRENT', 'AWSPREVIOUS'] as const;

/**
 * A Secrets Manager secret that Rotor rotates on a schedule: KMS-encrypted with the stage's key,
 * retained when the stack is deleted, tagged with the stage, and rotated by the stage's
 * {@link RotationFunction}.
 */
export class RotatedSecret extends Construct {
  /** The rotated secret. Consumers read the provider's credential field of its AWSCURRENT version. */
  readonly secret: secretsmanager.ISecret;
  /** The secret's rotation schedule. */
  readonly rotationSchedule: secretsmanager.CfnRotationSchedule;
  /** The key that encrypts every version of the secret. */
  readonly encryptionKey: kms.IKey;
  /** Full Secrets Manager name: the `SecretName` dimension of the secret's metrics. */
  readonly secretName: string;
  /** Deployment stage of the function that rotates the secret. */
  readonly stage: string;
  /** The secret's alarm group in a sharded stage, or undefined. */
  readonly alarmGroup?: number;
  /** Provider that issues the secret's credential. */
  readonly provider: RotorProvider;
  /** The IdP and client of an `oauth2-refresh-token` secret; undefined for other providers. */
  readonly oauth2?: RotorOAuth2Config;

  constructor(scope: Construct, id: string, props: RotatedSecretProps) {
    super(scope, id);
    const { rotationFunction } = props;
    const windowHours = validate(props);

    const secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: props.secretName,
      description: props.description,
      encryptionKey: props.encryptionKey,
      // A Rotor document without a credential: the rotation function refuses to overwrite a value
      // that is not a Rotor document, and the first rotation (at deploy) or `rotor bootstrap`
      // (OAuth 2.0) supplies the credential. There is nothing secret in it, so a plain-text
      // template value is safe.
      secretStringValue: SecretValue.unsafePlainText(
        JSON.stringify(secretFirstDocument(props.provider, props.oauth2, props.gitlab)),
      ),
      // Deleting the stack must not delete credentials that CI jobs still hold.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Tags.of(secret).add(MANAGED_BY_TAG, rotationFunction.stage);
    this.secret = secret;
    this.encryptionKey = props.encryptionKey;
    this.secretName = props.secretName;
    this.stage = rotationFunction.stage;
    if (props.alarmGroup !== undefined) this.alarmGroup = props.alarmGroup;
    this.provider = props.provider;
    if (props.oauth2 !== undefined) this.oauth2 = props.oauth2;

    // The L1 rather than secret.addRotationSchedule(): the L2 cannot express a cron() or rate()
    // schedule with a window Duration (only automaticallyAfter), and it would add
    // secretsmanager:GetRandomPassword on `*` to the function's role and a second invoke
    // permission without a SourceAccount condition.
    this.rotationSchedule = new secretsmanager.CfnRotationSchedule(this, 'RotationSchedule', {
      secretId: secret.secretArn,
      rotationLambdaArn: rotationFunction.function.functionArn,
      rotationRules: { scheduleExpression: props.schedule, duration: `${windowHours}h` },
      rotateImmediatelyOnUpdate:
        props.rotateImmediatelyOnUpdate ?? (props.provider !== OAUTH2_PROVIDER && props.provider !== GITLAB_PROVIDER),
    });
    // Secrets Manager invokes the function as soon as the schedule exists: the invoke permission
    // and the function's access to this secret must be in place first.
    this.rotationSchedule.node.addDependency(rotationFunction.invokePermission);
    if (props.rotationAccess === undefined) {
      rotationFunction.grantRotation(secret).applyBefore(this.rotationSchedule);
    } else {
      this.rotationSchedule.node.addDependency(props.rotationAccess);
    }
    if (props.gitlab !== undefined) {
      // A token someone else rotated ends in `Token Reuse Detected`; a lost answer in `Credential Outcome Unknown`.
      rotationFunction.grantPublishEvents().applyBefore(this.rotationSchedule);
    }
    if (props.oauth2 !== undefined) {
      // Spending a refresh token at the IdP may end in `Token Reuse Detected` (invalid_grant on a
      // token Rotor has not spent) or `Credential Outcome Unknown` events.
      rotationFunction.grantPublishEvents().applyBefore(this.rotationSchedule);
      const certificate = props.oauth2.tls?.clientCertificateSecretName;
      if (certificate !== undefined) {
        rotationFunction.grantReadClientCertificate(certificate).applyBefore(this.rotationSchedule);
      }
    }
  }

  /**
   * Lets `grantee`, a principal in the stack's account, read the secret's current and previous
   * credential: `secretsmanager:GetSecretValue` on exactly this secret, only with a `VersionStage`
   * of `AWSCURRENT` or `AWSPREVIOUS` (so never the pending version, nor a version by id), and
   * `kms:Decrypt` on its key only through Secrets Manager. Grants for several secrets merge into
   * one statement of each kind.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secret.secretArn],
      conditions: { StringEquals: { 'secretsmanager:VersionStage': [...READABLE_VERSION_STAGES] } },
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['kms:Decrypt'],
        resourceArns: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }

  /**
   * The Rotor metric `metricName` of this secret: namespace `Rotor`, dimension `SecretName` = the
   * secret's full name (and `AlarmGroup` in a sharded stage), as the Lambdas emit it through EMF.
   *
   * @default - Sum over 5 minutes
   */
  metric(metricName: MetricName, options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: {
        [SECRET_NAME_DIMENSION]: this.secretName,
        ...(this.alarmGroup === undefined ? {} : { [ALARM_GROUP_DIMENSION]: String(this.alarmGroup) }),
      },
      statistic: cloudwatch.Stats.SUM,
      ...options,
    });
  }

  /**
   * Rotation steps of this secret that failed, and Secrets Manager's own RotationFailed and
   * RotationAbandoned events for it. @default - Sum over 5 minutes
   */
  metricRotationFailed(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.RotationFailed, options);
  }

  /** Health checks in which this secret's AWSCURRENT credential failed its provider's test. @default - Sum over 5 minutes */
  metricHealthCheckFailed(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.HealthCheckFailed, options);
  }

  /** Presentations of a rotated-out credential of this secret after its grace. @default - Sum over 5 minutes */
  metricReuseDetected(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.ReuseDetected, options);
  }

  /** Times AWSCURRENT was moved back to this secret's previous credential after an alarm. @default - Sum over 5 minutes */
  metricRollbackPerformed(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.RollbackPerformed, options);
  }

  /** Presentations of this secret's previous credential within its grace. @default - Sum over 5 minutes */
  metricGraceUse(options?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric(MetricName.GraceUse, options);
  }
}

/** Checks the props against Secrets Manager's and Rotor's rules; returns the window in hours. */
function validate(props: RotatedSecretProps): number {
  const prefix = props.rotationFunction.secretNamePrefix;
  if (!props.secretName.startsWith(prefix) || props.secretName.length === prefix.length) {
    throw new Error(
      `RotatedSecret secretName must start with the rotation function's prefix "${prefix}", got "${props.secretName}"`,
    );
  }
  if ((props.provider === OAUTH2_PROVIDER) !== (props.oauth2 !== undefined)) {
    throw new Error(
      props.oauth2 === undefined
        ? `RotatedSecret provider "${OAUTH2_PROVIDER}" needs oauth2 settings, got none for "${props.secretName}"`
        : `RotatedSecret oauth2 settings are only for provider "${OAUTH2_PROVIDER}", got "${props.provider}" for "${props.secretName}"`,
    );
  }
  if (props.provider === OAUTH2_PROVIDER && props.rotateImmediatelyOnUpdate === true) {
    throw new Error(
      `RotatedSecret rotateImmediatelyOnUpdate must be false for provider "${OAUTH2_PROVIDER}": the secret has no refresh token until \`rotor bootstrap\`, so a rotation at deploy would fail, got true for "${props.secretName}"`,
    );
  }
  const parsed = parseRotationSchedule(props.schedule);
  if (!parsed.ok) throw new Error(`RotatedSecret schedule ${parsed.problem}, got "${props.schedule}"`);
  const windowHours = props.window.toHours({ integral: false });
  const problem = rotationWindowProblem(parsed.schedule, windowHours);
  if (problem) throw new Error(`RotatedSecret window ${problem}, got ${windowHours}h`);
  return windowHours;
}
