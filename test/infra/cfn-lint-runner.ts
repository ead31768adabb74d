import { spawnSync } from 'node:child_process';

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
