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
import { isSecretArn } from '../shared/secret-name';
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
      // Counted per stage too, for the stage's one alarm on failed revocations.
      metrics.publishForStage(requiredSetting(RotorEnv.stage), { [MetricName.RevocationFailed]: 1 });
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
  const { secretArn, versionId, fingerprint } = readRetirementRequest(request);
  let result;
  try {
    result = await retireCredential(fingerprint, dependencies);
  } catch (error) {
    if (error instanceof RevocationFailedError) dependencies.onRevocationFailed?.(error);
    throw error;
  }
  const { outcome, record } = result;
  logger.info('retirement done', { outcome, secretArn, versionId });
  if (record !== undefined) metrics.publish(record.secretName, { [MetricName.CredentialRetired]: 1 });
  return { retired: outcome === 'retired' ? 1 : 0 };
};

const FINGERPRINT = /^[0-9a-f]{64}$/;
const VERSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The one-time schedule's request, each field checked before anything is read or logged: the
 * secret's ARN, its version id, and the credential's fingerprint (64 lower-case hex digits).
 * @throws Error naming the field that is wrong, never echoing its value.
 */
function readRetirementRequest(request: Record<string, unknown>): {
  secretArn: string;
  versionId: string;
  fingerprint: string;
} {
  const { secretArn, versionId, fingerprint } = request;
  if (secretArn === undefined && versionId === undefined && fingerprint === undefined) {
    throw new Error('retire event must be {"sweep": true} or {"secretArn", "versionId", "fingerprint"}');
  }
  if (!isSecretArn(secretArn)) throw new Error('retire event secretArn must be a Secrets Manager secret ARN');
  if (typeof versionId !== 'string' || !VERSION_ID.test(versionId)) {
    throw new Error('retire event versionId must be a secret version id (1-64 of A-Z a-z 0-9 _-)');
  }
  if (typeof fingerprint !== 'string' || !FINGERPRINT.test(fingerprint)) {
    throw new Error('retire event fingerprint must be 64 lower-case hex digits');
  }
  return { secretArn, versionId, fingerprint };
}
