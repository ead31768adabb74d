import {
  CredentialTestFailedError,
  MalformedSecretError,
  ProviderCallError,
  ProviderRefusedError,
  ReauthorizationRequiredError,
  UpstreamReuseSuspectedError,
} from '../../../../../lambda/core/errors';
import {
  OAUTH2_REFRESH_TOKEN_PROVIDER,
  type OAuth2RefreshTokenDocument,
} from '../../../../../lambda/core/providers/oauth2/oauth2-document';
import { oauth2RefreshTokenProvider } from '../../../../../lambda/core/providers/oauth2/oauth2-refresh-token-provider';
import { ProviderRegistry } from '../../../../../lambda/core/providers/provider-registry';
import { parseSecretDocument } from '../../../../../lambda/core/secret-document';
import { rejectionOf } from '../../../helpers/rejection';
import {
  ACCESS_TOKEN,
  CA_BUNDLE,
  CLIENT_CERTIFICATE,
  FakeClientCertificates,
  INTROSPECTION_ENDPOINT,
  NEW_ACCESS_TOKEN,
  NEW_REFRESH_TOKEN,
  NOW,
  REFRESH_TOKEN,
  SECRET_NAME,
  ScriptedHttpClient,
  providerContext,
  rawDocument,
  tokenBody,
} from './oauth2-test-kit';

const CERTIFICATE_SECRET = 'rotor/dev/idp-client-certificate';

function setup(certificates = new FakeClientCertificates({ [CERTIFICATE_SECRET]: CLIENT_CERTIFICATE })) {
  const http = new ScriptedHttpClient();
  const sleeps: number[] = [];
  const provider = oauth2RefreshTokenProvider({
    http,
    clientCertificates: certificates,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  });
  const documentOf = (overrides: Record<string, unknown> = {}) => provider.parse(rawDocument(overrides));
  return { http, sleeps, certificates, provider, documentOf };
}

describe('Function: oauth2RefreshTokenProvider', () => {
  it('is the oauth2-refresh-token provider, acting outside AWS, with no set or revoke', () => {
    // Prepare
    const { provider } = setup();

    // Assess
    expect(provider.name).toBe(OAUTH2_REFRESH_TOKEN_PROVIDER);
    expect(provider.sideEffects).toBe('external');
    expect(provider.set).toBeUndefined();
    expect(provider.revoke).toBeUndefined();
  });

  it('is found for its documents by the secret-document parser', () => {
    // Prepare
    const { provider } = setup();

    // Act
    const parsed = parseSecretDocument(
      JSON.stringify(rawDocument({ graceSeconds: 120 })),
      new ProviderRegistry([provider]),
      'secret x (AWSCURRENT)',
    );

    // Assess
    expect(parsed.provider).toBe(provider);
    expect(parsed.policy).toEqual({ graceSeconds: 120 });
    expect(parsed.document).toMatchObject({ refreshToken: REFRESH_TOKEN, graceSeconds: 120 });
  });

  describe('Method: create', () => {
    it('spends the refresh token for new tokens, keeps the other fields and leaves the current document alone', async () => {
      // Prepare
      const { http, provider, documentOf } = setup();
      const current = documentOf({ accessToken: ACCESS_TOKEN, owner: 'platform-team', onReuse: 'alert-only' });
      const before = structuredClone(current);
      http.answer(200, tokenBody({ expires_in: 900 }));

      // Act
      const pending = await provider.create(current, providerContext());

      // Assess
      expect(pending).toEqual({
        ...current,
        accessToken: NEW_ACCESS_TOKEN,
        accessTokenExpiresAt: new Date(NOW.getTime() + 900_000).toISOString(),
        refreshToken: NEW_REFRESH_TOKEN,
      });
      expect(current).toEqual(before);
      expect(provider.parse(JSON.parse(JSON.stringify(pending)) as Record<string, unknown>)).toEqual(pending);
    });

    it('keeps the refresh token when the IdP does not rotate it', async () => {
      // Prepare
      const { http, provider, documentOf } = setup();
      http.answer(200, tokenBody({ refresh_token: undefined }));

      // Act
      const pending = await provider.create(documentOf(), providerContext());

      // Assess
      expect(pending.refreshToken).toBe(REFRESH_TOKEN);
      expect(pending.accessToken).toBe(NEW_ACCESS_TOKEN);
    });

    it('computes the expiry from the injected clock', async () => {
      // Prepare
      const { http, provider, documentOf } = setup();
      http.answer(200, tokenBody({ expires_in: 60 }));

      // Act
      const pending = await provider.create(
        documentOf(),
        providerContext(() => new Date('2031-06-01T12:00:00Z')),
      );

      // Assess
      expect(pending.accessTokenExpiresAt).toBe('2031-06-01T12:01:00.000Z');
    });

    it('drops the previous expiry when the IdP gives none', async () => {
      // Prepare
      const { http, provider, documentOf } = setup();
      http.answer(200, tokenBody({ expires_in: undefined }));

      // Act
      const pending = await provider.create(
        documentOf({ accessToken: ACCESS_TOKEN, accessTokenExpiresAt: '2025-01-15T10:30:00Z' }),
        providerContext(),
      );

      // Assess
      expect(pending).not.toHaveProperty('accessTokenExpiresAt');
    });

    it.each([
      ['keeps the document scope when the IdP names none', 'read write', undefined, 'read write'],
      ['takes the scope the IdP granted', 'read write', 'read', 'read'],
      ['adds no scope when neither has one', undefined, undefined, undefined],
    ])('%s', async (_label, documentScope, grantedScope, expected) => {
      // Prepare
      const { http, provider, documentOf } = setup();
      http.answer(200, tokenBody({ scope: grantedScope }));

      // Act
      const pending = await provider.create(documentOf({ scope: documentScope }), providerContext());

      // Assess
      if (expected === undefined) expect(pending).not.toHaveProperty('scope');
      else expect(pending.scope).toBe(expected);
    });

    it.each([
      ['HTTP 500', (http: ScriptedHttpClient) => http.answer(500), ProviderCallError],
      ['HTTP 503', (http: ScriptedHttpClient) => http.answer(503), ProviderCallError],
      [
        'no response',
        (http: ScriptedHttpClient) => http.fail(new ProviderCallError('reset', 'unknown')),
        ProviderCallError,
      ],
      [
        'a refused connection',
        (http: ScriptedHttpClient) => http.fail(new ProviderCallError('refused', 'none')),
        ProviderCallError,
      ],
      ['HTTP 429', (http: ScriptedHttpClient) => http.answer(429), ProviderRefusedError],
      [
        'invalid_grant',
        (http: ScriptedHttpClient) => http.answer(400, { error: 'invalid_grant' }),
        UpstreamReuseSuspectedError,
      ],
    ])('sends exactly one request and never retries, even on %s', async (_label, script, errorClass) => {
      // Prepare
      const { http, provider, documentOf } = setup();
      script(http);
      http.answer(200, tokenBody()); // what a retry would get; it must stay unused

      // Act
      const error = await rejectionOf(provider.create(documentOf(), providerContext()));

      // Assess
      expect(error).toBeInstanceOf(errorClass);
      expect(http.requests).toHaveLength(1);
    });

    it('passes the TLS settings and the mTLS client certificate through to the HTTP client', async () => {
      // Prepare
      const { http, certificates, provider, documentOf } = setup();
      http.answer(200, tokenBody());

      // Act
      await provider.create(
        documentOf({
          tls: { minVersion: 'TLSv1.2', caBundle: CA_BUNDLE, clientCertificateSecretId: CERTIFICATE_SECRET },
        }),
        providerContext(),
      );

      // Assess
      expect(certificates.loaded).toEqual([CERTIFICATE_SECRET]);
      expect(http.requests[0]!.tls).toEqual({
        minVersion: 'TLSv1.2',
        caBundlePem: CA_BUNDLE,
        clientCertificate: CLIENT_CERTIFICATE,
      });
    });

    it('sends nothing when the client certificate cannot be read, and says the request never left', async () => {
      // Prepare
      const { http, provider, documentOf } = setup(
        new FakeClientCertificates({}, new SyntaxError(`Unexpected token in "${CLIENT_CERTIFICATE.privateKeyPem}"`)),
      );

      // Act
      const error = await rejectionOf(
        provider.create(documentOf({ tls: { clientCertificateSecretId: CERTIFICATE_SECRET } }), providerContext()),
      );

      // Assess
      expect(error).toBeInstanceOf(ProviderCallError);
      expect((error as ProviderCallError).sideEffect).toBe('none');
      expect(error.message).toBe(
        "could not read the client certificate secret named in field 'tls.clientCertificateSecretId' (SyntaxError); " +
          'no request was sent',
      );
      expect(http.requests).toHaveLength(0);
    });

    it('refuses private_key_jwt as not supported yet, sending nothing', async () => {
      // Prepare
      const { http, provider, documentOf } = setup();

      // Act
      const error = await rejectionOf(
        provider.create(
          documentOf({ clientAuthentication: 'private_key_jwt', clientSecret: undefined }),
          providerContext(),
        ),
      );

      // Assess
      expect(error).toBeInstanceOf(MalformedSecretError);
      expect(error.message).toBe(
        `secret ${SECRET_NAME}: field 'clientAuthentication': private_key_jwt is not supported yet by the ` +
          'oauth2-refresh-token provider; use client_secret_basic, client_secret_post or none',
      );
      expect(http.requests).toHaveLength(0);
    });

    it('asks for rotor bootstrap on a document that was never bootstrapped', async () => {
      // Prepare
      const { http, provider } = setup();
      const settingsOnly = provider.parse({
        provider: 'oauth2-refresh-token',
        tokenEndpoint: 'https://idp.example.com/token',
        clientId: 'rotor-ci',
        clientSecret: 'secret',
      });

      // Act
      const error = await rejectionOf(provider.create(settingsOnly, providerContext()));

      // Assess
      expect(error).toBeInstanceOf(ReauthorizationRequiredError);
      expect(error.message).toContain(`rotor bootstrap ${SECRET_NAME}`);
      expect(http.requests).toHaveLength(0);
    });
  });

  describe('Method: test', () => {
    it('introspects the pending access token', async () => {
      // Prepare
      const { http, provider, documentOf } = setup();
      http.answer(200, { active: true, client_id: 'rotor-ci' });

      // Act
      await provider.test(
        documentOf({ accessToken: NEW_ACCESS_TOKEN, introspectionEndpoint: INTROSPECTION_ENDPOINT }),
        providerContext(),
      );

      // Assess
      expect(http.requests).toHaveLength(1);
      expect(http.requests[0]!.form).toMatchObject({ token: NEW_ACCESS_TOKEN });
    });

    it('polls with the injected sleep', async () => {
      // Prepare
      const { http, sleeps, provider, documentOf } = setup();
      http.answer(200, { active: false }).answer(200, { active: true });

      // Act
      await provider.test(
        documentOf({ accessToken: NEW_ACCESS_TOKEN, introspectionEndpoint: INTROSPECTION_ENDPOINT }),
        providerContext(),
      );

      // Assess
      expect(sleeps).toEqual([250]);
    });

    it('fails a pending document with no access token', async () => {
      // Prepare
      const { provider, documentOf } = setup();

      // Act & Assess
      await expect(provider.test(documentOf(), providerContext())).rejects.toThrow(CredentialTestFailedError);
    });

    it('refuses private_key_jwt as not supported yet, sending nothing', async () => {
      // Prepare
      const { http, provider, documentOf } = setup();
      const pending = documentOf({
        clientAuthentication: 'private_key_jwt',
        clientSecret: undefined,
        accessToken: NEW_ACCESS_TOKEN,
      });

      // Act & Assess
      await expect(provider.test(pending, providerContext())).rejects.toThrow(/private_key_jwt is not supported yet/);
      expect(http.requests).toHaveLength(0);
    });
  });

  describe('the engine hooks', () => {
    it('reads the access token, spends the refresh token, and reports the IdP reuse interval', () => {
      // Prepare
      const { provider, documentOf } = setup();
      const document: OAuth2RefreshTokenDocument = documentOf({
        accessToken: ACCESS_TOKEN,
        refreshTokenReuseIntervalSeconds: 30,
      });

      // Act & Assess
      expect(provider.credentialOf(document)).toBe(ACCESS_TOKEN);
      expect(provider.spends?.(document)).toBe(REFRESH_TOKEN);
      expect(provider.reuseIntervalSeconds?.(document)).toBe(30);
    });

    it('spends nothing for a private_key_jwt document, which create refuses before sending', () => {
      // Prepare
      const { provider, documentOf } = setup();

      // Act & Assess
      expect(
        provider.spends?.(documentOf({ clientAuthentication: 'private_key_jwt', clientSecret: undefined })),
      ).toBeUndefined();
    });

    it('has nothing to spend or read before bootstrap, and no reuse interval unless declared', () => {
      // Prepare
      const { provider, documentOf } = setup();
      const document = documentOf({ refreshToken: undefined });

      // Act & Assess
      expect(provider.credentialOf(document)).toBeUndefined();
      expect(provider.spends?.(document)).toBeUndefined();
      expect(provider.reuseIntervalSeconds?.(document)).toBeUndefined();
    });
  });
});
