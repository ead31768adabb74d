/**
 * Proving an access token works without spending the refresh token: a refresh would rotate the
 * grant again, so the check asks the IdP about the access token itself (RFC 7662 introspection),
 * or presents it to a URL the operator named, or, with neither, trusts the IdP's answer from the
 * exchange and checks only that the token is there and not expired.
 */
import type { ProviderContext } from '../credential-provider';
import type { ProviderHttpRequest, ProviderHttpResponse } from '../provider-http';
import { CredentialTestFailedError, EndpointRefusedError, ProviderCallError } from '../../errors';
import type { OAuth2RefreshTokenDocument } from './oauth2-document';
import { clientCredentials, jsonObjectOf, tlsSettingsOf, type OAuth2CallDependencies } from './oauth2-request';

/**
 * Waits between attempts: an IdP's token store or a resource server may take a moment to learn
 * of a token just issued. Bounded, so a failing check fails within about a second and a half.
 */
export const CREDENTIAL_CHECK_RETRY_DELAYS_MS: readonly number[] = [250, 1000];

export interface CredentialCheckDependencies extends OAuth2CallDependencies {
  /** @default - a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

type ProbeResult =
  | { readonly outcome: 'passed' }
  /** `retry`: may be propagation delay, worth asking again; `failed`: asking again will not help. */
  | { readonly outcome: 'retry' | 'failed'; readonly reason: string; readonly cause?: unknown };

/**
 * Proves the document's access token is usable, polling with bounded backoff while the answer
 * may be propagation delay (inactive, 401, 5xx, no response).
 *
 * @throws CredentialTestFailedError naming the check that failed and the HTTP status; never a token.
 * @throws MalformedSecretError when the document's client authentication is not supported yet.
 */
export async function checkAccessToken(
  document: OAuth2RefreshTokenDocument,
  deps: CredentialCheckDependencies,
  context: Pick<ProviderContext, 'secretName' | 'now'>,
): Promise<void> {
  const failure = (check: string, reason: string, options?: ErrorOptions) =>
    new CredentialTestFailedError(
      `the access token of secret ${context.secretName} failed the ${check}: ${reason}`,
      options,
    );
  const accessToken = document.accessToken;
  if (accessToken === undefined) {
    throw failure('presence check', 'the document holds no access token (its first rotation has not finished)');
  }
  // Checked whatever else is configured: a token known to be expired is not sent anywhere.
  if (
    document.accessTokenExpiresAt !== undefined &&
    Date.parse(document.accessTokenExpiresAt) <= context.now().getTime()
  ) {
    throw failure('expiry check', `it expired at ${document.accessTokenExpiresAt} (field 'accessTokenExpiresAt')`);
  }

  const probe = await probeOf(document, accessToken, deps, context.secretName);
  // Nothing to ask: the IdP issued the token and its expiry was checked above.
  if (probe === undefined) return;

  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const attempts = CREDENTIAL_CHECK_RETRY_DELAYS_MS.length + 1;
  for (let attempt = 1; ; attempt += 1) {
    const result = await attemptOf(probe, deps);
    if (result.outcome === 'passed') return;
    if (result.outcome === 'failed' || attempt === attempts) {
      const tries = attempt === 1 ? '' : ` (${attempt} attempts)`;
      throw failure(
        probe.check,
        `${result.reason}${tries}`,
        result.cause === undefined ? undefined : { cause: result.cause },
      );
    }
    await sleep(CREDENTIAL_CHECK_RETRY_DELAYS_MS[attempt - 1] ?? 0);
  }
}

/** One way of asking about the access token: the request, and how to read the answer. */
interface Probe {
  /** Named in the error message: `introspection check`, `test URL check`. */
  readonly check: string;
  /** The document field the request goes to. */
  readonly field: 'introspectionEndpoint' | 'testUrl';
  readonly request: ProviderHttpRequest;
  readonly judge: (response: ProviderHttpResponse) => ProbeResult;
}

/** Introspection when the document has an endpoint for it, else the test URL, else nothing. */
async function probeOf(
  document: OAuth2RefreshTokenDocument,
  accessToken: string,
  deps: OAuth2CallDependencies,
  secretName: string,
): Promise<Probe | undefined> {
  if (document.introspectionEndpoint !== undefined) {
    const client = clientCredentials(document, secretName);
    return {
      check: 'introspection check',
      field: 'introspectionEndpoint',
      request: {
        method: 'POST',
        url: document.introspectionEndpoint,
        headers: { accept: 'application/json', ...client.headers },
        form: { token: accessToken, token_type_hint: 'access_token', ...client.form },
        tls: await tlsSettingsOf(document, deps.clientCertificates),
      },
      judge: (response) => introspectionResultOf(response, document.clientId),
    };
  }
  if (document.testUrl !== undefined) {
    return {
      check: 'test URL check',
      field: 'testUrl',
      request: {
        method: 'GET',
        url: document.testUrl,
        headers: { authorization: `Bearer ${accessToken}` },
        tls: await tlsSettingsOf(document, deps.clientCertificates),
      },
      judge: testUrlResultOf,
    };
  }
  return undefined;
}

/** Sends the probe once; a call that got no response may be a passing outage, so it is worth another try. */
async function attemptOf(probe: Probe, deps: OAuth2CallDependencies): Promise<ProbeResult> {
  let response: ProviderHttpResponse;
  try {
    response = await deps.http.send(probe.request);
  } catch (error) {
    if (!(error instanceof ProviderCallError)) throw error;
    // A refused endpoint stays refused: asking again would only delay the answer.
    if (error instanceof EndpointRefusedError) {
      return { outcome: 'failed', reason: `field '${probe.field}' is refused (${error.message})`, cause: error };
    }
    return { outcome: 'retry', reason: `no response from field '${probe.field}' (${error.message})`, cause: error };
  }
  return probe.judge(response);
}

/** RFC 7662 §2.2: `active` is required; a `client_id` that is present must be this client's. */
function introspectionResultOf(response: ProviderHttpResponse, clientId: string): ProbeResult {
  const { status } = response;
  if (status === 401 || status >= 500) {
    return { outcome: 'retry', reason: `field 'introspectionEndpoint' answered HTTP ${status}` };
  }
  if (status !== 200) return { outcome: 'failed', reason: `field 'introspectionEndpoint' answered HTTP ${status}` };
  const body = jsonObjectOf(response.body);
  if (body === undefined || typeof body.active !== 'boolean') {
    return {
      outcome: 'failed',
      reason: `field 'introspectionEndpoint' answered HTTP 200 without an introspection response (no boolean 'active')`,
    };
  }
  if (!body.active) {
    return { outcome: 'retry', reason: `field 'introspectionEndpoint' answered HTTP 200 with active false` };
  }
  // A token issued to another client would mean the IdP mixed up grants, or the document's client id is wrong.
  if (body.client_id !== undefined && body.client_id !== clientId) {
    return {
      outcome: 'failed',
      reason: `field 'introspectionEndpoint' answered HTTP 200 with active true, but for another client ('client_id' is not the document's 'clientId')`,
    };
  }
  return { outcome: 'passed' };
}

function testUrlResultOf(response: ProviderHttpResponse): ProbeResult {
  const { status } = response;
  if (status >= 200 && status < 300) return { outcome: 'passed' };
  const reason = `field 'testUrl' answered HTTP ${status}`;
  return { outcome: status === 401 || status >= 500 ? 'retry' : 'failed', reason };
}
