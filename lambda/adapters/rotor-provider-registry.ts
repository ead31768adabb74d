import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { gitlabAccessTokenProvider } from '../core/providers/gitlab/gitlab-access-token-provider';
import { managedTokenProvider } from '../core/providers/managed-token/managed-token-provider';
import { oauth2RefreshTokenProvider } from '../core/providers/oauth2/oauth2-refresh-token-provider';
import type { EndpointPolicy } from '../core/providers/endpoint-policy';
import { ProviderRegistry } from '../core/providers/provider-registry';
import { NodeProviderHttpClient } from './provider-http-client';
import { SecretsManagerClientCertificates } from './secrets-manager-client-certificates';
import { SecretsManagerManagerTokens } from './secrets-manager-manager-tokens';

/**
 * Every provider Rotor ships (one per name in ROTOR_PROVIDERS), as the rotation, health-check and
 * rollback functions all need them: the same parse and test wherever a secret is read. Provider
 * calls go through one HTTP client per container, so connections to an IdP are reused, and every
 * provider's calls reach only the stage's provider endpoints (`endpoints`, from
 * `endpointPolicyFromEnvironment`).
 */
export function rotorProviderRegistry(
  secretsManager: SecretsManagerClient,
  secretNamePrefix: string,
  endpoints: EndpointPolicy,
): ProviderRegistry {
  const http = new NodeProviderHttpClient({ endpoints });
  return new ProviderRegistry([
    managedTokenProvider,
    oauth2RefreshTokenProvider({
      http,
      clientCertificates: new SecretsManagerClientCertificates({ client: secretsManager, secretNamePrefix }),
    }),
    gitlabAccessTokenProvider({
      http,
      managerTokens: new SecretsManagerManagerTokens({ client: secretsManager, secretNamePrefix }),
    }),
  ]);
}
