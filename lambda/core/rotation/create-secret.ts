import { serializeSecretDocument } from '../secret-document';
import { readSecretDocument } from './read-secret-document';
import { createThroughJournal } from './journaled-create';
import { assertRotationMayStart } from './rotation-gate';
import { AWSCURRENT, AWSPENDING } from './secret-store';
import type { RotationStepContext, StepReport } from './rotation-step-context';

/**
 * createSecret: makes the next credential and stores it as the AWSPENDING version, unless
 * rotation of the secret is paused (RotationPausedError).
 *
 * Safe to retry and to run twice at once: a pending version that already holds a value is
 * left alone, and of two concurrent writes Secrets Manager keeps the first (the second gets
 * ResourceExistsException, which means another invocation did this step). A provider that
 * acts outside AWS goes through the journal (`journaled-create.ts`), so a retry never makes a
 * second credential and a single-use credential is never presented twice.
 */
export async function createSecret(context: RotationStepContext): Promise<StepReport> {
  const { secret, event, deps, currentVersionId } = context;
  const versionId = event.clientRequestToken;
  if ((await deps.store.readVersion(secret.arn, versionId, AWSPENDING)) !== undefined) {
    return { outcome: 'already-created' };
  }
  // Only a rotation that has not made its credential yet is refused: one past this point may finish.
  await assertRotationMayStart(secret, deps.gate);

  const current = await readSecretDocument(context, currentVersionId, AWSCURRENT);
  if (current.provider.sideEffects === 'external') {
    return createThroughJournal(context, { versionId: currentVersionId, parsed: current });
  }

  const pending = await current.provider.create(current.document, context.provider);
  const stored = await deps.store.putPendingVersion(
    secret.arn,
    versionId,
    serializeSecretDocument(pending),
    event.rotationToken,
  );
  if (stored === 'created') {
    const parsed = { provider: current.provider, document: pending, policy: current.policy };
    for (const observer of deps.observers ?? []) await observer.pendingStored?.({ secret, versionId, pending: parsed });
  }
  return { outcome: stored === 'created' ? 'created' : 'already-created', provider: current.provider.name };
}
