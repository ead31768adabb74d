/**
 * AWS list prices (us-east-1, USD, on-demand, no free tier) that the cost model applies. One
 * place, each with the page it comes from: when AWS changes a price, change it here.
 */
export interface AwsListPrices {
  /** A standard-resolution alarm on one metric, per month. */
  readonly standardAlarmMonth: number;
  /** A Metrics Insights alarm, per month and per metric (time series) its query analyses. */
  readonly metricsInsightsAlarmMetricMonth: number;
  /** A custom metric (one time series), per month, charged pro rata by the hours it receives data. */
  readonly customMetricMonth: number;
  /** CloudWatch Logs ingestion per GB: EMF records and log lines alike. */
  readonly logIngestionPerGb: number;
  /** Secrets Manager, per API call ($0.05 per 10,000). */
  readonly secretsManagerCall: number;
  /** Lambda, per request ($0.20 per million). */
  readonly lambdaRequest: number;
  /** Lambda, per GB-second of duration (x86). */
  readonly lambdaGbSecond: number;
  /** DynamoDB on-demand, per read request unit. */
  readonly dynamoDbReadUnit: number;
  /** DynamoDB on-demand, per write request unit. */
  readonly dynamoDbWriteUnit: number;
  /** EventBridge Scheduler, per invocation ($1.00 per million). */
  readonly schedulerInvocation: number;
  /** EventBridge, per custom event published ($1.00 per million). */
  readonly eventBridgeEvent: number;
}

export const AWS_LIST_PRICES_US_EAST_1: AwsListPrices = {
  // https://aws.amazon.com/cloudwatch/pricing/ (Alarms: standard resolution $0.10 per alarm metric;
  // Metrics Insights query alarms $0.10 per metric analyzed by the query)
  standardAlarmMonth: 0.1,
  metricsInsightsAlarmMetricMonth: 0.1,
  // https://aws.amazon.com/cloudwatch/pricing/ (Metrics: first 10,000 metrics $0.30 per metric per
  // month, prorated by the hour; Logs: collect (data ingestion) $0.50 per GB)
  customMetricMonth: 0.3,
  logIngestionPerGb: 0.5,
  // https://aws.amazon.com/secrets-manager/pricing/ ($0.05 per 10,000 API calls). The page names no
  // other rate for BatchGetSecretValue (up to 20 secrets per call, API reference
  // https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html),
  // so a batch is priced as one call; the cost bench also prints the figure were each secret billed.
  secretsManagerCall: 0.05 / 10_000,
  // https://aws.amazon.com/lambda/pricing/ ($0.20 per 1M requests; $0.0000166667 per GB-second, x86)
  lambdaRequest: 0.2 / 1_000_000,
  lambdaGbSecond: 0.0000166667,
  // https://aws.amazon.com/dynamodb/pricing/on-demand/ ($0.125 per million read request units,
  // $0.625 per million write request units)
  dynamoDbReadUnit: 0.125 / 1_000_000,
  dynamoDbWriteUnit: 0.625 / 1_000_000,
  // https://aws.amazon.com/eventbridge/pricing/ (Scheduler: $1.00 per million invocations; event
  // bus: custom events $1.00 per million)
  schedulerInvocation: 1 / 1_000_000,
  eventBridgeEvent: 1 / 1_000_000,
};
