import { createHash } from 'node:crypto';
import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
  type SecretVersionsListEntry,
} from '@aws-sdk/client-secrets-manager';
import { LOCAL_CREDENTIALS } from '../local/local-clients';
import { requireLocalEndpoint, UsageError } from './cli-options';
import { findSecret, whereOf } from './find-secret';

export interface VersionsOptions {
  readonly local?: boolean | undefined;
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
  readonly fingerprints?: boolean | undefined;
}

// The fields consumers read, by provider; the fingerprint shows that a credential changed
// without showing the credential.
const CREDENTIAL_FIELDS = ['token', 'accessToken'] as const;

/**
 * `rotor versions SECRET`: the secret's versions and staging labels, newest last. With
 * `--fingerprints`, a short SHA-256 of each labelled version's credential (never the value).
 */
export async function versions(secretId: string | undefined, options: VersionsOptions): Promise<void> {
  if (secretId === undefined) throw new UsageError('versions needs the secret name or ARN');
  const client = options.local
    ? new SecretsManagerClient({ ...toClientEndpoint(options), credentials: LOCAL_CREDENTIALS })
    : new SecretsManagerClient(options.region === undefined ? {} : { region: options.region });
  await findSecret(client, secretId, whereOf(options, options.region));
  const listed = await client.send(new ListSecretVersionIdsCommand({ SecretId: secretId }));
  const rows = [...(listed.Versions ?? [])].sort(
    (a, b) => (a.CreatedDate?.getTime() ?? 0) - (b.CreatedDate?.getTime() ?? 0),
  );
  const lines = [['VERSION', 'STAGES', 'CREATED', ...(options.fingerprints ? ['CREDENTIAL'] : [])]];
  for (const row of rows) {
    lines.push([
      row.VersionId ?? '?',
      (row.VersionStages ?? []).join(',') || '-',
      row.CreatedDate?.toISOString() ?? '?',
      ...(options.fingerprints ? [await fingerprintOf(client, secretId, row)] : []),
    ]);
  }
  const widths = lines[0]!.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  process.stdout.write(`${secretId}\n`);
  for (const line of lines) {
    process.stdout.write(
      `  ${line
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

function toClientEndpoint(options: VersionsOptions): { endpoint: string; region: string } {
  return requireLocalEndpoint(options);
}

async function fingerprintOf(
  client: SecretsManagerClient,
  secretId: string,
  row: SecretVersionsListEntry,
): Promise<string> {
  const stage = row.VersionStages?.[0];
  if (stage === undefined || row.VersionId === undefined) return '-';
  try {
    const version = await client.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionId: row.VersionId, VersionStage: stage }),
    );
    const document = JSON.parse(version.SecretString ?? '') as Record<string, unknown>;
    const credential = CREDENTIAL_FIELDS.map((field) => document[field]).find((value) => typeof value === 'string');
    if (typeof credential !== 'string') return '(none yet)';
    return `sha256:${createHash('sha256').update(credential).digest('hex').slice(0, 12)}`;
  } catch (error) {
    if (error instanceof SyntaxError) return '(not a Rotor document)';
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return '(no value)';
    throw error;
  }
}
