import { CredentialTestFailedError, ProviderCallError } from '../../../../../lambda/core/errors';
import {
  CREDENTIAL_CHECK_RETRY_DELAYS_MS,
  checkAccessToken,
} from '../../../../../lambda/core/providers/oauth2/credential-check';
import { parseOAuth2RefreshTokenDocument } from '../../../../../lambda/core/providers/oauth2/oauth2-document';
import { rejectionOf } from '../../../helpers/rejection';
import {
  ACCESS_TOKEN,
  CLIENT_SECRET,
  FakeClientCertificates,
  INTROSPECTION_ENDPOINT,
  SECRETS,
  SECRET_NAME,
  ScriptedHttpClient,
  TEST_URL,
  decodeBasic,
  providerContext,
  rawDocument,
} from './oauth2-test-kit';

function setup(overrides: Record<string, unknown> = {}) {
  const http = new ScriptedHttpClient();
  const sleeps: number[] = [];
  const deps = {
    http,
    clientCertificates: new FakeClientCertificates(),
    sleep: (ms: number) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  };
  const document = parseOAuth2RefreshTokenDocument(rawDocument({ accessToken: ACCESS_TOKEN, ...overrides }));
  return { http, sleeps, check: () => checkAccessToken(document, deps, providerContext()) };
}

describe('Function: checkAccessToken', () => {
  it('polls at most three times, 250 ms then 1 s apart', () => {
    // Assess
    expect(CREDENTIAL_CHECK_RETRY_DELAYS_MS).toEqual([250, 1000]);
  });

  describe('with an introspectionEndpoint', () => {
    const introspecting = { introspectionEndpoint: INTROSPECTION_ENDPOINT, testUrl: TEST_URL };

    it('introspects the access token (RFC 7662) with the client authentication, and passes an active token', async () => {
      // Prepare
      const { http, check } = setup(introspecting);
      http.answer(200, { active: true, client_id: 'rotor-ci', scope: 'read' });

      // Act
      await check();

      // Assess
      expect(http.requests).toHaveLength(1);
      const [request] = http.requests;
      expect(request).toMatchObject({
        method: 'POST',
        url: INTROSPECTION_ENDPOINT,
        form: { token: ACCESS_TOKEN, token_type_hint: 'access_token' },
        tls: { minVersion: 'TLSv1.3' },
      });
      expect(decodeBasic(request!.headers?.authorization)).toEqual(['rotor-ci', CLIENT_SECRET]);
    });

    it('authenticates in the form with client_secret_post', async () => {
      // Prepare
      const { http, check } = setup({ ...introspecting, clientAuthentication: 'client_secret_post' });
      http.answer(200, { active: true });

      // Act
      await check();

      // Assess
      expect(http.requests[0]!.form).toEqual({
        token: ACCESS_TOKEN,
        token_type_hint: 'access_token',
        client_id: 'rotor-ci',
        client_secret: CLIENT_SECRET,
      });
      expect(http.requests[0]!.headers).not.toHaveProperty('authorization');
    });

    it('passes an active token whose response names no client', async () => {
      // Prepare
      const { http, check } = setup(introspecting);
      http.answer(200, { active: true });

      // Act & Assess
      await expect(check()).resolves.toBeUndefined();
    });

    it('fails at once on a token issued to another client', async () => {
      // Prepare
      const { http, sleeps, check } = setup(introspecting);
      http.answer(200, { active: true, client_id: 'someone-else' });

      // Act
      const error = await rejectionOf(check());

      // Assess
      expect(error).toBeInstanceOf(CredentialTestFailedError);
      expect(error.message).toBe(
        `the access token of secret ${SECRET_NAME} failed the introspection check: field 'introspectionEndpoint' ` +
          "answered HTTP 200 with active true, but for another client ('client_id' is not the document's 'clientId')",
      );
      expect(error.message).not.toContain('someone-else');
      expect(sleeps).toEqual([]);
    });

    it('polls while the token is not active yet, then passes', async () => {
      // Prepare
      const { http, sleeps, check } = setup(introspecting);
      http.answer(200, { active: false }).answer(200, { active: false }).answer(200, { active: true });

      // Act
      await check();

      // Assess
      expect(http.requests).toHaveLength(3);
      expect(sleeps).toEqual([250, 1000]);
    });

    it('polls through a 401, a 5xx and no response, then fails naming the last answer', async () => {
      // Prepare
      const { http, check } = setup(introspecting);
      http.answer(401).answer(503).fail(new ProviderCallError('timed out', 'unknown'));

      // Act
      const error = await rejectionOf(check());

      // Assess
      expect(http.requests).toHaveLength(3);
      expect(error).toBeInstanceOf(CredentialTestFailedError);
      expect(error.message).toBe(
        `the access token of secret ${SECRET_NAME} failed the introspection check: no response from field ` +
          "'introspectionEndpoint' (timed out) (3 attempts)",
      );
      expect(error.cause).toBeInstanceOf(ProviderCallError);
    });

    it('polls through a 5xx, then passes', async () => {
      // Prepare
      const { http, sleeps, check } = setup(introspecting);
      http.answer(502).answer(200, { active: true });

      // Act & Assess
      await expect(check()).resolves.toBeUndefined();
      expect(sleeps).toEqual([250]);
    });

    it('fails after three attempts on a token that stays inactive, naming the status', async () => {
      // Prepare
      const { http, sleeps, check } = setup(introspecting);
      http.answer(200, { active: false }).answer(200, { active: false }).answer(200, { active: false });

      // Act
      const error = await rejectionOf(check());

      // Assess
      expect(error).toBeInstanceOf(CredentialTestFailedError);
      expect(error.message).toBe(
        `the access token of secret ${SECRET_NAME} failed the introspection check: field 'introspectionEndpoint' ` +
          'answered HTTP 200 with active false (3 attempts)',
      );
      expect(sleeps).toEqual([250, 1000]);
    });

    it.each([
      ['HTTP 403', 403, { error: 'forbidden' }, 'answered HTTP 403'],
      ['a body without active', 200, { valid: true }, "without an introspection response (no boolean 'active')"],
      ['a body that is not JSON', 200, 'eyJhbGciOiJSUzI1NiJ9.e30.sig', 'without an introspection response'],
    ])('fails at once on %s', async (_label, status, body, reason) => {
      // Prepare
      const { http, sleeps, check } = setup(introspecting);
      http.answer(status, body);

      // Act
      const error = await rejectionOf(check());

      // Assess
      expect(error).toBeInstanceOf(CredentialTestFailedError);
      expect(error.message).toContain(reason);
      expect(sleeps).toEqual([]);
      expect(http.requests).toHaveLength(1);
    });
  });

  describe('with a testUrl and no introspectionEndpoint', () => {
    it('GETs the test URL with the access token as Bearer and passes a 2xx', async () => {
      // Prepare
      const { http, check } = setup({ testUrl: TEST_URL });
      http.answer(204);

      // Act
      await check();

      // Assess
      expect(http.requests).toEqual([
        {
          method: 'GET',
          url: TEST_URL,
          headers: { authorization: `Bearer ${ACCESS_TOKEN}` },
          tls: { minVersion: 'TLSv1.3' },
        },
      ]);
    });

    it('polls through a 401 while the resource server learns of the token', async () => {
      // Prepare
      const { http, sleeps, check } = setup({ testUrl: TEST_URL });
      http.answer(401).answer(200);

      // Act
      await check();

      // Assess
      expect(sleeps).toEqual([250]);
    });

    it('fails at once on a 403, naming the check and the status and no token', async () => {
      // Prepare
      const { http, check } = setup({ testUrl: TEST_URL });
      http.answer(403, { token: ACCESS_TOKEN });

      // Act
      const error = await rejectionOf(check());

      // Assess
      expect(error.message).toBe(
        `the access token of secret ${SECRET_NAME} failed the test URL check: field 'testUrl' answered HTTP 403`,
      );
      for (const secret of SECRETS) expect(error.message).not.toContain(secret);
    });
  });

  describe('with neither', () => {
    it('passes a token that has not expired, without any request', async () => {
      // Prepare
      const { http, check } = setup({ accessTokenExpiresAt: '2025-01-15T10:00:01Z' });

      // Act
      await check();

      // Assess
      expect(http.requests).toHaveLength(0);
    });

    it('passes a token with no known expiry', async () => {
      // Prepare
      const { check } = setup();

      // Act & Assess
      await expect(check()).resolves.toBeUndefined();
    });

    it('fails an expired token, by the injected clock', async () => {
      // Prepare
      const { check } = setup({ accessTokenExpiresAt: '2025-01-15T10:00:00Z' });

      // Act & Assess
      await expect(check()).rejects.toThrow(
        `the access token of secret ${SECRET_NAME} failed the expiry check: it expired at 2025-01-15T10:00:00Z ` +
          "(field 'accessTokenExpiresAt')",
      );
    });
  });

  it('fails a document with no access token', async () => {
    // Prepare
    const { http, check } = setup({ accessToken: undefined, introspectionEndpoint: INTROSPECTION_ENDPOINT });

    // Act
    const error = await rejectionOf(check());

    // Assess
    expect(error).toBeInstanceOf(CredentialTestFailedError);
    expect(error.message).toContain('failed the presence check');
    expect(http.requests).toHaveLength(0);
  });

  it('never sends a token known to be expired to the introspection endpoint', async () => {
    // Prepare
    const { http, check } = setup({
      introspectionEndpoint: INTROSPECTION_ENDPOINT,
      accessTokenExpiresAt: '2025-01-15T09:59:59Z',
    });

    // Act & Assess
    await expect(check()).rejects.toThrow(/failed the expiry check/);
    expect(http.requests).toHaveLength(0);
  });
});
