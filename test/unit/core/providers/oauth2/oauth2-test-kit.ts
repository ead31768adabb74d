import { EndpointRefusedError, MalformedSecretError } from '../../../../../lambda/core/errors';
import type { ProviderContext } from '../../../../../lambda/core/providers/credential-provider';
import { destinationRefusal, type EndpointPolicy } from '../../../../../lambda/core/providers/endpoint-policy';
import type {
  ClientCertificate,
  ClientCertificateSource,
  ProviderHttpClient,
  ProviderHttpRequest,
  ProviderHttpResponse,
} from '../../../../../lambda/core/providers/provider-http';

/** Values that must never appear in an error message. */
export const REFRESH_TOKEN = 'rt-SECRET-refresh-4f1c9a';
export const CLIENT_SECRET = 'cs-SECRET-client-77b2e0';
export const ACCESS_TOKEN = 'at-SECRET-access-0d93c5';
export const NEW_REFRESH_TOKEN = 'rt-SECRET-refresh-next-a81e';
export const NEW_ACCESS_TOKEN = 'at-SECRET-access-next-52aa';

export const SECRET_NAME = 'rotor/dev/idp-grant';
export const TOKEN_ENDPOINT = 'https://idp.example.com/oauth2/v1/token';
export const INTROSPECTION_ENDPOINT = 'https://idp.example.com/oauth2/v1/introspect';
export const TEST_URL = 'https://api.example.com/v1/me';
export const NOW = new Date('2025-01-15T10:00:00Z');

/** The kit's endpoints, as a stage configured with them pins them. */
export const KIT_ENDPOINTS: EndpointPolicy = {
  origins: new Set(['https://idp.example.com', 'https://api.example.com']),
  allowPrivateAddresses: false,
};
/** The stage prefix client certificate secrets must be under. */
export const KIT_SECRET_PREFIX = 'rotor/dev/';

export const CA_BUNDLE =
  '-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQk9mYWtlY2VydA==\n-----END CERTIFICATE-----\n';
export const CLIENT_CERTIFICATE: ClientCertificate = {
  certificatePem: '-----BEGIN CERTIFICATE-----\nMIIBclient\n-----END CERTIFICATE-----\n',
  privateKeyPem: '-----BEGIN PRIVATE KEY-----\nMIGHkey\n-----END PRIVATE KEY-----\n',
};

export function providerContext(now: () => Date = () => NOW): ProviderContext {
  return {
    secretArn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${SECRET_NAME}-AbC123`,
    secretName: SECRET_NAME,
    versionId: '3f9b2c1e-7d4a-4e8b-9c6f-0a1b2c3d4e5f',
    now,
  };
}

/**
 * A raw, bootstrapped oauth2-refresh-token document (client_secret_basic by default), with
 * `overrides`; an override of `undefined` removes the field, as it would be absent from JSON.
 */
export function rawDocument(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const document: Record<string, unknown> = {
    provider: 'oauth2-refresh-token',
    schemaVersion: 1,
    tokenEndpoint: TOKEN_ENDPOINT,
    clientId: 'rotor-ci',
    clientSecret: CLIENT_SECRET,
    refreshToken: REFRESH_TOKEN,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(document).filter(([, value]) => value !== undefined));
}

type Scripted = ProviderHttpResponse | Error;

/**
 * A ProviderHttpClient that records every request and answers from a script, one entry per
 * request; a request with nothing left in the script fails the test loudly.
 */
export class ScriptedHttpClient implements ProviderHttpClient {
  readonly requests: ProviderHttpRequest[] = [];
  private readonly script: Scripted[] = [];

  /** `endpoints`: what checkDestination allows, by the same rule as the real client. */
  constructor(private readonly endpoints: EndpointPolicy = KIT_ENDPOINTS) {}

  checkDestination(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new EndpointRefusedError('provider URL (unparsable) is refused: the provider URL is not a valid URL');
    }
    const refusal = parsed.protocol === 'https:' ? destinationRefusal(parsed, this.endpoints) : 'not https';
    if (refusal !== undefined)
      throw new EndpointRefusedError(`provider URL ${parsed.origin}${parsed.pathname} is refused: ${refusal}`);
  }

  /** Queues an answer; an object body is sent as JSON. */
  answer(status: number, body: unknown = '', headers: Record<string, string> = {}): this {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    this.script.push({ status, headers: { 'content-type': 'application/json', ...headers }, body: text });
    return this;
  }

  /** Queues a failure (for example a ProviderCallError). */
  fail(error: Error): this {
    this.script.push(error);
    return this;
  }

  send(request: ProviderHttpRequest): Promise<ProviderHttpResponse> {
    this.requests.push(request);
    const next = this.script.shift();
    if (next === undefined) return Promise.reject(new Error(`unscripted request #${this.requests.length}`));
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }
}

/** A ClientCertificateSource holding certificates by secret id; records what was loaded. */
export class FakeClientCertificates implements ClientCertificateSource {
  readonly loaded: string[] = [];

  constructor(
    private readonly certificates: Readonly<Record<string, ClientCertificate>> = {},
    private readonly failure?: Error,
  ) {}

  checkLocation(secretId: string): void {
    if (!secretId.startsWith(KIT_SECRET_PREFIX)) {
      throw new MalformedSecretError(`client certificate secret ${secretId} is outside this stage's prefix`);
    }
  }

  load(secretId: string): Promise<ClientCertificate> {
    this.loaded.push(secretId);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    const certificate = this.certificates[secretId];
    return certificate === undefined
      ? Promise.reject(new Error(`no certificate ${secretId}`))
      : Promise.resolve(certificate);
  }
}

/** A token response body as an IdP sends it. */
export function tokenBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    access_token: NEW_ACCESS_TOKEN,
    token_type: 'Bearer',
    expires_in: 3600,
    refresh_token: NEW_REFRESH_TOKEN,
    ...overrides,
  };
}

/** The form-decoded values of a Basic authorization header, as a server splits them (RFC 6749 §2.3.1). */
export function decodeBasic(header: string | undefined): [string, string] {
  const decoded = Buffer.from((header ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
  const [id = '', secret = ''] = decoded.split(':');
  const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));
  return [formDecode(id), formDecode(secret)];
}

/** Every value of this kit that is a secret. */
export const SECRETS = [REFRESH_TOKEN, CLIENT_SECRET, ACCESS_TOKEN, NEW_REFRESH_TOKEN, NEW_ACCESS_TOKEN];
