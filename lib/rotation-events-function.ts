import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LambdaBundle, SECRET_CHANGE_API_CALLS, type RotorLambdaSettings } from '../lambda/shared/rotor-constants';
import type { RetireFunction } from './retire-function';
import {
  addRotorFunction,
  rotorLambdaSettings,
  type RotorFunctionOptions,
  type RotorStageResources,
} from './rotor-function';
import { DeadLetterQueue } from './dead-letter-queue';

/** Properties of a {@link RotationEventsFunction}. */
export interface RotationEventsFunctionProps extends RotorFunctionOptions {
  /** The stage's names, key, ledger, pepper, event bus and durations; the function is told them like every Rotor function. */
  readonly resources: RotorStageResources;
  /** The stage's retirement target; the function is told about it like every Rotor function. */
  readonly retirement: RetireFunction;
}

/**
 * The CloudTrail events of Secrets Manager that mean a rotation did not complete, whatever the
 * rotation function said: it failed (Secrets Manager gave up on a step), or it was abandoned
 * (someone wrote a new version by hand while a rotation was pending).
 */
export const SECRETS_MANAGER_ROTATION_FAILURE_EVENTS = ['RotationFailed', 'RotationAbandoned'] as const;

// EventBridge retries delivery for up to an hour; a failure counted later than that would land in
// a period the alarm has already evaluated.
const DELIVERY_RETRY = { retryAttempts: 8, maxEventAge: Duration.hours(1) };

/**
 * Counts Secrets Manager's own `RotationFailed` and `RotationAbandoned` events as rotation failures:
 * an EventBridge rule on the default bus (where CloudTrail's service events arrive) sends them to a
 * function that emits the secret's `RotationFailed` metric, which the rotation-failure alarm
 * watches. Secrets Manager's RotateSecret returns success even when the rotation later fails.
 *
 * A second rule sends it the Secrets Manager API calls that change a secret's value or labels
 * (`AWS API Call via CloudTrail`: PutSecretValue, UpdateSecretVersionStage, RotateSecret, ...;
 * EventBridge receives these only from a CloudTrail trail logging the Region's management
 * events). The function marks the secret, and a secret whose rotation failed, watched in the
 * ledger, so the health check tests it at every run for the watch period.
 *
 * The rules match every secret of the account and region: the function reads the secret from the
 * event and ignores secrets outside the stage's prefix.
 *
 * Its role: its logs and traces, and UpdateItem on the ledger's watch partition only. The secret's
 * name is in its ARN, and the metric goes out through EMF, in the logs.
 *
 * Defaults: 256 MiB, 10 seconds.
 */
export class RotationEventsFunction extends Construct {
  /** The rotation-events Lambda function. */
  readonly function: lambda.IFunction;
  /** The function's execution role; it has no managed policies. */
  readonly role: iam.IRole;
  /** The function's log group (retained when the stack is deleted). */
  readonly logGroup: logs.ILogGroup;
  /** What the function is told; its environment is `rotorLambdaEnvironment(settings)`. */
  readonly settings: RotorLambdaSettings;
  /** Where rotation failures the function could not count go. */
  readonly deadLetterQueue: DeadLetterQueue;
  /** The rule on the default bus that sends Secrets Manager's rotation failures to the function. */
  readonly rule: events.Rule;
  /** The rule on the default bus that sends Secrets Manager's API calls that change a secret to the function. */
  readonly changeRule: events.Rule;

  constructor(scope: Construct, id: string, props: RotationEventsFunctionProps) {
    super(scope, id);
    const { resources } = props;
    this.settings = rotorLambdaSettings(resources, props.retirement, props.logLevel);
    this.deadLetterQueue = new DeadLetterQueue(this, 'DeadLetters', {
      stage: resources.stage,
      purpose: 'rotation-events',
      encryptionKey: resources.encryptionKey,
      alertTopic: resources.alertTopic,
    });
    const parts = addRotorFunction(this, {
      bundle: LambdaBundle.rotationEvents,
      description: `Rotor ${resources.stage}: counts Secrets Manager's rotation failures and marks changed secrets for the health check`,
      settings: this.settings,
      encryptionKey: resources.encryptionKey,
      options: props,
      defaultTimeout: Duration.seconds(10),
      defaultMemorySize: 256,
      invocation: { deadLetterQueue: this.deadLetterQueue },
      unreservedConcurrencyReason:
        "The function counts Secrets Manager's rotation failures, a few events a day, in milliseconds, and Lambda queues an event it throttles, so nothing needs capping or guaranteeing unless the stage sets reservedConcurrency.rotationEvents.",
    });
    this.function = parts.function;
    this.role = parts.role;
    this.logGroup = parts.logGroup;

    this.rule = new events.Rule(this, 'Rule', {
      description: `Rotor ${resources.stage}: Secrets Manager reports a rotation failed or was abandoned`,
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS Service Event via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: [...SECRETS_MANAGER_ROTATION_FAILURE_EVENTS],
        },
      },
      // A failure the function could not count after Lambda's retries goes to its dead-letter
      // queue: the alarm missed it, and the queue's alarm says so.
      targets: [new targets.LambdaFunction(parts.function, DELIVERY_RETRY)],
    });

    this.changeRule = new events.Rule(this, 'ChangeRule', {
      description: `Rotor ${resources.stage}: a Secrets Manager API call changed a secret's value or labels`,
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS API Call via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: [...SECRET_CHANGE_API_CALLS],
        },
      },
      // A watch that arrives late still shortens the wait for the next check; EventBridge retries
      // for the same hour as the failure rule.
      targets: [new targets.LambdaFunction(parts.function, DELIVERY_RETRY)],
    });
    resources.ledger.grantHealthWatchMarking(parts.role);
  }
}
