import { localIamEnforced, localIamGate, localIamSetting } from '../local/local-iam';
import { provisionLocal } from '../local/provision-local';
import { requireLocalEndpoint } from './cli-options';
import { localStageConfig, type LocalStageOptions } from './local-environment';

/**
 * `rotor local up --endpoint URL`: provisions the stage's resources in the emulator and prints
 * the environment the Lambda bundles need, as JSON, with whether IAM is enforced. Enforced, the
 * stage's stack is synthesized here (once per stage and Rotor version: it is cached), so that the
 * commands that run the functions start at once and a policy the gate cannot evaluate is reported
 * now.
 */
export async function localUp(options: LocalStageOptions): Promise<void> {
  const endpoint = requireLocalEndpoint(options);
  const stage = localStageConfig(options);
  const local = await provisionLocal(endpoint, stage);
  if (localIamEnforced()) await localIamGate(local, stage);
  process.stdout.write(
    `${JSON.stringify({ env: local.env, secrets: local.secretNames, rotationFunctionArn: local.rotationFunctionArn, kmsKeyArn: local.kmsKeyArn, iam: localIamSetting() }, null, 2)}\n`,
  );
}
