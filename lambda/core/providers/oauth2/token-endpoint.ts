/**
 * The refresh-token grant (RFC 6749 §6): one POST to the IdP's token endpoint, and a
 * classification of its answer by what it means for the refresh token that was presented.
 *
 * This module never retries and keeps no record: the rotation engine has claimed the refresh
 * token in its journal before calling, and decides from the error class whether the claim is
 * given back (nothing happened), kept (something may have happened) or marked rejected.
 */
import * as z from 'zod/mini';
import type { ProviderContext } from '../credential-provider';
import type { ProviderHttpResponse } from '../provider-http';
import { ProviderCallError, ProviderRefusedError, UpstreamReuseSuspectedError } from '../../errors';
import { describeSchemaIssues } from '../../schema-issues';
import type { OAuth2RefreshTokenDocument } from './oauth2-document';
import {
  checkBeforeExchange,
  clientCredentials,
  jsonObjectOf,
  missingRefreshToken,
  tlsSettingsOf,
  type OAuth2CallDependencies,
} from './oauth2-request';

/** A successful token response, in Rotor's terms. */
export interface TokenResponse {
  readonly accessToken: string;
  /** Lifetime the IdP gave the access token (`expires_in`), when it gave one. */
  readonly expiresInSeconds?: number;
  /** `expiresInSeconds` counted from when the request was sent (so never later than the IdP's own clock says). */
  readonly accessTokenExpiresAt?: Date;
  /** The new refresh token; absent when the IdP does not rotate refresh tokens (the old one stays valid). */
  readonly refreshToken?: string;
  /** The scopes granted, when the IdP says. */
  readonly scope?: string;
}

/** Longest `error_description` Rotor repeats in an error message. */
export const MAX_ERROR_DESCRIPTION_LENGTH = 200;

/**
 * Exchanges the document's refresh token for a new access token (and, at a rotating IdP, a new
 * refresh token). Sends exactly one request.
 *
 * @throws MalformedSecretError when the document's client authentication is not supported yet (nothing sent).
 * @throws ReauthorizationRequiredError when the document holds no refresh token (nothing sent).
 * @throws ProviderCallError unchanged from the HTTP client; `unknown` also for a 5xx, or a 2xx whose
 *   body is not a usable token response: the IdP may have acted.
 * @throws UpstreamReuseSuspectedError on `invalid_grant`: the IdP refused a refresh token Rotor had not spent.
 * @throws ProviderRefusedError on any other refusal (other OAuth errors, other 4xx, 429, a redirect).
 */
export async function refreshAccessToken(
  document: OAuth2RefreshTokenDocument,
  deps: OAuth2CallDependencies,
  context: Pick<ProviderContext, 'secretName' | 'now'>,
): Promise<TokenResponse> {
  const { secretName } = context;
  checkBeforeExchange(document, deps, secretName);
  const client = clientCredentials(document, secretName);
  const refreshToken = document.refreshToken;
  if (refreshToken === undefined) throw missingRefreshToken(secretName);
  const tls = await tlsSettingsOf(document, deps.clientCertificates);
  const sentAt = context.now();
  const response = await deps.http.send({
    method: 'POST',
    url: document.tokenEndpoint,
    headers: { accept: 'application/json', ...client.headers },
    form: {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      ...(document.scope ? { scope: document.scope } : {}),
      ...client.form,
    },
    tls,
  });
  return tokenResponseOf(response, {
    secretName,
    sentAt,
    secrets: [refreshToken, document.clientSecret ?? ''],
  });
}

interface Exchange {
  readonly secretName: string;
  readonly sentAt: Date;
  /** Values an IdP's error text must not contain to be repeated. */
  readonly secrets: readonly string[];
}

function tokenResponseOf(response: ProviderHttpResponse, exchange: Exchange): TokenResponse {
  const { status } = response;
  const endpoint = `the token endpoint of secret ${exchange.secretName}`;
  if (status >= 200 && status < 300) {
    const body = jsonObjectOf(response.body);
    // Some IdPs (GitHub's, for one) answer an OAuth error with 200: that is a refusal, not a token.
    if (body !== undefined && body.access_token === undefined && typeof body.error === 'string') {
      throw oauthErrorOf(status, body, exchange);
    }
    return successOf(status, body, exchange);
  }
  if (status === 429) {
    const retryAfter = /^\d{1,6}$/.test(response.headers['retry-after'] ?? '') ? response.headers['retry-after'] : '';
    throw new ProviderRefusedError(
      `${endpoint} refused the refresh with HTTP 429 (rate limited${retryAfter ? `; retry after ${retryAfter} s` : ''}); ` +
        'the refresh token was not spent',
    );
  }
  if (status >= 500) {
    throw new ProviderCallError(
      `${endpoint} answered HTTP ${status}: a proxy may have answered after the IdP acted, so whether the ` +
        'refresh token was spent is unknown',
      'unknown',
    );
  }
  if (status >= 400) {
    const body = jsonObjectOf(response.body);
    if (body !== undefined && typeof body.error === 'string') throw oauthErrorOf(status, body, exchange);
    throw new ProviderRefusedError(
      `${endpoint} refused the refresh with HTTP ${status} and no OAuth error; check field 'tokenEndpoint'`,
    );
  }
  if (status >= 300) {
    throw new ProviderRefusedError(
      `${endpoint} answered HTTP ${status}, a redirect; Rotor does not follow redirects with a refresh token: ` +
        "set field 'tokenEndpoint' to the URL the IdP documents",
    );
  }
  throw new ProviderCallError(`${endpoint} answered HTTP ${status}, which is not an OAuth answer`, 'unknown');
}

const NON_EMPTY_RULE = 'must be a non-empty string';
const EXPIRES_IN_RULE = 'must be a number of seconds';

/**
 * The fields Rotor uses from a token response (RFC 6749 §5.1). Lenient where strictness would
 * only lose a grant the IdP already rotated: `expires_in` as a digit string (as some IdPs send
 * it) and `null` for an optional field are accepted.
 */
const TokenResponseBody = z.looseObject({
  access_token: z.string({ error: NON_EMPTY_RULE }).check(z.minLength(1, NON_EMPTY_RULE)),
  // Rotor's consumers present the token as Bearer; a sender-constrained type (DPoP, MAC) would not work.
  token_type: z
    .string({ error: 'must be Bearer' })
    .check(z.refine((type) => type.toLowerCase() === 'bearer', 'must be Bearer')),
  expires_in: z.nullish(
    z.union(
      [
        z.number({ error: EXPIRES_IN_RULE }).check(z.minimum(0, EXPIRES_IN_RULE)),
        z.string({ error: EXPIRES_IN_RULE }).check(z.regex(/^\d{1,10}$/, EXPIRES_IN_RULE)),
      ],
      { error: EXPIRES_IN_RULE },
    ),
  ),
  refresh_token: z.nullish(z.string({ error: NON_EMPTY_RULE }).check(z.minLength(1, NON_EMPTY_RULE))),
  scope: z.nullish(z.string({ error: 'must be a string' })),
});

function successOf(status: number, body: Record<string, unknown> | undefined, exchange: Exchange): TokenResponse {
  const unusable = (reason: string): ProviderCallError =>
    new ProviderCallError(
      `the token endpoint of secret ${exchange.secretName} answered HTTP ${status} but not with a usable token ` +
        `response (${reason}); the IdP may already have rotated the refresh token, so whether it was spent is unknown`,
      'unknown',
    );
  if (body === undefined) throw unusable('the body is not a JSON object');
  const parsed = TokenResponseBody.safeParse(body);
  if (!parsed.success) throw unusable(describeSchemaIssues(parsed.error.issues));
  const { access_token, expires_in, refresh_token, scope } = parsed.data;
  const expiresInSeconds = expires_in === undefined || expires_in === null ? undefined : Number(expires_in);
  return {
    accessToken: access_token,
    ...(expiresInSeconds === undefined
      ? {}
      : {
          expiresInSeconds,
          accessTokenExpiresAt: new Date(exchange.sentAt.getTime() + expiresInSeconds * 1000),
        }),
    ...(refresh_token ? { refreshToken: refresh_token } : {}),
    ...(scope ? { scope } : {}),
  };
}

/** What an operator can do about each OAuth error code the token endpoint may answer (RFC 6749 §5.2). */
const ERROR_HINTS: Readonly<Record<string, string>> = {
  invalid_client: "check fields 'clientId', 'clientSecret' and 'clientAuthentication'",
  unauthorized_client: 'the client may not use the refresh_token grant: allow it at the IdP',
  invalid_scope: "check field 'scope' against what the grant allows",
  unsupported_grant_type: 'the IdP does not offer the refresh_token grant to this client',
  invalid_request: "the IdP found the request malformed; check fields 'tokenEndpoint' and 'clientAuthentication'",
};

/** RFC 6749 §5.2 limits `error` to these characters; anything else is not repeated. */
const ERROR_CODE = /^[\x20\x21\x23-\x5B\x5D-\x7E]{1,64}$/;

function oauthErrorOf(status: number, body: Record<string, unknown>, exchange: Exchange): Error {
  const code = typeof body.error === 'string' && ERROR_CODE.test(body.error) ? body.error : undefined;
  const description = safeDescriptionOf(body.error_description, exchange.secrets);
  const said = `${code ?? 'an OAuth error'}${description === undefined ? '' : `: ${JSON.stringify(description)}`}`;
  const name = exchange.secretName;
  // Rotor claims every refresh token in its journal before presenting it, so a token the IdP calls
  // invalid was not spent by this rotation: someone else spent it, or the grant is gone.
  if (code === 'invalid_grant' && (status < 300 || status === 400 || status === 401)) {
    return new UpstreamReuseSuspectedError(
      `the IdP refused the refresh token of secret ${name} (${said}): it was not spent by Rotor, so someone else ` +
        'may have used it (possible theft upstream), or the grant was revoked or expired; the secret needs ' +
        `re-authorization: rotor bootstrap ${name}`,
    );
  }
  const hint = code !== undefined && Object.hasOwn(ERROR_HINTS, code) ? `; ${ERROR_HINTS[code]}` : '';
  return new ProviderRefusedError(
    `the token endpoint of secret ${name} refused the refresh with HTTP ${status} (${said})${hint}; ` +
      'the refresh token was not spent',
  );
}

/**
 * The IdP's `error_description`, only if it is short printable ASCII that repeats no secret of the
 * request: an error message ends up in logs and in Secrets Manager's rotation failure reason.
 */
function safeDescriptionOf(value: unknown, secrets: readonly string[]): string | undefined {
  if (typeof value !== 'string' || value.length > MAX_ERROR_DESCRIPTION_LENGTH) return undefined;
  if (!/^[\x20-\x7E]+$/.test(value)) return undefined;
  if (secrets.some((secret) => secret.length > 0 && value.includes(secret))) return undefined;
  return value;
}
