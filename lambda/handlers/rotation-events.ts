import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbHealthWatch } from '../adapters/dynamodb-health-watch';
import { readSecretChangeEvent } from '../core/health/secret-change-event';
import { readServiceRotationEvent } from '../core/rotation/service-rotation-event';
import { saysThrottled } from '../shared/aws-throttling';
import { MetricName, RotorEnv } from '../shared/rotor-constants';
import { healthAndRollbackSettings, requiredSetting } from '../shared/rotor-settings';
import { createLogger, SecretMetrics } from '../shared/telemetry';

const logger = createLogger('rotor-rotation-events');
const metrics = new SecretMetrics('rotor-rotation-events');
let watch: DynamoDbHealthWatch | undefined;

/**
 * Invoked by the EventBridge rules on Secrets Manager's CloudTrail events:
 * - its own `RotationFailed` and `RotationAbandoned`: emits `RotationFailed` for the secret, so the
 *   rotation-failure alarm also counts the failures the rotation function could not report itself
 *   (a timeout, a crash). A failure that Secrets Manager's words put down to throttling (its
 *   quotas, or Lambda's) is no sign of a bad credential: it is counted as `RotationThrottled` under
 *   the stage, never as the secret's `RotationFailed`, so throttling never starts a rollback
 *   (Secrets Manager runs the rotation again; a throttled failure whose message does not say so is
 *   counted once per attempt, which stays under the default threshold of 2 in 60 seconds);
 * - those and the API calls that change a secret's value or labels (PutSecretValue,
 *   UpdateSecretVersionStage, RotateSecret, ...): the secret is watched, so the health check tests
 *   it at every run for `ROTOR_HEALTH_CHECK_WATCH_SECONDS` from now.
 *
 * Secrets outside the stage's prefix are ignored. The watch is written before the metric is
 * emitted: a failed write fails the invocation and EventBridge delivers the event again.
 */
export const handler = async (event: unknown): Promise<{ counted: boolean; watched: boolean; throttled?: boolean }> => {
  const prefix = requiredSetting(RotorEnv.secretNamePrefix);
  const change = readSecretChangeEvent(event, prefix);
  if (change.kind === 'change') {
    watch ??= new DynamoDbHealthWatch(new DynamoDBClient({}), requiredSetting(RotorEnv.ledgerTable));
    const { healthCheckWatchSeconds } = healthAndRollbackSettings();
    await watch.markChanged(
      change.secretName,
      Math.floor(Date.now() / 1000) + healthCheckWatchSeconds,
      change.eventName,
    );
    logger.info('secret watched after a change', { secretName: change.secretName, eventName: change.eventName });
  }
  const read = readServiceRotationEvent(event, prefix);
  if (read.kind === 'ignored') {
    if (change.kind === 'ignored') logger.info('event ignored', { reason: change.reason });
    return { counted: false, watched: change.kind === 'change' };
  }
  if (saysThrottled(read.errorMessage)) {
    metrics.publishForStage(requiredSetting(RotorEnv.stage), { [MetricName.RotationThrottled]: 1 });
    logger.info('throttled rotation reported by Secrets Manager: not a failure, Secrets Manager retries it', {
      secretName: read.secretName,
      eventName: read.eventName,
      errorMessage: read.errorMessage,
    });
    return { counted: false, watched: change.kind === 'change', throttled: true };
  }
  metrics.publish(read.secretName, { [MetricName.RotationFailed]: 1 });
  logger.warn('rotation failure reported by Secrets Manager', {
    secretName: read.secretName,
    eventName: read.eventName,
    ...(read.errorMessage === undefined ? {} : { errorMessage: read.errorMessage }),
  });
  return { counted: true, watched: change.kind === 'change' };
};
