import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerStore } from '../adapters/secrets-manager-store';
import { managedTokenProvider } from '../core/providers/managed-token/managed-token-provider';
import { ProviderRegistry } from '../core/providers/provider-registry';
import { parseRotationEvent, type RotationEvent } from '../core/rotation/rotation-event';
import type { RotationDependencies } from '../core/rotation/rotation-step-context';
import { runRotationStep } from '../core/rotation/run-rotation-step';
import { MetricName, RotorEnv } from '../shared/rotor-constants';
import { secretNameFromId } from '../shared/secret-name';
import { createLogger, SecretMetrics } from '../shared/telemetry';

const logger = createLogger('rotor-rotation');
const metrics = new SecretMetrics('rotor-rotation');

// Built once per container. The SDK reads AWS_ENDPOINT_URL itself, so the same bundle runs
// against a local emulator.
const dependencies: RotationDependencies = {
  store: new SecretsManagerStore(new SecretsManagerClient({})),
  providers: new ProviderRegistry([managedTokenProvider]),
  now: () => new Date(),
  ...(process.env[RotorEnv.secretNamePrefix] ? { secretNamePrefix: process.env[RotorEnv.secretNamePrefix] } : {}),
};

/**
 * Secrets Manager's rotation function: runs one of createSecret / setSecret / testSecret /
 * finishSecret per invocation. Logs one line per step; never logs a secret value or the
 * RotationToken.
 */
export const handler = async (event: unknown): Promise<void> => {
  let rotation: RotationEvent;
  try {
    rotation = parseRotationEvent(event);
  } catch (error) {
    logger.error('rejected rotation event', error as Error);
    throw error;
  }

  const startedAt = Date.now();
  const keys = { secretId: rotation.secretId, step: rotation.step, versionId: rotation.clientRequestToken };
  logger.appendKeys(keys);
  try {
    const result = await runRotationStep(rotation, dependencies);
    logger.info('rotation step completed', {
      secretName: result.secretName,
      outcome: result.outcome,
      ...(result.provider === undefined ? {} : { provider: result.provider }),
    });
    metrics.publish(
      result.secretName,
      result.outcome === 'promoted' ? { [MetricName.RotationSucceeded]: 1 } : {},
      { [MetricName.RotationStepLatency]: Date.now() - startedAt },
    );
  } catch (error) {
    logger.error('rotation step failed', error as Error);
    metrics.publish(secretNameFromId(rotation.secretId), { [MetricName.RotationFailed]: 1 });
    throw error;
  } finally {
    logger.removeKeys(Object.keys(keys));
  }
};
