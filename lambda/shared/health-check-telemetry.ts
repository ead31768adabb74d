import type { Logger } from '@aws-lambda-powertools/logger';
import type { HealthCheckSummary, SecretHealthResult } from '../core/health/run-health-check';
import { MetricName } from './rotor-constants';
import type { SecretMetrics } from './telemetry';

/**
 * What the health check tells CloudWatch. A secret speaks only when something is wrong: a failed
 * test emits `HealthCheckFailed` under its `SecretName` (what the health-check alarms and the
 * rollback watch), while healthy secrets are counted once per run in `HealthChecksSucceeded`
 * under the stage. A stage of thousands of healthy secrets thus costs one custom metric, not one
 * per secret; each secret's alarm treats the missing data of a quiet minute as not breaching.
 */
export class HealthCheckTelemetry {
  constructor(
    private readonly stage: string,
    private readonly metrics: SecretMetrics,
    private readonly logger: Logger,
  ) {}

  /** One log line per secret, never a value; a metric only for a failure. */
  result(result: SecretHealthResult): void {
    const line = {
      secretName: result.secretName,
      outcome: result.outcome,
      durationMs: result.durationMs,
      ...(result.versionId === undefined ? {} : { versionId: result.versionId }),
      ...(result.provider === undefined ? {} : { provider: result.provider }),
      ...(result.due === undefined ? {} : { due: result.due }),
      ...(result.reason === undefined ? {} : { reason: result.reason }),
      ...(result.watchNotRecorded === undefined ? {} : { watchNotRecorded: result.watchNotRecorded }),
    };
    if (result.outcome === 'unhealthy') {
      this.metrics.publish(result.secretName, { [MetricName.HealthCheckFailed]: 1 });
      this.logger.warn('health check failed', line);
    } else if (result.outcome === 'healthy') {
      this.logger.info('health check passed', line);
    } else {
      this.logger.info('health check skipped', line);
    }
  }

  /**
   * The run's count of healthy secrets under the stage, also when it is 0, so that the stage's
   * graph shows a run that found nothing healthy rather than a gap.
   */
  summary(summary: HealthCheckSummary): void {
    this.metrics.publishForStage(this.stage, { [MetricName.HealthChecksSucceeded]: summary.healthy });
    this.logger.info('health check done', { ...summary });
  }
}
