import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { ROTATION_STEPS } from '../../lambda/core/rotation/rotation-event';
import { AWSCURRENT, AWSPENDING } from '../../lambda/core/rotation/secret-store';
import { DEFAULT_SIDE_EFFECT_LEASE_SECONDS } from '../../lambda/shared/rotor-constants';
import { finishLocally, type StepAttempt } from '../local/local-rotation';
import { OperationFailedError } from './cli-errors';
import { findSecret, whereOf, type FoundSecret } from './find-secret';
import { localStageConfig } from './local-environment';
import { withLocalIam } from '../local/local-iam';
import { operatorContext, type OperatorContext, type OperatorOptions } from './operator-context';
import { planRepair, type RepairFindings, type RepairPlan } from './repair-plan';

export interface RepairOptions extends OperatorOptions {
  readonly dryRun?: boolean | undefined;
}

/**
 * `rotor repair SECRET`: diagnoses a secret (labels, the pending version and whether it holds a
 * value, ledger status and pause, side-effect journal), prints what it found and what it will do,
 * then does it unless `--dry-run`: finishes an unfinished rotation whose credential may be in use,
 * or cancels one that holds nothing anyone can be using.
 */
export async function repair(secretId: string, options: RepairOptions): Promise<void> {
  const context = await operatorContext('repair', options, false);
  const secret = await findSecret(context.secretsManager, secretId, whereOf(options, options.region));
  const findings = await diagnose(context, secret);
  const plan = planRepair(findings);
  printFindings(secret, findings, plan);
  if (plan.action.kind === 'none') return;
  if (plan.action.kind === 'wait') {
    throw new OperationFailedError(
      `${secret.Name}: a provider call is in flight; run \`rotor repair ${secret.Name}\` again in ${plan.action.seconds} s`,
    );
  }
  if (options.dryRun) {
    process.stdout.write('dry run: nothing changed\n');
    return;
  }
  if (plan.action.kind === 'remove-pending-label') {
    await context.secretsManager.send(
      new UpdateSecretVersionStageCommand({
        SecretId: secret.ARN,
        VersionStage: AWSPENDING,
        RemoveFromVersionId: plan.action.versionId,
      }),
    );
    process.stdout.write(`repaired: AWSPENDING removed from ${plan.action.versionId}\n`);
    return;
  }
  const attempts = await finish(context, secret, plan.action.versionId, options);
  const failed = attempts.find((attempt) => !attempt.ok);
  if (failed !== undefined) {
    throw new OperationFailedError(
      `${secret.Name}: finishing rotation ${plan.action.versionId} failed at ${failed.step} (${failed.error?.errorType}: ` +
        `${failed.error?.errorMessage}); AWSPENDING is kept, it holds a credential that may be the only valid one: ` +
        `fix the cause and run \`rotor repair ${secret.Name}\` again`,
    );
  }
  process.stdout.write(`repaired: rotation ${plan.action.versionId} finished, it is AWSCURRENT\n`);
}

async function diagnose(context: OperatorContext, secret: FoundSecret): Promise<RepairFindings> {
  const labels = Object.entries(secret.VersionIdsToStages ?? {});
  const currentVersionId = labels.find(([, stages]) => stages.includes(AWSCURRENT))?.[0];
  const pendingVersionId = labels.find(([, stages]) => stages.includes(AWSPENDING))?.[0];
  const [ledger, journal] = await Promise.all([
    context.ledger.getSecretState(secret.ARN),
    context.ledger.readJournal(secret.ARN),
  ]);
  let pendingHasValue: boolean | undefined;
  let pendingProvider: string | undefined;
  if (pendingVersionId !== undefined) {
    const value = await valueOf(context, secret.ARN, pendingVersionId);
    pendingHasValue = value !== undefined;
    if (value !== undefined) pendingProvider = providerOf(value);
  }
  return {
    secretName: secret.Name,
    ...(currentVersionId === undefined ? {} : { currentVersionId }),
    ...(pendingVersionId === undefined ? {} : { pendingVersionId }),
    ...(pendingHasValue === undefined ? {} : { pendingHasValue }),
    ...(pendingProvider === undefined ? {} : { pendingProvider }),
    ...(ledger === undefined ? {} : { ledger }),
    journal,
    now: Date.now(),
    claimLeaseMs: DEFAULT_SIDE_EFFECT_LEASE_SECONDS * 1000,
  };
}

async function valueOf(context: OperatorContext, secretArn: string, versionId: string): Promise<string | undefined> {
  try {
    const version = await context.secretsManager.send(
      new GetSecretValueCommand({ SecretId: secretArn, VersionId: versionId, VersionStage: AWSPENDING }),
    );
    return version.SecretString ?? '';
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

function providerOf(raw: string): string {
  try {
    const document = JSON.parse(raw) as { provider?: unknown };
    return typeof document.provider === 'string' ? document.provider : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

// What is printed never includes a value: versions, labels, states, fingerprint-free journal facts.
function printFindings(secret: FoundSecret, findings: RepairFindings, plan: RepairPlan): void {
  const lines = [`${secret.Name}`];
  lines.push(`  AWSCURRENT  ${findings.currentVersionId ?? '(none)'}`);
  if (findings.pendingVersionId !== undefined) {
    const value = findings.pendingHasValue ? `holds a value (provider ${findings.pendingProvider})` : 'holds no value';
    lines.push(`  AWSPENDING  ${findings.pendingVersionId}  ${value}`);
  }
  const state = findings.ledger;
  lines.push(
    `  ledger      ${state === undefined ? 'no state (never rotated)' : `status ${state.status}, generation ${state.generation}`}`,
  );
  for (const entry of findings.journal) {
    lines.push(
      `  journal     ${entry.action} by rotation ${entry.versionId} at ${new Date(entry.claimedAt).toISOString()}, ` +
        `${entry.outcome}${entry.spendsCredential ? ', spent a single-use credential' : ''}`,
    );
  }
  lines.push(`diagnosis: ${plan.diagnosis}`);
  lines.push(`action: ${plan.explanation}`);
  for (const note of plan.notes) lines.push(`note: ${note}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** Runs the rotation's steps again: locally with the bundle, in an account through the secret's rotation function. */
async function finish(
  context: OperatorContext,
  secret: FoundSecret,
  versionId: string,
  options: RepairOptions,
): Promise<readonly StepAttempt[]> {
  const { region } = options;
  const show = (attempt: StepAttempt) =>
    process.stdout.write(
      `  ${attempt.step.padEnd(13)} ${attempt.ok ? `ok      ${attempt.outcome ?? ''}` : `FAILED  ${attempt.error?.errorType}`}\n`,
    );
  if (context.local !== undefined) {
    return withLocalIam(context.local, localStageConfig(options), (local) =>
      finishLocally(local, secret.ARN, versionId, show),
    );
  }

  const functionArn = secret.RotationLambdaARN;
  if (functionArn === undefined) {
    throw new OperationFailedError(
      `${secret.Name} names no rotation function (RotationLambdaARN); \`rotor doctor\` checks the wiring`,
    );
  }
  const lambda = new LambdaClient(region === undefined ? {} : { region });
  const attempts: StepAttempt[] = [];
  for (const step of ROTATION_STEPS) {
    // The same event Secrets Manager sends; the function's steps are safe to run again.
    const invoked = await lambda.send(
      new InvokeCommand({
        FunctionName: functionArn,
        Payload: Buffer.from(JSON.stringify({ Step: step, SecretId: secret.ARN, ClientRequestToken: versionId })),
      }),
    );
    const payload = invoked.Payload === undefined ? '' : Buffer.from(invoked.Payload).toString();
    const attempt: StepAttempt =
      invoked.FunctionError === undefined
        ? { attempt: 1, step, ok: true, logs: [] }
        : { attempt: 1, step, ok: false, logs: [], error: functionError(payload) };
    attempts.push(attempt);
    show(attempt);
    if (!attempt.ok) return attempts;
  }
  // The function said every step is done: AWSPENDING goes only once its version is AWSCURRENT,
  // since it may hold the only valid credential (a function that answered without running, or
  // another stage's, would otherwise cost it).
  const after = await context.secretsManager.send(new DescribeSecretCommand({ SecretId: secret.ARN }));
  if (!(after.VersionIdsToStages?.[versionId] ?? []).includes(AWSCURRENT)) {
    throw new OperationFailedError(
      `${secret.Name}: ${functionArn} answered every step without error, but rotation ${versionId} is not AWSCURRENT; ` +
        'AWSPENDING is kept, it holds a credential that may be the only valid one: check the function and its log, ' +
        `then run \`rotor repair ${secret.Name}\` again`,
    );
  }
  await context.secretsManager.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secret.ARN,
      VersionStage: AWSPENDING,
      RemoveFromVersionId: versionId,
    }),
  );
  return attempts;
}

function functionError(payload: string): { errorType: string; errorMessage: string } {
  try {
    const parsed = JSON.parse(payload) as { errorType?: string; errorMessage?: string };
    return { errorType: parsed.errorType ?? 'Error', errorMessage: parsed.errorMessage ?? payload };
  } catch {
    return { errorType: 'Error', errorMessage: payload };
  }
}
