import { readSecretDocument } from './read-secret-document';
import { AWSPENDING } from './secret-store';
import type { RotationStepContext, StepReport } from './rotation-step-context';

/** testSecret: proves the pending credential works before anyone is switched to it. */
export async function testSecret(context: RotationStepContext): Promise<StepReport> {
  const pending = await readSecretDocument(context, context.event.clientRequestToken, AWSPENDING);
  await pending.provider.test(pending.document, context.provider);
  return { outcome: 'tested', provider: pending.provider.name };
}
