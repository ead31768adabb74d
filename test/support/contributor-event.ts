import { randomUUID } from 'node:crypto';

/**
 * The EventBridge event CloudWatch sends when one time series (contributor) of a Metrics Insights
 * alarm over many time series changes state, in its documented shape ("CloudWatch Alarm
 * Contributor State Change"): the contributor's id and attributes (the GROUP BY dimension), the
 * new state, and the alarm's query; no `previousState`.
 */
export function contributorStateChangeEvent(options: {
  readonly alarmName: string;
  readonly secretName: string;
  readonly state?: string;
  /** When the contributor changed state. @default now */
  readonly at?: Date;
  readonly query?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
}): Record<string, unknown> {
  const at = options.at ?? new Date();
  const region = options.region ?? 'us-east-1';
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'CloudWatch Alarm Contributor State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: `${at.toISOString().slice(0, 19)}Z`,
    region,
    resources: [`arn:aws:cloudwatch:${region}:123456789012:alarm:${options.alarmName}`],
    detail: {
      alarmName: options.alarmName,
      alarmContributor: {
        id: randomUUID().replace(/-/g, '').slice(0, 16),
        attributes: { SecretName: options.secretName },
      },
      state: {
        value: options.state ?? 'ALARM',
        reason:
          'Threshold Crossed: 2 datapoints were greater than or equal to the threshold (1.0). The most recent datapoint which crossed the threshold: [1.0 (01/01/30 11:59:00)].',
        timestamp: at.toISOString().replace('Z', '+0000'),
      },
      configuration: {
        metrics: [
          {
            id: 'expr_1',
            expression:
              options.query ??
              `SELECT SUM(HealthCheckFailed) FROM SCHEMA("Rotor", SecretName, Shard) WHERE Shard = '0' GROUP BY SecretName`,
            returnData: true,
            period: 60,
          },
        ],
        description: 'Rotor alarm group alarm',
      },
    },
  };
}
