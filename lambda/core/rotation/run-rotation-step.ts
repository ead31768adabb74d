import { createSecret } from './create-secret';
import { finishSecret, notifyPromoted } from './finish-secret';
import { readSecretDocument } from './read-secret-document';
import { findVersionWithStage } from './rotation-guards';
import { checkRotationGuards } from './rotation-guards';
import { AWSCURRENT, AWSPREVIOUS } from './secret-store';
import type { RotationEvent, RotationStep } from './rotation-event';
import type { RotationDependencies, RotationStepContext, StepReport } from './rotation-step-context';
import type { SecretDescription } from './secret-store';
import { setSecret } from './set-secret';
import { parseSecretDocument } from '../secret-document';
import { testSecret } from './test-secret';

const STEPS: Readonly<Record<RotationStep, (context: RotationStepContext) => Promise<StepReport>>> = {
  createSecret,
  setSecret,
  testSecret,
  finishSecret,
};

export interface StepResult extends StepReport {
  readonly step: RotationStep;
  readonly secretArn: string;
  readonly secretName: string;
}

/**
 * Runs one step of Secrets Manager's rotation protocol: DescribeSecret, the guards, then the
 * step itself. Every step is safe to run again and to run twice at the same time.
 */
export async function runRotationStep(
  event: RotationEvent,
  deps: RotationDependencies,
  /** Told the secret's name as soon as it is known, so a failure can be reported under it. */
  onDescribed?: (secret: SecretDescription) => void,
): Promise<StepResult> {
  const secret = await deps.store.describe(event.secretId);
  onDescribed?.(secret);
  const identity = { step: event.step, secretArn: secret.arn, secretName: secret.name };
  const verdict = checkRotationGuards(secret, event.clientRequestToken, {
    ...(deps.secretNamePrefix === undefined ? {} : { secretNamePrefix: deps.secretNamePrefix }),
  });
  if (verdict.kind === 'already-current') {
    if (event.step === 'finishSecret' && (deps.observers?.length ?? 0) > 0) {
      await notifyAlreadyPromoted({ secret, event, deps });
    }
    return { ...identity, outcome: 'already-current' };
  }

  const context: RotationStepContext = {
    event,
    secret,
    currentVersionId: verdict.currentVersionId,
    deps,
    provider: { secretArn: secret.arn, secretName: secret.name, versionId: event.clientRequestToken, now: deps.now },
  };
  if (WRITING_STEPS.has(event.step)) await prepareObservers(context);
  const report = await STEPS[event.step](context);
  return { ...identity, ...report };
}

// The steps that write to Secrets Manager. setSecret and testSecret change nothing in AWS.
const WRITING_STEPS: ReadonlySet<RotationStep> = new Set(['createSecret', 'finishSecret']);

// Every precondition that needs no write is checked before the step's first write: a pepper that
// cannot be read or a ledger that cannot be reached fails the step with Secrets Manager unchanged.
async function prepareObservers(context: RotationStepContext): Promise<void> {
  const { secret, deps, currentVersionId } = context;
  const previousVersionId = findVersionWithStage(secret, AWSPREVIOUS);
  const read = async (versionId: string | undefined, stage: string) => {
    if (versionId === undefined) return undefined;
    const raw = await deps.store.readVersion(secret.arn, versionId, stage);
    return raw === undefined ? undefined : parseSecretDocument(raw, deps.providers, `secret ${secret.name} (${stage})`);
  };
  for (const observer of deps.observers ?? []) {
    await observer.prepare?.({
      secret,
      versionId: currentVersionId,
      readCurrent: () => read(currentVersionId, AWSCURRENT),
      ...(previousVersionId === undefined ? {} : { previousVersionId }),
      readPrevious: () => read(previousVersionId, AWSPREVIOUS),
    });
  }
}

// A late finishSecret retry: AWSCURRENT already moved, perhaps in an attempt that failed
// before the observers heard of it. Telling them again is harmless (they are idempotent).
async function notifyAlreadyPromoted(context: Pick<RotationStepContext, 'secret' | 'event' | 'deps'>): Promise<void> {
  const current = await readSecretDocument(context, context.event.clientRequestToken, AWSCURRENT);
  await notifyPromoted(context, current, findVersionWithStage(context.secret, AWSPREVIOUS));
}
