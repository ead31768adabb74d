import { generateManagedToken } from '../../lambda/core/providers/managed-token/managed-token-format';

/**
 * A deterministic generator of malformed and hostile inputs: the same seed gives the same cases
 * on every run, so a failure names a case that can be replayed.
 */

/** mulberry32: small, fast, and good enough to spread cases; not for anything secret. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'null',
  'undefined',
  'true',
  '-1',
  '1e309',
  'NaN',
  '__proto__',
  'constructor',
  '../../etc/passwd',
  'rotor/production/deploy-token',
  'rotor-internal/development/fingerprint-pepper',
  'arn:aws:secretsmanager:us-east-1:000000000000:secret:rotor/production/x-AbCdEf',
  'arn:aws:secretsmanager:us-east-1:000000000000:secret:rotor/development/x',
  'rotor/development/',
  'rotor/development/../production/x',
  'http://169.254.169.254/latest/meta-data/',
  'https://[::ffff:127.0.0.1]/token',
  'https://2130706433/token',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  "'; DROP TABLE x; --",
  '\r\nX-Injected: 1',
  '💥'.repeat(40),
  'A'.repeat(2049),
  'rtr_' + 'A'.repeat(49),
  'createSecret',
  'AWSCURRENT',
  'Bearer ',
  'Bearer rtr_',
  '{"provider":"managed-token"}',
];

/** A hostile JSON-able value of bounded depth. */
export function hostileValue(random: SeededRandom, depth = 0): unknown {
  const kind = random.int(depth >= 2 ? 6 : 9);
  switch (kind) {
    case 0:
      return random.pick(HOSTILE_STRINGS);
    case 1:
      return random.pick([0, -1, 1.5, Number.MAX_SAFE_INTEGER, -Number.MAX_VALUE, 1e21]);
    case 2:
      return random.pick([true, false, null]);
    case 3:
      return random.pick(HOSTILE_STRINGS) + random.pick(HOSTILE_STRINGS);
    case 4:
      return String.fromCharCode(...Array.from({ length: 1 + random.int(24) }, () => random.int(0xffff)));
    case 5:
      return random.pick([[], {}, '', 'x']);
    case 6:
      return Array.from({ length: random.int(4) }, () => hostileValue(random, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = random.int(4); i > 0; i -= 1) object[random.pick(HOSTILE_STRINGS)] = hostileValue(random, depth + 1);
      return object;
    }
  }
}

/**
 * `base` with one to three mutations: a field dropped, replaced by a hostile value, or added; or
 * the whole event replaced by a hostile value.
 */
export function mutate(random: SeededRandom, base: Record<string, unknown>): unknown {
  if (random.int(8) === 0) return hostileValue(random);
  const event: Record<string, unknown> = structuredClone(base);
  const keys = Object.keys(event);
  for (let n = 1 + random.int(3); n > 0; n -= 1) {
    const key = random.pick(keys);
    switch (random.int(3)) {
      case 0:
        delete event[key];
        break;
      case 1:
        event[key] = hostileValue(random);
        break;
      default:
        event[random.pick(HOSTILE_STRINGS)] = hostileValue(random);
    }
  }
  return event;
}

/** The secrets in every hostile document: none may reach an error message or a log line. */
const CLIENT_SECRET = 'cs-SENTINEL-fuzz-7f1e';
const REFRESH_TOKEN = 'rt-SENTINEL-fuzz-3c9a';
const ACCESS_TOKEN = 'at-SENTINEL-fuzz-b20d';
export const DOCUMENT_SECRETS: readonly string[] = [CLIENT_SECRET, REFRESH_TOKEN, ACCESS_TOKEN];

/** A token as a caller may present it: a real-looking managed token, a broken one, or garbage. */
function presentedToken(random: SeededRandom): unknown {
  switch (random.int(4)) {
    case 0:
      return generateManagedToken((size) => Buffer.from(Array.from({ length: size }, () => random.int(256))));
    case 1:
      return 'rtr_' + 'x'.repeat(random.int(60));
    case 2:
      return ACCESS_TOKEN;
    default:
      return hostileValue(random);
  }
}

/** One of the documented authorizer event shapes (REST TOKEN and REQUEST, HTTP 1.0 and 2.0, WebSocket). */
export function authorizerEvent(random: SeededRandom): Record<string, unknown> {
  const token = presentedToken(random);
  const bearer = typeof token === 'string' ? `Bearer ${token}` : token;
  const methodArn = 'arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/POST/deploy';
  switch (random.int(5)) {
    case 0:
      return { type: 'TOKEN', authorizationToken: bearer, methodArn };
    case 1:
      return { type: 'REQUEST', methodArn, headers: { Authorization: bearer }, requestContext: { stage: 'prod' } };
    case 2:
      return { version: '1.0', type: 'REQUEST', methodArn, headers: { authorization: bearer } };
    case 3:
      return {
        version: '2.0',
        type: 'REQUEST',
        routeArn: methodArn,
        identitySource: [bearer],
        headers: { authorization: bearer },
      };
    default:
      return {
        type: 'REQUEST',
        methodArn,
        headers: { Authorization: bearer },
        requestContext: { eventType: 'CONNECT', routeKey: '$connect', connectionId: 'abc=' },
      };
  }
}

/**
 * A secret document that no provider may act on: a managed-token or OAuth 2.0 document with at
 * least one breaking change, plus noise that cannot repair it. Its secrets are the sentinels.
 */
export function hostileDocument(random: SeededRandom): string {
  const oauth = random.int(2) === 0;
  const document: Record<string, unknown> = oauth
    ? {
        provider: 'oauth2-refresh-token',
        schemaVersion: 1,
        tokenEndpoint: 'https://idp.example.com/token',
        clientId: 'rotor',
        clientSecret: CLIENT_SECRET,
        refreshToken: REFRESH_TOKEN,
        accessToken: ACCESS_TOKEN,
      }
    : { provider: 'managed-token', schemaVersion: 1 };
  const breaking: (() => void)[] = [
    () => (document.provider = hostileValue(random)),
    () => (document.schemaVersion = random.pick([0, 2, '1', null, -1, 1.5])),
    () => delete document.provider,
  ];
  if (oauth) {
    breaking.push(
      () =>
        (document.tokenEndpoint = random.pick([
          'https://attacker.example/token',
          'https://127.0.0.1/token',
          'https://2130706433/token',
          'https://[::ffff:127.0.0.1]/token',
          'https://169.254.169.254/latest',
          'https://10.0.0.1/token',
          'http://idp.example.com/token',
          `https://user:${CLIENT_SECRET}@idp.example.com/token`,
        ])),
      () => (document.introspectionEndpoint = 'https://idp.example.com.attacker.example/introspect'),
      () => (document.testUrl = 'https://[fe80::1]/me'),
      () => delete document.refreshToken,
      () => delete document.tokenEndpoint,
      () => (document.clientId = random.pick(['', 42, null, []])),
      () => (document.clientAuthentication = random.pick(['private_key_jwt', 'tls_client_auth', 7])),
      () => (document.tls = random.pick([{ minVersion: 'TLSv1.0' }, { verify: false }, 'insecure'])),
      () => (document.tls = { clientCertificateSecretId: 'rotor/production/client-certificate' }),
      () => (document.refreshTokenReuseIntervalSeconds = random.pick([-1, 86_401, 'forever', 1.5])),
    );
  }
  for (let n = 1 + random.int(2); n > 0; n -= 1) random.pick(breaking)();
  for (let n = random.int(3); n > 0; n -= 1) document[`x-${random.int(1000)}`] = hostileValue(random);
  const text = JSON.stringify(document);
  switch (random.int(10)) {
    case 0:
      return text.slice(0, random.int(text.length)); // not JSON
    case 1:
      return JSON.stringify([document]);
    default:
      return text;
  }
}
