import { Aws, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Properties of a {@link DeadLetterQueue}. */
export interface DeadLetterQueueProps {
  /** Deployment stage; names the queue `rotor-<stage>-<purpose>-dead-letters` and its alarm. */
  readonly stage: string;
  /** What fails into the queue, e.g. `rollback`: a lower-case slug, unique within the stage. */
  readonly purpose: string;
  /** The stage's key: it encrypts the queue's messages. */
  readonly encryptionKey: kms.IKey;
  /**
   * The stage's alert topic, which the queue's alarm notifies.
   *
   * @default - the alarm notifies nobody (only for a function built outside a Rotor stack)
   */
  readonly alertTopic?: sns.ITopic;
}

/** How long a dead letter waits for someone: SQS's longest retention. */
export const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * The dead-letter queue of one asynchronously invoked Rotor function: the events that Lambda (after
 * its retries) or EventBridge Scheduler could not get through, kept 14 days for an operator to read
 * and replay. Encrypted with the stage's key, TLS only; an alarm, `rotor-<stage>-dead-letters.<purpose>`,
 * notifies the stage's alert topic as soon as one message is waiting.
 *
 * The queue is named, so that its ARN is known before it exists: the key's grants can name it
 * (SQS encrypts each message under the encryption context `aws:sqs:arn`).
 */
export class DeadLetterQueue extends Construct {
  /** The queue. */
  readonly queue: sqs.Queue;
  /** ApproximateNumberOfMessagesVisible > 0, notifying the stage's alert topic. */
  readonly alarm: cloudwatch.Alarm;
  /** The queue's ARN, built from its name. */
  readonly queueArn: string;

  private readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: DeadLetterQueueProps) {
    super(scope, id);
    const { stage, purpose } = props;
    this.encryptionKey = props.encryptionKey;
    const queueName = `rotor-${stage}-${purpose}-dead-letters`;
    this.queueArn = `arn:${Aws.PARTITION}:sqs:${Aws.REGION}:${Aws.ACCOUNT_ID}:${queueName}`;

    this.queue = new sqs.Queue(this, 'Queue', {
      queueName,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      // Fewer calls to the key; 5 minutes is the default.
      dataKeyReuse: Duration.minutes(5),
      retentionPeriod: DEAD_LETTER_RETENTION,
      enforceSSL: true,
    });

    this.alarm = new cloudwatch.Alarm(this, 'Alarm', {
      alarmName: `rotor-${stage}-dead-letters.${purpose}`,
      alarmDescription: `Rotor ${stage}: an invocation of the ${purpose} function failed for good and waits in ${queueName} (see docs/operations.md)`,
      metric: this.queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      threshold: 0,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      // SQS publishes the metric every minute while the queue exists; none means nothing waits.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alertTopic !== undefined) this.alarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alertTopic));
  }

  /**
   * Lets `grantee` (a function's role, which Lambda uses to deliver its failed events, or a
   * Scheduler role) send to this queue and nothing else: sqs:SendMessage on the queue, and the
   * stage's key only through SQS for this queue's messages.
   */
  grantSend(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sqs:SendMessage'],
      resourceArns: [this.queueArn],
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resourceArns: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `sqs.${Stack.of(this).region}.amazonaws.com`,
            'kms:EncryptionContext:aws:sqs:arn': this.queueArn,
          },
        },
      }),
    );
  }
}
