import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

// cfn-lint's exit status is a bit set: 2 = an error, 4 = a warning, 8 = an informational finding
// (all three count by default); 1 = cfn-lint itself failed (bad arguments, unparsable template).
export const ERROR_BIT = 2;

export interface CfnLintFinding {
  readonly rule: string;
  readonly level: string;
  readonly file: string;
  readonly where: string;
  readonly message: string;
}

/** Runs cfn-lint on `templates` (in `region` if given) and returns its exit status and findings. */
export function cfnLint(templates: readonly string[], region?: string): { status: number; findings: CfnLintFinding[] } {
  const result = spawnSync(
    'cfn-lint',
    ['--format', 'json', ...(region ? ['--regions', region] : []), '--template', ...templates],
    {
      encoding: 'utf8',
    },
  );
  if (result.error) {
    throw new Error(
      `cfn-lint could not be run (${result.error.message}): install it with \`pip install cfn-lint\` and put it on PATH`,
    );
  }
  if (result.status === null || result.status === 1) {
    throw new Error(`cfn-lint failed (status ${result.status}): ${result.stderr}`);
  }
  const matches = JSON.parse(result.stdout || '[]') as {
    Filename: string;
    Level: string;
    Message: string;
    Location: { Path: (string | number)[] };
    Rule: { Id: string };
  }[];
  return {
    status: result.status,
    findings: matches.map((match) => ({
      rule: match.Rule.Id,
      level: match.Level,
      file: match.Filename,
      where: match.Location.Path.join('/'),
      message: match.Message,
    })),
  };
}

/** A template and the region its stack deploys to (none: cfn-lint's default, for environment-agnostic stacks). */
export interface LintTarget {
  readonly path: string;
  readonly region?: string;
}

/** What cfn-lint said about each template of a {@link cfnLintByRegion} run. */
export interface LintedTemplates {
  /** The exit status of the run that linted `path` (the runs of other regions aside). */
  statusOf(path: string): number;
  /** The findings in `paths`, in cfn-lint's order. */
  findingsIn(paths: readonly string[]): CfnLintFinding[];
}

/**
 * Lints every target in its region with one cfn-lint run per region: starting cfn-lint (about 2 s
 * of CPU to load its rules) costs more than linting most templates, so one run for many templates
 * is much cheaper than one each. Findings are told apart by the file they name.
 */
export function cfnLintByRegion(targets: readonly LintTarget[]): LintedTemplates {
  const byRegion = new Map<string | undefined, string[]>();
  for (const { path, region } of targets) byRegion.set(region, [...(byRegion.get(region) ?? []), resolve(path)]);
  const statusByPath = new Map<string, number>();
  const findings: CfnLintFinding[] = [];
  for (const [region, paths] of byRegion) {
    const run = cfnLint(paths, region);
    for (const path of paths) statusByPath.set(path, run.status);
    findings.push(...run.findings);
  }
  return {
    statusOf(path) {
      const status = statusByPath.get(resolve(path));
      if (status === undefined) throw new Error(`${path} was not linted`);
      return status;
    },
    findingsIn(paths) {
      const wanted = new Set(paths.map((path) => resolve(path)));
      return findings.filter((finding) => wanted.has(resolve(finding.file)));
    },
  };
}
