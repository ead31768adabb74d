import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { invokeBundle } from '../../cli/local/invoke-bundle';
import { beginRotation } from '../../cli/local/local-rotation';
import { NodeProviderHttpClient } from '../../lambda/adapters/provider-http-client';
import { EndpointRefusedError } from '../../lambda/core/errors';
import type { EndpointPolicy } from '../../lambda/core/providers/endpoint-policy';
import { LambdaBundle } from '../../lambda/shared/rotor-constants';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';
import { createTestPki } from '../support/test-pki';
import { rejectionOf } from '../unit/helpers/rejection';

// Provider endpoints are pinned and non-public addresses refused, against a real HTTPS server on
// loopback that counts every connection and request it sees: a refused call must reach nothing.

const pki = createTestPki();
const REFRESH_TOKEN = 'rt-SECRET-endpoint-pin-5c1e';
const CLIENT_SECRET = 'cs-SECRET-endpoint-pin-9a7d';

let server: https.Server;
let port: number;
let connections = 0;
let requests = 0;
let rotor: LocalRotor;

beforeAll(async () => {
  server = https.createServer({ cert: pki.server.certificatePem, key: pki.server.privateKeyPem }, (_, response) => {
    requests += 1;
    response.setHeader('content-type', 'application/json');
    response.end('{"error":"invalid_request"}');
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  rotor = await startLocalRotor();
});

afterAll(async () => {
  server.closeAllConnections();
  await Promise.all([new Promise((resolve) => server.close(resolve)), rotor?.stop()]);
});

beforeEach(() => {
  connections = 0;
  requests = 0;
});

describe('NodeProviderHttpClient against a loopback server', () => {
  const call = (client: NodeProviderHttpClient, url: string) =>
    rejectionOf(
      client.send({
        method: 'POST',
        url,
        headers: { authorization: `Basic ${Buffer.from(`rotor:${CLIENT_SECRET}`).toString('base64')}` },
        form: { grant_type: 'refresh_token', refresh_token: REFRESH_TOKEN },
        tls: { caBundlePem: pki.caPem },
      }),
    );

  it.each([
    [
      'a host name resolving to loopback',
      () => `https://localhost:${port}/token`,
      /localhost resolves only to addresses provider calls may not reach: 127\.0\.0\.1 is a loopback address/,
    ],
    ['a loopback literal', () => `https://127.0.0.1:${port}/token`, /127\.0\.0\.1 is a loopback address/],
    ['a decimal IP', () => `https://2130706433:${port}/token`, /127\.0\.0\.1 is a loopback address/],
    ['a hex IP', () => `https://0x7f.0x1:${port}/token`, /127\.0\.0\.1 is a loopback address/],
    ['an octal IP', () => `https://0177.0.0.1:${port}/token`, /127\.0\.0\.1 is a loopback address/],
    [
      'an IPv4-mapped IPv6 literal',
      () => `https://[::ffff:127.0.0.1]:${port}/token`,
      /::ffff:7f00:1 is a loopback address/,
    ],
    ['the unspecified address', () => `https://0.0.0.0:${port}/token`, /0\.0\.0\.0 is the unspecified address/],
  ])('refuses %s even when its origin is pinned: no connection, no request', async (_, urlOf, reason) => {
    // Prepare: the origin pinned, so that only the address rule decides
    const url = urlOf();
    const client = new NodeProviderHttpClient({
      endpoints: { origins: new Set([new URL(url).origin]), allowPrivateAddresses: false },
    });

    // Act
    const error = await call(client, url);
    client.close();

    // Assess
    expect(error).toBeInstanceOf(EndpointRefusedError);
    expect((error as EndpointRefusedError).sideEffect).toBe('none');
    expect(error.message).toMatch(reason);
    expect(error.message).toMatch(/ROTOR_ALLOW_PRIVATE_ENDPOINTS is not true/);
    expect(error.message).not.toMatch(/\n/);
    expect(error.message).not.toContain(REFRESH_TOKEN);
    expect(connections).toBe(0);
    expect(requests).toBe(0);
  });

  it('refuses an origin that is not pinned, private addresses allowed or not: no connection, no request', async () => {
    for (const allowPrivateAddresses of [true, false]) {
      const client = new NodeProviderHttpClient({
        endpoints: { origins: new Set(['https://idp.example.com']), allowPrivateAddresses },
      });
      const error = await call(client, `https://127.0.0.1:${port}/token`);
      client.close();
      expect(error).toBeInstanceOf(EndpointRefusedError);
      expect(error.message).toBe(
        `POST https://127.0.0.1:${port}/token was not sent: origin https://127.0.0.1:${port} is not one of this stage's ` +
          "provider endpoints (ROTOR_PROVIDER_ORIGINS: https://idp.example.com); the endpoints come from the secrets' " +
          'provider configuration at deploy',
      );
    }
    expect(connections).toBe(0);
    expect(requests).toBe(0);
  });

  it('reaches the same server when its origin is pinned and private addresses are allowed', async () => {
    const endpoints: EndpointPolicy = { origins: new Set([`https://localhost:${port}`]), allowPrivateAddresses: true };
    const client = new NodeProviderHttpClient({ endpoints });
    const response = await client.send({
      method: 'GET',
      url: `https://localhost:${port}/x`,
      tls: { caBundlePem: pki.caPem },
    });
    client.close();
    expect(response.status).toBe(200);
    expect(requests).toBe(1);
  });
});

describe('the bundled rotation function, with an OAuth document naming the loopback server', () => {
  async function secretNaming(name: string, tokenEndpoint: string): Promise<string> {
    return rotor.createSecret(
      `rotor/development/${name}`,
      JSON.stringify({
        provider: 'oauth2-refresh-token',
        schemaVersion: 1,
        tokenEndpoint,
        clientId: 'rotor',
        clientSecret: CLIENT_SECRET,
        refreshToken: REFRESH_TOKEN,
        accessToken: 'at-SECRET-endpoint-pin-0b3f',
        tls: { caBundle: pki.caPem },
      }),
    );
  }

  /** Every version's labels and value, and the whole ledger. */
  async function stateOf(arn: string) {
    const labels = await rotor.labels(arn);
    const values: Record<string, string | undefined> = {};
    for (const versionId of Object.keys(labels)) {
      const value = await rotor.secretsManager
        .send(new GetSecretValueCommand({ SecretId: arn, VersionId: versionId }))
        .catch(() => undefined);
      values[versionId] = value?.SecretString;
    }
    return { labels, values, ledger: await rotor.scanLedger() };
  }

  it.each([
    [
      'private endpoints disallowed (the origin pinned)',
      (url: string) => ({ ROTOR_PROVIDER_ORIGINS: new URL(url).origin, ROTOR_ALLOW_PRIVATE_ENDPOINTS: 'false' }),
      /^field 'tokenEndpoint': provider URL https:\/\/127\.0\.0\.1:\d+\/token is refused: 127\.0\.0\.1 is a loopback address/,
    ],
    [
      'the origin not pinned (private endpoints allowed)',
      () => ({ ROTOR_PROVIDER_ORIGINS: 'https://idp.example.com', ROTOR_ALLOW_PRIVATE_ENDPOINTS: 'true' }),
      /^field 'tokenEndpoint': provider URL https:\/\/127\.0\.0\.1:\d+\/token is refused: origin https:\/\/127\.0\.0\.1:\d+ is not one of this stage's provider endpoints/,
    ],
  ])(
    'refuses createSecret with %s: nothing reaches the server, the secret and ledger are unchanged',
    async (label, envOf, reason) => {
      // Prepare
      const tokenEndpoint = `https://127.0.0.1:${port}/token`;
      const arn = await secretNaming(`pinned-${label.length}-${Date.now()}`, tokenEndpoint);
      const { versionId } = await beginRotation(rotor.local, arn);
      const before = await stateOf(arn);

      // Act
      const outcome = await invokeBundle(
        LambdaBundle.rotation,
        { Step: 'createSecret', SecretId: arn, ClientRequestToken: versionId },
        { env: { ...rotor.local.env, ...envOf(tokenEndpoint) } },
      );

      // Assess
      expect(outcome.ok).toBe(false);
      expect(outcome.error?.errorType).toBe('EndpointRefusedError');
      expect(outcome.error?.errorMessage).toMatch(reason);
      expect(outcome.error?.errorMessage).not.toMatch(/\n/);
      expect(connections).toBe(0);
      expect(requests).toBe(0);
      expect(await stateOf(arn)).toEqual(before);
      const logs = outcome.logs.join('\n');
      for (const secret of [REFRESH_TOKEN, CLIENT_SECRET]) expect(logs).not.toContain(secret);
    },
  );
});
