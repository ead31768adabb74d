import { fingerprintPrefix } from './fingerprint';
import { FINGERPRINT_LENGTH } from './fingerprint';
import type { Ledger } from './ledger';
import type { CredentialRecord } from './ledger-records';

export interface RetirementDependencies {
  readonly ledger: Ledger;
  readonly now: () => number;
  /**
   * Invalidates the credential at its issuer, for providers that can. Managed tokens need
   * nothing: once retired in the ledger, the verifier refuses them.
   */
  readonly revokeAtIssuer?: (record: CredentialRecord) => Promise<void>;
  /** Told of each revocation the sweep could not make (the handler counts RevocationFailed). */
  readonly onRevocationFailed?: (error: RevocationFailedError) => void;
}

/** The issuer refused or did not answer a revocation; the credential stays previous until a retry works. */
export class RevocationFailedError extends Error {
  constructor(
    message: string,
    readonly record: CredentialRecord,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RevocationFailedError';
  }
}

export interface RetirementResult {
  readonly outcome: 'retired' | 'not-due' | 'not-previous';
  /** The retired credential, when this call retired it. */
  readonly record?: CredentialRecord;
}

/**
 * Retires one previous credential whose grace has ended: revokes it at its issuer where the
 * provider can, then marks it retired in the ledger (idempotent: a second call finds it no longer
 * previous) and records the audit event.
 * @throws RevocationFailedError when the issuer could not revoke it (nothing changed in the ledger).
 */
export async function retireCredential(fingerprint: string, deps: RetirementDependencies): Promise<RetirementResult> {
  if (!/^[0-9a-f]+$/.test(fingerprint) || fingerprint.length !== FINGERPRINT_LENGTH) {
    throw new Error(`retirement names no fingerprint (expected ${FINGERPRINT_LENGTH} hex characters)`);
  }
  const now = deps.now();
  if (deps.revokeAtIssuer !== undefined) {
    // At the issuer first, then the ledger: a credential the ledger calls retired is dead
    // everywhere. A failed revoke leaves it previous and overdue, so the sweep tries again
    // (revoking is idempotent at the issuer) and it is never forgotten.
    // The ledger's conditional write below stays the judge of not-previous and not-due.
    const due = await deps.ledger.getCredential(fingerprint);
    const isDue = due?.state === 'previous' && due.graceEndsAt !== undefined && due.graceEndsAt <= now;
    if (due !== undefined && isDue) await revokeOrThrow(due, deps.revokeAtIssuer);
  }
  const outcome = await deps.ledger.retire(fingerprint, now);
  if (outcome !== 'retired') return { outcome };
  const record = await deps.ledger.getCredential(fingerprint);
  if (record === undefined) return { outcome };
  await deps.ledger.appendAudit({
    secretArn: record.secretArn,
    secretName: record.secretName,
    type: 'retired',
    at: now,
    versionId: record.versionId,
    fingerprintPrefix: fingerprintPrefix(fingerprint),
    ...(record.graceEndsAt === undefined
      ? {}
      : { detail: { graceEndedAt: new Date(record.graceEndsAt).toISOString() } }),
  });
  return { outcome, record };
}

/**
 * Retires every previous credential whose grace is over: the safety net for retirements whose
 * one-time schedule could not be created or did not run.
 * @returns the credentials retired by this sweep.
 */
export async function sweepOverdueRetirements(deps: RetirementDependencies, limit = 100): Promise<CredentialRecord[]> {
  const overdue = await deps.ledger.listOverdue(deps.now(), limit);
  const retired: CredentialRecord[] = [];
  for (const candidate of overdue) {
    try {
      const { record } = await retireCredential(candidate.fingerprint, deps);
      if (record !== undefined) retired.push(record);
    } catch (error) {
      // One issuer's outage must not hold back the others' retirements.
      if (!(error instanceof RevocationFailedError)) throw error;
      deps.onRevocationFailed?.(error);
    }
  }
  return retired;
}

async function revokeOrThrow(
  record: CredentialRecord,
  revokeAtIssuer: (record: CredentialRecord) => Promise<void>,
): Promise<void> {
  try {
    await revokeAtIssuer(record);
  } catch (error) {
    throw new RevocationFailedError(
      `could not revoke version ${record.versionId} of secret ${record.secretName} at its issuer; it stays previous ` +
        `and the sweep retries (${error instanceof Error ? error.message : 'unknown error'})`,
      record,
      { cause: error },
    );
  }
}
