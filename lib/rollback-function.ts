import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ClientCertificateAccess } from './client-certificate-access';
import {
  LambdaBundle,
  RETIREMENT_SCHEDULE_NAME_PREFIX,
  ROLLBACK_ALARM_KINDS,
  rotorAlarmName,
  rotorAlarmGroupAlarmNamePrefix,
  type RotorLambdaSettings,
} from '../lambda/shared/rotor-constants';
import type { AlertTopic } from './alert-topic';
import type { RetireFunction } from './retire-function';
import {
  addRotorFunction,
  rotorLambdaSettings,
  type RotorFunctionOptions,
  type RotorStageResources,
} from './rotor-function';
import { acknowledgeInlinePolicies } from './inline-policies';
import { DeadLetterQueue } from './dead-letter-queue';

/** Properties of a {@link RollbackFunction}. */
export interface RollbackFunctionProps extends RotorFunctionOptions {
  /** The stage's names, key, ledger, pepper, event bus, durations and rollback settings. */
  readonly resources: RotorStageResources;
  /** The stage's retirement target: a rollback deletes the restored credential's retirement schedule. */
  readonly retirement: RetireFunction;
  /** Where the function reports that it paused rotation of a secret. */
  readonly alertTopic: AlertTopic;
}

// What a rollback calls: DescribeSecret for the versions and their stages, GetSecretValue for the
// previous credential (by version id, to run its provider's test), UpdateSecretVersionStage to
// move AWSCURRENT back to it.
export const ROLLBACK_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];

// EventBridge retries delivering an alarm event (throttling, Lambda unavailable) for up to an hour;
// Lambda then retries a failed invocation twice on its own. A rollback that comes later than that
// would find the previous credential's grace over and pause rotation anyway.
const DELIVERY_RETRY = { retryAttempts: 8, maxEventAge: Duration.hours(1) };

/**
 * The prefixes of the names of a stage's alarms that start a rollback: `rotor-<stage>-<kind>-` for
 * each kind in ROLLBACK_ALARM_KINDS (rotation failures, health-check failures; not reuse).
 */
export function rollbackAlarmNamePrefixes(stage: string): string[] {
  // The name of a secret's alarm ends with the secret's name; without one, what is left is the prefix.
  return ROLLBACK_ALARM_KINDS.map((kind) => rotorAlarmName(stage, kind, ''));
}

/**
 * The prefixes of the names of a sharded stage's alarm-group alarms that start a rollback:
 * `rotor-<stage>-<kind>.group-` for each kind in ROLLBACK_ALARM_KINDS.
 */
export function rollbackAlarmGroupAlarmNamePrefixes(stage: string): string[] {
  return ROLLBACK_ALARM_KINDS.map((kind) => rotorAlarmGroupAlarmNamePrefix(stage, kind));
}

/**
 * The rollback function and the EventBridge rule that invokes it: on the default bus (where
 * CloudWatch sends alarm state changes), a `CloudWatch Alarm State Change` into `ALARM` of one of
 * the stage's rotation-failure or health-check-failure alarms; in a sharded stage also a `CloudWatch
 * Alarm Contributor State Change` into `ALARM` of an alarm group's alarm of those kinds. The function finds
 * the secret from the alarm's `SecretName` dimension or the contributor's `SecretName` attribute and moves AWSCURRENT back to the previous credential if it is
 * still usable, or pauses rotation, tells the alert topic and puts a `Rotation Paused` event.
 *
 * Its role: its logs and traces; DescribeSecret, GetSecretValue and UpdateSecretVersionStage only
 * on the secrets passed to {@link grantRollback}, with the key only through Secrets Manager; the
 * ledger's record keeping; the pepper; `scheduler:DeleteSchedule` only on retirement schedules in
 * the stage's group; `sns:Publish` on the alert topic; `events:PutEvents` on the stage's bus.
 * No `cloudwatch:DescribeAlarms`: the state change event carries the alarm's name, its metric and
 * the `SecretName` dimension, which is all the function needs.
 *
 * Defaults: 256 MiB, 1 minute (the previous credential's provider test polls with backoff).
 */
export class RollbackFunction extends Construct {
  /** The rollback Lambda function. */
  readonly function: lambda.IFunction;
  /** The function's execution role; it has no managed policies. */
  readonly role: iam.IRole;
  /** The function's log group (retained when the stack is deleted). */
  readonly logGroup: logs.ILogGroup;
  /** What the function is told; its environment is `rotorLambdaEnvironment(settings)`. */
  readonly settings: RotorLambdaSettings;
  /** Where rollbacks that failed after Lambda's retries go. */
  readonly deadLetterQueue: DeadLetterQueue;
  /** The rule on the default bus that sends the stage's rollback alarms into ALARM to the function. */
  readonly rule: events.Rule;
  /**
   * In a sharded stage, the rule that sends the function each secret that enters ALARM in one of
   * its alarm group's rollback alarms (`CloudWatch Alarm Contributor State Change`); undefined otherwise.
   */
  readonly contributorRule?: events.Rule;

  private rollbackGrant?: iam.Grant;

  private clientCertificates?: ClientCertificateAccess;

  constructor(scope: Construct, id: string, props: RollbackFunctionProps) {
    super(scope, id);
    const { resources, retirement, alertTopic } = props;
    const { stage } = resources;
    this.settings = rotorLambdaSettings(resources, retirement, props.logLevel);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      stage,
      purpose: 'rollback',
      encryptionKey: resources.encryptionKey,
      alertTopic: alertTopic.topic,
    });
    const parts = addRotorFunction(this, {
      bundle: LambdaBundle.rollback,
      description: `Rotor ${stage}: moves AWSCURRENT back to the previous credential when a Rotor alarm fires, or pauses rotation`,
      settings: this.settings,
      encryptionKey: resources.encryptionKey,
      options: props,
      defaultTimeout: Duration.minutes(1),
      defaultMemorySize: 256,
      invocation: { deadLetterQueue: this.deadLetterQueue },
      unreservedConcurrencyReason:
        "Rollbacks come only from alarms entering ALARM and Lambda queues an event it throttles, so the function draws on the account's unreserved pool unless the stage sets reservedConcurrency.rollback (to bound how many rollbacks test their providers at once, or to guarantee capacity).",
    });
    this.function = parts.function;
    this.role = parts.role;
    this.logGroup = parts.logGroup;

    // grantRollback adds the secrets to the default policy; the key only through Secrets Manager.
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt'],
        resources: [resources.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    resources.ledger.grantRecordKeeping(this.role);
    resources.pepper.grantRead(this.role);
    alertTopic.grantPublish(this.role);
    resources.eventBus.grantPutEventsTo(this.role);

    // Retirement schedules are named at run time (`retire-<hash>`), so DeleteSchedule needs a
    // wildcard: it sits in a policy of its own, and the acknowledgement names exactly that resource.
    const schedulesArn = `arn:${Aws.PARTITION}:scheduler:${Aws.REGION}:${Aws.ACCOUNT_ID}:schedule/${retirement.scheduleGroupName}/${RETIREMENT_SCHEDULE_NAME_PREFIX}*`;
    const cancellingPolicy = new iam.Policy(this, 'RetirementCancellingPolicy', {
      roles: [parts.role],
      statements: [new iam.PolicyStatement({ actions: ['scheduler:DeleteSchedule'], resources: [schedulesArn] })],
    });
    Validations.of(cancellingPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${retirement.scheduleGroupName}/${RETIREMENT_SCHEDULE_NAME_PREFIX}*]`,
      reason:
        "A rollback cancels the restored credential's one-time retirement schedule, named at run time, so DeleteSchedule is allowed on the retirement schedules of the stage's own group and nowhere else.",
    });
    acknowledgeInlinePolicies(cancellingPolicy);
    parts.function.node.addDependency(cancellingPolicy);

    this.rule = new events.Rule(this, 'AlarmRule', {
      description: `Rotor ${stage}: a rotation or health-check alarm of the stage entered ALARM; roll back`,
      eventPattern: {
        source: ['aws.cloudwatch'],
        detailType: ['CloudWatch Alarm State Change'],
        detail: {
          alarmName: events.Match.anyOf(
            ...rollbackAlarmNamePrefixes(stage).map((prefix) => events.Match.prefix(prefix)),
          ),
          state: { value: ['ALARM'] },
        },
      },
      // A rollback that fails after Lambda's retries goes to the function's dead-letter queue, whose
      // alarm says that a secret may still hold a broken credential.
      targets: [new targets.LambdaFunction(parts.function, DELIVERY_RETRY)],
    });
    if (this.settings.alarmGroupCount !== undefined) {
      // An alarm group's Metrics Insights alarm stays in ALARM while any of its secrets does; each secret
      // entering ALARM is its own contributor event, which names the secret.
      this.contributorRule = new events.Rule(this, 'AlarmContributorRule', {
        description: `Rotor ${stage}: a secret entered ALARM in a rotation or health-check alarm of its alarm group; roll it back`,
        eventPattern: {
          source: ['aws.cloudwatch'],
          detailType: ['CloudWatch Alarm Contributor State Change'],
          detail: {
            alarmName: events.Match.anyOf(
              ...rollbackAlarmGroupAlarmNamePrefixes(stage).map((prefix) => events.Match.prefix(prefix)),
            ),
            state: { value: ['ALARM'] },
          },
        },
        targets: [new targets.LambdaFunction(parts.function, DELIVERY_RETRY)],
      });
    }
  }

  /**
   * Lets the function roll back `secret`: DescribeSecret, GetSecretValue and
   * UpdateSecretVersionStage on exactly this secret's ARN. All secrets share one statement.
   *
   * @throws Error if the secret's full ARN is unknown (an imported secret referenced by name).
   */
  grantRollback(secret: secretsmanager.ISecret): iam.Grant {
    if (secret.secretFullArn === undefined) {
      throw new Error(
        `RollbackFunction can only roll back secrets with a known full ARN (a partial ARN would need a wildcard), got ${secret.node.path}`,
      );
    }
    const existing = this.rollbackGrant?.principalStatements[0];
    if (this.rollbackGrant && existing) {
      existing.addResources(secret.secretFullArn);
      return this.rollbackGrant;
    }
    this.rollbackGrant = iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ROLLBACK_ACTIONS,
      resourceArns: [secret.secretFullArn],
    });
    return this.rollbackGrant;
  }

  /**
   * Lets the function read the client certificate secret `secretName` an OAuth 2.0 secret presents
   * for mutual TLS when its access token is tested (see {@link ClientCertificateAccess}).
   */
  grantReadClientCertificate(secretName: string): iam.Grant {
    this.clientCertificates ??= new ClientCertificateAccess(
      this.role,
      this.settings.secretNamePrefix,
      'RollbackFunction',
    );
    return this.clientCertificates.grantRead(secretName);
  }
}
