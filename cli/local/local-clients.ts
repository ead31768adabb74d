import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SNSClient } from '@aws-sdk/client-sns';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';

/** Where the local emulator is, and the placeholder credentials it accepts. */
export interface LocalEndpoint {
  readonly endpoint: string;
  readonly region: string;
}

/** moto accepts any credentials; these placeholders keep real ones out of local runs. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'rotor-local', secretAccessKey: 'rotor-local' } as const;

export const DEFAULT_LOCAL_REGION = 'us-east-1';

/** The SDK clients the CLI uses against the emulator. */
export function localClients({ endpoint, region }: LocalEndpoint) {
  const config = { endpoint, region, credentials: LOCAL_CREDENTIALS };
  return {
    secretsManager: new SecretsManagerClient(config),
    kms: new KMSClient(config),
    lambda: new LambdaClient(config),
    iam: new IAMClient(config),
    scheduler: new SchedulerClient(config),
    dynamodb: new DynamoDBClient(config),
    eventBridge: new EventBridgeClient(config),
    sns: new SNSClient(config),
    cloudWatch: new CloudWatchClient(config),
  };
}
export type LocalClients = ReturnType<typeof localClients>;
