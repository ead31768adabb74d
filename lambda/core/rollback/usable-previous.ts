import type { CredentialHealthDependencies } from '../health/credential-health';
import { proveCredential } from '../health/credential-health';
import type { CredentialVersionRef } from '../ledger/ledger';
import type { SecretLedgerState } from '../ledger/ledger-records';
import { findVersionWithStage } from '../rotation/rotation-guards';
import { AWSCURRENT, AWSPREVIOUS, type SecretDescription, type SecretStore } from '../rotation/secret-store';

/**
 * A rollback takes a few seconds; a previous credential whose grace ends sooner than this is not
 * restored, so that its retirement cannot land in the middle of the rollback.
 */
export const GRACE_MARGIN_MS = 30_000;

export type PreviousVerdict =
  | {
      readonly usable: true;
      /** AWSCURRENT: the bad credential. */
      readonly from: CredentialVersionRef;
      /** AWSPREVIOUS: the credential to restore. */
      readonly to: CredentialVersionRef;
    }
  | { readonly usable: false; readonly reason: string };

export interface UsablePreviousDependencies extends CredentialHealthDependencies {
  readonly store: Pick<SecretStore, 'readVersion'>;
}

/**
 * Whether AWSCURRENT can move back to AWSPREVIOUS. All of these must hold:
 *
 * 1. the ledger's current version is AWSCURRENT (otherwise the ledger and Secrets Manager
 *    disagree, and a person must look);
 * 2. the ledger's previous version is AWSPREVIOUS;
 * 3. the ledger has that credential `previous` (not revoked, not retired), for this secret, with
 *    at least {@link GRACE_MARGIN_MS} of its grace left;
 * 4. AWSPREVIOUS holds that very credential (same fingerprint), and it passes its provider's test.
 *
 * The first that fails is the reason.
 */
export async function findUsablePrevious(
  secret: SecretDescription,
  state: SecretLedgerState,
  deps: UsablePreviousDependencies,
): Promise<PreviousVerdict> {
  const current = findVersionWithStage(secret, AWSCURRENT);
  const previous = findVersionWithStage(secret, AWSPREVIOUS);
  if (current === undefined) return refuse('the secret has no AWSCURRENT version');
  if (state.currentVersionId !== current || state.currentFingerprint === undefined) {
    return refuse(
      `the ledger's current version is ${state.currentVersionId ?? '(none)'}, but AWSCURRENT is ${current}`,
    );
  }
  if (previous === undefined) return refuse('the secret has no AWSPREVIOUS version');
  if (state.previousVersionId === undefined || state.previousFingerprint === undefined) {
    return refuse('the ledger has no previous credential');
  }
  if (state.previousVersionId !== previous) {
    return refuse(`AWSPREVIOUS is version ${previous}, but the ledger's previous is ${state.previousVersionId}`);
  }

  const record = await deps.ledger.getCredential(state.previousFingerprint);
  const now = deps.now();
  if (record === undefined || record.secretArn !== secret.arn) {
    return refuse(`the ledger no longer knows the previous credential (version ${previous})`);
  }
  if (record.state !== 'previous') return refuse(`the previous credential (version ${previous}) is ${record.state}`);
  if (record.graceEndsAt === undefined || record.graceEndsAt - GRACE_MARGIN_MS <= now) {
    const at = record.graceEndsAt === undefined ? 'no grace' : new Date(record.graceEndsAt).toISOString();
    return refuse(`the previous credential's grace (version ${previous}) is over or about to be: it ends ${at}`);
  }

  const problem = await awsPreviousProblem(secret, previous, state.previousFingerprint, 'previous', deps);
  if (problem !== undefined) return refuse(problem);
  return {
    usable: true,
    from: { versionId: current, fingerprint: state.currentFingerprint },
    to: { versionId: previous, fingerprint: state.previousFingerprint },
  };
}

function refuse(reason: string): PreviousVerdict {
  return { usable: false, reason };
}

/**
 * Why AWSPREVIOUS (version `versionId`) cannot be moved back to AWSCURRENT, or undefined when it
 * holds a credential that passes its provider's test and is the one the ledger knows as its
 * `which` credential (fingerprint `fingerprint`).
 */
export async function awsPreviousProblem(
  secret: SecretDescription,
  versionId: string,
  fingerprint: string | undefined,
  which: 'current' | 'previous',
  deps: UsablePreviousDependencies,
): Promise<string | undefined> {
  const proven = await proveCredential(
    {
      secretArn: secret.arn,
      secretName: secret.name,
      versionId,
      stage: AWSPREVIOUS,
      value: await deps.store.readVersion(secret.arn, versionId, AWSPREVIOUS),
    },
    deps,
  );
  if (!proven.ok) {
    return proven.health.status === 'unhealthy'
      ? proven.health.reason
      : `AWSPREVIOUS (version ${versionId}) holds no credential`;
  }
  if (proven.fingerprint !== fingerprint) {
    return `AWSPREVIOUS (version ${versionId}) holds another credential than the ledger's ${which} one`;
  }
  return undefined;
}
