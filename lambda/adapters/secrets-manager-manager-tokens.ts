import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MalformedSecretError, RotorConfigurationError } from '../core/errors';
import type { ManagerTokenSource } from '../core/providers/gitlab/gitlab-access-token-provider';
import { secretNameFromId } from '../shared/secret-name';

export interface SecretsManagerManagerTokensOptions {
  readonly client: SecretsManagerClient;
  /** The stage's secret name prefix: a manager secret must be under it, like the secrets it manages. */
  readonly secretNamePrefix: string;
}

/**
 * {@link ManagerTokenSource} over Secrets Manager: the manager token of an overlap-mode GitLab
 * secret is the `token` of another secret of the stage (itself a `gitlab-access-token` secret that
 * rotates itself). Read at AWSCURRENT on every use, never cached: the manager rotates too. A
 * document names its manager, so the name is checked against the stage's prefix before anything is
 * read. Errors never show a value.
 */
export class SecretsManagerManagerTokens implements ManagerTokenSource {
  constructor(private readonly options: SecretsManagerManagerTokensOptions) {
    if (options.secretNamePrefix === '') {
      throw new RotorConfigurationError('manager token secrets need a non-empty secret name prefix');
    }
  }

  async load(secretId: string): Promise<string> {
    const name = secretNameFromId(secretId);
    // A bare name within the stage is completed with the stage's prefix.
    const fullName = name.startsWith(this.options.secretNamePrefix) ? name : `${this.options.secretNamePrefix}${name}`;
    if (secretId.startsWith('arn:') && !name.startsWith(this.options.secretNamePrefix)) {
      throw new MalformedSecretError(
        `manager secret ${name} is outside this stage's prefix ${this.options.secretNamePrefix}`,
      );
    }
    const secret = await this.options.client.send(
      new GetSecretValueCommand({
        SecretId: secretId.startsWith('arn:') ? secretId : fullName,
        VersionStage: 'AWSCURRENT',
      }),
    );
    let document: unknown;
    try {
      document = JSON.parse(secret.SecretString ?? '');
    } catch {
      throw new MalformedSecretError(`manager secret ${fullName} is not JSON`);
    }
    const token = (document as { token?: unknown } | null)?.token;
    if (typeof token !== 'string' || token === '') {
      throw new MalformedSecretError(`manager secret ${fullName} holds no 'token' yet (rotor bootstrap it first)`);
    }
    return token;
  }
}
