import type { CredentialProvider } from '../credential-provider';
import type { ClientCertificateSource, ProviderHttpClient } from '../provider-http';
import { checkAccessToken } from './credential-check';
import {
  OAUTH2_REFRESH_TOKEN_PROVIDER,
  parseOAuth2RefreshTokenDocument,
  type OAuth2RefreshTokenDocument,
} from './oauth2-document';
import {
  assertSupportedClientAuthentication,
  checkBeforeExchange,
  checkEndpoints,
  clientAuthenticationOf,
} from './oauth2-request';
import { refreshAccessToken } from './token-endpoint';

export interface OAuth2RefreshTokenProviderDependencies {
  /** Every call to the IdP and to the test URL goes through it (HTTPS, TLS rules, no logging of bodies). */
  readonly http: ProviderHttpClient;
  /** Reads the mTLS client certificate a document names in `tls.clientCertificateSecretId`. */
  readonly clientCertificates: ClientCertificateSource;
  /** Waits between attempts of the credential check. @default - a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Rotates an OAuth 2.0 grant: each rotation spends the refresh token at the IdP's token endpoint
 * for a new access token (and, at an IdP that rotates them, a new refresh token). Consumers
 * read `accessToken`.
 *
 * Spending is an external side effect that cannot be repeated, so the engine claims the refresh
 * token (`spends`) in its journal before `create` runs; this provider keeps no record and never
 * retries. There is no `revoke`: RFC 7009 revocation needs a revocation endpoint the document
 * does not have yet, and the previous access token simply expires.
 */
export function oauth2RefreshTokenProvider(
  deps: OAuth2RefreshTokenProviderDependencies,
): CredentialProvider<OAuth2RefreshTokenDocument> {
  return {
    name: OAUTH2_REFRESH_TOKEN_PROVIDER,
    sideEffects: 'external',

    parse: parseOAuth2RefreshTokenDocument,

    checkCreate(current, context) {
      checkBeforeExchange(current, deps, context.secretName);
    },

    async create(current, context) {
      const response = await refreshAccessToken(current, deps, context);
      // The previous expiry must not outlive the token it described.
      // eslint-disable-next-line @typescript-eslint/no-unused-vars -- dropped from the pending document on purpose
      const { accessTokenExpiresAt: _previousExpiry, ...rest } = current;
      const refreshToken = response.refreshToken ?? current.refreshToken;
      const scope = response.scope ?? current.scope;
      return {
        ...rest,
        accessToken: response.accessToken,
        ...(response.accessTokenExpiresAt === undefined
          ? {}
          : { accessTokenExpiresAt: response.accessTokenExpiresAt.toISOString() }),
        // An IdP that does not rotate refresh tokens sends none: the one just used stays valid.
        ...(refreshToken === undefined ? {} : { refreshToken }),
        ...(scope === undefined ? {} : { scope }),
      };
    },

    async test(pending, context) {
      assertSupportedClientAuthentication(pending, context.secretName);
      checkEndpoints(pending, deps);
      await checkAccessToken(pending, deps, context);
    },

    credentialOf: (document) => document.accessToken,
    credentialExpiresAt: (document) => {
      const expiry = document.accessTokenExpiresAt === undefined ? NaN : Date.parse(document.accessTokenExpiresAt);
      return Number.isNaN(expiry) ? undefined : new Date(expiry);
    },
    // A document whose client authentication create refuses spends nothing: were its refresh
    // token claimed, the claim would outlive the fix of the document and strand the grant.
    spends: (document) => (clientAuthenticationOf(document) === 'private_key_jwt' ? undefined : document.refreshToken),
    reuseIntervalSeconds: (document) => document.refreshTokenReuseIntervalSeconds,
  };
}
