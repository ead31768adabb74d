import { createSecret } from './create-secret';
import { finishSecret } from './finish-secret';
import { checkRotationGuards } from './rotation-guards';
import type { RotationEvent, RotationStep } from './rotation-event';
import type { RotationDependencies, RotationStepContext, StepReport } from './rotation-step-context';
import type { SecretDescription } from './secret-store';
import { setSecret } from './set-secret';
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
  if (verdict.kind === 'already-current') return { ...identity, outcome: 'already-current' };

  const report = await STEPS[event.step]({
    event,
    secret,
    currentVersionId: verdict.currentVersionId,
    deps,
    provider: { secretArn: secret.arn, secretName: secret.name, versionId: event.clientRequestToken, now: deps.now },
  });
  return { ...identity, ...report };
}
