import { RotationNotAllowedError, UnexpectedVersionError } from '../errors';
import { AWSCURRENT, AWSPENDING, type SecretDescription } from './secret-store';

/** Where a rotation step stands after the guards. */
export type GuardVerdict =
  | { readonly kind: 'proceed'; readonly currentVersionId: string }
  /** The version is already AWSCURRENT: a late retry of a finished rotation, nothing to do. */
  | { readonly kind: 'already-current' };

export interface GuardOptions {
  /** Secrets whose name does not start with this are refused. */
  readonly secretNamePrefix?: string;
}

/**
 * The checks of Secrets Manager's rotation protocol, run before every step: rotation is
 * enabled, the secret is one Rotor manages, the token is a version of the secret, and that
 * version is AWSPENDING (or already AWSCURRENT, in which case there is nothing to do).
 */
export function checkRotationGuards(
  secret: SecretDescription,
  versionId: string,
  options: GuardOptions = {},
): GuardVerdict {
  if (!secret.rotationEnabled) {
    throw new RotationNotAllowedError(`secret ${secret.name} does not have rotation enabled`);
  }
  if (options.secretNamePrefix !== undefined && !secret.name.startsWith(options.secretNamePrefix)) {
    throw new RotationNotAllowedError(
      `secret ${secret.name} is outside this Rotor stage (names must start with '${options.secretNamePrefix}')`,
    );
  }
  const stages = secret.versionStages[versionId];
  if (stages === undefined) {
    throw new UnexpectedVersionError(
      `version ${versionId} is not a labelled version of secret ${secret.name} (unknown, or left by an abandoned rotation)`,
    );
  }
  if (stages.includes(AWSCURRENT)) return { kind: 'already-current' };
  if (!stages.includes(AWSPENDING)) {
    throw new UnexpectedVersionError(
      `version ${versionId} of secret ${secret.name} is not AWSPENDING (labels: ${stages.join(', ') || 'none'}); ` +
        'only the pending version of a rotation in progress can be rotated',
    );
  }
  const currentVersionId = findVersionWithStage(secret, AWSCURRENT);
  if (currentVersionId === undefined) {
    throw new UnexpectedVersionError(`secret ${secret.name} has no AWSCURRENT version to rotate from`);
  }
  return { kind: 'proceed', currentVersionId };
}

/** The id of the version that carries `stage`, if any. */
export function findVersionWithStage(secret: SecretDescription, stage: string): string | undefined {
  return Object.entries(secret.versionStages).find(([, stages]) => stages.includes(stage))?.[0];
}
