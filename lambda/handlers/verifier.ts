import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDbLedger } from '../adapters/dynamodb-ledger';
import { EventBridgeIncidents } from '../adapters/eventbridge-incidents';
import { pepperedFingerprinter } from '../adapters/pepper-source';
import { SecretsManagerCurrentVersion } from '../adapters/secrets-manager-current-version';
import { SecretsManagerRotationStarter } from '../adapters/secrets-manager-rotation-starter';
import type { Verdict } from '../core/verifier/verdict';
import { verifyToken, type VerifierDependencies } from '../core/verifier/verify-token';
import { answer, readPresentation } from '../shared/api-gateway-authorizer';
import { MetricName, RotorEnv } from '../shared/rotor-constants';
import { durationSettings, requiredSetting } from '../shared/rotor-settings';
import { createLogger, SecretMetrics } from '../shared/telemetry';

const logger = createLogger('rotor-verifier');
const metrics = new SecretMetrics('rotor-verifier');

function buildDependencies(): VerifierDependencies {
  const secretsManager = new SecretsManagerClient({});
  const durations = durationSettings();
  return {
    ledger: new DynamoDbLedger({
      client: new DynamoDBClient({}),
      tableName: requiredSetting(RotorEnv.ledgerTable),
      auditRetentionSeconds: durations.auditRetentionSeconds,
    }),
    fingerprinter: pepperedFingerprinter(secretsManager, requiredSetting(RotorEnv.pepperSecretArn)),
    incidents: new EventBridgeIncidents(new EventBridgeClient({}), requiredSetting(RotorEnv.eventBusName)),
    rotations: new SecretsManagerRotationStarter(secretsManager),
    versions: new SecretsManagerCurrentVersion(secretsManager),
    now: Date.now,
    reuseMemorySeconds: durations.reuseMemorySeconds,
    onResponseFailed: (error) =>
      logger.error('reuse response or Secrets Manager lookup failed; the token was denied', error as Error),
  };
}

let dependencies: VerifierDependencies | undefined;

/**
 * Answers whether a presented token may pass: invoked directly with `{"token": "..."}`, or as
 * an API Gateway Lambda authorizer with `Authorization: Bearer <token>`, in the shape each
 * authorizer reads (REST API TOKEN and REQUEST, HTTP API payload 1.0 and 2.0, WebSocket
 * `$connect`). Never logs the token.
 */
export const handler = async (event: unknown): Promise<unknown> => {
  dependencies ??= buildDependencies();
  const presentation = readPresentation(event);
  const verdict = await verifyToken(presentation.token, dependencies);
  publishSignals(verdict);
  logger.info('token verified', {
    allowed: verdict.allowed,
    reason: verdict.reason,
    ...(verdict.secretName === undefined ? {} : { secretName: verdict.secretName, versionId: verdict.versionId }),
    ...(verdict.incidentOpened ? { incidentOpened: true } : {}),
  });
  return answer(presentation, verdict);
};

function publishSignals(verdict: Verdict): void {
  if (verdict.secretName === undefined) {
    if (verdict.reason === 'unknown') metrics.publishUnattributed({ [MetricName.UnknownToken]: 1 });
    return;
  }
  if (verdict.reason === 'grace') metrics.publish(verdict.secretName, { [MetricName.GraceUse]: 1 });
  if (verdict.reason === 'reuse' || verdict.reason === 'revoked') {
    metrics.publish(verdict.secretName, { [MetricName.ReuseDetected]: 1 });
  }
}
