import type { CredentialVersionRef } from '../ledger/ledger';
import type { SecretLedgerState } from '../ledger/ledger-records';
import { findVersionWithStage } from '../rotation/rotation-guards';
import { AWSCURRENT, AWSPREVIOUS, type SecretDescription } from '../rotation/secret-store';
import { awsPreviousProblem, type UsablePreviousDependencies } from './usable-previous';

export type RestoreVerdict =
  | {
      readonly restorable: true;
      /** AWSCURRENT: the version written outside Rotor. */
      readonly from: { readonly versionId: string };
      /** AWSPREVIOUS: the ledger's current credential, to restore. */
      readonly to: CredentialVersionRef;
    }
  | { readonly restorable: false; readonly reason: string };

/**
 * Whether AWSCURRENT was taken by a version written outside Rotor (a PutSecretValue from the
 * console, the CLI, a script: Secrets Manager then moves AWSPREVIOUS to the version that was
 * current), and can move back to the credential Rotor issued. All of these must hold:
 *
 * 1. AWSCURRENT is neither the ledger's current version nor its pending one (a promotion the
 *    ledger has not recorded yet is Rotor's own, not an out-of-band change);
 * 2. AWSPREVIOUS is the ledger's current version;
 * 3. the ledger has that credential `current` (so neither revoked, retired nor compromised) for
 *    this secret;
 * 4. AWSPREVIOUS holds that very credential (it parses as a document of a provider Rotor runs,
 *    and its fingerprint is the ledger's), and it passes its provider's test.
 *
 * A value Rotor did not issue is never adopted: the fingerprint must be one the ledger recorded.
 * The first that fails is the reason.
 */
export async function findRestorableCurrent(
  secret: SecretDescription,
  state: SecretLedgerState,
  deps: UsablePreviousDependencies,
): Promise<RestoreVerdict> {
  const current = findVersionWithStage(secret, AWSCURRENT);
  const previous = findVersionWithStage(secret, AWSPREVIOUS);
  const known = state.currentVersionId;
  if (current === undefined) return refuse('the secret has no AWSCURRENT version');
  if (known === undefined || state.currentFingerprint === undefined)
    return refuse('the ledger has no current credential');
  if (current === known) return refuse(`AWSCURRENT is the ledger's current version ${known}`);
  if (current === state.pendingVersionId) {
    return refuse(`AWSCURRENT is the ledger's pending version ${current}, whose promotion is not recorded yet`);
  }
  if (previous !== known) {
    return refuse(
      `AWSCURRENT is version ${current}, which Rotor did not promote, and AWSPREVIOUS is ${previous ?? '(none)'}, ` +
        `not the ledger's current version ${known}`,
    );
  }

  const record = await deps.ledger.getCredential(state.currentFingerprint);
  if (record === undefined || record.secretArn !== secret.arn) {
    return refuse(`the ledger no longer knows its current credential (version ${known})`);
  }
  if (record.state !== 'current')
    return refuse(`the ledger's current credential (version ${known}) is ${record.state}`);

  const problem = await awsPreviousProblem(secret, known, state.currentFingerprint, 'current', deps);
  if (problem !== undefined) return refuse(problem);
  return {
    restorable: true,
    from: { versionId: current },
    to: { versionId: known, fingerprint: state.currentFingerprint },
  };
}

function refuse(reason: string): RestoreVerdict {
  return { restorable: false, reason };
}
