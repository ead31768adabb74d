// The IdP behind test/support/oidc-idp.ts: oidc-provider over HTTPS on 127.0.0.1, in its own
// Node process, because oidc-provider is ESM-only and jest (CommonJS, no
// --experimental-vm-modules) cannot load it. The parent drives it over the IPC channel:
//   parent -> child  {type:'start', config} | {type:'call', id, method} | {type:'ack', seq} | {type:'stop'}
//   child -> parent  {type:'ready', port, routes, scope, apiAudience} | {type:'result', id, value|error} | {type:'event', name, detail?}
//                    | {type:'refresh'} | {type:'barrier', seq} | {type:'failed', error}
// Every HTTP response waits for a barrier the parent acknowledges, so what the parent reports
// (events, refresh counts) is complete by the time any client sees the response.
// Nothing here ever sends a token value as an event or log line.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:https';

// IPC is the only protocol channel; oidc-provider's notices go to stderr, which the parent keeps
// for diagnostics.
console.log = console.info = console.warn = (...args) => process.stderr.write(`${args.join(' ')}\n`);

const ACCOUNT_ID = 'ci-bot';
const API_RESOURCE = 'https://api.rotor.test';
const API_SCOPE = 'api:deploy';
const SEEDED_SCOPE = `openid offline_access ${API_SCOPE}`;
const ROUTES = { token: '/token', introspection: '/token/introspection', revocation: '/token/revocation' };

let server;
let barrierSeq = 0;
const barriers = new Map();
const providerModule = import('oidc-provider');

process.on('message', (message) => {
  switch (message?.type) {
    case 'start':
      start(message.config).catch((error) => send({ type: 'failed', error: String(error?.stack ?? error) }));
      break;
    case 'call':
      call(message).catch(() => {});
      break;
    case 'ack':
      barriers.get(message.seq)?.();
      barriers.delete(message.seq);
      break;
    case 'stop':
      stop();
      break;
  }
});
// The parent went away (test worker killed): never outlive it.
process.on('disconnect', () => process.exit(0));

function send(message) {
  if (process.connected) process.send(message);
}

/** Resolves once the parent has processed every message sent before it. */
function barrier() {
  if (!process.connected) return Promise.resolve();
  const seq = ++barrierSeq;
  return new Promise((resolve) => {
    barriers.set(seq, resolve);
    send({ type: 'barrier', seq });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * An in-memory adapter with a storage round trip on every call: half the latency before the
 * operation takes effect, half after. Calls never wait for each other (no queue, no lock), so
 * concurrent requests interleave as they would against a remote database. Payloads are stored
 * and returned as copies, as a database would.
 */
function latencyAdapter(latencyMs) {
  const entries = new Map(); // `${model}:${id}` -> { json, expiresAt }
  const grantMembers = new Map(); // grantId -> Set of keys
  const secondary = new Map(); // `uid:${uid}` / `userCode:${code}` -> key
  const half = latencyMs > 0 ? () => sleep(latencyMs / 2) : () => Promise.resolve();

  const read = (key) => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= Date.now()) {
      entries.delete(key);
      return undefined;
    }
    return JSON.parse(entry.json);
  };

  return class LatencyAdapter {
    constructor(model) {
      this.model = model;
    }

    key(id) {
      return `${this.model}:${id}`;
    }

    async upsert(id, payload, expiresIn) {
      await half();
      const key = this.key(id);
      const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
      entries.set(key, { json: JSON.stringify(payload), expiresAt });
      if (payload.grantId) {
        if (!grantMembers.has(payload.grantId)) grantMembers.set(payload.grantId, new Set());
        grantMembers.get(payload.grantId).add(key);
      }
      if (payload.uid) secondary.set(`uid:${payload.uid}`, key);
      if (payload.userCode) secondary.set(`userCode:${payload.userCode}`, key);
      await half();
    }

    async find(id) {
      await half();
      const payload = read(this.key(id));
      await half();
      return payload;
    }

    async findByUid(uid) {
      await half();
      const key = secondary.get(`uid:${uid}`);
      const payload = key === undefined ? undefined : read(key);
      await half();
      return payload;
    }

    async findByUserCode(userCode) {
      await half();
      const key = secondary.get(`userCode:${userCode}`);
      const payload = key === undefined ? undefined : read(key);
      await half();
      return payload;
    }

    async consume(id) {
      await half();
      const key = this.key(id);
      const entry = entries.get(key);
      if (entry !== undefined) {
        entry.json = JSON.stringify({ ...JSON.parse(entry.json), consumed: Math.floor(Date.now() / 1000) });
      }
      await half();
    }

    async destroy(id) {
      await half();
      entries.delete(this.key(id));
      await half();
    }

    async revokeByGrantId(grantId) {
      await half();
      const members = grantMembers.get(grantId);
      for (const key of members ?? []) {
        if (key.startsWith(`${this.model}:`)) {
          entries.delete(key);
          members.delete(key);
        }
      }
      if (members?.size === 0) grantMembers.delete(grantId);
      await half();
    }
  };
}

/** What the parent may see of an event: its name and a token-free detail. */
function eventDetail(name, args) {
  if (name === 'grant.success') {
    const grantType = args[0]?.oidc?.params?.grant_type;
    return typeof grantType === 'string' ? grantType : undefined;
  }
  if (name.endsWith('.error') || name === 'server_error' || name === 'error') {
    const error = name === 'error' ? args[0] : args[1];
    if (error === undefined) return undefined;
    // error_detail is one of oidc-provider's fixed phrases ("refresh token already used").
    const why = name === 'server_error' || name === 'error' ? error.message : error.error_detail;
    return why ? `${error.name}: ${String(why).slice(0, 200)}` : String(error.name);
  }
  return undefined;
}

function grantTypeOf(ctx) {
  let params;
  try {
    params = ctx.oidc?.params;
  } catch {
    return undefined;
  }
  const value = params?.grant_type;
  return Array.isArray(value) ? value.join(',') : value;
}

let provider;
let clientId;
let resourceServer;

async function start(config) {
  const { default: Provider, errors } = await providerModule;
  server = createServer({ cert: config.certificatePem, key: config.privateKeyPem });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  clientId = config.clientId;

  const signingKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  resourceServer = {
    scope: API_SCOPE,
    audience: API_RESOURCE,
    accessTokenFormat: 'opaque',
    accessTokenTTL: config.accessTokenTtlSeconds,
  };

  provider = new Provider(`https://127.0.0.1:${port}`, {
    adapter: latencyAdapter(config.storageLatencyMs),
    clients: [
      {
        client_id: config.clientId,
        client_secret: config.clientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['https://127.0.0.1/callback'],
        scope: SEEDED_SCOPE,
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [{ ...signingKey, kid: 'test-idp', alg: 'ES256', use: 'sig' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    scopes: ['openid', 'offline_access', API_SCOPE],
    findAccount: (_ctx, sub) => (sub === ACCOUNT_ID ? { accountId: sub, claims: () => ({ sub }) } : undefined),
    rotateRefreshToken: true,
    routes: ROUTES,
    ttl: {
      AccessToken: config.accessTokenTtlSeconds,
      RefreshToken: config.refreshTokenTtlSeconds,
      Grant: config.refreshTokenTtlSeconds,
      IdToken: 3600,
    },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      // Access tokens are for the API: opaque, audience API_RESOURCE, scope api:deploy.
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? API_RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== API_RESOURCE) throw new errors.InvalidTarget();
          return resourceServer;
        },
      },
    },
  });

  const emit = provider.emit.bind(provider);
  provider.emit = (name, ...args) => {
    send({ type: 'event', name, detail: eventDetail(name, args) });
    return emit(name, ...args);
  };

  provider.use(async (ctx, next) => {
    await next();
    if (ctx.method === 'POST' && ctx.path === ROUTES.token && grantTypeOf(ctx) === 'refresh_token') {
      send({ type: 'refresh' });
    }
    await barrier();
  });

  server.on('request', provider.callback());
  send({ type: 'ready', port, routes: ROUTES, scope: SEEDED_SCOPE, apiAudience: API_RESOURCE });
}

/** Seeds what an authorization code flow for ci-bot would leave: a grant, a refresh and an access token. */
async function issueRefreshToken() {
  const client = await provider.Client.find(clientId);
  const grant = new provider.Grant({ accountId: ACCOUNT_ID, clientId });
  grant.addOIDCScope('openid offline_access');
  grant.addResourceScope(API_RESOURCE, API_SCOPE);
  const grantId = await grant.save();
  const common = { accountId: ACCOUNT_ID, client, grantId, gty: 'authorization_code', expiresWithSession: false };
  const accessToken = new provider.AccessToken({ ...common, scope: API_SCOPE });
  accessToken.resourceServer = new provider.ResourceServer(API_RESOURCE, resourceServer);
  const refreshToken = new provider.RefreshToken({
    ...common,
    authTime: Math.floor(Date.now() / 1000),
    resource: API_RESOURCE,
    rotations: 0,
    scope: SEEDED_SCOPE,
  });
  const [refreshTokenValue, accessTokenValue] = await Promise.all([refreshToken.save(), accessToken.save()]);
  return { refreshToken: refreshTokenValue, accessToken: accessTokenValue };
}

async function call({ id, method }) {
  try {
    if (method !== 'issueRefreshToken') throw new Error(`unknown method ${method}`);
    send({ type: 'result', id, value: await issueRefreshToken() });
  } catch (error) {
    send({ type: 'result', id, error: String(error?.stack ?? error) });
  }
}

function stop() {
  if (server === undefined) process.exit(0);
  server.closeAllConnections();
  server.close(() => process.exit(0));
}
