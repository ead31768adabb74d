import { MalformedSecretError } from '../../../../../lambda/core/errors';
import {
  OAUTH2_REFRESH_TOKEN_PROVIDER,
  parseOAuth2RefreshTokenDocument,
} from '../../../../../lambda/core/providers/oauth2/oauth2-document';
import { CA_BUNDLE, CLIENT_SECRET, REFRESH_TOKEN, SECRETS, rawDocument } from './oauth2-test-kit';

describe('Function: parseOAuth2RefreshTokenDocument', () => {
  it('is the parser of oauth2-refresh-token documents', () => {
    // Assess
    expect(OAUTH2_REFRESH_TOKEN_PROVIDER).toBe('oauth2-refresh-token');
  });

  it('keeps every field, unknown ones included, and fills in the schema version', () => {
    // Prepare
    const raw = rawDocument({
      clientAuthentication: 'client_secret_post',
      accessToken: 'at',
      accessTokenExpiresAt: '2025-01-15T11:00:00.000Z',
      scope: 'read:packages write:packages',
      introspectionEndpoint: 'https://idp.example.com/introspect',
      testUrl: 'https://api.example.com/me',
      refreshTokenReuseIntervalSeconds: 30,
      tls: { minVersion: 'TLSv1.2', caBundle: CA_BUNDLE, clientCertificateSecretId: 'rotor/certs/idp' },
      graceSeconds: 600,
      onReuse: 'alert-only',
      owner: 'platform-team',
    });
    delete raw.schemaVersion;

    // Act
    const parsed = parseOAuth2RefreshTokenDocument(raw);

    // Assess
    expect(parsed).toEqual({ ...raw, schemaVersion: 1 });
  });

  it('accepts a freshly deployed document: settings only, no refresh token yet', () => {
    // Act
    const parsed = parseOAuth2RefreshTokenDocument({
      provider: 'oauth2-refresh-token',
      tokenEndpoint: 'https://idp.example.com/token',
      clientId: 'rotor-ci',
      clientSecret: CLIENT_SECRET,
    });

    // Assess
    expect(parsed.refreshToken).toBeUndefined();
    expect(parsed.accessToken).toBeUndefined();
  });

  it.each([
    ['none', {}],
    ['private_key_jwt', { clientAssertionKeySecretId: 'rotor/keys/idp-assertion' }],
  ])('accepts clientAuthentication %s without a client secret', (method, extra) => {
    // Act & Assess
    expect(
      parseOAuth2RefreshTokenDocument(rawDocument({ clientAuthentication: method, clientSecret: undefined, ...extra }))
        .clientAuthentication,
    ).toBe(method);
  });

  it.each([
    ['no tokenEndpoint', { tokenEndpoint: undefined }, "field 'tokenEndpoint': must be an https:// URL"],
    ['no clientId', { clientId: undefined }, "field 'clientId': must be a non-empty string"],
    ['an empty clientId', { clientId: '' }, "field 'clientId': must be a non-empty string"],
    ['an unknown clientAuthentication', { clientAuthentication: 'tls_client_auth' }, "field 'clientAuthentication'"],
    ['another provider', { provider: 'managed-token' }, "field 'provider': must be oauth2-refresh-token"],
    ['schemaVersion 2', { schemaVersion: 2 }, "field 'schemaVersion': must be 1"],
    ['an empty refreshToken', { refreshToken: '' }, "field 'refreshToken': must be a non-empty string"],
    ['a numeric accessToken', { accessToken: 42 }, "field 'accessToken': must be a non-empty string"],
    ['an expiry that is not ISO-8601', { accessTokenExpiresAt: 'tomorrow' }, "field 'accessTokenExpiresAt'"],
    [
      'a fractional reuse interval',
      { refreshTokenReuseIntervalSeconds: 1.5 },
      "field 'refreshTokenReuseIntervalSeconds'",
    ],
    [
      'a reuse interval over a day',
      { refreshTokenReuseIntervalSeconds: 86_401 },
      "field 'refreshTokenReuseIntervalSeconds'",
    ],
    ['a negative reuse interval', { refreshTokenReuseIntervalSeconds: -1 }, "field 'refreshTokenReuseIntervalSeconds'"],
    ['TLS 1.1', { tls: { minVersion: 'TLSv1.1' } }, "field 'tls.minVersion': must be TLSv1.3 or TLSv1.2"],
    ['a CA bundle that is not PEM', { tls: { caBundle: 'not a certificate' } }, "field 'tls.caBundle'"],
    [
      'an empty client certificate id',
      { tls: { clientCertificateSecretId: '' } },
      "field 'tls.clientCertificateSecretId'",
    ],
    [
      'a misspelt TLS setting',
      { tls: { minVerison: 'TLSv1.2' } },
      "field 'tls': has fields Rotor does not know ('minVerison')",
    ],
    ['tls that is not an object', { tls: 'TLSv1.2' }, "field 'tls': must be an object"],
  ])('fails on a document with %s, naming the field', (_label, overrides, message) => {
    // Act & Assess
    expect(() => parseOAuth2RefreshTokenDocument(rawDocument(overrides))).toThrow(MalformedSecretError);
    expect(() => parseOAuth2RefreshTokenDocument(rawDocument(overrides))).toThrow(
      `oauth2-refresh-token document is invalid: ${message}`,
    );
  });

  it.each([
    ['tokenEndpoint', 'http://idp.example.com/token'],
    ['tokenEndpoint', 'https://user:pass@idp.example.com/token'],
    ['tokenEndpoint', 'https://idp.example.com/token#fragment'],
    ['tokenEndpoint', 'idp.example.com/token'],
    ['introspectionEndpoint', 'http://idp.example.com/introspect'],
    ['testUrl', 'ftp://api.example.com/me'],
  ])('refuses %s %s: https only, with no credentials in it', (field, url) => {
    // Act & Assess
    expect(() => parseOAuth2RefreshTokenDocument(rawDocument({ [field]: url }))).toThrow(
      `oauth2-refresh-token document is invalid: field '${field}': must be an https:// URL with no user name, password or fragment`,
    );
  });

  it('never quotes a value it refuses', () => {
    // Prepare
    const raw = rawDocument({
      tokenEndpoint: `http://idp.example.com/token?secret=${CLIENT_SECRET}`,
      clientId: 7,
      refreshToken: 12,
      accessToken: '',
      clientAuthentication: REFRESH_TOKEN,
      testUrl: `http://${REFRESH_TOKEN}.example.com`,
      tls: { caBundle: REFRESH_TOKEN, clientCertificateSecretId: 42 },
    });

    // Act
    let message = '';
    try {
      parseOAuth2RefreshTokenDocument(raw);
    } catch (error) {
      message = (error as Error).message;
    }

    // Assess
    expect(message).toMatch(/^oauth2-refresh-token document is invalid: /);
    for (const secret of SECRETS) expect(message).not.toContain(secret);
    expect(message).not.toContain('example.com');
  });
});
