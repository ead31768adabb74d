import { RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { RotorEnv } from '../../lambda/shared/rotor-constants';
import { localClients } from '../local/local-clients';
import { LocalRotationFailedError, rotateLocally, type StepAttempt } from '../local/local-rotation';
import { OperationFailedError } from './cli-errors';
import { UsageError } from './cli-options';
import { findSecret, whereOf } from './find-secret';
import { localStageConfig, prepareLocalEnvironment, type LocalStageOptions } from './local-environment';
import { withLocalIam } from '../local/local-iam';

export interface RotateOptions extends LocalStageOptions {
  readonly local?: boolean | undefined;
  readonly maxAttempts?: string | undefined;
}

/**
 * `rotor rotate SECRET`: against an account, RotateSecret (what "Rotate secret immediately"
 * in the console does); Secrets Manager then runs the four steps. With `--local`, Rotor plays
 * Secrets Manager's part against the emulator and prints every step.
 */
export async function rotate(secretId: string, options: RotateOptions): Promise<void> {
  if (!options.local) {
    const client = new SecretsManagerClient(options.region === undefined ? {} : { region: options.region });
    await findSecret(client, secretId, whereOf(options, options.region));
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
  const secret = await findSecret(localClients(local.endpoint).secretsManager, secretId, whereOf(options));
  const prefix = local.env[RotorEnv.secretNamePrefix] ?? '';
  if (!secret.Name.startsWith(prefix)) {
    // Refused before RotateSecret, which would also wire the secret to this stage's function.
    throw new UsageError(
      `${secret.Name} is not in stage ${local.stage} (its secrets start with ${prefix}): pass the secret's stage with --stage`,
    );
  }
  process.stdout.write(`rotating ${secretId} on ${local.endpoint.endpoint}\n`);
  let attemptShown = 0;
  let result;
  try {
    result = await withLocalIam(local, localStageConfig(options), (gated) =>
      rotateLocally(gated, secretId, {
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
      }),
    );
  } catch (error) {
    if (!(error instanceof LocalRotationFailedError)) throw error;
    // The step lines above carry the function's message; the last line says what happens next.
    const last = error.attempts[error.attempts.length - 1];
    if (error.permanent) {
      throw new OperationFailedError(
        `rotation of ${secretId} refused at ${last?.step} (${last?.error?.errorType}, shown above); not retried, ` +
          `since running it again cannot succeed; ` +
          (error.pendingRemoved ? 'the empty AWSPENDING was removed, the secret is as it was' : 'nothing else changed'),
      );
    }
    throw new OperationFailedError(
      `rotation of ${secretId} failed ${maxAttempts} time(s), last at ${last?.step} (shown above); ` +
        `\`rotor repair ${secretId} --local\` shows what is left and finishes or cancels it`,
    );
  }
  process.stdout.write(
    `${result.resumed ? 'resumed and finished' : 'rotated'}: version ${result.versionId} is AWSCURRENT\n`,
  );
}
