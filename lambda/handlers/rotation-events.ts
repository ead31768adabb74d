import { readServiceRotationEvent } from '../core/rotation/service-rotation-event';
import { saysThrottled } from '../shared/aws-throttling';
import { MetricName, RotorEnv } from '../shared/rotor-constants';
import { requiredSetting } from '../shared/rotor-settings';
import { createLogger, SecretMetrics } from '../shared/telemetry';

const logger = createLogger('rotor-rotation-events');
const metrics = new SecretMetrics('rotor-rotation-events');

/**
 * Invoked by the EventBridge rule on Secrets Manager's own `RotationFailed` and
 * `RotationAbandoned` events (CloudTrail): emits `RotationFailed` for the secret, so the
 * rotation-failure alarm also counts the failures the rotation function could not report itself
 * (a timeout, a crash). Secrets outside the stage's prefix are ignored.
 *
 * A failure that Secrets Manager's words put down to throttling (its quotas, or Lambda's) is no
 * sign of a bad credential: it is counted as `RotationThrottled` under the stage and never as the
 * secret's `RotationFailed`, so that throttling never starts a rollback; Secrets Manager runs the
 * rotation again. A throttled failure whose message does not say so is counted as a failure, once
 * per attempt of Secrets Manager, which stays under the default threshold of 2 in 60 seconds.
 */
export const handler = (event: unknown): Promise<{ counted: boolean; throttled?: boolean }> => {
  const read = readServiceRotationEvent(event, requiredSetting(RotorEnv.secretNamePrefix));
  if (read.kind === 'ignored') {
    logger.info('event ignored', { reason: read.reason });
    return Promise.resolve({ counted: false });
  }
  if (saysThrottled(read.errorMessage)) {
    metrics.publishForStage(requiredSetting(RotorEnv.stage), { [MetricName.RotationThrottled]: 1 });
    logger.info('throttled rotation reported by Secrets Manager: not a failure, Secrets Manager retries it', {
      secretName: read.secretName,
      eventName: read.eventName,
      errorMessage: read.errorMessage,
    });
    return Promise.resolve({ counted: false, throttled: true });
  }
  metrics.publish(read.secretName, { [MetricName.RotationFailed]: 1 });
  logger.warn('rotation failure reported by Secrets Manager', {
    secretName: read.secretName,
    eventName: read.eventName,
    ...(read.errorMessage === undefined ? {} : { errorMessage: read.errorMessage }),
  });
  return Promise.resolve({ counted: true });
};
