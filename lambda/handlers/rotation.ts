import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerStore } from '../adapters/secrets-manager-store';
import { managedTokenProvider } from '../core/providers/managed-token/managed-token-provider';
import { ProviderRegistry } from '../core/providers/provider-registry';
import { RotorConfigurationError } from '../core/errors';
import { parseRotationEvent, type RotationEvent } from '../core/rotation/rotation-event';
import type { RotationDependencies } from '../core/rotation/rotation-step-context';
import { runRotationStep } from '../core/rotation/run-rotation-step';
import { MetricName, RotorEnv } from '../shared/rotor-constants';
import { secretNameFromId } from '../shared/secret-name';
import { createLogger, SecretMetrics } from '../shared/telemetry';

const logger = createLogger('rotor-rotation');
const metrics = new SecretMetrics('rotor-rotation');

// The stage boundary is not optional: without it the function would rotate any secret IAM lets it.
const secretNamePrefix = process.env[RotorEnv.secretNamePrefix] ?? '';

// Built once per container. The SDK reads AWS_ENDPOINT_URL itself, so the same bundle runs
// against a local emulator.
const dependencies: RotationDependencies = {
  store: new SecretsManagerStore(new SecretsManagerClient({})),
  providers: new ProviderRegistry([managedTokenProvider]),
  now: () => new Date(),
  secretNamePrefix,
};

/**
 * Secrets Manager's rotation function: runs one of createSecret / setSecret / testSecret /
 * finishSecret per invocation. Logs one line per step; never logs a secret value or the
 * RotationToken.
 */
export const handler = async (event: unknown): Promise<void> => {
  let rotation: RotationEvent;
  try {
    if (secretNamePrefix === '') {
      throw new RotorConfigurationError(`${RotorEnv.secretNamePrefix} is not set; refusing to rotate anything`);
    }
    rotation = parseRotationEvent(event);
  } catch (error) {
    logger.error('rejected rotation event', error as Error);
    throw error;
  }

  const startedAt = Date.now();
  const keys = { secretId: rotation.secretId, step: rotation.step, versionId: rotation.clientRequestToken };
  logger.appendKeys(keys);
  // Until DescribeSecret answers, the best name for a failure metric is the one in the event.
  let secretName = secretNameFromId(rotation.secretId);
  try {
    const result = await runRotationStep(rotation, dependencies, (secret) => {
      secretName = secret.name;
    });
    logger.info('rotation step completed', {
      secretName: result.secretName,
      outcome: result.outcome,
      ...(result.provider === undefined ? {} : { provider: result.provider }),
    });
    metrics.publish(result.secretName, result.outcome === 'promoted' ? { [MetricName.RotationSucceeded]: 1 } : {}, {
      [MetricName.RotationStepLatency]: Date.now() - startedAt,
    });
  } catch (error) {
    logger.error('rotation step failed', error as Error);
    metrics.publish(secretName, { [MetricName.RotationFailed]: 1 });
    throw error;
  } finally {
    logger.removeKeys(Object.keys(keys));
  }
};
