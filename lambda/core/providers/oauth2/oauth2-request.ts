/**
 * What every call to the IdP carries, shared by the token endpoint and the credential check so
 * that both authenticate as the same client over the same transport.
 */
import type { ClientCertificateSource, ProviderHttpClient, ProviderTlsSettings } from '../provider-http';
import {
  EndpointRefusedError,
  MalformedSecretError,
  ProviderCallError,
  ReauthorizationRequiredError,
  RotorError,
} from '../../errors';
import {
  DEFAULT_CLIENT_AUTHENTICATION,
  OAUTH2_REFRESH_TOKEN_PROVIDER,
  type ClientAuthenticationMethod,
  type OAuth2RefreshTokenDocument,
} from './oauth2-document';

/** The ports every call to the IdP goes through. */
export interface OAuth2CallDependencies {
  readonly http: ProviderHttpClient;
  readonly clientCertificates: ClientCertificateSource;
}

/** The client authentication method of `document`, with the default filled in. */
export function clientAuthenticationOf(document: OAuth2RefreshTokenDocument): ClientAuthenticationMethod {
  return document.clientAuthentication ?? DEFAULT_CLIENT_AUTHENTICATION;
}

/**
 * Refuses a document whose client authentication Rotor cannot perform yet, before any call is
 * made (so nothing is spent).
 * @throws MalformedSecretError for `private_key_jwt`.
 */
export function assertSupportedClientAuthentication(document: OAuth2RefreshTokenDocument, secretName: string): void {
  if (clientAuthenticationOf(document) === 'private_key_jwt') {
    throw new MalformedSecretError(
      `secret ${secretName}: field 'clientAuthentication': private_key_jwt is not supported yet by the ` +
        `${OAUTH2_REFRESH_TOKEN_PROVIDER} provider; use client_secret_basic, client_secret_post or none`,
    );
  }
}

/**
 * Refuses every URL of `document` the HTTP client would refuse (an origin the stage's provider
 * configuration does not name, a non-public IP literal), with no I/O: a document pointing any of
 * them elsewhere is refused as a whole, before a credential could be sent.
 * @throws EndpointRefusedError naming the field.
 */
export function checkEndpoints(document: OAuth2RefreshTokenDocument, deps: Pick<OAuth2CallDependencies, 'http'>): void {
  const fields = ['tokenEndpoint', 'introspectionEndpoint', 'testUrl'] as const;
  for (const field of fields) {
    const url = document[field];
    if (url === undefined) continue;
    try {
      deps.http.checkDestination(url);
    } catch (error) {
      if (!(error instanceof EndpointRefusedError)) throw error;
      throw new EndpointRefusedError(`field '${field}': ${error.message}`);
    }
  }
}

/**
 * What the refresh needs that can be checked with no I/O, in the order the exchange would find it
 * missing: a supported client authentication, its client secret, a refresh token, a client
 * certificate secret under the stage's prefix, and endpoints the stage allows. The engine runs it
 * before its journal claim, so a refused document writes nothing.
 */
export function checkBeforeExchange(
  document: OAuth2RefreshTokenDocument,
  deps: OAuth2CallDependencies,
  secretName: string,
): void {
  clientCredentials(document, secretName);
  if (document.refreshToken === undefined) throw missingRefreshToken(secretName);
  const certificate = document.tls?.clientCertificateSecretId;
  if (certificate !== undefined) deps.clientCertificates.checkLocation(certificate);
  checkEndpoints(document, deps);
}

/** A document that was never bootstrapped, or lost its refresh token. */
export function missingRefreshToken(secretName: string): ReauthorizationRequiredError {
  return new ReauthorizationRequiredError(
    `secret ${secretName} holds no refresh token yet: authorize it once with rotor bootstrap ${secretName}`,
  );
}

/** Headers and form fields that authenticate the client on one request. */
export interface ClientCredentials {
  readonly headers: Readonly<Record<string, string>>;
  readonly form: Readonly<Record<string, string>>;
}

/**
 * The client authentication of `document` for a token or introspection request:
 * `client_secret_basic` puts the id and secret in an Authorization header, `client_secret_post`
 * in the form, and `none` (a public client) sends only `client_id` (RFC 6749 §3.2.1).
 * @throws MalformedSecretError for `private_key_jwt`, or a secret method without a secret.
 */
export function clientCredentials(document: OAuth2RefreshTokenDocument, secretName: string): ClientCredentials {
  assertSupportedClientAuthentication(document, secretName);
  const method = clientAuthenticationOf(document);
  if (method === 'none') return { headers: {}, form: { client_id: document.clientId } };
  const secret = document.clientSecret;
  if (secret === undefined) {
    // A freshly deployed secret holds only settings: the client secret arrives with the refresh token.
    throw new ReauthorizationRequiredError(
      `secret ${secretName} holds no client secret, which ${method} needs; store one: ` +
        `rotor bootstrap ${secretName} --client-secret`,
    );
  }
  if (method === 'client_secret_post') {
    return { headers: {}, form: { client_id: document.clientId, client_secret: secret } };
  }
  // RFC 6749 §2.3.1: the id and secret are form-urlencoded before they are joined and base64'd,
  // so a ':' or a non-ASCII character in either survives the split at the server.
  const basic = Buffer.from(`${formUrlEncode(document.clientId)}:${formUrlEncode(secret)}`, 'utf8').toString('base64');
  return { headers: { authorization: `Basic ${basic}` }, form: {} };
}

/** `application/x-www-form-urlencoded` encoding of one value (RFC 6749 Appendix B), as URLSearchParams serialises it. */
export function formUrlEncode(value: string): string {
  return new URLSearchParams([['', value]]).toString().slice(1);
}

/**
 * The TLS settings of every call for `document`: TLS 1.3 unless the document allows 1.2, its CA
 * bundle, and its client certificate when it names one.
 * @throws ProviderCallError (`none`) when the client certificate cannot be read: no request left.
 */
export async function tlsSettingsOf(
  document: OAuth2RefreshTokenDocument,
  clientCertificates: ClientCertificateSource,
): Promise<ProviderTlsSettings> {
  const tls = document.tls ?? {};
  const settings: ProviderTlsSettings = {
    minVersion: tls.minVersion ?? 'TLSv1.3',
    ...(tls.caBundle === undefined ? {} : { caBundlePem: tls.caBundle }),
  };
  if (tls.clientCertificateSecretId === undefined) return settings;
  try {
    return { ...settings, clientCertificate: await clientCertificates.load(tls.clientCertificateSecretId) };
  } catch (error) {
    // Typed as a call that never left, so that the engine gives back its claim on the refresh token.
    // Only Rotor's own messages are passed on: another error's message may quote what it failed
    // to parse (JSON.parse does), and that would be the private key.
    const reason = error instanceof RotorError ? error.message : error instanceof Error ? error.name : 'unknown error';
    throw new ProviderCallError(
      `could not read the client certificate secret named in field 'tls.clientCertificateSecretId' ` +
        `(${reason}); no request was sent`,
      'none',
      { cause: error },
    );
  }
}

/** The body as a JSON object, or undefined when it is not one. The parser's own message quotes its input, so it is dropped. */
export function jsonObjectOf(body: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
