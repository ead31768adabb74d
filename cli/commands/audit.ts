import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDbLedger } from '../../lambda/adapters/dynamodb-ledger';
import { DEFAULT_DURATIONS, RotorEnv } from '../../lambda/shared/rotor-constants';
import { LOCAL_CREDENTIALS } from '../local/local-clients';
import { UsageError } from './cli-options';
import { findSecret, whereOf } from './find-secret';
import { prepareLocalEnvironment, type LocalStageOptions } from './local-environment';

export interface AuditOptions extends LocalStageOptions {
  readonly local?: boolean | undefined;
  readonly table?: string | undefined;
}

/**
 * `rotor audit SECRET`: the secret's lifecycle events from the ledger, oldest first (created,
 * promoted, grace used, retired, revoked, reuse detected, rotation started).
 */
export async function audit(secretId: string | undefined, options: AuditOptions): Promise<void> {
  if (secretId === undefined) throw new UsageError('audit needs the secret name or ARN');
  let clients: { secretsManager: SecretsManagerClient; dynamodb: DynamoDBClient };
  let tableName: string;
  if (options.local) {
    const local = await prepareLocalEnvironment(options);
    const config = { endpoint: local.endpoint.endpoint, region: local.endpoint.region, credentials: LOCAL_CREDENTIALS };
    clients = { secretsManager: new SecretsManagerClient(config), dynamodb: new DynamoDBClient(config) };
    tableName = local.ledgerTableName;
  } else {
    const table = options.table ?? process.env[RotorEnv.ledgerTable];
    if (table === undefined) {
      throw new UsageError('audit needs --table NAME (the stack output LedgerTableName) or ROTOR_LEDGER_TABLE');
    }
    const config = options.region === undefined ? {} : { region: options.region };
    clients = { secretsManager: new SecretsManagerClient(config), dynamodb: new DynamoDBClient(config) };
    tableName = table;
  }

  const secret = await findSecret(clients.secretsManager, secretId, whereOf(options, options.region));
  const ledger = new DynamoDbLedger({
    client: clients.dynamodb,
    tableName,
    auditRetentionSeconds: DEFAULT_DURATIONS.auditRetentionSeconds,
  });
  const events = await ledger.readAudit(secret.ARN);
  const rows = events.map((event) => [
    new Date(event.at).toISOString(),
    event.type,
    event.versionId ?? '-',
    event.fingerprintPrefix ?? '-',
    Object.entries(event.detail ?? {})
      .map(([key, value]) => `${key}=${String(value)}`)
      .join(' '),
  ]);
  const lines = [['TIME', 'EVENT', 'VERSION', 'FINGERPRINT', 'DETAIL'], ...rows];
  const widths = lines[0]!.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  process.stdout.write(`${secret.Name} (${events.length} events)\n`);
  for (const line of lines) {
    process.stdout.write(
      `  ${line
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}
