/**
 * What a CI platform's OIDC tokens look like to AWS: the issuer, the audience, and the `sub`
 * claim a job presents. The config and the consumer role build trust conditions from these, so
 * the subjects a role trusts are exactly the ones a platform issues for the configured repository.
 * No CDK constructs here: the config validation uses the same rules.
 */

/** CI platforms whose jobs may assume a consumer role. A new platform is a new entry in {@link CI_PLATFORM}. */
export const CI_PLATFORMS = ['github-actions', 'gitlab-ci'] as const;
export type CiPlatformName = (typeof CI_PLATFORMS)[number];

/** Audience both platforms' tokens carry by default for AWS: STS is the relying party. */
export const DEFAULT_OIDC_AUDIENCE = 'sts.amazonaws.com';

/** How a ref names a branch or a tag, as git writes it (`refs/heads/main`, `refs/tags/v1.2.3`). */
const REF_KINDS = { 'refs/heads/': 'branch', 'refs/tags/': 'tag' } as const;

/** One CI platform's OIDC facts. */
export interface CiPlatform {
  readonly name: CiPlatformName;
  /** Shown in messages and role descriptions. */
  readonly title: string;
  /** Host of the issuer (`iss` without `https://`); IAM's condition keys start with it. */
  readonly defaultIssuerHost: string;
  /** Whether the config may name another issuer host (a self-managed GitLab). */
  readonly issuerHostConfigurable: boolean;
  /** The config field that names the repository (GitHub) or project (GitLab). */
  readonly repositoryField: 'repository' | 'project';
  /** What a valid repository looks like, for messages. */
  readonly repositoryExample: string;
  /** Whether a repository name is well formed (it can never hold a wildcard or a `:`). */
  readonly isRepository: (repository: string) => boolean;
  /**
   * Start of every subject the platform issues for `repository`, ending where the repository
   * ends: a subject that starts with it belongs to that repository and no other.
   */
  readonly repositorySubjectPrefix: (repository: string) => string;
  /** The `sub` of a job that runs for `ref` (`refs/heads/<branch>` or `refs/tags/<tag>`). */
  readonly refSubject: (repository: string, ref: string) => string;
  /** The `sub` of a job that deploys to `environment`, where the platform puts it in `sub`. */
  readonly environmentSubject?: (repository: string, environment: string) => string;
}

function refParts(ref: string): { kind: 'branch' | 'tag'; name: string } {
  for (const [prefix, kind] of Object.entries(REF_KINDS)) {
    if (ref.startsWith(prefix)) return { kind, name: ref.slice(prefix.length) };
  }
  throw new Error(`a ref must start with "refs/heads/" or "refs/tags/", got "${ref}"`);
}

const GITHUB_REPOSITORY = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/(?!\.{1,2}$)[A-Za-z0-9._-]{1,100}$/;
const GITLAB_PATH_SEGMENT = '[A-Za-z0-9_][A-Za-z0-9_.-]*';
const GITLAB_PROJECT = new RegExp(`^(?=.{3,255}$)${GITLAB_PATH_SEGMENT}(?:/${GITLAB_PATH_SEGMENT})+$`);

/** Every supported platform, by name. */
export const CI_PLATFORM: Readonly<Record<CiPlatformName, CiPlatform>> = {
  // https://docs.github.com/actions/reference/security/oidc#example-subject-claims
  'github-actions': {
    name: 'github-actions',
    title: 'GitHub Actions',
    defaultIssuerHost: 'token.actions.githubusercontent.com',
    issuerHostConfigurable: false,
    repositoryField: 'repository',
    repositoryExample: '"example-org/app"',
    isRepository: (repository) => GITHUB_REPOSITORY.test(repository),
    repositorySubjectPrefix: (repository) => `repo:${repository}:`,
    refSubject: (repository, ref) => `repo:${repository}:ref:${ref}`,
    environmentSubject: (repository, environment) => `repo:${repository}:environment:${environment}`,
  },
  // https://docs.gitlab.com/ci/secrets/id_token_authentication/#token-payload
  'gitlab-ci': {
    name: 'gitlab-ci',
    title: 'GitLab CI',
    defaultIssuerHost: 'gitlab.com',
    issuerHostConfigurable: true,
    repositoryField: 'project',
    repositoryExample: '"example-group/app" (the full project path)',
    isRepository: (project) => GITLAB_PROJECT.test(project),
    repositorySubjectPrefix: (project) => `project_path:${project}:`,
    refSubject: (project, ref) => {
      const { kind, name } = refParts(ref);
      return `project_path:${project}:ref_type:${kind}:ref:${name}`;
    },
  },
};

/** IAM's wildcards in `StringLike`; `StringEquals` takes them literally. */
const WILDCARD = /[*?]/;

/** Whether `value` holds a character `StringLike` would expand. */
export function hasWildcard(value: string): boolean {
  return WILDCARD.test(value);
}

// git check-ref-format, narrowed: no wildcard, no `:` (it separates the parts of a subject), no
// `..`, `//`, `@{`, control characters or spaces, and no trailing `/`, `.` or `.lock`.
const REF_NAME = /^(?!.*\/\/)(?!.*\.\.)(?!.*@\{)(?!.*\.lock$)(?!.*[/.]$)[A-Za-z0-9._\-/+@#=,]+$/;

/** Why `ref` is not an exact branch or tag ref, or undefined if it is one. */
export function exactRefProblem(ref: string): string | undefined {
  if (hasWildcard(ref)) {
    return 'must be an exact ref such as "refs/heads/main" (no * or ?); put a pattern in refPatterns';
  }
  const prefix = Object.keys(REF_KINDS).find((p) => ref.startsWith(p));
  if (prefix === undefined || !REF_NAME.test(ref.slice(prefix.length))) {
    return 'must be a branch or tag ref such as "refs/heads/main" or "refs/tags/v1.0.0"';
  }
  return undefined;
}

/**
 * Why `pattern` may not be trusted, or undefined if it may. A pattern names a branch or tag
 * prefix before its first wildcard (`refs/tags/v*`, `refs/heads/release/*`): one that matches
 * every branch or tag would let any push to the repository in.
 */
export function refPatternProblem(pattern: string): string | undefined {
  const prefix = Object.keys(REF_KINDS).find((p) => pattern.startsWith(p));
  const rest = prefix === undefined ? '' : pattern.slice(prefix.length);
  const firstWildcard = rest.search(WILDCARD);
  if (prefix === undefined || firstWildcard < 1) {
    return (
      'must start with "refs/heads/" or "refs/tags/" and at least one literal character before its first ' +
      'wildcard, such as "refs/tags/v*", so that it cannot match every branch or tag'
    );
  }
  if (!REF_NAME.test(rest.replace(/[*?]/g, 'x'))) {
    return 'must be a branch or tag ref with * or ? in its name, such as "refs/tags/v*" (no ":", "..", "//" or spaces)';
  }
  return undefined;
}

/**
 * Why a trusted subject could reach past `repositorySubjectPrefix`, or undefined if it cannot.
 * An exact subject must hold no wildcard; a pattern must keep the whole prefix, and at least one
 * more character, literal before its first wildcard. Called for every subject a consumer role
 * trusts, whatever built it.
 */
export function subjectProblem(
  subject: string,
  repositorySubjectPrefix: string,
  kind: 'exact' | 'pattern',
): string | undefined {
  if (!subject.startsWith(repositorySubjectPrefix) || subject.length === repositorySubjectPrefix.length) {
    return `must start with "${repositorySubjectPrefix}" and name a ref or an environment after it`;
  }
  const firstWildcard = subject.search(WILDCARD);
  if (kind === 'exact') {
    return firstWildcard === -1 ? undefined : 'must not contain a wildcard (* or ?): it is compared exactly';
  }
  if (firstWildcard === -1) return 'is a pattern without a wildcard: trust it as an exact subject';
  if (firstWildcard <= repositorySubjectPrefix.length) {
    return `must keep "${repositorySubjectPrefix}" and the start of a ref literal before its first wildcard, so that it cannot match every ref or reach another repository`;
  }
  return undefined;
}
