import { MalformedSecretError, UnexpectedVersionError } from '../errors';
import { parseSecretDocument, type ParsedSecretDocument } from '../secret-document';
import { readSecretDocument } from './read-secret-document';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from './secret-store';
import type { Promoted } from './rotation-observer';
import type { RotationStepContext, StepReport } from './rotation-step-context';

/**
 * finishSecret: makes the pending version AWSCURRENT with one UpdateSecretVersionStage
 * (Secrets Manager moves AWSPREVIOUS to the old version itself). Writes, in order: the ledger's
 * supersession mark on the current credential, the stage move, the ledger's promotion, the
 * retirement schedule (see docs on the write order: a fault between any two is healed by the
 * retry, the next rotation or the retirement sweep, and the verifier answers right meanwhile).
 *
 * A version without a valid document and a credential is never promoted, whoever invokes
 * this step. Of two concurrent invocations one moves the label; the other finds its
 * RemoveFromVersionId stale, looks again, and succeeds if the label now sits on this version.
 */
export async function finishSecret(context: RotationStepContext): Promise<StepReport> {
  const { secret, event, deps, currentVersionId } = context;
  const versionId = event.clientRequestToken;
  const pending = await readSecretDocument(context, versionId, AWSPENDING);
  // A document without a credential parses (a first version may hold none), but promoting it
  // would leave consumers of AWSCURRENT with nothing to read.
  if (pending.provider.credentialOf(pending.document) === undefined) {
    throw new MalformedSecretError(`pending version ${versionId} of secret ${secret.name} holds no credential`);
  }

  // Before the move, the ledger marks the current credential with the grace it is about to get:
  // should the promotion not be recorded after the move (a fault, a crash), the verifier still
  // knows how long the ledger's `current` may be trusted, and asks Secrets Manager after that.
  for (const observer of deps.observers ?? []) {
    await observer.promoting?.(promotedEvent(context, pending, currentVersionId));
  }
  if ((await deps.store.moveCurrent(secret.arn, versionId, currentVersionId)) === 'moved') {
    await notifyPromoted(context, pending, currentVersionId);
    return { outcome: 'promoted', provider: pending.provider.name };
  }
  const now = await deps.store.describe(secret.arn);
  if (now.versionStages[versionId]?.includes(AWSCURRENT)) {
    await notifyPromoted(context, pending, currentVersionId);
    return { outcome: 'already-promoted', provider: pending.provider.name };
  }
  const holder = Object.entries(now.versionStages).find(([, stages]) => stages.includes(AWSCURRENT))?.[0];
  throw new UnexpectedVersionError(
    `Secrets Manager refused to move AWSCURRENT of secret ${secret.name} from version ${currentVersionId} ` +
      `to ${versionId}; AWSCURRENT is now on version ${holder ?? '(none)'}. Not promoting.`,
  );
}

/**
 * Tells the observers (the ledger) that `versionId` is AWSCURRENT. Also run when a late retry
 * finds the version already current: the label may have moved in an attempt that failed
 * before the ledger heard of it.
 */
export async function notifyPromoted(
  context: Pick<RotationStepContext, 'secret' | 'event' | 'deps'>,
  current: ParsedSecretDocument,
  previousVersionId: string | undefined,
): Promise<void> {
  for (const observer of context.deps.observers ?? []) {
    await observer.promoted?.(promotedEvent(context, current, previousVersionId));
  }
}

function promotedEvent(
  context: Pick<RotationStepContext, 'secret' | 'event' | 'deps'>,
  current: ParsedSecretDocument,
  previousVersionId: string | undefined,
): Promoted {
  const { secret, event, deps } = context;
  return {
    secret,
    versionId: event.clientRequestToken,
    current,
    ...(previousVersionId === undefined ? {} : { previousVersionId }),
    // Read by whatever label it carries now: AWSCURRENT before the move, AWSPREVIOUS after it.
    readPrevious: async () => {
      if (previousVersionId === undefined) return undefined;
      const raw = await deps.store.readVersion(secret.arn, previousVersionId, undefined);
      return raw === undefined
        ? undefined
        : parseSecretDocument(raw, deps.providers, `secret ${secret.name} (${AWSPREVIOUS})`);
    },
  };
}
