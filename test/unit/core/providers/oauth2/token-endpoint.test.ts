import {
  MalformedSecretError,
  ProviderCallError,
  ProviderRefusedError,
  ReauthorizationRequiredError,
  UpstreamReuseSuspectedError,
} from '../../../../../lambda/core/errors';
import { parseOAuth2RefreshTokenDocument } from '../../../../../lambda/core/providers/oauth2/oauth2-document';
import { formUrlEncode } from '../../../../../lambda/core/providers/oauth2/oauth2-request';
import { refreshAccessToken } from '../../../../../lambda/core/providers/oauth2/token-endpoint';
import { rejectionOf } from '../../../helpers/rejection';
import {
  CLIENT_SECRET,
  FakeClientCertificates,
  NEW_ACCESS_TOKEN,
  NEW_REFRESH_TOKEN,
  NOW,
  REFRESH_TOKEN,
  SECRETS,
  SECRET_NAME,
  ScriptedHttpClient,
  TOKEN_ENDPOINT,
  decodeBasic,
  providerContext,
  rawDocument,
  tokenBody,
} from './oauth2-test-kit';

function setup(overrides: Record<string, unknown> = {}) {
  const http = new ScriptedHttpClient();
  const deps = { http, clientCertificates: new FakeClientCertificates() };
  const document = parseOAuth2RefreshTokenDocument(rawDocument(overrides));
  return { http, deps, document, refresh: () => refreshAccessToken(document, deps, providerContext()) };
}

describe('Function: formUrlEncode', () => {
  it.each([
    ['rotor-ci_1.0', 'rotor-ci_1.0'],
    ['my:client', 'my%3Aclient'],
    ['pä ss/+*~!', 'p%C3%A4+ss%2F%2B*%7E%21'],
  ])('encodes %s as application/x-www-form-urlencoded', (value, encoded) => {
    // Act & Assess
    expect(formUrlEncode(value)).toBe(encoded);
  });
});

describe('Function: refreshAccessToken', () => {
  describe('the request', () => {
    it('POSTs one refresh_token grant with the client in a Basic header by default', async () => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(200, tokenBody());

      // Act
      await refresh();

      // Assess
      expect(http.requests).toHaveLength(1);
      const [request] = http.requests;
      expect(request).toMatchObject({
        method: 'POST',
        url: TOKEN_ENDPOINT,
        form: { grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN },
        tls: { minVersion: 'TLSv1.3' },
      });
      expect(request!.form).not.toHaveProperty('client_secret');
      expect(request!.form).not.toHaveProperty('scope');
      expect(request!.headers).toMatchObject({ accept: 'application/json' });
      expect(decodeBasic(request!.headers?.authorization)).toEqual(['rotor-ci', CLIENT_SECRET]);
    });

    it('form-urlencodes a client id and secret with ":" and non-ASCII before base64 (RFC 6749 §2.3.1)', async () => {
      // Prepare
      const { http, refresh } = setup({ clientId: 'team:ci', clientSecret: 'pä ss:wörd/+' });
      http.answer(200, tokenBody());

      // Act
      await refresh();

      // Assess
      const header = http.requests[0]!.headers?.authorization;
      expect(header).toBe(`Basic ${Buffer.from('team%3Aci:p%C3%A4+ss%3Aw%C3%B6rd%2F%2B').toString('base64')}`);
      expect(decodeBasic(header)).toEqual(['team:ci', 'pä ss:wörd/+']);
    });

    it('sends the client id and secret in the form with client_secret_post', async () => {
      // Prepare
      const { http, refresh } = setup({ clientAuthentication: 'client_secret_post' });
      http.answer(200, tokenBody());

      // Act
      await refresh();

      // Assess
      expect(http.requests[0]!.form).toEqual({
        grant_type: 'refresh_token',
        refresh_token: REFRESH_TOKEN,
        client_id: 'rotor-ci',
        client_secret: CLIENT_SECRET,
      });
      expect(http.requests[0]!.headers).not.toHaveProperty('authorization');
    });

    it('sends only the client id for a public client (none)', async () => {
      // Prepare
      const { http, refresh } = setup({ clientAuthentication: 'none', clientSecret: undefined });
      http.answer(200, tokenBody());

      // Act
      await refresh();

      // Assess
      expect(http.requests[0]!.form).toEqual({
        grant_type: 'refresh_token',
        refresh_token: REFRESH_TOKEN,
        client_id: 'rotor-ci',
      });
      expect(http.requests[0]!.headers).not.toHaveProperty('authorization');
    });

    it('asks for the document scope when it has one', async () => {
      // Prepare
      const { http, refresh } = setup({ scope: 'read:packages write:packages' });
      http.answer(200, tokenBody());

      // Act
      await refresh();

      // Assess
      expect(http.requests[0]!.form).toMatchObject({ scope: 'read:packages write:packages' });
    });

    it('refuses private_key_jwt before sending anything', async () => {
      // Prepare
      const { http, refresh } = setup({ clientAuthentication: 'private_key_jwt', clientSecret: undefined });

      // Act
      const error = await rejectionOf(refresh());

      // Assess
      expect(error).toBeInstanceOf(MalformedSecretError);
      expect(error.message).toContain('private_key_jwt is not supported yet');
      expect(http.requests).toHaveLength(0);
    });

    it('asks for re-authorization when the document holds no refresh token yet, sending nothing', async () => {
      // Prepare
      const { http, refresh } = setup({ refreshToken: undefined });

      // Act
      const error = await rejectionOf(refresh());

      // Assess
      expect(error).toBeInstanceOf(ReauthorizationRequiredError);
      expect(error.message).toBe(
        `secret ${SECRET_NAME} holds no refresh token yet: authorize it once with rotor bootstrap ${SECRET_NAME}`,
      );
      expect(http.requests).toHaveLength(0);
    });
  });

  describe('a successful answer', () => {
    it('returns the new tokens, with the expiry counted from when the request was sent', async () => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(200, tokenBody({ scope: 'read:packages' }));

      // Act
      const response = await refresh();

      // Assess
      expect(response).toEqual({
        accessToken: NEW_ACCESS_TOKEN,
        expiresInSeconds: 3600,
        accessTokenExpiresAt: new Date(NOW.getTime() + 3_600_000),
        refreshToken: NEW_REFRESH_TOKEN,
        scope: 'read:packages',
      });
    });

    it('reads the clock before sending, not after the answer', async () => {
      // Prepare
      const http = new ScriptedHttpClient().answer(200, tokenBody({ expires_in: 60 }));
      const document = parseOAuth2RefreshTokenDocument(rawDocument());
      let clock = NOW.getTime();
      const send = http.send.bind(http);
      http.send = (request) => {
        clock += 5_000; // the exchange takes five seconds
        return send(request);
      };

      // Act
      const response = await refreshAccessToken(
        document,
        { http, clientCertificates: new FakeClientCertificates() },
        providerContext(() => new Date(clock)),
      );

      // Assess
      expect(response.accessTokenExpiresAt).toEqual(new Date(NOW.getTime() + 60_000));
    });

    it.each([
      ['lower-case bearer', { token_type: 'bearer' }, { expiresInSeconds: 3600 }],
      ['no expires_in', { expires_in: undefined }, {}],
      ['expires_in as a digit string', { expires_in: '1800' }, { expiresInSeconds: 1800 }],
      ['null refresh_token and scope', { refresh_token: null, scope: null }, { expiresInSeconds: 3600 }],
    ])('accepts %s', async (_label, overrides, expected) => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(200, tokenBody(overrides));

      // Act
      const response = await refresh();

      // Assess
      expect(response.accessToken).toBe(NEW_ACCESS_TOKEN);
      expect(response.expiresInSeconds).toBe((expected as { expiresInSeconds?: number }).expiresInSeconds);
    });

    it('returns no refresh token when the IdP does not rotate it', async () => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(200, tokenBody({ refresh_token: undefined }));

      // Act
      const response = await refresh();

      // Assess
      expect(response).not.toHaveProperty('refreshToken');
    });
  });

  describe('a failed exchange', () => {
    it.each([
      ['not JSON', '<html>ok</html>', 'the body is not a JSON object'],
      ['no access_token', tokenBody({ access_token: undefined }), "field 'access_token': must be a non-empty string"],
      ['a DPoP token', tokenBody({ token_type: 'DPoP' }), "field 'token_type': must be Bearer"],
      ['no token_type', tokenBody({ token_type: undefined }), "field 'token_type': must be Bearer"],
      ['a negative expires_in', tokenBody({ expires_in: -5 }), "field 'expires_in': must be a number of seconds"],
      ['an empty refresh_token', tokenBody({ refresh_token: '' }), "field 'refresh_token': must be a non-empty string"],
    ])('treats 200 with %s as an unknown outcome: the IdP may have rotated', async (_label, body, reason) => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(200, body);

      // Act
      const error = await rejectionOf(refresh());

      // Assess
      expect(error).toBeInstanceOf(ProviderCallError);
      expect((error as ProviderCallError).sideEffect).toBe('unknown');
      expect(error.message).toContain(reason);
      expect(error.message).toContain('the IdP may already have rotated the refresh token');
    });

    it.each([400, 401])('reports invalid_grant with HTTP %i as possible theft upstream', async (status) => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(status, { error: 'invalid_grant', error_description: 'Refresh token reused' });

      // Act
      const error = await rejectionOf(refresh());

      // Assess
      expect(error).toBeInstanceOf(UpstreamReuseSuspectedError);
      expect(error.message).toBe(
        `the IdP refused the refresh token of secret ${SECRET_NAME} (invalid_grant: "Refresh token reused"): it was ` +
          'not spent by Rotor, so someone else may have used it (possible theft upstream), or the grant was revoked ' +
          `or expired; the secret needs re-authorization: rotor bootstrap ${SECRET_NAME}`,
      );
    });

    it('reports an invalid_grant an IdP sends with HTTP 200 as possible theft upstream', async () => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(200, { error: 'invalid_grant' });

      // Act & Assess
      await expect(refresh()).rejects.toThrow(UpstreamReuseSuspectedError);
    });

    it.each([
      [400, 'invalid_request'],
      [401, 'invalid_client'],
      [400, 'unauthorized_client'],
      [400, 'invalid_scope'],
      [400, 'unsupported_grant_type'],
      [403, 'invalid_grant'],
      [400, 'temporarily_confused'],
    ])('reports HTTP %i %s as a refusal that spent nothing, naming the error', async (status, code) => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(status, { error: code });

      // Act
      const error = await rejectionOf(refresh());

      // Assess
      expect(error).toBeInstanceOf(ProviderRefusedError);
      expect(error.message).toContain(`refused the refresh with HTTP ${status} (${code}`);
      expect(error.message).toContain('the refresh token was not spent');
    });

    it('points an invalid_client at the client settings', async () => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(401, { error: 'invalid_client', error_description: 'Client authentication failed' });

      // Act & Assess
      await expect(refresh()).rejects.toThrow(
        `the token endpoint of secret ${SECRET_NAME} refused the refresh with HTTP 401 (invalid_client: ` +
          `"Client authentication failed"); check fields 'clientId', 'clientSecret' and 'clientAuthentication'; ` +
          'the refresh token was not spent',
      );
    });

    it.each([
      ['not JSON', 404, 'Not Found'],
      ['JSON without error', 403, { message: 'forbidden' }],
    ])('reports a 4xx with a body %s as a refusal', async (_label, status, body) => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(status, body);

      // Act
      const error = await rejectionOf(refresh());

      // Assess
      expect(error).toBeInstanceOf(ProviderRefusedError);
      expect(error.message).toContain(`HTTP ${status} and no OAuth error`);
    });

    it('reports 429 as a refusal, with the Retry-After the IdP asked for', async () => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(429, { error: 'slow_down' }, { 'retry-after': '30' });

      // Act
      const error = await rejectionOf(refresh());

      // Assess
      expect(error).toBeInstanceOf(ProviderRefusedError);
      expect(error.message).toContain('HTTP 429 (rate limited; retry after 30 s)');
    });

    it.each([500, 502, 503, 504])(
      'treats HTTP %i as an unknown outcome: a proxy may answer after the IdP acted',
      async (status) => {
        // Prepare
        const { http, refresh } = setup();
        http.answer(status, { error: 'invalid_grant' });

        // Act
        const error = await rejectionOf(refresh());

        // Assess
        expect(error).toBeInstanceOf(ProviderCallError);
        expect((error as ProviderCallError).sideEffect).toBe('unknown');
        expect(error.message).toContain(`answered HTTP ${status}`);
      },
    );

    it('treats a redirect as a refusal, without following it', async () => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(302, '', { location: 'https://elsewhere.example.com/token' });

      // Act
      const error = await rejectionOf(refresh());

      // Assess
      expect(error).toBeInstanceOf(ProviderRefusedError);
      expect(http.requests).toHaveLength(1);
    });

    it.each([['none' as const], ['unknown' as const]])(
      'passes a ProviderCallError (%s) from the HTTP client on unchanged',
      async (sideEffect) => {
        // Prepare
        const { http, refresh } = setup();
        const failure = new ProviderCallError('connection reset after the request was sent', sideEffect);
        http.fail(failure);

        // Act & Assess
        expect(await rejectionOf(refresh())).toBe(failure);
        expect(http.requests).toHaveLength(1);
      },
    );
  });

  describe('error messages', () => {
    it.each([
      ['one that repeats the refresh token', `token ${REFRESH_TOKEN} was already used`],
      ['one that repeats the client secret', `bad secret ${CLIENT_SECRET}`],
      ['a long one', 'x'.repeat(201)],
      ['one with non-ASCII characters', 'Jeton invalidé'],
      ['one with a line break', 'line one\nline two'],
    ])('leave out an error_description that is %s', async (_label, description) => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(400, { error: 'invalid_request', error_description: description });

      // Act
      const error = await rejectionOf(refresh());

      // Assess
      expect(error.message).toContain('HTTP 400 (invalid_request); ');
      for (const secret of SECRETS) expect(error.message).not.toContain(secret);
    });

    it('never repeat an error code outside the OAuth character set, nor other body content', async () => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(400, { error: `bad "${REFRESH_TOKEN}"`, refresh_token: REFRESH_TOKEN, detail: CLIENT_SECRET });

      // Act
      const error = await rejectionOf(refresh());

      // Assess
      expect(error.message).toContain('HTTP 400 (an OAuth error)');
      for (const secret of SECRETS) expect(error.message).not.toContain(secret);
    });

    it('never carry a token from a 200 the endpoint could not use', async () => {
      // Prepare
      const { http, refresh } = setup();
      http.answer(200, tokenBody({ token_type: NEW_ACCESS_TOKEN }));

      // Act
      const error = await rejectionOf(refresh());

      // Assess
      for (const secret of SECRETS) expect(error.message).not.toContain(secret);
    });
  });
});
