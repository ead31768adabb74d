import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import { loadRotorConfig, RotorConfigError } from '../lib/config/rotor-config';
import { LambdaBundleMissingError } from '../lib/lambda-bundle';
import { addRotorStages } from '../lib/rotor-stages';

// The CDK app: one `Rotor-<stage>` stack per stage in the config file (`-c config=<path>`,
// default rotor.config.json), checked by cdk-nag's AWS Solutions and NIST 800-53 rev 5 rules on
// every synth.
const app = new App();
const configPath = resolve(String(app.node.tryGetContext('config') ?? 'rotor.config.json'));

try {
  addRotorStages(app, loadRotorConfig(configPath));
} catch (error) {
  // A config mistake or a missing build is the operator's to fix: say what to do, not a stack trace.
  if (!(error instanceof RotorConfigError) && !(error instanceof LambdaBundleMissingError)) throw error;
  console.error(error.message);
  process.exit(1);
}

Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
