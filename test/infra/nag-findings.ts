import type { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/** cdk-nag 3.x reports findings as a policy-validation report; `validateScope` returns it directly. */
export function findings(app: App): { rule: string; severity: string | undefined; paths: (string | undefined)[] }[] {
  const report = new AwsSolutionsChecks(app).validateScope(app);
  return report.violations.map((violation) => ({
    rule: violation.ruleName,
    severity: violation.severity,
    paths: violation.violatingResources.map((resource) => resource.constructPath),
  }));
}
