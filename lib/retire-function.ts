import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import {
  LambdaBundle,
  RETIRE_SWEEP_REQUEST,
  RotorResourceName,
  type RotorLambdaSettings,
} from '../lambda/shared/rotor-constants';
import {
  addRotorFunction,
  rotorLambdaSettings,
  type RetirementTarget,
  type RotorFunctionOptions,
  type RotorStageResources,
} from './rotor-function';
import { schedulerPrincipalFor } from './scheduler-trust';
import { DEFAULT_SWEEP_SCHEDULE, sweepScheduleProblem } from './sweep-schedule';
import { acknowledgeInlinePolicies } from './inline-policies';
import { DeadLetterQueue } from './dead-letter-queue';

/** Properties of a {@link RetireFunction}. */
export interface RetireFunctionProps extends RotorFunctionOptions {
  /** The stage's ledger, pepper, key, event bus and durations. */
  readonly resources: RotorStageResources;

  /**
   * EventBridge Scheduler expression (UTC) of the sweep that retires every overdue previous
   * credential, in case a one-time retirement schedule could not be created or did not run.
   *
   * @default 'rate(5 minutes)'
   */
  readonly sweepSchedule?: string;
}

// Scheduler retries a failed sweep invocation for at most 4 minutes: the next sweep is never far.
const SWEEP_RETRY_POLICY = { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 240 };

/**
 * The function that retires previous credentials at the end of their grace, with the
 * EventBridge Scheduler pieces that invoke it: the stage's schedule group `rotor-<stage>`, the role
 * Scheduler assumes (trusted only by Scheduler acting for this account and this group, which holds
 * no other purpose's schedules; allowed only to invoke this function), and the recurring sweep. The rotation function adds a one-time
 * schedule in the group for each rotated-out credential.
 *
 * Defaults: 256 MiB, 1 minute (a sweep retires a page of overdue credentials).
 */
export class RetireFunction extends Construct implements RetirementTarget {
  /** The retire Lambda function, named `rotor-<stage>-retire`. */
  readonly function: lambda.IFunction;
  /** The function's execution role; it has no managed policies. */
  readonly role: iam.IRole;
  /** The function's log group (retained when the stack is deleted). */
  readonly logGroup: logs.ILogGroup;
  /** What the function is told; its environment is `rotorLambdaEnvironment(settings)`. */
  readonly settings: RotorLambdaSettings;
  /**
   * ARN of the function, known before it exists (from its name): it is in every Rotor function's
   * environment, this one's included.
   */
  readonly retireFunctionArn: string;
  /** The role EventBridge Scheduler assumes to invoke the function. */
  readonly schedulerRole: iam.IRole;
  /** The stage's schedule group, `rotor-<stage>`. */
  readonly scheduleGroup: scheduler.CfnScheduleGroup;
  /** Name of the schedule group. */
  readonly scheduleGroupName: string;
  /** The recurring sweep schedule. */
  readonly sweepSchedule: scheduler.CfnSchedule;
  /** Where the retirements and sweeps that failed for good go: Lambda's after its retries, Scheduler's undelivered sweeps. */
  readonly deadLetterQueue: DeadLetterQueue;

  constructor(scope: Construct, id: string, props: RetireFunctionProps) {
    super(scope, id);
    const { stage } = props.resources;
    const sweepExpression = props.sweepSchedule ?? DEFAULT_SWEEP_SCHEDULE;
    const problem = sweepScheduleProblem(sweepExpression);
    if (problem) throw new Error(`RetireFunction sweepSchedule ${problem}, got "${sweepExpression}"`);

    this.scheduleGroupName = RotorResourceName.scheduleGroup(stage);
    this.scheduleGroup = new scheduler.CfnScheduleGroup(this, 'ScheduleGroup', { name: this.scheduleGroupName });

    this.schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: `Rotor ${stage}: EventBridge Scheduler invokes the retire function`,
      assumedBy: schedulerPrincipalFor(this.scheduleGroup),
    });
    acknowledgeInlinePolicies(this.schedulerRole);

    const functionName = RotorResourceName.retireFunction(stage);
    this.retireFunctionArn = `arn:${Aws.PARTITION}:lambda:${Aws.REGION}:${Aws.ACCOUNT_ID}:function:${functionName}`;
    this.settings = rotorLambdaSettings(props.resources, this, props.logLevel);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      stage,
      purpose: 'retire',
      encryptionKey: props.resources.encryptionKey,
      alertTopic: props.resources.alertTopic,
    });
    const parts = addRotorFunction(this, {
      bundle: LambdaBundle.retire,
      description: `Rotor ${stage}: retires previous credentials at the end of their grace, and sweeps overdue ones`,
      functionName,
      settings: this.settings,
      encryptionKey: props.resources.encryptionKey,
      options: props,
      defaultTimeout: Duration.minutes(1),
      defaultMemorySize: 256,
      invocation: { deadLetterQueue: this.deadLetterQueue },
      unreservedConcurrencyReason:
        'Retirements arrive one schedule at a time as graces end, plus one sweep every few minutes, and Lambda queues an event it throttles, so nothing needs capping or guaranteeing unless the stage sets reservedConcurrency.retire.',
    });
    this.function = parts.function;
    this.role = parts.role;
    this.logGroup = parts.logGroup;
    props.resources.ledger.grantRecordKeeping(this.role);
    props.resources.ledger.grantQueryOverdue(this.role);

    const invoke = this.schedulerRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.function.functionArn] }),
    );

    // A sweep Scheduler could not deliver goes to the function's dead-letter queue: the next sweep
    // makes it again, but a sweep that never gets through leaves GitLab tokens unrevoked.
    const sendDeadLetters = this.deadLetterQueue.grantSend(this.schedulerRole);
    this.sweepSchedule = new scheduler.CfnSchedule(this, 'SweepSchedule', {
      name: 'sweep-overdue-retirements',
      groupName: this.scheduleGroup.ref,
      description: `Rotor ${stage}: retire every previous credential whose grace is over`,
      scheduleExpression: sweepExpression,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: this.function.functionArn,
        roleArn: this.schedulerRole.roleArn,
        input: JSON.stringify(RETIRE_SWEEP_REQUEST),
        retryPolicy: SWEEP_RETRY_POLICY,
        deadLetterConfig: { arn: this.deadLetterQueue.queueArn },
      },
    });
    if (invoke.policyDependable) this.sweepSchedule.node.addDependency(invoke.policyDependable);
    sendDeadLetters.applyBefore(this.sweepSchedule);
    this.sweepSchedule.node.addDependency(this.deadLetterQueue.queue);
  }

  private decryptGrant?: iam.Grant;

  /**
   * Lets the function read any version of a GitLab secret: retirement reads the retired version's
   * document, which names the token and says whether GitLab still holds it (overlap mode) or
   * revoked it when it rotated it (self mode). GetSecretValue only, and the stage's key only
   * through Secrets Manager.
   */
  grantReadRetiredVersions(secret: secretsmanager.ISecret, key: kms.IKey): void {
    this.decryptGrant ??= iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['kms:Decrypt'],
      resourceArns: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
    });
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [secret.secretArn],
    });
  }

  /**
   * Lets the function revoke a rotated-out GitLab token at GitLab at the end of its grace: read
   * any version of `secret` (see {@link grantReadRetiredVersions}), and the AWSCURRENT version of
   * `manager` (the token allowed to revoke it).
   */
  grantRevokeAtIssuer(secret: secretsmanager.ISecret, manager: secretsmanager.ISecret, key: kms.IKey): void {
    this.grantReadRetiredVersions(secret, key);
    iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [manager.secretArn],
      conditions: { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } },
    });
  }

  /**
   * ARN pattern of the schedules in the stage's group, for `scheduler:CreateSchedule`: one-time
   * retirement schedules are named at run time. Built from pseudo parameters only, so that it
   * reads the same in every stack (cdk-nag names the finding after it).
   */
  get retirementSchedulesArn(): string {
    return `arn:${Aws.PARTITION}:scheduler:${Aws.REGION}:${Aws.ACCOUNT_ID}:schedule/${this.scheduleGroupName}/*`;
  }
}
