import { readSecretDocument } from './read-secret-document';
import { AWSPENDING } from './secret-store';
import type { RotationStepContext, StepReport } from './rotation-step-context';

/** setSecret: registers the pending credential with its target, for providers that have one. */
export async function setSecret(context: RotationStepContext): Promise<StepReport> {
  const pending = await readSecretDocument(context, context.event.clientRequestToken, AWSPENDING);
  if (pending.provider.set === undefined) return { outcome: 'nothing-to-set', provider: pending.provider.name };
  await pending.provider.set(pending.document, context.provider);
  return { outcome: 'set', provider: pending.provider.name };
}
