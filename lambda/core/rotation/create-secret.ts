import { MalformedSecretError, UnsupportedProviderError } from '../errors';
import { parseSecretDocument, serializeSecretDocument, type ParsedSecretDocument } from '../secret-document';
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
  const stored = await deps.store.readVersion(secret.arn, versionId, AWSPENDING);
  if (stored !== undefined) {
    // An earlier attempt may have stored it and failed before the ledger heard of it.
    return { outcome: 'already-created', ...(await notifyStoredPending(context, stored)) };
  }
  // Only a rotation that has not made its credential yet is refused: one past this point may finish.
  await assertRotationMayStart(secret, deps.gate);

  const current = await readSecretDocument(context, currentVersionId, AWSCURRENT);
  if (current.provider.sideEffects === 'external') {
    return createThroughJournal(context, { versionId: currentVersionId, parsed: current });
  }

  const pending = await current.provider.create(current.document, context.provider);
  const written = await deps.store.putPendingVersion(
    secret.arn,
    versionId,
    serializeSecretDocument(pending),
    event.rotationToken,
  );
  if (written === 'already-exists') {
    // A twin stored its value first: that value is the pending credential, and is recorded.
    const raw = await deps.store.readVersion(secret.arn, versionId, AWSPENDING);
    return { outcome: 'already-created', ...(raw === undefined ? {} : await notifyStoredPending(context, raw)) };
  }
  const parsed = { provider: current.provider, document: pending, policy: current.policy };
  for (const observer of deps.observers ?? []) await observer.pendingStored?.({ secret, versionId, pending: parsed });
  return { outcome: 'created', provider: current.provider.name };
}

// Observers are idempotent, so telling them again about a value they may know already is safe. A
// pending value that is not a Rotor document is left to the later steps, which refuse it.
async function notifyStoredPending(context: RotationStepContext, raw: string): Promise<{ provider?: string }> {
  const { secret, event, deps } = context;
  if ((deps.observers ?? []).every((observer) => observer.pendingStored === undefined)) return {};
  let pending: ParsedSecretDocument;
  try {
    pending = parseSecretDocument(raw, deps.providers, `secret ${secret.name} (${AWSPENDING})`);
  } catch (error) {
    if (error instanceof MalformedSecretError || error instanceof UnsupportedProviderError) return {};
    throw error;
  }
  for (const observer of deps.observers ?? []) {
    await observer.pendingStored?.({ secret, versionId: event.clientRequestToken, pending });
  }
  return { provider: pending.provider.name };
}
