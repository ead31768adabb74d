import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ClientCertificateAccess } from './client-certificate-access';
import {
  HEALTH_AND_ROLLBACK_DEFAULTS,
  LambdaBundle,
  RotorResourceName,
  type RotorLambdaSettings,
} from '../lambda/shared/rotor-constants';
import {
  DEFAULT_HEALTH_CHECK_SCHEDULE,
  healthCheckScheduleProblem,
  scheduleRateSeconds,
} from './health-check-schedule';
import type { RetireFunction } from './retire-function';
import { schedulerPrincipalFor } from './scheduler-trust';
import {
  addRotorFunction,
  rotorLambdaSettings,
  type RotorFunctionOptions,
  type RotorStageResources,
} from './rotor-function';
import { acknowledgeInlinePolicies } from './inline-policies';
import { DeadLetterQueue } from './dead-letter-queue';

/** Properties of a {@link HealthCheckFunction}. */
export interface HealthCheckFunctionProps extends RotorFunctionOptions {
  /** The stage's names, key, ledger, pepper, event bus, durations and health-check settings. */
  readonly resources: RotorStageResources;

  /** The stage's retirement target, which the function's settings name. */
  readonly retirement: RetireFunction;

  /**
   * EventBridge Scheduler expression (UTC) of the health check.
   *
   * @default 'rate(1 minute)'
   */
  readonly schedule?: string;
}

// A health check that fails is not retried: the next one is at most a schedule period away, and
// retries would pile up behind it. Scheduler drops an invocation it could not deliver in a minute.
const HEALTH_CHECK_RETRY_POLICY = { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 60 };

// Lambda's shortest: a health check throttled behind the one still running waits at most this long.
const ASYNC_EVENT_MAX_AGE = Duration.seconds(60);

// Time the function keeps beyond the health check's budget to publish its metrics and return.
const TIMEOUT_MARGIN = Duration.seconds(20);

/**
 * The health check: an EventBridge Scheduler schedule in a group of its own, `rotor-<stage>.health-check`, invokes it (default
 * every minute); it tests each managed secret's AWSCURRENT credential with its provider's test,
 * within the budget `ROTOR_HEALTH_CHECK_BUDGET_SECONDS`, and emits `HealthCheckFailed` per failing
 * secret and `HealthChecksSucceeded` per stage.
 *
 * Its role: its logs and traces; `secretsmanager:ListSecrets` (which has no resource-level
 * permissions); DescribeSecret and GetSecretValue at `AWSCURRENT` only on the secrets passed to
 * {@link grantHealthCheck}; the key only through Secrets Manager; GetItem on the ledger; the pepper.
 * The schedule's own role may invoke this function and nothing else, and only a schedule in the
 * health check's group can assume it.
 *
 * Defaults: 256 MiB; a timeout of the budget plus 20 seconds (1 minute with the default budget).
 */
export class HealthCheckFunction extends Construct {
  /** The health-check Lambda function. */
  readonly function: lambda.IFunction;
  /** The function's execution role; it has no managed policies. */
  readonly role: iam.IRole;
  /** The function's log group (retained when the stack is deleted). */
  readonly logGroup: logs.ILogGroup;
  /** What the function is told; its environment is `rotorLambdaEnvironment(settings)`. */
  readonly settings: RotorLambdaSettings;
  /** The role EventBridge Scheduler assumes to invoke the function. */
  readonly schedulerRole: iam.IRole;
  /** The recurring schedule, alone in {@link scheduleGroup}. */
  readonly schedule: scheduler.CfnSchedule;
  /** The health check's own schedule group, `rotor-<stage>.health-check`. */
  readonly scheduleGroup: scheduler.CfnScheduleGroup;
  /** Where health checks that failed or could not be delivered go. */
  readonly deadLetterQueue: DeadLetterQueue;

  private describeGrant?: iam.Grant;
  private readGrant?: iam.Grant;

  private clientCertificates?: ClientCertificateAccess;

  constructor(scope: Construct, id: string, props: HealthCheckFunctionProps) {
    super(scope, id);
    const { resources, retirement } = props;
    const { stage } = resources;
    const expression = props.schedule ?? DEFAULT_HEALTH_CHECK_SCHEDULE;
    const problem = healthCheckScheduleProblem(expression);
    if (problem) throw new Error(`HealthCheckFunction schedule ${problem}, got "${expression}"`);
    const budget = Duration.seconds(
      resources.healthAndRollback?.healthCheckBudgetSeconds ?? HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckBudgetSeconds,
    );
    const timeout = props.timeout ?? budget.plus(TIMEOUT_MARGIN);
    if (timeout.toSeconds() <= budget.toSeconds()) {
      throw new Error(
        `HealthCheckFunction timeout must be longer than the health check's budget of ${budget.toSeconds()} seconds, got ${timeout.toSeconds()} seconds`,
      );
    }

    const runSeconds = scheduleRateSeconds(expression);
    const watchSeconds =
      resources.healthAndRollback?.healthCheckWatchSeconds ?? HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckWatchSeconds;
    const idleSeconds =
      resources.healthAndRollback?.healthCheckIdleSeconds ?? HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckIdleSeconds;
    for (const [name, seconds] of [
      ['healthCheckWatchSeconds', watchSeconds],
      ['healthCheckIdleSeconds', idleSeconds],
    ] as const) {
      if (!Number.isInteger(seconds) || seconds < 60) {
        throw new Error(`HealthCheckFunction ${name} must be a whole number of seconds of at least 60, got ${seconds}`);
      }
    }

    this.settings = {
      ...rotorLambdaSettings(resources, retirement, props.logLevel),
      // A cron() schedule's period is unknown: every run then tests every secret.
      healthCheckRunSeconds: runSeconds ?? idleSeconds,
      healthCheckWatchSeconds: watchSeconds,
      healthCheckIdleSeconds: Math.max(idleSeconds, runSeconds ?? idleSeconds),
    };
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      stage,
      purpose: 'health-check',
      encryptionKey: resources.encryptionKey,
      alertTopic: resources.alertTopic,
    });
    const parts = addRotorFunction(this, {
      bundle: LambdaBundle.healthCheck,
      description: `Rotor ${stage}: tests the current credential of every managed secret`,
      settings: this.settings,
      encryptionKey: resources.encryptionKey,
      options: { ...props, timeout },
      defaultTimeout: timeout,
      defaultMemorySize: 256,
      invocation: { deadLetterQueue: this.deadLetterQueue },
      unreservedConcurrencyReason:
        'Not reserved unless the stage says so: Lambda keeps 100 executions unreserved, so a reservation fails the deploy on an account whose quota is 100 or less; a run ends within its budget, shorter than the schedule period, and Lambda does not retry it, so two runs do not overlap; reservedConcurrency.healthCheck reserves it.',
    });
    // A failed or late health check is not run again: the next one is at most a schedule period
    // away. It goes to the dead-letter queue instead, so that a health check that keeps failing is seen.
    parts.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: ASYNC_EVENT_MAX_AGE });
    this.function = parts.function;
    this.role = parts.role;
    this.logGroup = parts.logGroup;

    // The secrets' values only through Secrets Manager; grantHealthCheck adds the secrets.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [resources.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    resources.ledger.grantReadItems(this.role);
    resources.ledger.grantHealthWatchKeeping(this.role);
    resources.pepper.grantRead(this.role);

    // ListSecrets and BatchGetSecretValue accept no resource but `*`, so they sit in a policy of
    // their own and the acknowledgement covers only that policy. BatchGetSecretValue reads nothing
    // by itself: Secrets Manager also authorizes GetSecretValue on each secret of the batch, which
    // grantHealthCheck allows on the stage's secrets only.
    const listingPolicy = new iam.Policy(this, 'SecretListingPolicy', {
      roles: [parts.role],
      statements: [
        new iam.PolicyStatement({
          actions: ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'],
          resources: ['*'],
        }),
      ],
    });
    Validations.of(listingPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'secretsmanager:ListSecrets and BatchGetSecretValue support no resource-level permissions, so the resource must be *; ListSecrets returns no values, and BatchGetSecretValue returns only the secrets GetSecretValue is granted on.',
    });
    acknowledgeInlinePolicies(listingPolicy);
    parts.function.node.addDependency(listingPolicy);

    this.scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', {
      name: RotorResourceName.healthCheckScheduleGroup(stage),
    });
    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `Rotor ${stage}: EventBridge Scheduler invokes the health check`,
      assumedBy: schedulerPrincipalFor(this.scheduleGroup),
    });
    acknowledgeInlinePolicies(this.schedulerRole);
    const invoke = this.schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
    );

    // A health check Scheduler could not deliver goes to the dead-letter queue: one is replaced by
    // the next, but a health check that never gets through leaves broken credentials unnoticed.
    const sendDeadLetters = this.deadLetterQueue.grantSend(this.schedulerRole);
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      name: 'health-check',
      groupName: this.scheduleGroup.ref,
      description: `Rotor ${stage}: test the current credential of every managed secret`,
      scheduleExpression: expression,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: this.function.functionArn,
        roleArn: this.schedulerRole.roleArn,
        input: '{}',
        retryPolicy: HEALTH_CHECK_RETRY_POLICY,
        deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      },
    });
    if (invoke.policyDependable) this.schedule.node.addDependency(invoke.policyDependable);
    sendDeadLetters.applyBefore(this.schedule);
    this.schedule.node.addDependency(this.deadLetterQueue.queue);
  }

  /**
   * Lets the health check test `secret`: DescribeSecret, and GetSecretValue only with
   * `VersionStage` `AWSCURRENT` (so the request must name the stage), on exactly this secret's
   * ARN. All secrets share one statement of each kind.
   *
   * @throws Error if the secret's full ARN is unknown (an imported secret referenced by name).
   */
  grantHealthCheck(secret: secretsmanager.ISecret): iam.Grant {
    if (secret.secretFullArn === undefined) {
      throw new Error(
        `HealthCheckFunction can only test secrets with a known full ARN (a partial ARN would need a wildcard), got ${secret.node.path}`,
      );
    }
    const describe = this.describeGrant?.principalStatements[0];
    const read = this.readGrant?.principalStatements[0];
    if (this.describeGrant && this.readGrant && describe && read) {
      describe.addResources(secret.secretFullArn);
      read.addResources(secret.secretFullArn);
      return this.describeGrant.combine(this.readGrant);
    }
    this.describeGrant = iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['secretsmanager:DescribeSecret'],
      resourceArns: [secret.secretFullArn],
    });
    // AWSCURRENT only: by its label, or with neither label nor version id, which is how
    // BatchGetSecretValue asks for each secret (it always returns AWSCURRENT).
    this.readGrant = iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [secret.secretFullArn],
      conditions: {
        StringEqualsIfExists: { 'secretsmanager:VersionStage': 'AWSCURRENT' },
        Null: { 'secretsmanager:VersionId': 'true' },
      },
    });
    return this.describeGrant.combine(this.readGrant);
  }

  /**
   * Lets the function read the client certificate secret `secretName` an OAuth 2.0 secret presents
   * for mutual TLS when its access token is tested (see {@link ClientCertificateAccess}).
   */
  grantReadClientCertificate(secretName: string): iam.Grant {
    this.clientCertificates ??= new ClientCertificateAccess(
      this.role,
      this.settings.secretNamePrefix,
      'HealthCheckFunction',
    );
    return this.clientCertificates.grantRead(secretName);
  }
}
