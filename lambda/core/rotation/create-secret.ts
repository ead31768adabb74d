import { MissingJournalError, SideEffectOutcomeUnknownError } from '../errors';
import type { CredentialProvider, SecretDocument } from '../providers/credential-provider';
import { serializeSecretDocument } from '../secret-document';
import { readSecretDocument } from './read-secret-document';
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
 * acts outside AWS is journalled first, so a retry never makes a second credential.
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
  if (current.provider.sideEffects === 'external' && !(await claimSideEffect(context, current.provider))) {
    return { outcome: 'already-created', provider: current.provider.name };
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

/**
 * Claims the one provider action this rotation may take.
 * @returns false when a twin invocation already stored the pending value meanwhile.
 * @throws SideEffectOutcomeUnknownError when an earlier attempt acted and its result is not stored.
 */
async function claimSideEffect(
  context: RotationStepContext,
  provider: CredentialProvider<SecretDocument>,
): Promise<boolean> {
  const { secret, event, deps } = context;
  if (deps.journal === undefined) {
    throw new MissingJournalError(`provider ${provider.name} acts outside AWS and needs a side-effect journal`);
  }
  const claim = await deps.journal.claim({
    secretArn: secret.arn,
    versionId: event.clientRequestToken,
    action: `${provider.name}:create`,
  });
  if (claim === 'claimed') return true;
  if ((await deps.store.readVersion(secret.arn, event.clientRequestToken, AWSPENDING)) !== undefined) return false;
  throw new SideEffectOutcomeUnknownError(
    `an earlier attempt of rotation ${event.clientRequestToken} of secret ${secret.name} already called provider ` +
      `${provider.name}, and no pending value was stored; Rotor will not call it again for this rotation`,
  );
}
