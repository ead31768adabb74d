import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

/** Properties of an {@link AlertTopic}. */
export interface AlertTopicProps {
  /** Deployment stage; names the topic `rotor-<stage>-alerts`. */
  readonly stage: string;

  /**
   * The stage's key: it encrypts the topic. Its policy is extended so that CloudWatch may use it
   * for the stage's alarms, so it must be a key this stack owns.
   */
  readonly encryptionKey: kms.IKey;

  /**
   * Addresses subscribed to the topic by email; each must confirm the subscription once.
   *
   * @default - no email subscription
   */
  readonly emails?: readonly string[];

  /**
   * `https://` endpoints subscribed to the topic; each must confirm the subscription once. The URL
   * is written into the template, so it must not carry a secret.
   *
   * @default - no HTTPS subscription
   */
  readonly httpsEndpoints?: readonly string[];
}

/**
 * The stage's alert topic: Rotor's alarms notify it when they enter ALARM, and the rollback
 * function when it pauses rotation of a secret. Encrypted with the stage's key; its policy denies
 * publishing without TLS and lets CloudWatch publish only for the stage's own alarms
 * (`rotor-<stage>-*`), in this account.
 */
export class AlertTopic extends Construct {
  /** The topic. */
  readonly topic: sns.ITopic;
  /** The key that encrypts it. */
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: AlertTopicProps) {
    super(scope, id);
    const { stage, encryptionKey } = props;
    this.encryptionKey = encryptionKey;

    const topic = new sns.Topic(this, 'Topic', {
      topicName: `rotor-${stage}-alerts`,
      displayName: `Rotor ${stage}`,
      masterKey: encryptionKey,
      // Denies sns:Publish to every principal whenever aws:SecureTransport is false.
      enforceSSL: true,
    });
    this.topic = topic;

    // The stage's alarms only: CloudWatch publishes for an alarm whose ARN is the source
    // (confused-deputy protection), and the stage's alarms are all named `rotor-<stage>-*`.
    const fromStageAlarms = {
      StringEquals: { 'aws:SourceAccount': Stack.of(this).account },
      ArnLike: {
        'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:rotor-${stage}-*`,
      },
    };
    const cloudWatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowStageAlarmsToPublish',
        principals: [cloudWatch],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: fromStageAlarms,
      }),
    );
    // SNS encrypts each message with a data key of the topic's key, on the publisher's behalf:
    // without this, CloudWatch's notifications to the encrypted topic are dropped silently.
    const added = encryptionKey.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [cloudWatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromStageAlarms,
      }),
    );
    if (!added.statementAdded) {
      throw new Error(
        `AlertTopic encryptionKey must be a key this stack owns, so that CloudWatch may use it for the alarms, got ${encryptionKey.node.path}`,
      );
    }

    for (const email of props.emails ?? []) topic.addSubscription(new subscriptions.EmailSubscription(email));
    for (const url of props.httpsEndpoints ?? []) {
      if (!url.startsWith('https://'))
        throw new Error(`AlertTopic httpsEndpoints must start with https://, got "${url}"`);
      topic.addSubscription(new subscriptions.UrlSubscription(url, { protocol: sns.SubscriptionProtocol.HTTPS }));
    }
  }

  /**
   * Lets `grantee` publish to the topic: sns:Publish on exactly this topic, and the key only
   * through SNS (GenerateDataKey to encrypt the message, Decrypt for SNS to read it).
   */
  grantPublish(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['sns:Publish'],
      resourceArns: [this.topic.topicArn],
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resourceArns: [this.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sns.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
  }
}
