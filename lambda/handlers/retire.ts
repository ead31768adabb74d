import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDbLedger } from '../adapters/dynamodb-ledger';
import { rotorProviderRegistry } from '../adapters/rotor-provider-registry';
import { endpointPolicyFromEnvironment } from '../core/providers/endpoint-policy';
import type { CredentialRecord } from '../core/ledger/ledger-records';
import {
  retireCredential,
  RevocationFailedError,
  sweepOverdueRetirements,
  type RetirementDependencies,
} from '../core/ledger/retire-credentials';
import { parseSecretDocument } from '../core/secret-document';
import { MetricName, RETIRE_SWEEP_REQUEST, RotorEnv } from '../shared/rotor-constants';
import { durationSettings, requiredSetting } from '../shared/rotor-settings';
import { createLogger, SecretMetrics } from '../shared/telemetry';

const logger = createLogger('rotor-retire');
const metrics = new SecretMetrics('rotor-retire');

function buildDependencies(): RetirementDependencies {
  const secretsManager = new SecretsManagerClient({});
  const providers = rotorProviderRegistry(
    secretsManager,
    requiredSetting(RotorEnv.secretNamePrefix),
    endpointPolicyFromEnvironment(),
  );
  /**
   * A provider that can revoke at its issuer (GitLab in overlap mode) gets the retired version's
   * own document, read by version id: it names the token to revoke.
   */
  const revokeAtIssuer = async (record: CredentialRecord): Promise<void> => {
    const provider = providers.get(record.provider);
    if (provider?.revoke === undefined) return;
    const version = await secretsManager.send(
      new GetSecretValueCommand({ SecretId: record.secretArn, VersionId: record.versionId }),
    );
    const parsed = parseSecretDocument(
      version.SecretString ?? '',
      providers,
      `secret ${record.secretName} (version ${record.versionId})`,
    );
    await parsed.provider.revoke?.(parsed.document, {
      secretArn: record.secretArn,
      secretName: record.secretName,
      versionId: record.versionId,
      now: () => new Date(),
    });
  };
  return {
    ledger: new DynamoDbLedger({
      client: new DynamoDBClient({}),
      tableName: requiredSetting(RotorEnv.ledgerTable),
      auditRetentionSeconds: durationSettings().auditRetentionSeconds,
    }),
    now: Date.now,
    // A retired managed token is dead because the verifier refuses it; a GitLab token is
    // revoked at GitLab before the ledger calls it retired.
    revokeAtIssuer,
    onRevocationFailed: (error) => {
      logger.error('revocation at the issuer failed; the sweep retries', error);
      metrics.publish(error.record.secretName, { [MetricName.RevocationFailed]: 1 });
    },
  };
}

let dependencies: RetirementDependencies | undefined;

/**
 * Retires previous credentials at the end of their grace: invoked by a one-time schedule with
 * `{secretArn, versionId, fingerprint}`, or by the recurring sweep with `{"sweep": true}`,
 * which retires every overdue one (the safety net for schedules that failed).
 */
export const handler = async (event: unknown): Promise<{ retired: number }> => {
  dependencies ??= buildDependencies();
  const request = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  if (request.sweep === RETIRE_SWEEP_REQUEST.sweep) {
    const retired = await sweepOverdueRetirements(dependencies);
    for (const record of retired) metrics.publish(record.secretName, { [MetricName.CredentialRetired]: 1 });
    logger.info('retirement sweep done', { retired: retired.length });
    return { retired: retired.length };
  }
  if (typeof request.fingerprint !== 'string') {
    throw new Error('retire event must be {"sweep": true} or {"secretArn", "versionId", "fingerprint"}');
  }
  let result;
  try {
    result = await retireCredential(request.fingerprint, dependencies);
  } catch (error) {
    if (error instanceof RevocationFailedError) dependencies.onRevocationFailed?.(error);
    throw error;
  }
  const { outcome, record } = result;
  logger.info('retirement done', {
    outcome,
    secretArn: String(request.secretArn),
    versionId: String(request.versionId),
  });
  if (record !== undefined) metrics.publish(record.secretName, { [MetricName.CredentialRetired]: 1 });
  return { retired: outcome === 'retired' ? 1 : 0 };
};
