import { MalformedSecretError, UnexpectedVersionError } from '../errors';
import { parseSecretDocument, type ParsedSecretDocument } from '../secret-document';
import { readSecretDocument } from './read-secret-document';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from './secret-store';
import type { RotationStepContext, StepReport } from './rotation-step-context';

/**
 * finishSecret: makes the pending version AWSCURRENT with one UpdateSecretVersionStage
 * (Secrets Manager moves AWSPREVIOUS to the old version itself).
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
  const { secret, event, deps } = context;
  for (const observer of deps.observers ?? []) {
    await observer.promoted?.({
      secret,
      versionId: event.clientRequestToken,
      current,
      ...(previousVersionId === undefined ? {} : { previousVersionId }),
      readPrevious: async () => {
        if (previousVersionId === undefined) return undefined;
        const raw = await deps.store.readVersion(secret.arn, previousVersionId, AWSPREVIOUS);
        return raw === undefined
          ? undefined
          : parseSecretDocument(raw, deps.providers, `secret ${secret.name} (${AWSPREVIOUS})`);
      },
    });
  }
}
