import * as z from 'zod';
import { RotorProviderName } from '../../lambda/shared/rotor-constants';
import { parseRotationSchedule, parseWindowHours } from '../rotation-schedule';
import { show } from './show-value';

// The `gitlab` block of a secret whose provider is `gitlab-access-token`. Its settings go into the
// secret's first document (lib/secret-first-document.ts); the token and its id arrive later, by
// `rotor bootstrap`.

/** The provider whose secrets carry a `gitlab` block, and only they. */
export const GITLAB_PROVIDER = RotorProviderName.gitlabAccessToken;

export const GITLAB_TOKEN_TYPES = ['personal', 'project', 'group'] as const;
export type GitLabTokenTypeConfig = (typeof GITLAB_TOKEN_TYPES)[number];
export const GITLAB_MODES = ['overlap', 'self'] as const;
export type GitLabModeConfig = (typeof GITLAB_MODES)[number];
/** GitLab's roles: guest, planner, reporter, developer, maintainer, owner. */
export const GITLAB_ACCESS_LEVELS = [10, 15, 20, 30, 40, 50] as const;
/** GitLab refuses a token expiry more than a year ahead. */
export const GITLAB_MAX_LIFETIME_SECONDS = 365 * 86_400;
/** Margin after the next rotation plus grace before a token may expire; the file's default. */
export const DEFAULT_GITLAB_EXPIRY_MARGIN_SECONDS = 86_400;

const DAY = 86_400;

/** The `gitlab` block of a secret, validated, with its defaults applied. */
export interface RotorGitLabConfig {
  /** The instance's https origin, e.g. `https://gitlab.com`. */
  readonly origin: string;
  readonly type: GitLabTokenTypeConfig;
  /** Project or group id or full path; absent for personal tokens. */
  readonly owner?: string;
  readonly scopes: readonly string[];
  /** Role of a project or group token; absent for personal tokens. */
  readonly accessLevel?: number;
  /** `overlap` for project and group tokens unless set; always `self` for personal tokens. */
  readonly mode: GitLabModeConfig;
  /** Name within the stage of the secret holding the manager token (overlap mode). */
  readonly managerSecret?: string;
  /** Seconds a new token must outlive: the longest gap to the next rotation, its window and the grace. */
  readonly expiryHorizonSeconds: number;
  readonly expiryMarginSeconds: number;
  /** @default - TLS 1.3 */
  readonly tlsMinVersion?: 'TLSv1.3' | 'TLSv1.2';
}

function isHttpsOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.origin === value;
  } catch {
    return false;
  }
}

export const GitLabSchema = z.strictObject({
  origin: z.string().refine(isHttpsOrigin, {
    error: (iss) =>
      `must be the GitLab instance's https origin such as "https://gitlab.com" (no path), got ${show(iss.input)}`,
  }),
  type: z.enum(GITLAB_TOKEN_TYPES, {
    error: (iss) => `must be one of ${GITLAB_TOKEN_TYPES.map((t) => `"${t}"`).join(', ')}, got ${show(iss.input)}`,
  }),
  owner: z
    .string()
    .regex(/^(\d+|[A-Za-z0-9_.][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.-]+)*)$/, {
      error: (iss) => `must be a project or group id or full path such as "example-group/app", got ${show(iss.input)}`,
    })
    .optional(),
  scopes: z.array(z.string().regex(/^[a-z_]{1,64}$/)).min(1, {
    error: (iss) => `must list at least one GitLab scope such as "write_registry", got ${show(iss.input)}`,
  }),
  accessLevel: z
    .number()
    .refine((level) => (GITLAB_ACCESS_LEVELS as readonly number[]).includes(level), {
      error: (iss) => `must be a GitLab access level (${GITLAB_ACCESS_LEVELS.join(', ')}), got ${show(iss.input)}`,
    })
    .optional(),
  mode: z
    .enum(GITLAB_MODES, {
      error: (iss) => `must be "overlap" or "self", got ${show(iss.input)}`,
    })
    .optional(),
  managerSecret: z.string().min(1).optional(),
  expiryMarginSeconds: z
    .number()
    .refine((value) => Number.isInteger(value) && value >= 0 && value <= 30 * DAY, {
      error: (iss) => `must be a whole number of seconds from 0 to ${30 * DAY}, got ${show(iss.input)}`,
    })
    .optional(),
  tlsMinVersion: z.enum(['TLSv1.3', 'TLSv1.2']).optional(),
});
type GitLabFile = z.infer<typeof GitLabSchema>;

/** The mode with its default. */
export function gitlabModeOf(block: Pick<GitLabFile, 'type' | 'mode'>): GitLabModeConfig {
  return block.mode ?? (block.type === 'personal' ? 'self' : 'overlap');
}

/**
 * The longest time between two rotations of `schedule` plus one `window` (a rotation happens
 * anywhere in its window), in seconds: what a token must outlive before its successor exists.
 * Cron schedules are bounded from above: a restricted month counts as a year, a restricted day of
 * month as 31 days, a weekday list by its longest gap.
 */
export function longestRotationGapSeconds(schedule: string, windowHours: number): number | undefined {
  const parsed = parseRotationSchedule(schedule);
  if (!parsed.ok) return undefined;
  const window = windowHours * 3600;
  const rate = /^rate\((\d+) (hour|hours|day|days)\)$/.exec(schedule);
  if (rate) return Number(rate[1]) * (rate[2]!.startsWith('hour') ? 3600 : DAY) + window;
  const [, , dayOfMonth = '*', month = '*', dayOfWeek = '*'] = /^cron\((.*)\)$/.exec(schedule)![1]!.split(/\s+/);
  if (month !== '*') return 366 * DAY + window;
  if (dayOfMonth !== '*' && dayOfMonth !== '?') return 31 * DAY + window;
  if (dayOfWeek !== '*' && dayOfWeek !== '?') return weekdayGapDays(dayOfWeek) * DAY + window;
  return (parsed.schedule.hoursBetweenWindows ?? 24) * 3600 + window;
}

const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function weekdayGapDays(field: string): number {
  const days = new Set<number>();
  for (const part of field.split(',')) {
    const [from, to] = part.split('-').map((day) => (/^\d$/.test(day) ? Number(day) - 1 : WEEKDAYS.indexOf(day)));
    if (from === undefined || from < 0) return 7;
    const end = to === undefined || to < 0 ? from : to;
    for (let day = from; day !== (end + 1) % 7; day = (day + 1) % 7) days.add(day);
    days.add(end);
  }
  const sorted = [...days].sort((a, b) => a - b);
  let gap = sorted.length === 0 ? 7 : 7 - sorted[sorted.length - 1]! + sorted[0]!;
  for (let i = 1; i < sorted.length; i += 1) gap = Math.max(gap, sorted[i]! - sorted[i - 1]!);
  return gap;
}

/** What {@link checkSecretGitLab} reads of a parsed secret. */
interface SecretWithGitLab {
  readonly provider: string;
  readonly schedule: string;
  readonly window: string;
  readonly gitlab?: GitLabFile | undefined;
}

/**
 * A `gitlab-access-token` secret has a `gitlab` block and any other has none; the block's fields
 * agree with its type; and the schedule can be served within GitLab's one-year token limit.
 */
export function checkSecretGitLab(
  secret: SecretWithGitLab,
  graceSeconds: number,
  ctx: z.RefinementCtx,
  at: readonly (string | number)[] = [],
): void {
  const block = secret.gitlab;
  if (secret.provider === GITLAB_PROVIDER && block === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'gitlab'],
      message: `is required for provider "${GITLAB_PROVIDER}": it names the instance, the token type and its scopes`,
    });
  }
  if (secret.provider !== GITLAB_PROVIDER && block !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'gitlab'],
      message: `is only for provider "${GITLAB_PROVIDER}"; remove it from this ${show(secret.provider)} secret`,
    });
  }
  if (block === undefined) return;
  const issue = (field: string, message: string) =>
    ctx.addIssue({ code: 'custom', path: [...at, 'gitlab', field], message });
  if (block.type === 'personal') {
    if (block.owner !== undefined) issue('owner', `is only for project and group tokens, got ${show(block.owner)}`);
    if (block.accessLevel !== undefined)
      issue('accessLevel', `is only for project and group tokens, got ${show(block.accessLevel)}`);
    if (block.mode === 'overlap')
      issue('mode', 'must be "self" for personal tokens: only their owner can rotate them, got "overlap"');
  } else if (block.owner === undefined) {
    issue('owner', `is required for a ${block.type} token: the ${block.type}'s id or full path`);
  }
  if (gitlabModeOf(block) === 'overlap' && block.managerSecret === undefined) {
    issue('managerSecret', 'is required in overlap mode: the stage secret whose token creates and revokes this one');
  }
  if (gitlabModeOf(block) === 'self' && block.managerSecret !== undefined) {
    issue('managerSecret', `is only for overlap mode, got ${show(block.managerSecret)}`);
  }
  const windowHours = parseWindowHours(secret.window);
  const gap = windowHours === undefined ? undefined : longestRotationGapSeconds(secret.schedule, windowHours);
  if (gap === undefined) return; // reported on the schedule or window
  const margin = block.expiryMarginSeconds ?? DEFAULT_GITLAB_EXPIRY_MARGIN_SECONDS;
  // The expiry is rounded up to the next UTC midnight: up to a day more.
  const needed = gap + graceSeconds + margin + DAY;
  if (needed > GITLAB_MAX_LIFETIME_SECONDS) {
    ctx.addIssue({
      code: 'custom',
      path: [...at, 'schedule'],
      message:
        `cannot be served within GitLab's one-year token limit: a token must live ${Math.ceil(needed / DAY)} days ` +
        `(longest gap between rotations plus window, grace, margin and rounding to midnight), got ${show(secret.schedule)}`,
    });
  }
}

/** What {@link checkStageGitLab} reads of a parsed stage. */
interface StageWithGitLab {
  readonly secrets: readonly {
    readonly name: string;
    readonly provider: string;
    readonly gitlab?: GitLabFile | undefined;
  }[];
}

/** A manager secret is another `gitlab-access-token` secret of the stage that rotates itself. */
export function checkStageGitLab(stage: StageWithGitLab, ctx: z.RefinementCtx): void {
  const byName = new Map(stage.secrets.map((secret, index) => [secret.name, { secret, index }]));
  stage.secrets.forEach((secret, index) => {
    const manager = secret.gitlab?.managerSecret;
    if (manager === undefined) return;
    const found = byName.get(manager);
    const path = ['secrets', index, 'gitlab', 'managerSecret'];
    if (found === undefined || found.secret.gitlab === undefined || found.index === index) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `must name another "${GITLAB_PROVIDER}" secret of this stage (its token creates and revokes this one), got ${show(manager)}`,
      });
    } else if (gitlabModeOf(found.secret.gitlab) !== 'self' || found.secret.gitlab.origin !== secret.gitlab!.origin) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `must name a secret in self mode on the same GitLab origin (a manager rotates itself), got ${show(manager)}`,
      });
    }
  });
}

/** The validated block with its defaults applied. */
export function toGitLabConfig(
  file: GitLabFile,
  secret: { readonly schedule: string; readonly window: string },
  graceSeconds: number,
  secretNamePrefix: string,
): RotorGitLabConfig {
  const gap = longestRotationGapSeconds(secret.schedule, parseWindowHours(secret.window)!)!;
  return {
    origin: file.origin,
    type: file.type,
    ...(file.owner === undefined ? {} : { owner: file.owner }),
    scopes: file.scopes,
    ...(file.type === 'personal' ? {} : { accessLevel: file.accessLevel ?? 40 }),
    mode: gitlabModeOf(file),
    ...(file.managerSecret === undefined ? {} : { managerSecret: `${secretNamePrefix}${file.managerSecret}` }),
    expiryHorizonSeconds: gap + graceSeconds,
    expiryMarginSeconds: file.expiryMarginSeconds ?? DEFAULT_GITLAB_EXPIRY_MARGIN_SECONDS,
    ...(file.tlsMinVersion === undefined ? {} : { tlsMinVersion: file.tlsMinVersion }),
  };
}
