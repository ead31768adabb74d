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
}

export interface RetirementResult {
  readonly outcome: 'retired' | 'not-due' | 'not-previous';
  /** The retired credential, when this call retired it. */
  readonly record?: CredentialRecord;
}

/**
 * Retires one previous credential whose grace has ended: marks it retired in the ledger
 * (idempotent: a second call finds it no longer previous), records the audit event and
 * revokes it at its issuer where the provider can.
 */
export async function retireCredential(fingerprint: string, deps: RetirementDependencies): Promise<RetirementResult> {
  if (!/^[0-9a-f]+$/.test(fingerprint) || fingerprint.length !== FINGERPRINT_LENGTH) {
    throw new Error(`retirement names no fingerprint (expected ${FINGERPRINT_LENGTH} hex characters)`);
  }
  const now = deps.now();
  const outcome = await deps.ledger.retire(fingerprint, now);
  if (outcome !== 'retired') return { outcome };
  const record = await deps.ledger.getCredential(fingerprint);
  if (record === undefined) return { outcome };
  await deps.revokeAtIssuer?.(record);
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
    const { record } = await retireCredential(candidate.fingerprint, deps);
    if (record !== undefined) retired.push(record);
  }
  return retired;
}
