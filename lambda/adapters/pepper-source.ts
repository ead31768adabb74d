import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Fingerprinter } from '../core/ledger/fingerprint';

/**
 * Loads the fingerprint pepper from its secret once per container; a failed load is retried on
 * the next call rather than cached.
 */
export function pepperedFingerprinter(
  client: SecretsManagerClient,
  pepperSecretArn: string,
): () => Promise<Fingerprinter> {
  let loading: Promise<Fingerprinter> | undefined;
  return () => {
    loading ??= client
      .send(new GetSecretValueCommand({ SecretId: pepperSecretArn, VersionStage: 'AWSCURRENT' }))
      .then((secret) => {
        if (secret.SecretString === undefined) throw new Error('the fingerprint pepper secret holds no string value');
        return new Fingerprinter(Buffer.from(secret.SecretString, 'utf8'));
      })
      .catch((error: unknown) => {
        loading = undefined;
        throw error;
      });
    return loading;
  };
}
