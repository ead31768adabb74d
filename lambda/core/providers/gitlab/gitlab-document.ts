import * as z from 'zod/mini';
import type { SecretDocument } from '../credential-provider';
import { MalformedSecretError } from '../../errors';
import { describeSchemaIssues } from '../../schema-issues';
import { RotorProviderName } from '../../../shared/rotor-constants';

export const GITLAB_ACCESS_TOKEN_PROVIDER = RotorProviderName.gitlabAccessToken;

export const GITLAB_TOKEN_TYPES = ['personal', 'project', 'group'] as const;
export type GitLabTokenType = (typeof GITLAB_TOKEN_TYPES)[number];

/**
 * `overlap`: each rotation creates a new token through the manager credential and the old one
 * stays valid through Rotor's grace, then is revoked at GitLab. `self`: the token rotates itself
 * with GitLab's rotate endpoint, which revokes the old token at once (no overlap at GitLab).
 */
export const GITLAB_ROTATION_MODES = ['overlap', 'self'] as const;
export type GitLabRotationMode = (typeof GITLAB_ROTATION_MODES)[number];

/** GitLab refuses an expiry more than one year ahead. */
export const GITLAB_MAX_TOKEN_LIFETIME_DAYS = 365;

/** Margin added after the next rotation plus its grace before a token may expire: one day. */
export const DEFAULT_EXPIRY_MARGIN_SECONDS = 86_400;

/** Transport settings of every call to GitLab. */
export interface GitLabTlsOptions {
  /** Lowest TLS version accepted. @default 'TLSv1.3' */
  readonly minVersion?: 'TLSv1.3' | 'TLSv1.2';
  /** PEM certificates trusted in addition to the default trust store (a GitLab behind a private CA). */
  readonly caBundle?: string;
}

/**
 * A GitLab personal, project or group access token. Consumers read `token`; everything else is
 * Rotor's. A freshly deployed secret holds only the settings; `rotor bootstrap` stores the first
 * token and its id.
 */
export interface GitLabAccessTokenDocument extends SecretDocument {
  readonly provider: typeof GITLAB_ACCESS_TOKEN_PROVIDER;
  /** The GitLab instance's https origin, e.g. `https://gitlab.com`. */
  readonly gitlabUrl: string;
  readonly tokenType: GitLabTokenType;
  /** Numeric id or full path of the project or group (project and group tokens only). */
  readonly ownerId?: string;
  /** @default 'overlap' for project and group tokens, 'self' for personal tokens */
  readonly mode?: GitLabRotationMode;
  /**
   * Name of the stage's secret holding the token allowed to create and revoke this one (overlap
   * mode): a `gitlab-access-token` secret of its own, rotating itself.
   */
  readonly managerSecret?: string;
  /** GitLab's id of `token`. Absent until `rotor bootstrap`. */
  readonly tokenId?: number;
  /** The credential consumers present. Absent until `rotor bootstrap`. */
  readonly token?: string;
  /** The token's name at GitLab; a created successor gets the same. Learnt from GitLab when absent. */
  readonly tokenName?: string;
  /** Scopes every new token must have (and gets, when created). */
  readonly scopes: readonly string[];
  /** Role of a project or group token (10 guest ... 50 owner). @default 40 (Maintainer) */
  readonly accessLevel?: number;
  /** `YYYY-MM-DD`: the token stops working at 00:00 UTC that day. */
  readonly expiresAt?: string;
  /**
   * Seconds from a rotation that the token must outlive: the longest time to the next rotation,
   * its window and the grace. Written by the stack from the schedule.
   */
  readonly expiryHorizonSeconds: number;
  /** Seconds added after the horizon before the expiry date is chosen. @default 86400 */
  readonly expiryMarginSeconds?: number;
  readonly tls?: GitLabTlsOptions;
}

const HTTPS_ORIGIN_RULE = 'must be an https:// origin (scheme, host and port only)';
function isHttpsOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.origin === value.replace(/\/$/, '');
  } catch {
    return false;
  }
}

const NON_EMPTY_RULE = 'must be a non-empty string';
const nonEmptyString = () => z.string({ error: NON_EMPTY_RULE }).check(z.minLength(1, NON_EMPTY_RULE));

const PEM_CERTIFICATES = /^\s*(-----BEGIN CERTIFICATE-----[A-Za-z0-9+/=\s]+-----END CERTIFICATE-----\s*)+$/;
const PEM_RULE = 'must be one or more PEM certificates (-----BEGIN CERTIFICATE-----)';
const SCOPE_RULE = 'must be a non-empty list of GitLab scopes (api, read_registry, ...)';
const ACCESS_LEVEL_RULE = 'must be a GitLab access level: 10, 15, 20, 30, 40 or 50';
const ID_RULE = 'must be a positive whole number';
const SECONDS_RULE = `must be a whole number of seconds, at most ${GITLAB_MAX_TOKEN_LIFETIME_DAYS} days`;
const DATE_RULE = 'must be a date YYYY-MM-DD';
const OWNER_RULE = 'must be a numeric id or a full path (group/project)';

const seconds = () =>
  z
    .int(SECONDS_RULE)
    .check(z.minimum(0, SECONDS_RULE), z.maximum(GITLAB_MAX_TOKEN_LIFETIME_DAYS * 86_400, SECONDS_RULE));

const TlsSchema = z.strictObject(
  {
    minVersion: z.optional(z.enum(['TLSv1.3', 'TLSv1.2'], 'must be TLSv1.3 or TLSv1.2')),
    caBundle: z.optional(z.string({ error: PEM_RULE }).check(z.regex(PEM_CERTIFICATES, PEM_RULE))),
  },
  {
    // A misspelt setting would silently weaken a transport rule, so it is refused.
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `has fields Rotor does not know (${issue.keys.map((key) => `'${key}'`).join(', ')}); it knows minVersion and caBundle`
        : 'must be an object',
  },
);

const GitLabAccessTokenDocumentSchema = z.looseObject({
  provider: z.literal(GITLAB_ACCESS_TOKEN_PROVIDER, `must be ${GITLAB_ACCESS_TOKEN_PROVIDER}`),
  schemaVersion: z.optional(z.literal(1, 'must be 1')),
  gitlabUrl: z.string({ error: HTTPS_ORIGIN_RULE }).check(z.refine(isHttpsOrigin, HTTPS_ORIGIN_RULE)),
  tokenType: z.enum(GITLAB_TOKEN_TYPES, `must be ${GITLAB_TOKEN_TYPES.join(', ')}`),
  ownerId: z.optional(
    z
      .string({ error: OWNER_RULE })
      .check(z.regex(/^(\d+|[A-Za-z0-9_.][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.-]+)*)$/, OWNER_RULE)),
  ),
  mode: z.optional(z.enum(GITLAB_ROTATION_MODES, `must be ${GITLAB_ROTATION_MODES.join(' or ')}`)),
  managerSecret: z.optional(nonEmptyString()),
  tokenId: z.optional(z.int(ID_RULE).check(z.minimum(1, ID_RULE))),
  token: z.optional(nonEmptyString()),
  tokenName: z.optional(nonEmptyString()),
  scopes: z
    .array(z.string({ error: SCOPE_RULE }).check(z.regex(/^[a-z_]{1,64}$/, SCOPE_RULE)), { error: SCOPE_RULE })
    .check(z.minLength(1, SCOPE_RULE)),
  accessLevel: z.optional(
    z.int(ACCESS_LEVEL_RULE).check(z.refine((level) => [10, 15, 20, 30, 40, 50].includes(level), ACCESS_LEVEL_RULE)),
  ),
  expiresAt: z.optional(z.string({ error: DATE_RULE }).check(z.regex(/^\d{4}-\d{2}-\d{2}$/, DATE_RULE))),
  expiryHorizonSeconds: seconds(),
  expiryMarginSeconds: z.optional(seconds()),
  tls: z.optional(TlsSchema),
});

/**
 * Checks a document against the gitlab-access-token schema, and the rules between its fields.
 * @throws MalformedSecretError naming the failing fields, never their values.
 */
export function parseGitLabAccessTokenDocument(document: Readonly<Record<string, unknown>>): GitLabAccessTokenDocument {
  const result = GitLabAccessTokenDocumentSchema.safeParse(document);
  const invalid = (reason: string) =>
    new MalformedSecretError(`${GITLAB_ACCESS_TOKEN_PROVIDER} document is invalid: ${reason}`);
  if (!result.success) throw invalid(describeSchemaIssues(result.error.issues));
  const parsed = { ...result.data, schemaVersion: 1 } as GitLabAccessTokenDocument;
  if (parsed.tokenType === 'personal') {
    if (parsed.ownerId !== undefined) throw invalid("field 'ownerId': is only for project and group tokens");
    if (parsed.accessLevel !== undefined) throw invalid("field 'accessLevel': is only for project and group tokens");
  } else if (parsed.ownerId === undefined) {
    throw invalid(`field 'ownerId': a ${parsed.tokenType} token needs its ${parsed.tokenType}'s id or full path`);
  }
  const mode = rotationModeOf(parsed);
  if (mode === 'overlap' && parsed.tokenType === 'personal') {
    // Personal tokens can only be rotated by their owner (or an administrator): they rotate themselves.
    throw invalid("field 'mode': personal tokens rotate themselves (mode self)");
  }
  if (mode === 'overlap' && parsed.managerSecret === undefined) {
    throw invalid("field 'managerSecret': overlap mode creates and revokes tokens through a manager token's secret");
  }
  if ((parsed.token === undefined) !== (parsed.tokenId === undefined)) {
    throw invalid("fields 'token' and 'tokenId': are stored together (rotor bootstrap)");
  }
  return parsed;
}

/** The document's mode with its default: overlap for project and group tokens, self for personal ones. */
export function rotationModeOf(document: Pick<GitLabAccessTokenDocument, 'mode' | 'tokenType'>): GitLabRotationMode {
  return document.mode ?? (document.tokenType === 'personal' ? 'self' : 'overlap');
}
