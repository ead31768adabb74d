import {
  DescribeSecretCommand,
  type DescribeSecretResponse,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { NotFoundError } from './cli-errors';

/** A secret as DescribeSecret shows it, with the ARN and name it always has. */
export type FoundSecret = DescribeSecretResponse & { readonly ARN: string; readonly Name: string };

/**
 * DescribeSecret, with the same one-line answer from every command when the secret does not
 * exist: what was looked for, where, and how to find the right name.
 */
export async function findSecret(client: SecretsManagerClient, secretId: string, where: string): Promise<FoundSecret> {
  try {
    const secret = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
    if (secret.ARN === undefined || secret.Name === undefined) {
      throw new NotFoundError(`DescribeSecret of ${secretId} ${where} named no secret`);
    }
    return secret as FoundSecret;
  } catch (error) {
    if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
    throw new NotFoundError(
      `no secret ${secretId} ${where}: check the name (\`rotor status\` lists the stage's secrets)`,
    );
  }
}

/** Where a command looks for secrets, for messages: the emulator's URL or the account's region. */
export function whereOf(
  options: { readonly local?: boolean | undefined; readonly endpoint?: string | undefined },
  region?: string,
): string {
  if (options.local) return `in the emulator at ${options.endpoint ?? process.env.AWS_ENDPOINT_URL ?? '?'}`;
  const shown = region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  return `in the account${shown === undefined ? '' : ` (${shown})`}`;
}
