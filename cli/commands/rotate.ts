import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { rotateLocally, type StepAttempt } from '../local/local-rotation';
import { prepareLocalEnvironment, type LocalStageOptions } from './local-environment';
import { UsageError } from './cli-options';

export interface RotateOptions extends LocalStageOptions {
  readonly local?: boolean | undefined;
  readonly maxAttempts?: string | undefined;
}

/**
 * `rotor rotate SECRET`: against an account, RotateSecret (what "Rotate secret immediately"
 * in the console does); Secrets Manager then runs the four steps. With `--local`, Rotor plays
 * Secrets Manager's part against the emulator and prints every step.
 */
export async function rotate(secretId: string | undefined, options: RotateOptions): Promise<void> {
  if (secretId === undefined) throw new UsageError('rotate needs the secret name or ARN');
  if (!options.local) {
    const client = new SecretsManagerClient(options.region === undefined ? {} : { region: options.region });
    const started = await client.send(new RotateSecretCommand({ SecretId: secretId }));
    process.stdout.write(
      `rotation of ${secretId} started: version ${started.VersionId} is AWSPENDING; ` +
        `Secrets Manager now runs createSecret, setSecret, testSecret and finishSecret\n`,
    );
    return;
  }

  const maxAttempts = options.maxAttempts === undefined ? 3 : Number(options.maxAttempts);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new UsageError(`--max-attempts must be a whole number of at least 1, got "${options.maxAttempts}"`);
  }
  const local = await prepareLocalEnvironment(options);
  process.stdout.write(`rotating ${secretId} on ${local.endpoint.endpoint}\n`);
  let attemptShown = 0;
  const result = await rotateLocally(local, secretId, {
    maxAttempts,
    onStep: (step: StepAttempt) => {
      if (step.attempt !== attemptShown) {
        attemptShown = step.attempt;
        if (step.attempt > 1)
          process.stdout.write(`  retrying the rotation (attempt ${step.attempt} of ${maxAttempts})\n`);
      }
      const status = step.ok
        ? `ok      ${step.outcome ?? ''}`
        : `FAILED  ${step.error?.errorType}: ${step.error?.errorMessage}`;
      process.stdout.write(`  ${step.step.padEnd(13)} ${status}\n`);
    },
  });
  process.stdout.write(
    `${result.resumed ? 'resumed and finished' : 'rotated'}: version ${result.versionId} is AWSCURRENT\n`,
  );
}
