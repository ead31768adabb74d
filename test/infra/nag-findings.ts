import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';

/**
 * The unacknowledged findings of both packs every synth runs (AwsSolutions and NIST 800-53 rev 5),
 * errors and warnings alike. cdk-nag 3.x reports findings as a policy-validation report;
 * `validateScope` returns it directly.
 */
export function findings(app: App): { rule: string; severity: string | undefined; paths: (string | undefined)[] }[] {
  return [new AwsSolutionsChecks(app), new NIST80053R5Checks(app)].flatMap((pack) =>
    pack.validateScope(app).violations.map((violation) => ({
      rule: violation.ruleName,
      severity: violation.severity,
      paths: violation.violatingResources.map((resource) => resource.constructPath),
    })),
  );
}
