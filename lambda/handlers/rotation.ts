import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDbLedger } from '../adapters/dynamodb-ledger';
import { EventBridgeIncidents } from '../adapters/eventbridge-incidents';
import { pepperedFingerprinter } from '../adapters/pepper-source';
import { rotorProviderRegistry } from '../adapters/rotor-provider-registry';
import { endpointPolicyFromEnvironment } from '../core/providers/endpoint-policy';
import { SchedulerRetirements } from '../adapters/scheduler-retirements';
import { SecretsManagerStore } from '../adapters/secrets-manager-store';
import { LedgerRecorder } from '../core/ledger/ledger-recorder';
import { SideEffectIncidentRecorder } from '../core/ledger/side-effect-incident-recorder';
import { parseRotationEvent, type RotationEvent } from '../core/rotation/rotation-event';
import { ledgerRotationGate } from '../core/rotation/rotation-gate';
import type { RotationDependencies } from '../core/rotation/rotation-step-context';
import { runRotationStep } from '../core/rotation/run-rotation-step';
import { RotationThrottledError } from '../core/errors';
import { throttleTolerantClientConfig } from '../adapters/throttle-tolerant-retry';
import { isThrottlingError, THROTTLED_CALL_MAX_ATTEMPTS } from '../shared/aws-throttling';
import { DEFAULT_SIDE_EFFECT_LEASE_SECONDS, MetricName, RotorEnv } from '../shared/rotor-constants';
import { durationSettings, positiveIntegerSetting, requiredSetting } from '../shared/rotor-settings';
import { secretNameFromId } from '../shared/secret-name';
import { createLogger, SecretMetrics } from '../shared/telemetry';

const logger = createLogger('rotor-rotation');
const metrics = new SecretMetrics('rotor-rotation');

/**
 * Built once per container; a missing setting fails every invocation with a clear error rather
 * than rotating without its guard rails. The SDK reads AWS_ENDPOINT_URL itself, so the same
 * bundle runs against a local emulator.
 */
function buildDependencies(): RotationDependencies {
  // The stage boundary is not optional: without it the function would rotate any secret IAM lets it.
  const secretNamePrefix = requiredSetting(RotorEnv.secretNamePrefix);
  // Secrets Manager's write quota is shared by the whole region: a throttled call backs off and
  // runs again, for longer than the SDK's default (throttle-tolerant-retry.ts), rather than
  // failing the step.
  const secretsManager = new SecretsManagerClient(throttleTolerantClientConfig());
  const durations = durationSettings();
  const ledger = new DynamoDbLedger({
    client: new DynamoDBClient(throttleTolerantClientConfig()),
    tableName: requiredSetting(RotorEnv.ledgerTable),
    auditRetentionSeconds: durations.auditRetentionSeconds,
  });
  const fingerprinter = pepperedFingerprinter(secretsManager, requiredSetting(RotorEnv.pepperSecretArn));
  const recorder = new LedgerRecorder({
    ledger,
    fingerprinter,
    retirements: new SchedulerRetirements(new SchedulerClient({}), {
      groupName: requiredSetting(RotorEnv.scheduleGroup),
      retireFunctionArn: requiredSetting(RotorEnv.retireFunctionArn),
      roleArn: requiredSetting(RotorEnv.schedulerRoleArn),
    }),
    durations,
    now: Date.now,
    onRetirementScheduleFailed: (secretName, error) => {
      logger.warn('could not schedule the retirement; the sweep will retire it', error as Error);
      metrics.publish(secretName, { [MetricName.RetirementScheduleFailed]: 1 });
    },
  });
  const incidents = new SideEffectIncidentRecorder({
    ledger,
    incidents: new EventBridgeIncidents(new EventBridgeClient({}), requiredSetting(RotorEnv.eventBusName)),
    now: Date.now,
    reuseMemorySeconds: durations.reuseMemorySeconds,
    countMetric: (secretName, metric) => metrics.publish(secretName, { [metric]: 1 }),
  });
  const leaseSeconds = positiveIntegerSetting(RotorEnv.sideEffectLeaseSeconds, DEFAULT_SIDE_EFFECT_LEASE_SECONDS);
  return {
    store: new SecretsManagerStore(secretsManager),
    providers: rotorProviderRegistry(secretsManager, secretNamePrefix, endpointPolicyFromEnvironment()),
    journal: ledger,
    fingerprint: async (credential) => (await fingerprinter()).of(credential),
    sideEffects: { claimLeaseMs: leaseSeconds * 1000 },
    observers: [recorder, incidents],
    // createSecret refuses to start a rotation the rollback paused.
    gate: ledgerRotationGate(ledger),
    now: () => new Date(),
    secretNamePrefix,
  };
}

let dependencies: RotationDependencies | undefined;
let stage: string | undefined;

/**
 * Secrets Manager's rotation function: runs one of createSecret / setSecret / testSecret /
 * finishSecret per invocation, and keeps the ledger in step. Logs one line per step; never
 * logs a secret value or the RotationToken.
 *
 * Metrics: a secret speaks only when something is wrong (`RotationFailed` under its
 * `SecretName`); routine successes and step latency are counted under the stage, and a step that
 * stayed throttled after backing off counts as `RotationThrottled` under the stage, not as a
 * failure, so that throttling never starts a rollback.
 */
export const handler = async (event: unknown): Promise<void> => {
  let rotation: RotationEvent;
  try {
    dependencies ??= buildDependencies();
    stage ??= requiredSetting(RotorEnv.stage);
    rotation = parseRotationEvent(event);
  } catch (error) {
    logger.error('rejected rotation event', error as Error);
    throw error;
  }

  const startedAt = Date.now();
  const keys = {
    secretId: rotation.secretId,
    step: rotation.step,
    versionId: rotation.clientRequestToken,
  };
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
    metrics.publishForStage(stage, result.outcome === 'promoted' ? { [MetricName.RotationSucceeded]: 1 } : {}, {
      [MetricName.RotationStepLatency]: Date.now() - startedAt,
    });
  } catch (error) {
    if (isThrottlingError(error)) {
      const throttled = new RotationThrottledError(
        `${rotation.step} of ${secretName} was throttled by AWS ${THROTTLED_CALL_MAX_ATTEMPTS} times in a row; ` +
          'nothing is lost and the step is safe to run again, which Secrets Manager does when it retries the rotation',
        { cause: error },
      );
      logger.warn('rotation step throttled', throttled);
      metrics.publishForStage(stage, { [MetricName.RotationThrottled]: 1 });
      throw throttled;
    }
    logger.error('rotation step failed', error as Error);
    metrics.publish(secretName, { [MetricName.RotationFailed]: 1 });
    throw error;
  } finally {
    logger.removeKeys(Object.keys(keys));
  }
};
