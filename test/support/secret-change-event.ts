import { randomUUID } from 'node:crypto';

/**
 * The EventBridge event CloudTrail sends for a Secrets Manager API call that changes a secret
 * (detail type "AWS API Call via CloudTrail"), in its documented shape: here a `PutSecretValue`
 * naming the secret by `secretId` (its name or ARN, as the caller gave it), with the secret's ARN
 * in the response.
 */
export function putSecretValueEvent(options: {
  readonly arn: string;
  /** What the caller named the secret by. @default the ARN */
  readonly secretId?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
}): Record<string, unknown> {
  const at = new Date().toISOString();
  const region = options.region ?? 'us-east-1';
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.secretsmanager',
    account: '123456789012',
    time: at,
    region,
    resources: [],
    detail: {
      eventVersion: '1.08',
      userIdentity: { type: 'AssumedRole', accountId: '123456789012' },
      eventTime: at,
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'PutSecretValue',
      awsRegion: region,
      requestParameters: { secretId: options.secretId ?? options.arn, clientRequestToken: randomUUID() },
      responseElements: { arn: options.arn },
      eventType: 'AwsApiCall',
      managementEvent: true,
    },
  };
}
