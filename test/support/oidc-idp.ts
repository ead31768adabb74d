import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { join } from 'node:path';
import type { TestKeyPair } from './test-pki';

/** How a test IdP is started. */
export interface TestIdpOptions {
  /** The server certificate, e.g. `createTestPki().server`: it must cover IP 127.0.0.1. */
  readonly tls: TestKeyPair;
  /** The CA that signed `tls`: what `exchange` and `introspect` trust. */
  readonly caPem: string;
  /**
   * Added to every storage call (find, upsert, consume, destroy, revokeByGrantId), half before
   * and half after it takes effect. Calls never wait for each other, so concurrent requests
   * interleave as they would against a remote database. @default 0
   */
  readonly storageLatencyMs?: number;
  /** @default 900 */
  readonly accessTokenTtlSeconds?: number;
  /** @default 86400 */
  readonly refreshTokenTtlSeconds?: number;
}

/** A provider event: its name and, for errors, the error's name and fixed detail phrase. Never a token. */
export interface IdpEvent {
  readonly name: string;
  readonly detail?: string;
}

/** What the token endpoint answers, success (RFC 6749 5.1) or error (5.2). */
export interface TokenEndpointBody {
  readonly access_token?: string;
  readonly refresh_token?: string;
  readonly id_token?: string;
  readonly token_type?: string;
  readonly expires_in?: number;
  readonly scope?: string;
  readonly error?: string;
  readonly error_description?: string;
  readonly [name: string]: unknown;
}

/** An RFC 7662 introspection answer. */
export interface IntrospectionBody {
  readonly active: boolean;
  readonly client_id?: string;
  readonly sub?: string;
  readonly scope?: string;
  readonly aud?: string | string[];
  readonly iss?: string;
  readonly exp?: number;
  readonly iat?: number;
  readonly token_type?: string;
  readonly [name: string]: unknown;
}

/**
 * A real OAuth 2.0 authorization server (oidc-provider 9) on https://127.0.0.1:<port>, with one
 * confidential client (`rotor-ci`, client_secret_basic) and refresh token rotation. Presenting
 * an already rotated refresh token revokes the whole grant, with no grace period.
 */
export interface TestIdp {
  /** `https://127.0.0.1:<port>` */
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly introspectionEndpoint: string;
  readonly revocationEndpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The scope of seeded refresh tokens; access tokens carry `api:deploy` for audience {@link apiAudience}. */
  readonly scope: string;
  readonly apiAudience: string;
  /**
   * Seeds what an authorization code flow for account `ci-bot` would leave behind: a grant with
   * `openid offline_access api:deploy`, a refresh token and an (opaque) access token.
   */
  issueRefreshToken(): Promise<{ refreshToken: string; accessToken: string }>;
  /** grant_type=refresh_token requests that reached the token endpoint, failed ones included. */
  refreshRequests(): number;
  /** Every provider event so far, in order (`grant.success`, `grant.error`, `refresh_token.consumed`, `grant.revoked`...). */
  events(): readonly IdpEvent[];
  /** A refresh at the token endpoint with the client's credentials, as anyone holding them could send it. */
  exchange(refreshToken: string): Promise<{ status: number; body: TokenEndpointBody }>;
  /** RFC 7662 introspection with the client's credentials. */
  introspect(token: string): Promise<IntrospectionBody>;
  stop(): Promise<void>;
}

const CLIENT_ID = 'rotor-ci';
const SERVER_SCRIPT = join(__dirname, 'oidc-idp-server.mjs');
// Ready within a second on an idle machine; the wait only ends early when the IdP is broken.
const START_TIMEOUT_MS = 120_000;

type ChildMessage =
  | {
      type: 'ready';
      port: number;
      routes: { token: string; introspection: string; revocation: string };
      scope: string;
      apiAudience: string;
    }
  | { type: 'failed'; error: string }
  | { type: 'result'; id: number; value?: unknown; error?: string }
  | { type: 'event'; name: string; detail?: string }
  | { type: 'refresh' }
  | { type: 'barrier'; seq: number };

/**
 * Starts the IdP in a child `node` process (oidc-provider is ESM-only, which jest's CommonJS
 * runtime cannot load) and waits until it listens. Events and refresh counts are mirrored here
 * before any HTTP response leaves the IdP, so they are complete once a client has its answer.
 */
export async function startTestIdp(options: TestIdpOptions): Promise<TestIdp> {
  const clientSecret = randomBytes(32).toString('base64url');
  const child = fork(SERVER_SCRIPT, [], { execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let diagnostics = '';
  const keep = (chunk: Buffer) => {
    diagnostics = (diagnostics + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  const events: IdpEvent[] = [];
  let refreshRequests = 0;
  let nextCallId = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  let ready: ((message: Extract<ChildMessage, { type: 'ready' }>) => void) | undefined;
  let failed: ((error: Error) => void) | undefined;

  child.on('message', (message: ChildMessage) => {
    switch (message.type) {
      case 'event':
        events.push(
          message.detail === undefined ? { name: message.name } : { name: message.name, detail: message.detail },
        );
        break;
      case 'refresh':
        refreshRequests += 1;
        break;
      case 'barrier':
        if (child.connected) child.send({ type: 'ack', seq: message.seq });
        break;
      case 'result': {
        const call = pending.get(message.id);
        pending.delete(message.id);
        if (message.error !== undefined) call?.reject(new Error(`test IdP: ${message.error}`));
        else call?.resolve(message.value);
        break;
      }
      case 'ready':
        ready?.(message);
        break;
      case 'failed':
        failed?.(new Error(`test IdP failed to start: ${message.error}\n${diagnostics}`));
        break;
    }
  });
  // A send on a closed channel reports here instead of throwing; the exit handler below rejects.
  child.on('error', (error) => keep(Buffer.from(`${String(error)}\n`)));
  child.on('exit', (code, signal) => {
    const error = new Error(`test IdP exited (${signal ?? code}): ${diagnostics}`);
    failed?.(error);
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  });

  let started: Extract<ChildMessage, { type: 'ready' }>;
  try {
    started = await new Promise((resolve, reject) => {
      const timeout = () => reject(new Error(`test IdP did not start within ${START_TIMEOUT_MS} ms: ${diagnostics}`));
      const timer = setTimeout(timeout, START_TIMEOUT_MS);
      ready = (message) => {
        clearTimeout(timer);
        resolve(message);
      };
      failed = (error) => {
        clearTimeout(timer);
        reject(error);
      };
      child.send({
        type: 'start',
        config: {
          certificatePem: options.tls.certificatePem,
          privateKeyPem: options.tls.privateKeyPem,
          clientId: CLIENT_ID,
          clientSecret,
          storageLatencyMs: options.storageLatencyMs ?? 0,
          accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 900,
          refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 86_400,
        },
      });
    });
  } catch (error) {
    await stopChild(child);
    throw error;
  } finally {
    ready = undefined;
    failed = undefined;
  }

  const issuer = `https://127.0.0.1:${started.port}`;
  const tokenEndpoint = `${issuer}${started.routes.token}`;
  const introspectionEndpoint = `${issuer}${started.routes.introspection}`;
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT_ID)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
  const post = (url: string, form: Record<string, string>) =>
    postForm(url, new URLSearchParams(form).toString(), basic, options.caPem);

  return {
    issuer,
    tokenEndpoint,
    introspectionEndpoint,
    revocationEndpoint: `${issuer}${started.routes.revocation}`,
    clientId: CLIENT_ID,
    clientSecret,
    scope: started.scope,
    apiAudience: started.apiAudience,
    issueRefreshToken: () =>
      new Promise((resolve, reject) => {
        if (!child.connected) return reject(new Error(`test IdP is not running: ${diagnostics}`));
        const id = ++nextCallId;
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        child.send({ type: 'call', id, method: 'issueRefreshToken' });
      }),
    refreshRequests: () => refreshRequests,
    events: () => [...events],
    exchange: async (refreshToken) => {
      const { status, body } = await post(tokenEndpoint, { grant_type: 'refresh_token', refresh_token: refreshToken });
      return { status, body: body as TokenEndpointBody };
    },
    introspect: async (token) => {
      const { status, body } = await post(introspectionEndpoint, { token });
      if (status !== 200) throw new Error(`introspection answered ${status}: ${JSON.stringify(body)}`);
      return body as IntrospectionBody;
    },
    stop: () => stopChild(child),
  };
}

/** A form POST with client_secret_basic over HTTPS trusting only `caPem`; a new connection each time. */
function postForm(url: string, form: string, authorization: string, caPem: string) {
  return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const outgoing = request(
      url,
      {
        method: 'POST',
        ca: caPem,
        agent: false,
        headers: {
          authorization,
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(form),
        },
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: incoming.statusCode ?? 0, body: JSON.parse(text) as unknown });
          } catch {
            reject(new Error(`${url} answered ${incoming.statusCode} with non-JSON: ${text.slice(0, 200)}`));
          }
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(form);
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    if (child.connected) child.send({ type: 'stop' });
    else child.kill('SIGTERM');
  });
}
