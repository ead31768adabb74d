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

/** Providers whose first credential an operator obtains at the issuer and hands to Rotor. */
const BOOTSTRAPPABLE_PROVIDERS: readonly string[] = [
  RotorProviderName.oauth2RefreshToken,
  RotorProviderName.gitlabAccessToken,
];

export interface BootstrapOptions extends OperatorOptions {
  /** Also read a new client secret (second line of stdin). */
  readonly clientSecret?: boolean | undefined;
}

/**
 * `rotor bootstrap SECRET`: stores a fresh credential (from stdin, never echoed) as the secret's
 * first version of a new chain: the current document's settings with the new credential.
 *
 * - `oauth2-refresh-token`: a refresh token (and, with `--client-secret`, a client secret); no
 *   access token (the next rotation gets one).
 * - `gitlab-access-token`: the GitLab token and its id (two lines); the token is what consumers
 *   read at once, and the next rotation replaces it.
 *
 * Any unfinished rotation loses AWSPENDING, so it cannot promote a value derived from the old
 * credential. The ledger's `compromised` status goes back to `active`, with a `reauthorized`
 * audit event.
 */
export async function bootstrap(secretId: string | undefined, options: BootstrapOptions): Promise<void> {
  if (secretId === undefined) throw new UsageError('bootstrap needs the secret name or ARN');
  const context = await operatorContext('bootstrap', options, false);
  const sm = context.secretsManager;
  // The provider decides what to read; the labels and document are read again after the paste,
  // right before the write, since a scheduled rotation may run meanwhile.
  const found = await findSecret(sm, secretId, whereOf(options, options.region));
  const before = await sm.send(new GetSecretValueCommand({ SecretId: found.ARN, VersionStage: 'AWSCURRENT' }));
  const provider = parseDocument(before.SecretString, found.Name).provider;
  const prompts =
    provider === RotorProviderName.gitlabAccessToken
      ? ['GitLab token', 'GitLab token id']
      : options.clientSecret
        ? ['refresh token', 'client secret']
        : ['refresh token'];
  const [credential, second] = await readSecretLines(prompts);
  const secret = await findSecret(sm, secretId, whereOf(options, options.region));
  if (!secret.Name.startsWith(context.secretNamePrefix)) {
    throw new UsageError(`${secret.Name} is not in stage ${context.stage} (prefix ${context.secretNamePrefix})`);
  }
  const current = await sm.send(new GetSecretValueCommand({ SecretId: secret.ARN, VersionStage: 'AWSCURRENT' }));
  const document = parseDocument(current.SecretString, secret.Name);

  const next = nextDocument(document, credential!, second);

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
    document.provider === RotorProviderName.gitlabAccessToken
      ? `stored GitLab token ${String(next.tokenId)} for ${secret.Name} as version ${versionId} (AWSCURRENT)\n` +
          `\`rotor rotate ${secret.Name}\` replaces it now, the schedule otherwise\n`
      : `stored a fresh refresh token for ${secret.Name} as version ${versionId} (AWSCURRENT)\n` +
          `it holds no access token yet: \`rotor rotate ${secret.Name}\` gets one now, the refresh schedule otherwise\n`,
  );
}

/** The current document with the credential read from stdin in place of the old one. */
function nextDocument(document: Record<string, unknown>, credential: string, second: string | undefined) {
  const next: Record<string, unknown> = { ...document };
  if (document.provider === RotorProviderName.gitlabAccessToken) {
    if (second === undefined || !/^[1-9]\d{0,15}$/.test(second)) {
      throw new UsageError('the second line must be the GitLab token id (a positive whole number)');
    }
    next.token = credential;
    next.tokenId = Number(second);
    // The old token's name and expiry do not describe the new one; the next rotation learns them.
    delete next.tokenName;
    delete next.expiresAt;
    return next;
  }
  next.refreshToken = credential;
  if (second !== undefined) next.clientSecret = second;
  delete next.accessToken;
  delete next.accessTokenExpiresAt;
  return next;
}

function parseDocument(raw: string | undefined, secretName: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(raw ?? '');
  } catch {
    throw new Error(
      `${secretName} does not hold a JSON document; bootstrap only re-authorizes Rotor OAuth and GitLab secrets`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(
      `${secretName} does not hold a JSON object; bootstrap only re-authorizes Rotor OAuth and GitLab secrets`,
    );
  }
  const document = value as Record<string, unknown>;
  if (!BOOTSTRAPPABLE_PROVIDERS.includes(String(document.provider))) {
    throw new UsageError(
      `${secretName} is not an ${BOOTSTRAPPABLE_PROVIDERS.join(' or ')} secret; bootstrap does not apply to it`,
    );
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
