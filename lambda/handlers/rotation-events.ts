import { readServiceRotationEvent } from '../core/rotation/service-rotation-event';
import { MetricName, RotorEnv } from '../shared/rotor-constants';
import { requiredSetting } from '../shared/rotor-settings';
import { createLogger, SecretMetrics } from '../shared/telemetry';

const logger = createLogger('rotor-rotation-events');
const metrics = new SecretMetrics('rotor-rotation-events');

/**
 * Invoked by the EventBridge rule on Secrets Manager's own `RotationFailed` and
 * `RotationAbandoned` events (CloudTrail): emits `RotationFailed` for the secret, so the
 * rotation-failure alarm also counts the failures the rotation function could not report itself
 * (a timeout, a crash, a throttled invocation). Secrets outside the stage's prefix are ignored.
 */
export const handler = (event: unknown): Promise<{ counted: boolean }> => {
  const read = readServiceRotationEvent(event, requiredSetting(RotorEnv.secretNamePrefix));
  if (read.kind === 'ignored') {
    logger.info('event ignored', { reason: read.reason });
    return Promise.resolve({ counted: false });
  }
  metrics.publish(read.secretName, { [MetricName.RotationFailed]: 1 });
  logger.warn('rotation failure reported by Secrets Manager', {
    secretName: read.secretName,
    eventName: read.eventName,
    ...(read.errorMessage === undefined ? {} : { errorMessage: read.errorMessage }),
  });
  return Promise.resolve({ counted: true });
};
