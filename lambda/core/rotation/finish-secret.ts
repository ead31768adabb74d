import { UnexpectedVersionError } from '../errors';
import { readSecretDocument } from './read-secret-document';
import { AWSCURRENT, AWSPENDING } from './secret-store';
import type { RotationStepContext, StepReport } from './rotation-step-context';

/**
 * finishSecret: makes the pending version AWSCURRENT with one UpdateSecretVersionStage
 * (Secrets Manager moves AWSPREVIOUS to the old version itself).
 *
 * A version without a valid document is never promoted, whoever invokes this step. Of two
 * concurrent invocations one moves the label; the other finds its RemoveFromVersionId stale,
 * looks again, and succeeds if the label now sits on this version.
 */
export async function finishSecret(context: RotationStepContext): Promise<StepReport> {
  const { secret, event, deps, currentVersionId } = context;
  const versionId = event.clientRequestToken;
  const pending = await readSecretDocument(context, versionId, AWSPENDING);

  if ((await deps.store.moveCurrent(secret.arn, versionId, currentVersionId)) === 'moved') {
    return { outcome: 'promoted', provider: pending.provider.name };
  }
  const now = await deps.store.describe(secret.arn);
  if (now.versionStages[versionId]?.includes(AWSCURRENT)) {
    return { outcome: 'already-promoted', provider: pending.provider.name };
  }
  throw new UnexpectedVersionError(
    `AWSCURRENT of secret ${secret.name} moved away from version ${currentVersionId} while version ${versionId} ` +
      'was being finished; not promoting it',
  );
}
