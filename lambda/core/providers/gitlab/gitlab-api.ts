/**
 * The GitLab REST API calls Rotor makes, each sent exactly once, and a classification of each
 * answer by what it means for the token that was presented. This module never retries and keeps
 * no record: the rotation engine claims every rotate and create in its journal before calling.
 */
import type { ProviderHttpClient, ProviderHttpResponse, ProviderTlsSettings } from '../provider-http';
import { ProviderCallError, ProviderRefusedError } from '../../errors';
import type { GitLabAccessTokenDocument } from './gitlab-document';

/** What GitLab says about one token (never its value, except `token` on a create or rotate answer). */
export interface GitLabTokenInfo {
  readonly id: number;
  readonly name: string;
  readonly active: boolean;
  readonly revoked: boolean;
  readonly scopes: readonly string[];
  readonly expiresAt?: string;
  readonly createdAt?: string;
}

/** A new token from a create or rotate answer. */
export interface IssuedGitLabToken extends GitLabTokenInfo {
  readonly token: string;
}

/** An answer that is a clear refusal of the token presented: 401. */
export class GitLabUnauthorizedError extends ProviderRefusedError {}

/** The transport settings of every call for `document`. */
export function tlsSettingsOf(document: GitLabAccessTokenDocument): ProviderTlsSettings {
  return {
    minVersion: document.tls?.minVersion ?? 'TLSv1.3',
    ...(document.tls?.caBundle === undefined ? {} : { caBundlePem: document.tls.caBundle }),
  };
}

/** `/api/v4/projects/<id>` or `/api/v4/groups/<id>`, the path URL-encoded as GitLab requires. */
export function ownerPathOf(document: GitLabAccessTokenDocument): string {
  const kind = document.tokenType === 'group' ? 'groups' : 'projects';
  return `/api/v4/${kind}/${encodeURIComponent(document.ownerId ?? '')}`;
}

export class GitLabApi {
  constructor(
    private readonly http: ProviderHttpClient,
    private readonly document: GitLabAccessTokenDocument,
    private readonly secretName: string,
  ) {}

  /** `GET /personal_access_tokens/self`: the token presented, as GitLab sees it. */
  async describeSelf(token: string): Promise<GitLabTokenInfo> {
    const response = await this.send('GET', '/api/v4/personal_access_tokens/self', token);
    return infoOf(this.expect(response, [200], 'describe the token'), this.secretName);
  }

  /** `POST /personal_access_tokens/self/rotate`: GitLab revokes `token` and returns its successor. */
  async rotateSelf(token: string, expiresAt: string): Promise<IssuedGitLabToken> {
    const response = await this.send('POST', '/api/v4/personal_access_tokens/self/rotate', token, {
      expires_at: expiresAt,
    });
    return issuedOf(this.expect(response, [200], 'rotate the token', true), this.secretName);
  }

  /** `POST /projects|groups/:id/access_tokens/:token_id/rotate`, authenticated as `caller`. */
  async rotateById(caller: string, tokenId: number, expiresAt: string): Promise<IssuedGitLabToken> {
    const response = await this.send('POST', `${ownerPathOf(this.document)}/access_tokens/${tokenId}/rotate`, caller, {
      expires_at: expiresAt,
    });
    return issuedOf(this.expect(response, [200], 'rotate the token', true), this.secretName);
  }

  /** `POST /projects|groups/:id/access_tokens` with the manager token. */
  async create(
    manager: string,
    spec: { name: string; scopes: readonly string[]; accessLevel: number; expiresAt: string },
  ) {
    const response = await this.send('POST', `${ownerPathOf(this.document)}/access_tokens`, manager, {
      name: spec.name,
      scopes: spec.scopes,
      access_level: spec.accessLevel,
      expires_at: spec.expiresAt,
    });
    return issuedOf(this.expect(response, [200, 201], 'create a token', true), this.secretName);
  }

  /** `GET /projects|groups/:id/access_tokens?search=<name>&created_after=<time>` with the manager token. */
  async listByName(manager: string, name: string, createdAfter: Date): Promise<GitLabTokenInfo[]> {
    const query = new URLSearchParams({ search: name, created_after: createdAfter.toISOString() });
    const response = await this.send('GET', `${ownerPathOf(this.document)}/access_tokens?${query.toString()}`, manager);
    const body = parseJson(this.expect(response, [200], 'list tokens').body);
    if (!Array.isArray(body)) throw this.unusable('a token list is not a JSON array');
    return body.map((item) => infoOf({ ...response, body: JSON.stringify(item) }, this.secretName));
  }

  /**
   * `DELETE /projects|groups/:id/access_tokens/:token_id` with the manager token.
   * @returns `revoked`, or `gone` when GitLab says it was revoked already or no longer exists.
   */
  async revoke(manager: string, tokenId: number): Promise<'revoked' | 'gone'> {
    const response = await this.send('DELETE', `${ownerPathOf(this.document)}/access_tokens/${tokenId}`, manager);
    if (response.status === 204 || response.status === 200) return 'revoked';
    if (response.status === 400 || response.status === 404) return 'gone';
    this.expect(response, [204], 'revoke a token');
    return 'gone';
  }

  private send(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    token: string,
    json?: Record<string, unknown>,
  ): Promise<ProviderHttpResponse> {
    return this.http.send({
      method,
      url: `${this.document.gitlabUrl.replace(/\/$/, '')}${path}`,
      headers: { 'private-token': token },
      ...(json === undefined ? {} : { json }),
      tls: tlsSettingsOf(this.document),
    });
  }

  /**
   * Returns the response when its status is expected. `acting`: the call may have changed state
   * at GitLab, so a 5xx leaves the outcome unknown.
   * @throws GitLabUnauthorizedError on 401; ProviderCallError (`unknown`) on a 5xx of an acting call,
   *   (`none`) on any other 5xx or a 429, which may be asked again; ProviderRefusedError otherwise.
   */
  private expect(
    response: ProviderHttpResponse,
    statuses: number[],
    what: string,
    acting = false,
  ): ProviderHttpResponse {
    const { status } = response;
    if (statuses.includes(status)) return response;
    const where = `GitLab (field 'gitlabUrl' of secret ${this.secretName})`;
    if (status === 401) {
      throw new GitLabUnauthorizedError(
        `${where} refused the token presented to ${what} with HTTP 401 (revoked or expired)`,
      );
    }
    if (status >= 500 && acting) {
      throw new ProviderCallError(
        `${where} answered HTTP ${status} to ${what}: a proxy may have answered after GitLab acted, so whether a token was made is unknown`,
        'unknown',
      );
    }
    if (status >= 500 || status === 429) {
      // A call that acts on nothing (a description) may simply be asked again.
      throw new ProviderCallError(`${where} answered HTTP ${status} to ${what}`, 'none');
    }
    const hint =
      status === 403
        ? ': the token lacks the scope or role for this (a manager needs a personal token with api and Maintainer)'
        : status === 404
          ? `: check fields 'ownerId' and 'tokenId'`
          : '';
    throw new ProviderRefusedError(`${where} refused to ${what} with HTTP ${status}${hint}`);
  }

  private unusable(reason: string): ProviderCallError {
    return new ProviderCallError(
      `GitLab answered secret ${this.secretName}'s call but not usably (${reason}); whether a token was made is unknown`,
      'unknown',
    );
  }
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    // The parser's message quotes its input, which may hold a token.
    return undefined;
  }
}

function infoOf(response: ProviderHttpResponse, secretName: string): GitLabTokenInfo {
  const body = parseJson(response.body) as Record<string, unknown> | undefined;
  if (
    typeof body !== 'object' ||
    body === null ||
    typeof body.id !== 'number' ||
    typeof body.name !== 'string' ||
    !Array.isArray(body.scopes)
  ) {
    throw new ProviderCallError(
      `GitLab answered secret ${secretName}'s call with HTTP ${response.status} but no token description; ` +
        'whether a token was made is unknown',
      'unknown',
    );
  }
  return {
    id: body.id,
    name: body.name,
    active: body.active === true,
    revoked: body.revoked === true,
    scopes: body.scopes.filter((scope): scope is string => typeof scope === 'string'),
    ...(typeof body.expires_at === 'string' ? { expiresAt: body.expires_at } : {}),
    ...(typeof body.created_at === 'string' ? { createdAt: body.created_at } : {}),
  };
}

function issuedOf(response: ProviderHttpResponse, secretName: string): IssuedGitLabToken {
  const info = infoOf(response, secretName);
  const body = parseJson(response.body) as Record<string, unknown>;
  if (typeof body.token !== 'string' || body.token === '') {
    throw new ProviderCallError(
      `GitLab answered secret ${secretName}'s call with token ${info.id} but without its value; the token is lost`,
      'unknown',
    );
  }
  return { ...info, token: body.token };
}
