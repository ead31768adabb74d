import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  METRICS_NAMESPACE,
  SECRET_NAME_DIMENSION,
  ALARM_GROUP_DIMENSION,
  STAGE_DIMENSION,
  RotorEnv,
  type MetricName,
} from './rotor-constants';
import { alarmGroupDimensionValue } from './alarm-group-of';

/** A Powertools logger with Rotor's keys: the function's role and the deployment stage. */
export function createLogger(serviceName: string): Logger {
  const logger = new Logger({ serviceName });
  const stage = process.env[RotorEnv.stage];
  if (stage !== undefined) logger.appendPersistentKeys({ stage });
  return logger;
}

/**
 * Emits Rotor metrics as EMF with `SecretName` (plus `AlarmGroup` in a sharded stage), or for
 * stage-wide counts `Stage`, as the only dimensions, so that the alarms the stack creates (which
 * match exact dimension sets) see them. Powertools adds a `service`
 * dimension by default; it is removed here.
 */
export class SecretMetrics {
  private readonly metrics: Metrics;

  constructor(serviceName: string) {
    this.metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
    this.metrics.clearDefaultDimensions();
  }

  /** Writes one EMF record with no dimension, for what belongs to no known secret. */
  publishUnattributed(counts: Partial<Record<MetricName, number>>): void {
    for (const [name, value] of Object.entries(counts)) this.metrics.addMetric(name, MetricUnit.Count, value);
    this.metrics.publishStoredMetrics();
  }

  /**
   * Writes one EMF record with `Stage` as the only dimension: counts (Count) and `durations`
   * (Milliseconds) of the whole stage (what went well), which cost one metric per stage however
   * many secrets it holds.
   */
  publishForStage(
    stage: string,
    counts: Partial<Record<MetricName, number>>,
    durations: Partial<Record<MetricName, number>> = {},
  ): void {
    this.metrics.addDimension(STAGE_DIMENSION, stage);
    for (const [name, value] of Object.entries(counts)) this.metrics.addMetric(name, MetricUnit.Count, value);
    for (const [name, value] of Object.entries(durations)) this.metrics.addMetric(name, MetricUnit.Milliseconds, value);
    this.metrics.publishStoredMetrics();
  }

  /** Writes one EMF record for `secretName` holding `counts` (Count) and `durations` (Milliseconds). */
  publish(
    secretName: string,
    counts: Partial<Record<MetricName, number>>,
    durations: Partial<Record<MetricName, number>> = {},
  ): void {
    this.metrics.addDimension(SECRET_NAME_DIMENSION, secretName);
    const alarmGroup = secretAlarmGroup(secretName);
    if (alarmGroup !== undefined) this.metrics.addDimension(ALARM_GROUP_DIMENSION, alarmGroup);
    for (const [name, value] of Object.entries(counts)) this.metrics.addMetric(name, MetricUnit.Count, value);
    for (const [name, value] of Object.entries(durations)) this.metrics.addMetric(name, MetricUnit.Milliseconds, value);
    this.metrics.publishStoredMetrics();
  }
}

/**
 * The `AlarmGroup` dimension of `secretName`'s metrics in a sharded stage (ROTOR_ALARM_GROUP_COUNT
 * set), where each group's Metrics Insights alarms select their secrets by it; undefined otherwise.
 */
function secretAlarmGroup(secretName: string): string | undefined {
  const count = process.env[RotorEnv.alarmGroupCount];
  return alarmGroupDimensionValue(
    secretName,
    process.env[RotorEnv.secretNamePrefix],
    count === undefined || count === '' ? undefined : Number(count),
  );
}
