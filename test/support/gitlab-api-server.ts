/**
 * A GitLab REST API server for the tests, on https://127.0.0.1:<port> (TLS with a test CA), from
 * GitLab's documented behaviour of the endpoints Rotor calls. It keeps tokens in memory and
 * answers only what the documentation says; where it is silent, the choice is named below.
 *
 * Documentation followed:
 * - Personal access tokens API, https://docs.gitlab.com/api/personal_access_tokens/
 *   (`GET /personal_access_tokens/self`, `POST /personal_access_tokens/self/rotate`: needs the
 *   `api` or `self_rotate` scope; revokes the token presented and returns a new one).
 * - Project access tokens API, https://docs.gitlab.com/api/project_access_tokens/ and Group access
 *   tokens API, https://docs.gitlab.com/api/group_access_tokens/ (list with `created_after` and
 *   `search`, create with `name`, `scopes`, `access_level`, `expires_at`, rotate, revoke with
 *   `DELETE`; `id` is a numeric id or a URL-encoded full path).
 * - Token expiry: `expires_at` is a date (`YYYY-MM-DD`), a token expires at midnight UTC on it; a
 *   rotate's `expires_at` may be at most one year ahead (else 400), and defaults to one week.
 * - Project access tokens, https://docs.gitlab.com/user/project/settings/project_access_tokens/:
 *   a project or group access token cannot create other tokens (403 here).
 * - Automatic reuse detection, gitlab-org/gitlab#524639
 *   (https://gitlab.com/gitlab-org/gitlab/-/issues/524639): presenting a token that was already
 *   rotated revokes every token of its family (the chain of rotations it belongs to).
 * - Authentication, https://docs.gitlab.com/api/rest/authentication/: `PRIVATE-TOKEN` header;
 *   an expired or revoked token gets 401.
 *
 * Choices where the documentation is silent: a create without `expires_at` is refused with 400
 * (Rotor always sends one); one user (id 1, an Owner of every project and group) holds the
 * personal tokens; a token's access level at its project or group is the one it was created with.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestKeyPair } from './test-pki';

export type GitLabTokenType = 'personal' | 'project' | 'group';

/** One token as the server holds it. */
export interface GitLabToken {
  readonly id: number;
  readonly name: string;
  readonly value: string;
  readonly type: GitLabTokenType;
  /** Numeric id of the project or group (personal tokens: none). */
  readonly ownerId?: number;
  readonly scopes: readonly string[];
  readonly accessLevel?: number;
  /** `YYYY-MM-DD`: the token stops working at 00:00 UTC that day. */
  readonly expiresAt: string;
  readonly createdAt: string;
  revoked: boolean;
  /** Set when the token was revoked by a rotation: its successor's id. */
  rotatedTo?: number;
  /** The id of the first token of the rotation chain. */
  readonly family: number;
}

/** Counters of what reached the server, for assertions. */
export interface GitLabRequestCounts {
  rotate: number;
  create: number;
  revoke: number;
  self: number;
  list: number;
  /** Requests answered 401. */
  unauthorized: number;
  /** Families revoked by reuse detection. */
  familyRevocations: number;
}

export interface GitLabApiServerOptions {
  readonly tls: TestKeyPair;
  /** The server's clock. @default Date.now */
  readonly now?: () => number;
}

export interface GitLabApiServer {
  /** `https://127.0.0.1:<port>` */
  readonly origin: string;
  readonly counts: GitLabRequestCounts;
  /** A project with a numeric id and a full path, e.g. `{ id: 7, path: 'example-group/app' }`. */
  addProject(path: string): number;
  addGroup(path: string): number;
  /** Makes a token directly (as an operator would in the UI), returning it. */
  issueToken(spec: {
    readonly type: GitLabTokenType;
    readonly name: string;
    readonly scopes: readonly string[];
    readonly ownerId?: number;
    readonly accessLevel?: number;
    readonly expiresAt?: string;
  }): GitLabToken;
  token(id: number): GitLabToken | undefined;
  tokens(): readonly GitLabToken[];
  /** `POST /personal_access_tokens/self/rotate` as the holder of `value` would call it (a thief, in tests). */
  rotateAsHolder(value: string): Promise<{ status: number }>;
  /** Whether `value` would be accepted now (a consumer's view: a registry push, an API call). */
  accepts(value: string): boolean;
  /** The next response to a matching request is dropped after GitLab acted (a lost answer). */
  dropNextAnswer(match: (method: string, path: string) => boolean): void;
  /** Added before each rotate or create acts, so that concurrent calls overlap. @default 0 */
  setLatencyMs(ms: number): void;
  resetCounts(): void;
  stop(): Promise<void>;
}

const DAY_MS = 86_400_000;
const MAX_LIFETIME_DAYS = 365;
const DEFAULT_ROTATE_DAYS = 7;
/** GitLab's token prefix. */
const TOKEN_PREFIX = 'glpat-';

export async function startGitLabApiServer(options: GitLabApiServerOptions): Promise<GitLabApiServer> {
  const now = options.now ?? Date.now;
  const tokens = new Map<number, GitLabToken>();
  const projects = new Map<string, number>();
  const groups = new Map<string, number>();
  let nextId = 100;
  let nextOwnerId = 1;
  let latencyMs = 0;
  let drop: ((method: string, path: string) => boolean) | undefined;
  const counts: GitLabRequestCounts = {
    rotate: 0,
    create: 0,
    revoke: 0,
    self: 0,
    list: 0,
    unauthorized: 0,
    familyRevocations: 0,
  };

  const today = (): string => new Date(now()).toISOString().slice(0, 10);
  const expired = (token: GitLabToken): boolean => token.expiresAt <= today();
  const active = (token: GitLabToken): boolean => !token.revoked && !expired(token);

  function mint(spec: Omit<GitLabToken, 'id' | 'value' | 'createdAt' | 'revoked' | 'family'> & { family?: number }) {
    const id = nextId++;
    const token: GitLabToken = {
      ...spec,
      id,
      value: `${TOKEN_PREFIX}${randomBytes(15).toString('base64url')}`,
      createdAt: new Date(now()).toISOString(),
      revoked: false,
      family: spec.family ?? id,
    };
    tokens.set(id, token);
    return token;
  }

  function byValue(value: string | undefined): GitLabToken | undefined {
    if (value === undefined) return undefined;
    for (const token of tokens.values()) if (token.value === value) return token;
    return undefined;
  }

  function revokeFamily(family: number): void {
    counts.familyRevocations += 1;
    for (const token of tokens.values()) if (token.family === family) token.revoked = true;
  }

  /** A date `YYYY-MM-DD` after today and at most a year ahead, or the problem. */
  function expiryProblem(value: unknown): string | undefined {
    if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) {
      return 'expires_at is invalid';
    }
    if (value <= today()) return 'expires_at must be in the future';
    const limit = new Date(Date.parse(today()) + MAX_LIFETIME_DAYS * DAY_MS).toISOString().slice(0, 10);
    if (value > limit) return `expires_at must be at most ${MAX_LIFETIME_DAYS} days from today`;
    return undefined;
  }

  function ownerOf(kind: 'projects' | 'groups', raw: string): number | undefined {
    const decoded = decodeURIComponent(raw);
    const table = kind === 'projects' ? projects : groups;
    if (/^\d+$/.test(decoded)) return [...table.values()].includes(Number(decoded)) ? Number(decoded) : undefined;
    return table.get(decoded);
  }

  /** Personal tokens belong to the one user, an Owner everywhere; project and group tokens manage nothing. */
  function mayManage(caller: GitLabToken): boolean {
    return caller.type === 'personal' && caller.scopes.includes('api');
  }

  const describe = (token: GitLabToken, withValue: boolean) => ({
    id: token.id,
    name: token.name,
    revoked: token.revoked,
    created_at: token.createdAt,
    scopes: token.scopes,
    user_id: token.type === 'personal' ? 1 : 1000 + token.id,
    last_used_at: null,
    active: active(token),
    expires_at: token.expiresAt,
    ...(token.accessLevel === undefined ? {} : { access_level: token.accessLevel }),
    ...(withValue ? { token: token.value } : {}),
  });

  async function route(req: IncomingMessage, body: Record<string, unknown>): Promise<[number, unknown]> {
    const url = new URL(req.url ?? '/', 'https://gitlab.test');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const header = req.headers['private-token'];
    const caller = byValue(typeof header === 'string' ? header : undefined);
    const unauthorized = (): [number, unknown] => {
      counts.unauthorized += 1;
      return [401, { message: '401 Unauthorized' }];
    };

    if (path === '/api/v4/personal_access_tokens/self/rotate' && method === 'POST') {
      counts.rotate += 1;
      if (caller === undefined) return unauthorized();
      if (caller.rotatedTo !== undefined) {
        // Reuse detection: a rotated token presented again kills its whole family.
        revokeFamily(caller.family);
        return unauthorized();
      }
      if (!active(caller)) return unauthorized();
      if (!caller.scopes.includes('api') && !caller.scopes.includes('self_rotate')) {
        return [403, { error: 'insufficient_scope' }];
      }
      return rotate(caller, body);
    }

    if (path === '/api/v4/personal_access_tokens/self' && method === 'GET') {
      counts.self += 1;
      if (caller === undefined || !active(caller)) return unauthorized();
      return [200, describe(caller, false)];
    }

    const match = /^\/api\/v4\/(projects|groups)\/([^/]+)\/access_tokens(?:\/(\d+)(\/rotate)?)?$/.exec(path);
    if (match === null) return [404, { message: '404 Not Found' }];
    const [, kind, rawOwner, rawTokenId, rotatePath] = match as unknown as [
      string,
      'projects' | 'groups',
      string,
      string | undefined,
      string | undefined,
    ];
    if (method === 'POST' && rotatePath !== undefined) counts.rotate += 1;
    else if (method === 'POST') counts.create += 1;
    else if (method === 'DELETE') counts.revoke += 1;
    else counts.list += 1;
    if (caller === undefined || !active(caller)) {
      if (caller?.rotatedTo !== undefined) revokeFamily(caller.family);
      return unauthorized();
    }
    const ownerId = ownerOf(kind, rawOwner);
    const type: GitLabTokenType = kind === 'projects' ? 'project' : 'group';
    if (ownerId === undefined) return [404, { message: `404 ${kind === 'projects' ? 'Project' : 'Group'} Not Found` }];
    const target = rawTokenId === undefined ? undefined : tokens.get(Number(rawTokenId));
    const owned = target !== undefined && target.type === type && target.ownerId === ownerId;

    if (method === 'GET' && rawTokenId === undefined) {
      if (!mayManage(caller)) return [403, { message: '403 Forbidden' }];
      const createdAfter = url.searchParams.get('created_after');
      const search = url.searchParams.get('search');
      const list = [...tokens.values()].filter(
        (token) =>
          token.type === type &&
          token.ownerId === ownerId &&
          (createdAfter === null || token.createdAt > createdAfter) &&
          (search === null || token.name.includes(search)),
      );
      return [200, list.map((token) => describe(token, false))];
    }
    if (method === 'POST' && rawTokenId === undefined) {
      if (!mayManage(caller)) return [403, { message: '403 Forbidden' }];
      const { name, scopes, access_level: accessLevel, expires_at: expiresAt } = body;
      if (typeof name !== 'string' || name === '') return [400, { error: 'name is missing' }];
      if (!Array.isArray(scopes) || scopes.length === 0 || !scopes.every((s) => typeof s === 'string')) {
        return [400, { error: 'scopes is missing' }];
      }
      if (expiresAt === undefined) return [400, { error: 'expires_at is missing' }];
      const problem = expiryProblem(expiresAt);
      if (problem !== undefined) return [400, { message: { expires_at: [problem] } }];
      await sleep(latencyMs);
      const created = mint({
        type,
        ownerId,
        name,
        scopes: scopes,
        accessLevel: typeof accessLevel === 'number' ? accessLevel : 40,
        expiresAt: expiresAt as string,
      });
      return [201, describe(created, true)];
    }
    if (method === 'DELETE' && rawTokenId !== undefined && rotatePath === undefined) {
      if (!mayManage(caller)) return [403, { message: '403 Forbidden' }];
      if (!owned) return [404, { message: '404 Not Found' }];
      // GitLab answers 400 for a token that is already revoked.
      if (target.revoked) return [400, { message: '400 Bad request - Token already revoked' }];
      target.revoked = true;
      return [204, undefined];
    }
    if (method === 'POST' && rotatePath !== undefined) {
      if (!mayManage(caller) && caller.id !== target?.id) return [403, { message: '403 Forbidden' }];
      if (!owned) return [404, { message: '404 Not Found' }];
      if (target.rotatedTo !== undefined) {
        revokeFamily(target.family);
        return [400, { message: '400 Bad request - Token already revoked' }];
      }
      if (!active(target)) return [400, { message: '400 Bad request - Token already revoked' }];
      return rotate(target, body);
    }
    return [405, { message: '405 Method Not Allowed' }];
  }

  async function rotate(old: GitLabToken, body: Record<string, unknown>): Promise<[number, unknown]> {
    const expiresAt =
      body.expires_at ?? new Date(Date.parse(today()) + DEFAULT_ROTATE_DAYS * DAY_MS).toISOString().slice(0, 10);
    const problem = expiryProblem(expiresAt);
    if (problem !== undefined) return [400, { message: { expires_at: [problem] } }];
    await sleep(latencyMs);
    if (old.rotatedTo !== undefined) {
      // A concurrent rotate of the same token won the race: this presentation is a reuse.
      revokeFamily(old.family);
      return [401, { message: '401 Unauthorized' }];
    }
    const successor = mint({
      type: old.type,
      ...(old.ownerId === undefined ? {} : { ownerId: old.ownerId }),
      name: old.name,
      scopes: old.scopes,
      ...(old.accessLevel === undefined ? {} : { accessLevel: old.accessLevel }),
      expiresAt: expiresAt as string,
      family: old.family,
    });
    old.revoked = true;
    old.rotatedTo = successor.id;
    return [200, describe(successor, true)];
  }

  const server: Server = createServer(
    { cert: options.tls.certificatePem, key: options.tls.privateKeyPem, minVersion: 'TLSv1.2' },
    (req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        void (async () => {
          let body: Record<string, unknown> = {};
          const text = Buffer.concat(chunks).toString('utf8');
          if (text !== '') {
            try {
              body = (req.headers['content-type'] ?? '').includes('json')
                ? (JSON.parse(text) as Record<string, unknown>)
                : Object.fromEntries(new URLSearchParams(text));
            } catch {
              res.writeHead(400).end('{"error":"invalid body"}');
              return;
            }
          }
          const [status, answer] = await route(req, body);
          const path = new URL(req.url ?? '/', 'https://gitlab.test').pathname;
          if (drop?.(req.method ?? 'GET', path) === true) {
            drop = undefined;
            // GitLab acted; the answer never arrives.
            req.socket.destroy();
            return;
          }
          res.writeHead(status, answer === undefined ? {} : { 'content-type': 'application/json' });
          res.end(answer === undefined ? undefined : JSON.stringify(answer));
        })();
      });
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `https://127.0.0.1:${port}`,
    counts,
    addProject(path) {
      const id = nextOwnerId++;
      projects.set(path, id);
      return id;
    },
    addGroup(path) {
      const id = nextOwnerId++;
      groups.set(path, id);
      return id;
    },
    issueToken(spec) {
      return mint({
        type: spec.type,
        name: spec.name,
        scopes: spec.scopes,
        ...(spec.ownerId === undefined ? {} : { ownerId: spec.ownerId }),
        ...(spec.accessLevel === undefined ? {} : { accessLevel: spec.accessLevel }),
        expiresAt: spec.expiresAt ?? new Date(now() + 30 * DAY_MS).toISOString().slice(0, 10),
      });
    },
    token: (id) => tokens.get(id),
    tokens: () => [...tokens.values()],
    async rotateAsHolder(value) {
      const caller = byValue(value);
      if (caller === undefined || !active(caller)) return { status: 401 };
      const [status] = await rotate(caller, {});
      return { status };
    },
    accepts(value) {
      const token = byValue(value);
      return token !== undefined && active(token);
    },
    dropNextAnswer(match) {
      drop = match;
    },
    setLatencyMs(ms) {
      latencyMs = ms;
    },
    resetCounts() {
      for (const key of Object.keys(counts) as (keyof GitLabRequestCounts)[]) counts[key] = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const sleep = (ms: number): Promise<void> =>
  ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
