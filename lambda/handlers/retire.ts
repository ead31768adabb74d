import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbLedger } from '../adapters/dynamodb-ledger';
import {
  retireCredential,
  sweepOverdueRetirements,
  type RetirementDependencies,
} from '../core/ledger/retire-credentials';
import { MetricName, RETIRE_SWEEP_REQUEST, RotorEnv } from '../shared/rotor-constants';
import { durationSettings, requiredSetting } from '../shared/rotor-settings';
import { createLogger, SecretMetrics } from '../shared/telemetry';

const logger = createLogger('rotor-retire');
const metrics = new SecretMetrics('rotor-retire');

function buildDependencies(): RetirementDependencies {
  return {
    ledger: new DynamoDbLedger({
      client: new DynamoDBClient({}),
      tableName: requiredSetting(RotorEnv.ledgerTable),
      auditRetentionSeconds: durationSettings().auditRetentionSeconds,
    }),
    now: Date.now,
    // No provider Rotor ships today can revoke at its issuer: a retired managed token is dead
    // because the verifier refuses it. Providers that can (GitLab) add their revoke here.
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
  const { outcome, record } = await retireCredential(request.fingerprint, dependencies);
  logger.info('retirement done', {
    outcome,
    secretArn: String(request.secretArn),
    versionId: String(request.versionId),
  });
  if (record !== undefined) metrics.publish(record.secretName, { [MetricName.CredentialRetired]: 1 });
  return { retired: outcome === 'retired' ? 1 : 0 };
};
