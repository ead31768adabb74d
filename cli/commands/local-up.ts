import { prepareLocalEnvironment, type LocalStageOptions } from './local-environment';

/**
 * `rotor local up --endpoint URL`: provisions the stage's resources in the emulator and prints
 * the environment the Lambda bundles need, as JSON.
 */
export async function localUp(options: LocalStageOptions): Promise<void> {
  const local = await prepareLocalEnvironment(options);
  process.stdout.write(
    `${JSON.stringify({ env: local.env, secrets: local.secretNames, rotationFunctionArn: local.rotationFunctionArn, kmsKeyArn: local.kmsKeyArn }, null, 2)}\n`,
  );
}
