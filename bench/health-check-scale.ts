/**
 * The health check on a stage of a few hundred secrets on the emulator, to extrapolate how long a
 * run over 10,000 secrets takes: secrets seeded as a rotation leaves them (a managed token in
 * AWSCURRENT, current in the ledger), then one run that tests them all, and one that tests none.
 */
import { performance } from 'node:perf_hooks';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { localClients } from '../cli/local/local-clients';
import { Fingerprinter } from '../lambda/core/ledger/fingerprint';
import { generateManagedToken } from '../lambda/core/providers/managed-token/managed-token-format';
import type { HealthCheckSummary } from '../lambda/core/health/run-health-check';
import { HEALTH_AND_ROLLBACK_DEFAULTS, HealthAndRollbackEnv } from '../lambda/shared/rotor-constants';
import type { LocalRotor } from '../test/support/local-rotor';

/** Secrets of the scaled run. */
export const SCALED_SECRETS = 200;

export interface ScaleMeasurement {
  readonly secrets: number;
  readonly batches: number;
  readonly concurrency: number;
  /** Wall time of a run that tests every secret, and of one that tests none (listing, the watch list; both in the health check's warm container). */
  readonly fullRunMs: number;
  readonly emptyRunMs: number;
  /** (full − empty) / rounds of `concurrency` batches: what one more round of batches adds to a run. */
  readonly msPerRound: number;
}

/** Seeds {@link SCALED_SECRETS} healthy secrets and times a run over all of them against one over none. */
export async function measureScaledRun(rotor: LocalRotor): Promise<ScaleMeasurement> {
  const { dynamodb, secretsManager } = localClients(rotor.local.endpoint);
  const pepper = await secretsManager.send(
    new GetSecretValueCommand({ SecretId: rotor.local.pepperSecretArn, VersionStage: 'AWSCURRENT' }),
  );
  const fingerprinter = new Fingerprinter(Buffer.from(pepper.SecretString ?? '', 'utf8'));
  for (let index = 0; index < SCALED_SECRETS; index += 1) {
    const name = `rotor/development/scale-${index}`;
    const token = generateManagedToken();
    const arn = await rotor.createSecret(name, JSON.stringify({ provider: 'managed-token', schemaVersion: 1, token }));
    const current = await secretsManager.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSCURRENT' }));
    const fingerprint = fingerprinter.of(token);
    await dynamodb.send(
      new PutItemCommand({
        TableName: rotor.local.ledgerTableName,
        Item: {
          pk: { S: `TOKEN#${fingerprint}` },
          sk: { S: 'TOKEN' },
          fingerprint: { S: fingerprint },
          secretArn: { S: arn },
          secretName: { S: name },
          versionId: { S: current.VersionId! },
          provider: { S: 'managed-token' },
          state: { S: 'current' },
          createdAt: { N: String(Date.now()) },
        },
      }),
    );
  }
  const env = rotor.local.env as Record<string, string>;
  const timed = async (idleSeconds: number) => {
    env[HealthAndRollbackEnv.healthCheckIdleSeconds] = String(idleSeconds);
    const started = performance.now();
    const run = await rotor.healthCheck();
    const ms = performance.now() - started;
    if (!run.ok) throw new Error(`the scaled health check failed: ${run.error?.errorMessage ?? ''}`);
    return { ms, summary: run.result as HealthCheckSummary };
  };
  // Every secret due: the idle interval is the run period. None due: an idle interval so long that
  // no slot falls in this run (the watch list is empty).
  const full = await timed(HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckRunSeconds);
  const empty = await timed(86_400 * 365);
  if (empty.summary.due > 0) throw new Error(`the empty run tested ${empty.summary.due} secrets`);
  const concurrency = HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckConcurrency;
  const batches = Math.ceil(full.summary.due / 20);
  return {
    secrets: full.summary.secrets,
    batches,
    concurrency,
    fullRunMs: full.ms,
    emptyRunMs: empty.ms,
    msPerRound: Math.max(0, full.ms - empty.ms) / Math.ceil(batches / concurrency),
  };
}
