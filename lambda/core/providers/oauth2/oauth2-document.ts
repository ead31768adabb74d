import * as z from 'zod/mini';
import type { SecretDocument } from '../credential-provider';
import { MalformedSecretError } from '../../errors';
import { describeSchemaIssues } from '../../schema-issues';
import { RotorProviderName } from '../../../shared/rotor-constants';

export const OAUTH2_REFRESH_TOKEN_PROVIDER = RotorProviderName.oauth2RefreshToken;

/**
 * How Rotor authenticates as the OAuth client at the token and introspection endpoints
 * (RFC 6749 §2.3, OpenID Connect Core §9). `private_key_jwt` is accepted by the schema so that a
 * document may be written ahead of support for it, but no call is made with it yet.
 */
export const CLIENT_AUTHENTICATION_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'none',
  'private_key_jwt',
] as const;
export type ClientAuthenticationMethod = (typeof CLIENT_AUTHENTICATION_METHODS)[number];

/** What a document that does not name a method gets: the method RFC 6749 §2.3.1 requires every server to support. */
export const DEFAULT_CLIENT_AUTHENTICATION: ClientAuthenticationMethod = 'client_secret_basic';

/** Longest refresh-token reuse interval a document may declare: one day. */
export const MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECONDS = 86_400;

/** Transport settings of every call to the IdP. */
export interface OAuth2TlsOptions {
  /** Lowest TLS version accepted. @default 'TLSv1.3' */
  readonly minVersion?: 'TLSv1.3' | 'TLSv1.2';
  /** PEM certificates trusted in addition to the default trust store (an IdP behind a private CA). */
  readonly caBundle?: string;
  /**
   * Name or ARN of a secret holding `{"certificate": PEM, "privateKey": PEM}` for mTLS. The key
   * lives in a secret of its own so that it is never copied into each rotated version.
   * @default - no client certificate
   */
  readonly clientCertificateSecretId?: string;
}

/**
 * An OAuth 2.0 client's refresh-token grant, rotated by exchanging the refresh token at the
 * IdP's token endpoint. Consumers read `accessToken`; everything else is Rotor's. Fields Rotor
 * does not know are kept across rotations, so operators may annotate a secret.
 *
 * A freshly deployed secret holds only the settings; `rotor bootstrap` stores the first
 * refresh token.
 */
export interface OAuth2RefreshTokenDocument extends SecretDocument {
  readonly provider: typeof OAUTH2_REFRESH_TOKEN_PROVIDER;
  /** The IdP's token endpoint (https). */
  readonly tokenEndpoint: string;
  readonly clientId: string;
  /** @default 'client_secret_basic' */
  readonly clientAuthentication?: ClientAuthenticationMethod;
  /** Needed by `client_secret_basic` and `client_secret_post`; absent until `rotor bootstrap --client-secret` stores one. */
  readonly clientSecret?: string;
  /**
   * Reserved for `private_key_jwt`: the secret holding the key that signs client assertions.
   * Parsed so that a document may name it already; not used yet.
   */
  readonly clientAssertionKeySecretId?: string;
  /** Absent until `rotor bootstrap` stores the first one. Single use at most IdPs. */
  readonly refreshToken?: string;
  /** The credential consumers present. Absent until the first rotation. */
  readonly accessToken?: string;
  /** ISO-8601 time the access token expires, computed from the IdP's `expires_in` when it sent one. */
  readonly accessTokenExpiresAt?: string;
  /** Space-separated scopes asked for on refresh; updated to what the IdP granted. */
  readonly scope?: string;
  /** RFC 7662 endpoint that proves an access token is active without spending the refresh token. */
  readonly introspectionEndpoint?: string;
  /** An https URL that answers 2xx to a GET with the access token as Bearer (when there is no introspection). */
  readonly testUrl?: string;
  /**
   * Seconds during which the IdP still accepts a spent refresh token (Okta's grace period, for
   * example). @default - none: a spent refresh token is never presented again
   */
  readonly refreshTokenReuseIntervalSeconds?: number;
  readonly tls?: OAuth2TlsOptions;
}

const HTTPS_URL_RULE = 'must be an https:// URL with no user name, password or fragment';
/** Credentials never go into a URL (URLs end up in logs), and a fragment means nothing to a server. */
function isPlainHttpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.username === '' && url.password === '' && url.hash === '';
  } catch {
    return false;
  }
}
const httpsUrl = () => z.string({ error: HTTPS_URL_RULE }).check(z.refine(isPlainHttpsUrl, HTTPS_URL_RULE));

const NON_EMPTY_RULE = 'must be a non-empty string';
const nonEmptyString = () => z.string({ error: NON_EMPTY_RULE }).check(z.minLength(1, NON_EMPTY_RULE));

const PEM_CERTIFICATES = /^\s*(-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*)+$/;
const PEM_RULE = 'must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)';

const REUSE_INTERVAL_RULE = `must be a whole number of seconds from 0 to ${MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECONDS}`;

const TlsSchema = z.strictObject(
  {
    minVersion: z.optional(z.enum(['TLSv1.3', 'TLSv1.2'], 'must be TLSv1.3 or TLSv1.2')),
    caBundle: z.optional(z.string({ error: PEM_RULE }).check(z.regex(PEM_CERTIFICATES, PEM_RULE))),
    clientCertificateSecretId: z.optional(nonEmptyString()),
  },
  {
    // A misspelt setting here would silently weaken or drop a transport rule, so it is refused.
    // Field names are safe to show; values never are.
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `has fields Rotor does not know (${issue.keys.map((key) => `'${key}'`).join(', ')}); it knows minVersion, caBundle and clientCertificateSecretId`
        : 'must be an object',
  },
);

const OAuth2RefreshTokenDocumentSchema = z.looseObject({
  provider: z.literal(OAUTH2_REFRESH_TOKEN_PROVIDER, `must be ${OAUTH2_REFRESH_TOKEN_PROVIDER}`),
  schemaVersion: z.optional(z.literal(1, 'must be 1')),
  tokenEndpoint: httpsUrl(),
  clientId: nonEmptyString(),
  clientAuthentication: z.optional(
    z.enum(CLIENT_AUTHENTICATION_METHODS, `must be ${CLIENT_AUTHENTICATION_METHODS.join(', ')}`),
  ),
  clientSecret: z.optional(nonEmptyString()),
  clientAssertionKeySecretId: z.optional(nonEmptyString()),
  refreshToken: z.optional(nonEmptyString()),
  accessToken: z.optional(nonEmptyString()),
  accessTokenExpiresAt: z.optional(
    z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date and time with a zone (2025-01-15T10:00:00Z)' }),
  ),
  scope: z.optional(z.string({ error: 'must be a string of space-separated scopes' })),
  introspectionEndpoint: z.optional(httpsUrl()),
  testUrl: z.optional(httpsUrl()),
  refreshTokenReuseIntervalSeconds: z.optional(
    z
      .int(REUSE_INTERVAL_RULE)
      .check(
        z.minimum(0, REUSE_INTERVAL_RULE),
        z.maximum(MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECONDS, REUSE_INTERVAL_RULE),
      ),
  ),
  tls: z.optional(TlsSchema),
});

/**
 * Checks a document against the oauth2-refresh-token schema.
 * @throws MalformedSecretError naming the failing fields, never their values.
 */
export function parseOAuth2RefreshTokenDocument(
  document: Readonly<Record<string, unknown>>,
): OAuth2RefreshTokenDocument {
  const result = OAuth2RefreshTokenDocumentSchema.safeParse(document);
  if (!result.success) {
    throw new MalformedSecretError(
      `${OAUTH2_REFRESH_TOKEN_PROVIDER} document is invalid: ${describeSchemaIssues(result.error.issues)}`,
    );
  }
  return { ...result.data, schemaVersion: 1 };
}
