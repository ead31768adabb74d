import {
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { RotorProviderName } from '../../lambda/shared/rotor-constants';
import { UsageError } from './cli-options';
import { findSecret, whereOf } from './find-secret';
import { operatorContext, operatorName, type OperatorOptions } from './operator-context';
import { readSecretLines } from './secret-input';

/** Label that holds the new version between its write and the move of AWSCURRENT. */
const BOOTSTRAP_STAGE = 'ROTOR_BOOTSTRAP';

/** Providers whose credential is a single-use token an operator obtains by authorizing at the issuer. */
const BOOTSTRAPPABLE_PROVIDER = RotorProviderName.oauth2RefreshToken;

export interface BootstrapOptions extends OperatorOptions {
  /** Also read a new client secret (second line of stdin). */
  readonly clientSecret?: boolean | undefined;
}

/**
 * `rotor bootstrap SECRET`: stores a fresh refresh token (from stdin, never echoed) as the
 * secret's first version of a new chain: the current document's settings with the new token, and
 * no access token (the next rotation gets one). Any unfinished rotation loses AWSPENDING, so it
 * cannot promote a value derived from the old token. The ledger's `compromised` status goes back
 * to `active`, with a `reauthorized` audit event.
 */
export async function bootstrap(secretId: string | undefined, options: BootstrapOptions): Promise<void> {
  if (secretId === undefined) throw new UsageError('bootstrap needs the secret name or ARN');
  // Read first: a person may take a while to paste, and a scheduled refresh may rotate the secret
  // meanwhile; its labels and document are read afterwards, right before the write.
  const prompts = options.clientSecret ? ['refresh token', 'client secret'] : ['refresh token'];
  const [refreshToken, clientSecret] = await readSecretLines(prompts);
  const context = await operatorContext('bootstrap', options, false);
  const sm = context.secretsManager;
  const secret = await findSecret(sm, secretId, whereOf(options, options.region));
  if (!secret.Name.startsWith(context.secretNamePrefix)) {
    throw new UsageError(`${secret.Name} is not in stage ${context.stage} (prefix ${context.secretNamePrefix})`);
  }
  const current = await sm.send(new GetSecretValueCommand({ SecretId: secret.ARN, VersionStage: 'AWSCURRENT' }));
  const document = parseDocument(current.SecretString, secret.Name);

  const next: Record<string, unknown> = { ...document, refreshToken };
  if (clientSecret !== undefined) next.clientSecret = clientSecret;
  delete next.accessToken;
  delete next.accessTokenExpiresAt;

  const stages = secret.VersionIdsToStages ?? {};
  await cancelUnfinishedRotation(context, secret.ARN, stages);
  const versionId = randomUUID();
  // Stored under a label of its own, then AWSCURRENT moved in one call: the same move a
  // rotation's finishSecret makes (AWSPREVIOUS follows), and the one the local emulator performs
  // as AWS does (its PutSecretValue with AWSCURRENT leaves the label on the old version too).
  await sm.send(
    new PutSecretValueCommand({
      SecretId: secret.ARN,
      ClientRequestToken: versionId,
      SecretString: JSON.stringify(next),
      VersionStages: [BOOTSTRAP_STAGE],
    }),
  );
  const currentVersionId = Object.keys(stages).find((id) => stages[id]?.includes('AWSCURRENT'));
  await sm.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secret.ARN,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: versionId,
      ...(currentVersionId === undefined ? {} : { RemoveFromVersionId: currentVersionId }),
    }),
  );
  await sm.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secret.ARN,
      VersionStage: BOOTSTRAP_STAGE,
      RemoveFromVersionId: versionId,
    }),
  );
  await context.ledger.recordReauthorization({
    secretArn: secret.ARN,
    secretName: secret.Name,
    versionId,
    now: Date.now(),
    by: operatorName('bootstrap'),
  });
  process.stdout.write(
    `stored a fresh refresh token for ${secret.Name} as version ${versionId} (AWSCURRENT)\n` +
      `it holds no access token yet: \`rotor rotate ${secret.Name}\` gets one now, the refresh schedule otherwise\n`,
  );
}

function parseDocument(raw: string | undefined, secretName: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw ?? '');
  } catch {
    throw new Error(`${secretName} does not hold a JSON document; bootstrap only re-authorizes Rotor OAuth secrets`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${secretName} does not hold a JSON object; bootstrap only re-authorizes Rotor OAuth secrets`);
  }
  const document = value as Record<string, unknown>;
  if (document.provider !== BOOTSTRAPPABLE_PROVIDER) {
    throw new UsageError(`${secretName} is not an ${BOOTSTRAPPABLE_PROVIDER} secret; bootstrap does not apply to it`);
  }
  return document;
}

async function cancelUnfinishedRotation(
  context: Awaited<ReturnType<typeof operatorContext>>,
  secretArn: string,
  stages: Record<string, readonly string[]>,
): Promise<void> {
  for (const [versionId, labels] of Object.entries(stages)) {
    if (!labels.includes('AWSPENDING')) continue;
    await context.secretsManager.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secretArn,
        VersionStage: 'AWSPENDING',
        RemoveFromVersionId: versionId,
      }),
    );
  }
}
