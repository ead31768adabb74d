import type { CredentialProvider, LostCreateFinding, ProviderContext } from '../credential-provider';
import type { ProviderHttpClient } from '../provider-http';
import {
  CredentialTestFailedError,
  EndpointRefusedError,
  ProviderCallError,
  ReauthorizationRequiredError,
  UpstreamReuseSuspectedError,
} from '../../errors';
import { GitLabApi, GitLabUnauthorizedError, type GitLabTokenInfo, type IssuedGitLabToken } from './gitlab-api';
import {
  GITLAB_ACCESS_TOKEN_PROVIDER,
  parseGitLabAccessTokenDocument,
  rotationModeOf,
  type GitLabAccessTokenDocument,
} from './gitlab-document';
import { expiryDateFor, expiryInstantOf, requiredLifetimeEnd } from './token-expiry';

/** Where the manager token of an overlap-mode secret comes from: another secret of the stage. */
export interface ManagerTokenSource {
  /** The `token` of the manager secret's AWSCURRENT document. */
  load(secretName: string): Promise<string>;
}

export interface GitLabAccessTokenProviderDependencies {
  /** Every call to GitLab goes through it (HTTPS, TLS rules, no logging of bodies or headers). */
  readonly http: ProviderHttpClient;
  readonly managerTokens: ManagerTokenSource;
  /** Waits between attempts of the token check. @default - a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Bounded waits of testSecret: a token just made may take a moment to be known everywhere. */
export const GITLAB_CHECK_RETRY_DELAYS_MS: readonly number[] = [250, 1000];

/** A lost create is looked for from this long before its journal claim (clocks differ). */
const LOST_CREATE_CLOCK_SKEW_MS = 5 * 60_000;

/**
 * Rotates GitLab access tokens. Consumers read `token`.
 *
 * - `overlap` (project and group tokens): create makes a new token with the same name, scopes and
 *   access level through the manager token; the old one keeps working until Rotor's retirement
 *   revokes it at the end of the grace (`revoke`).
 * - `self` (personal and manager tokens): create calls GitLab's rotate endpoint with the token
 *   itself; GitLab revokes the old token at once, so there is no overlap.
 *
 * Both are side effects the engine claims in its journal first. In self mode the claim is keyed
 * by the token (`spends`), so no rotation presents a rotated token again, which would make GitLab
 * revoke the whole token family.
 */
export function gitlabAccessTokenProvider(
  deps: GitLabAccessTokenProviderDependencies,
): CredentialProvider<GitLabAccessTokenDocument> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  async function managerOf(document: GitLabAccessTokenDocument, secretName: string): Promise<string> {
    try {
      return await deps.managerTokens.load(document.managerSecret ?? '');
    } catch (error) {
      // Nothing was sent: the engine gives its claim back.
      const reason = error instanceof Error && error.name.endsWith('Error') ? error.message : 'unreadable';
      throw new ProviderCallError(
        `secret ${secretName}: could not read the manager token in field 'managerSecret' (${reason}); no request was sent`,
        'none',
        { cause: error },
      );
    }
  }

  function currentTokenOf(document: GitLabAccessTokenDocument, secretName: string): { token: string; id: number } {
    if (document.token === undefined || document.tokenId === undefined) {
      throw new ReauthorizationRequiredError(
        `secret ${secretName} holds no GitLab token yet: store the first one with rotor bootstrap ${secretName}`,
      );
    }
    return { token: document.token, id: document.tokenId };
  }

  /** A 401 on the token Rotor holds as current, before its expiry: someone else rotated or revoked it. */
  function theftOf(document: GitLabAccessTokenDocument, tokenId: number, context: ProviderContext, error: unknown) {
    const expired = document.expiresAt !== undefined && expiryInstantOf(document.expiresAt) <= context.now().getTime();
    if (expired) {
      return new ReauthorizationRequiredError(
        `GitLab token ${tokenId} of secret ${context.secretName} expired on ${document.expiresAt}; ` +
          `store a new one: rotor bootstrap ${context.secretName}`,
        { cause: error },
      );
    }
    return new UpstreamReuseSuspectedError(
      `GitLab refused token ${tokenId} of secret ${context.secretName}, which Rotor holds as current and had not ` +
        'rotated: someone else rotated or revoked it (possible theft upstream; a rotated token presented again ' +
        `revokes its whole family). Revoke the token family at GitLab and re-authorize: rotor bootstrap ${context.secretName}`,
      { cause: error },
    );
  }

  /** The document's GitLab must be one of the stage's pinned provider origins. */
  function checkOrigin(document: GitLabAccessTokenDocument): void {
    try {
      deps.http.checkDestination(document.gitlabUrl);
    } catch (error) {
      if (!(error instanceof EndpointRefusedError)) throw error;
      throw new EndpointRefusedError(`field 'gitlabUrl': ${error.message}`);
    }
  }

  function pendingFrom(current: GitLabAccessTokenDocument, issued: IssuedGitLabToken): GitLabAccessTokenDocument {
    return {
      ...current,
      token: issued.token,
      tokenId: issued.id,
      tokenName: issued.name,
      ...(issued.expiresAt === undefined ? {} : { expiresAt: issued.expiresAt }),
    };
  }

  return {
    name: GITLAB_ACCESS_TOKEN_PROVIDER,
    sideEffects: 'external',

    parse: parseGitLabAccessTokenDocument,

    checkCreate(current, context) {
      // With no I/O, before the journal claim: a document create would refuse writes nothing.
      currentTokenOf(current, context.secretName);
      checkOrigin(current);
      expiryDateFor(current, context.now(), context.secretName);
    },

    async create(current, context) {
      const { token, id } = currentTokenOf(current, context.secretName);
      const api = new GitLabApi(deps.http, current, context.secretName);
      const expiresAt = expiryDateFor(current, context.now(), context.secretName);
      if (rotationModeOf(current) === 'self') {
        let issued: IssuedGitLabToken;
        try {
          issued =
            current.tokenType === 'personal'
              ? await api.rotateSelf(token, expiresAt)
              : await api.rotateById(token, id, expiresAt);
        } catch (error) {
          if (error instanceof GitLabUnauthorizedError) throw theftOf(current, id, context, error);
          throw error;
        }
        return pendingFrom(current, issued);
      }

      // Overlap: the current token must still be the one GitLab knows as active; it also names the token.
      let self: GitLabTokenInfo;
      try {
        self = await api.describeSelf(token);
      } catch (error) {
        if (error instanceof GitLabUnauthorizedError) throw theftOf(current, id, context, error);
        // Only a read: whatever happened, nothing was made.
        if (error instanceof ProviderCallError) throw new ProviderCallError(error.message, 'none', { cause: error });
        throw error;
      }
      const manager = await managerOf(current, context.secretName);
      const issued = await api.create(manager, {
        name: current.tokenName ?? self.name,
        scopes: current.scopes,
        accessLevel: current.accessLevel ?? 40,
        expiresAt,
      });
      return pendingFrom(current, issued);
    },

    async test(pending, context) {
      const { token, id } = currentTokenOf(pending, context.secretName);
      checkOrigin(pending);
      const api = new GitLabApi(deps.http, pending, context.secretName);
      const failure = (reason: string) =>
        new CredentialTestFailedError(`GitLab token ${id} of secret ${context.secretName} failed the check: ${reason}`);
      let info: GitLabTokenInfo | undefined;
      let lastProblem = 'no answer';
      for (let attempt = 0; ; attempt += 1) {
        try {
          info = await api.describeSelf(token);
          break;
        } catch (error) {
          if (!(error instanceof GitLabUnauthorizedError) && !(error instanceof ProviderCallError)) throw error;
          lastProblem = error instanceof GitLabUnauthorizedError ? 'GitLab answered HTTP 401' : error.message;
          const delay = GITLAB_CHECK_RETRY_DELAYS_MS[attempt];
          if (delay === undefined) throw failure(`${lastProblem} (${attempt + 1} attempts)`);
          await sleep(delay);
        }
      }
      if (info.id !== id) throw failure(`GitLab describes token ${info.id}, not the one in field 'tokenId'`);
      if (!info.active || info.revoked) throw failure('GitLab says it is not active');
      const missing = pending.scopes.filter((scope) => !info.scopes.includes(scope));
      if (missing.length > 0) throw failure(`it lacks the scopes ${missing.join(', ')} of field 'scopes'`);
      // Measured from the token's creation, not from now: the health check tests a token all
      // through its life, and its expiry was chosen when it was made.
      const madeAt = info.createdAt === undefined ? Number.NaN : Date.parse(info.createdAt);
      const mustLiveUntil = requiredLifetimeEnd(pending, Number.isNaN(madeAt) ? context.now() : new Date(madeAt));
      if (info.expiresAt === undefined || expiryInstantOf(info.expiresAt) < mustLiveUntil) {
        throw failure(
          `it expires on ${info.expiresAt ?? 'no date'}, before the next rotation plus grace ` +
            `(${new Date(mustLiveUntil).toISOString()})`,
        );
      }
    },

    async revoke(retired, context) {
      // In self mode GitLab revoked the old token when it rotated it.
      if (rotationModeOf(retired) === 'self' || retired.tokenId === undefined) return;
      const api = new GitLabApi(deps.http, retired, context.secretName);
      const manager = await deps.managerTokens.load(retired.managerSecret ?? '');
      await api.revoke(manager, retired.tokenId);
    },

    async recoverLostCreate(current, context, attemptedAt): Promise<LostCreateFinding> {
      const { id } = currentTokenOf(current, context.secretName);
      if (rotationModeOf(current) === 'self') {
        return {
          safeToRetry: false,
          summary:
            `GitLab token ${id} was presented to GitLab's rotate endpoint, which revokes it; its successor's value ` +
            `was never received. Revoke the token family of token ${id} at GitLab and store a new token: ` +
            `rotor bootstrap ${context.secretName}`,
        };
      }
      // Overlap: the old token is untouched; what the lost create made is found and revoked, then made again.
      const api = new GitLabApi(deps.http, current, context.secretName);
      const manager = await managerOf(current, context.secretName);
      const name = current.tokenName ?? (await api.describeSelf(current.token ?? '')).name;
      const since = new Date(attemptedAt.getTime() - LOST_CREATE_CLOCK_SKEW_MS);
      // GitLab's ids grow: a token newer than the current one, with its name, made since the claim.
      const orphans = (await api.listByName(manager, name, since)).filter(
        (token) => token.name === name && token.id > id && token.active,
      );
      for (const orphan of orphans) await api.revoke(manager, orphan.id);
      return {
        safeToRetry: true,
        summary:
          orphans.length === 0
            ? `no token named ${name} was made at GitLab since ${since.toISOString()}`
            : `revoked the token(s) ${orphans.map((token) => token.id).join(', ')} the lost attempt made at GitLab`,
      };
    },

    credentialOf: (document) => document.token,
    spends: (document) => (rotationModeOf(document) === 'self' ? document.token : undefined),
  };
}
