import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { ROTATION_STEPS, type RotationStep } from '../../lambda/core/rotation/rotation-event';
import { AWSCURRENT, AWSPENDING } from '../../lambda/core/rotation/secret-store';
import { LambdaBundle } from '../../lambda/shared/rotor-constants';
import { invokeBundle, invokeBundleSequence, type BundleInvocation } from './invoke-bundle';
import { localClients } from './local-clients';
import type { LocalEnvironment } from './provision-local';

/** One invocation of one step, as the local driver saw it. */
export interface StepAttempt {
  readonly attempt: number;
  readonly step: RotationStep;
  readonly ok: boolean;
  /** The handler's `outcome` log field (created, already-created, promoted, ...). */
  readonly outcome?: string;
  readonly error?: { readonly errorType: string; readonly errorMessage: string };
  readonly logs: readonly string[];
}

export interface LocalRotationOptions {
  /** How many times the whole sequence may run for one version. @default 3 */
  readonly maxAttempts?: number;
  /** Pause before a retry, doubled each time. @default 500 ms */
  readonly retryDelayMs?: number;
  /** Called with each step's outcome (after the attempt's process ended, unless `processPerStep`). */
  readonly onStep?: (attempt: StepAttempt) => void;
  /**
   * Each step in a fresh process (a cold container per step), with `onStep` called before the
   * next step starts, so that a caller can change the world between steps.
   *
   * @default false - the steps of an attempt share one process
   */
  readonly processPerStep?: boolean;
}

export interface LocalRotationResult {
  readonly secretArn: string;
  readonly versionId: string;
  /** true when an unfinished rotation was picked up instead of starting a new one. */
  readonly resumed: boolean;
  readonly attempts: readonly StepAttempt[];
}

export class LocalRotationFailedError extends Error {
  constructor(
    message: string,
    readonly attempts: readonly StepAttempt[],
    /** true when the failure cannot succeed on retry, so the rotation was not run again. */
    readonly permanent = false,
    /** true when the refused rotation's valueless AWSPENDING was removed, leaving the secret as it was. */
    readonly pendingRemoved = false,
  ) {
    super(message);
    this.name = 'LocalRotationFailedError';
  }
}

/**
 * Errors of the rotation function that the same rotation cannot get past by running again: the
 * secret, its document or the stage refuses it, or a person must act first (resume, bootstrap).
 * Anything else (a provider timeout, a propagation delay, a busy twin) is retried.
 */
export const PERMANENT_ROTATION_ERRORS: ReadonlySet<string> = new Set([
  'InvalidRotationEventError',
  'RotationNotAllowedError',
  'UnexpectedVersionError',
  'MalformedSecretError',
  'UnsupportedProviderError',
  'MissingJournalError',
  'RotorConfigurationError',
  'RotorSettingsError',
  'RotationPausedError',
  'UpstreamReuseSuspectedError',
  'ReauthorizationRequiredError',
]);

/**
 * Plays Secrets Manager's part against the emulator: starts a rotation the way RotateSecret
 * does (the emulator creates the empty AWSPENDING version and runs nothing), then invokes
 * the bundled rotation handler for createSecret, setSecret, testSecret and finishSecret, one
 * after the other in a fresh process (one warm container, as Lambda usually serves a rotation's
 * steps). A failed step makes the whole sequence run again with the same version id, in a new
 * process, as Secrets Manager retries a rotation, up to `maxAttempts`.
 */
export async function rotateLocally(
  local: LocalEnvironment,
  secretId: string,
  options: LocalRotationOptions = {},
): Promise<LocalRotationResult> {
  const { arn, versionId, resumed } = await beginRotation(local, secretId);
  const attempts: StepAttempt[] = [];
  const maxAttempts = options.maxAttempts ?? 3;
  let delay = options.retryDelayMs ?? 500;

  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    if (await runSteps(local, arn, versionId, attempt, attempts, options)) {
      await clearPendingLabel(local, arn, versionId);
      return { secretArn: arn, versionId, resumed, attempts };
    }
    const failed = attempts[attempts.length - 1];
    if (failed?.error !== undefined && PERMANENT_ROTATION_ERRORS.has(failed.error.errorType)) {
      // Refused before anything was stored: remove the empty AWSPENDING that RotateSecret made, as
      // cancelling a rotation on Secrets Manager does, so the next rotation is not blocked by it.
      const removed = failed.step === 'createSecret' && !(await hasValue(local, arn, versionId));
      if (removed) await clearPendingLabel(local, arn, versionId);
      throw new LocalRotationFailedError(
        `rotation of ${secretId} refused at ${failed.step}: ${failed.error.errorType}: ${failed.error.errorMessage}`,
        attempts,
        true,
        removed,
      );
    }
    if (attempt < maxAttempts) {
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay *= 2;
    }
  }
  const last = attempts[attempts.length - 1];
  throw new LocalRotationFailedError(
    `rotation of ${secretId} failed ${maxAttempts} times; last: ${last?.step} ${last?.error?.errorType}: ${last?.error?.errorMessage}`,
    attempts,
  );
}

async function runSteps(
  local: LocalEnvironment,
  secretArn: string,
  versionId: string,
  attempt: number,
  attempts: StepAttempt[],
  { onStep, processPerStep = false }: Pick<LocalRotationOptions, 'onStep' | 'processPerStep'>,
): Promise<boolean> {
  const events = ROTATION_STEPS.map((step) => ({ Step: step, SecretId: secretArn, ClientRequestToken: versionId }));
  const invocations = processPerStep
    ? stepByStep(events, local)
    : (await invokeBundleSequence(LambdaBundle.rotation, events, { env: local.env })).values();
  let index = 0;
  for await (const invocation of invocations) {
    const outcome = invocation.ok ? outcomeFromLogs(invocation.logs) : undefined;
    const record: StepAttempt = {
      attempt,
      step: ROTATION_STEPS[index++]!,
      ok: invocation.ok,
      logs: invocation.logs,
      ...(outcome === undefined ? {} : { outcome }),
      ...(invocation.error === undefined ? {} : { error: invocation.error }),
    };
    attempts.push(record);
    onStep?.(record);
    if (!invocation.ok) return false;
  }
  return index === ROTATION_STEPS.length;
}

/** The steps' invocations, each in a fresh process started once the caller took the previous one. */
async function* stepByStep(events: readonly object[], local: LocalEnvironment): AsyncGenerator<BundleInvocation> {
  for (const event of events) yield await invokeBundle(LambdaBundle.rotation, event, { env: local.env });
}

/**
 * Runs the four steps once more for an unfinished rotation's version (its AWSPENDING holds a
 * value), as a Secrets Manager retry would, and leaves the end state of a finished rotation.
 * @returns the step attempts; the last one failed when the rotation did not finish.
 */
export async function finishLocally(
  local: LocalEnvironment,
  secretArn: string,
  versionId: string,
  onStep?: (attempt: StepAttempt) => void,
): Promise<readonly StepAttempt[]> {
  const attempts: StepAttempt[] = [];
  if (await runSteps(local, secretArn, versionId, 1, attempts, onStep === undefined ? {} : { onStep })) {
    await clearPendingLabel(local, secretArn, versionId);
  }
  return attempts;
}

/**
 * Starts a rotation with RotateSecret, or resumes the unfinished one (an AWSPENDING version
 * that is not AWSCURRENT), as Secrets Manager's retry would.
 */
export async function beginRotation(
  local: LocalEnvironment,
  secretId: string,
): Promise<{ arn: string; versionId: string; resumed: boolean }> {
  const { secretsManager } = localClients(local.endpoint);
  const secret = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
  const arn = secret.ARN;
  if (arn === undefined) throw new Error(`the emulator described ${secretId} without an ARN`);
  const stages = Object.entries(secret.VersionIdsToStages ?? {});
  const pending = stages.find(([, labels]) => labels.includes(AWSPENDING));
  if (pending !== undefined && !pending[1].includes(AWSCURRENT)) {
    return { arn, versionId: pending[0], resumed: true };
  }
  if (pending !== undefined) {
    // AWSPENDING left on the current version by a finished rotation is a valid end state on
    // AWS too; the emulator refuses the next RotateSecret while it is there.
    await secretsManager.send(
      new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: AWSPENDING, RemoveFromVersionId: pending[0] }),
    );
  }
  const started = await secretsManager.send(
    new RotateSecretCommand({
      SecretId: arn,
      RotationLambdaARN: local.rotationFunctionArn,
      // The emulator only marks rotation enabled for AutomaticallyAfterDays rules (it ignores
      // ScheduleExpression); the deployed stack uses the configured schedule.
      RotationRules: { AutomaticallyAfterDays: 1 },
    }),
  );
  if (started.VersionId === undefined) throw new Error(`RotateSecret on ${secretId} returned no VersionId`);
  return { arn, versionId: started.VersionId, resumed: false };
}

/**
 * After a finished rotation AWS leaves AWSPENDING on the new current version or on none; the
 * emulator refuses the next RotateSecret (from anyone, the verifier's reuse response included)
 * unless it is on none, so leave that end state.
 */
async function clearPendingLabel(local: LocalEnvironment, secretArn: string, versionId: string): Promise<void> {
  await localClients(local.endpoint).secretsManager.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretArn,
      VersionStage: AWSPENDING,
      RemoveFromVersionId: versionId,
    }),
  );
}

/** True when the version holds a value (RotateSecret's AWSPENDING holds none until createSecret stores one). */
export async function hasValue(local: LocalEnvironment, secretArn: string, versionId: string): Promise<boolean> {
  try {
    await localClients(local.endpoint).secretsManager.send(
      new GetSecretValueCommand({ SecretId: secretArn, VersionId: versionId }),
    );
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

/** The `outcome` field of the handler's "rotation step completed" log line. */
export function outcomeFromLogs(logs: readonly string[]): string | undefined {
  for (const line of logs) {
    if (!line.startsWith('{')) continue;
    try {
      const entry = JSON.parse(line) as { message?: unknown; outcome?: unknown };
      if (entry.message === 'rotation step completed' && typeof entry.outcome === 'string') return entry.outcome;
    } catch {
      // not a log record
    }
  }
  return undefined;
}
