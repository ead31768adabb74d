import { MalformedSecretError, UnexpectedVersionError } from '../errors';
import { parseSecretDocument, type ParsedSecretDocument } from '../secret-document';
import { AWSPENDING } from './secret-store';
import type { RotationStepContext } from './rotation-step-context';

/**
 * Reads and parses the document of one version of the secret being rotated.
 * @throws UnexpectedVersionError when the pending version holds no value yet.
 * @throws MalformedSecretError / UnsupportedProviderError when the value is not a Rotor document.
 */
export async function readSecretDocument(
  context: Pick<RotationStepContext, 'secret' | 'deps'>,
  versionId: string,
  stage: string,
): Promise<ParsedSecretDocument> {
  const { secret, deps } = context;
  const raw = await deps.store.readVersion(secret.arn, versionId, stage);
  if (raw === undefined) {
    if (stage === AWSPENDING) {
      throw new UnexpectedVersionError(
        `pending version ${versionId} of secret ${secret.name} holds no value yet; createSecret must run first`,
      );
    }
    throw new MalformedSecretError(`secret ${secret.name} has no value in its ${stage} version`);
  }
  return parseSecretDocument(raw, deps.providers, `secret ${secret.name} (${stage})`);
}
