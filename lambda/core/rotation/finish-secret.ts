import { MalformedSecretError, UnexpectedVersionError } from '../errors';
import { readSecretDocument } from './read-secret-document';
import { AWSCURRENT, AWSPENDING } from './secret-store';
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
    return { outcome: 'promoted', provider: pending.provider.name };
  }
  const now = await deps.store.describe(secret.arn);
  if (now.versionStages[versionId]?.includes(AWSCURRENT)) {
    return { outcome: 'already-promoted', provider: pending.provider.name };
  }
  const holder = Object.entries(now.versionStages).find(([, stages]) => stages.includes(AWSCURRENT))?.[0];
  throw new UnexpectedVersionError(
    `Secrets Manager refused to move AWSCURRENT of secret ${secret.name} from version ${currentVersionId} ` +
      `to ${versionId}; AWSCURRENT is now on version ${holder ?? '(none)'}. Not promoting.`,
  );
}
