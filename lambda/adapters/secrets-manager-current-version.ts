import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CurrentVersionLookup } from '../core/verifier/verify-token';

/**
 * Whether a version of a secret is AWSCURRENT now, from DescribeSecret (the staging labels are
 * Secrets Manager's own truth; the ledger may lag it after a fault). The verifier's role holds
 * DescribeSecret on every secret of its stage already, to start rotations.
 */
export class SecretsManagerCurrentVersion implements CurrentVersionLookup {
  constructor(private readonly client: SecretsManagerClient) {}

  async isCurrent(secretArn: string, versionId: string): Promise<boolean> {
    const secret = await this.client.send(new DescribeSecretCommand({ SecretId: secretArn }));
    return secret.VersionIdsToStages?.[versionId]?.includes('AWSCURRENT') ?? false;
  }
}
