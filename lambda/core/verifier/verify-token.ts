import { fingerprintPrefix, type Fingerprinter } from '../ledger/fingerprint';
import type { Ledger } from '../ledger/ledger';
import type { CredentialRecord } from '../ledger/ledger-records';
import { isWellFormedManagedToken } from '../providers/managed-token/managed-token-format';
import { respondToReuse, type ReuseResponseDependencies } from './reuse-response';
import type { Verdict } from './verdict';

export interface VerifierDependencies extends ReuseResponseDependencies {
  readonly ledger: Ledger;
  readonly fingerprinter: () => Promise<Fingerprinter>;
  /** Told when the incident response failed; the verdict is still a denial. */
  readonly onResponseFailed?: (error: unknown) => void;
}

/**
 * Decides whether a presented token may pass (DESIGN section 5), in one consistent read on
 * the happy path. A token that fails the format or checksum is refused before any I/O.
 *
 * | ledger state                      | answer                 |
 * |-----------------------------------|------------------------|
 * | unknown                           | deny `unknown`         |
 * | pending                           | deny `pending`         |
 * | current                           | allow `current`        |
 * | previous, grace not over          | allow `grace`          |
 * | previous after grace, retired     | deny `reuse` + incident|
 * | revoked                           | deny `revoked` + report|
 */
export async function verifyToken(candidate: unknown, deps: VerifierDependencies): Promise<Verdict> {
  if (!isWellFormedManagedToken(candidate)) return { allowed: false, reason: 'malformed' };
  const fingerprint = (await deps.fingerprinter()).of(candidate);
  const record = await deps.ledger.getCredential(fingerprint);
  if (record === undefined) return { allowed: false, reason: 'unknown' };

  const known = { secretName: record.secretName, versionId: record.versionId };
  const now = deps.now();
  switch (record.state) {
    case 'current':
      return { allowed: true, reason: 'current', ...known };
    case 'pending':
      return { allowed: false, reason: 'pending', ...known };
    case 'previous':
      if (record.graceEndsAt !== undefined && now < record.graceEndsAt) {
        await recordFirstGraceUse(record, deps, now);
        return { allowed: true, reason: 'grace', ...known, graceEndsAt: record.graceEndsAt };
      }
      return deny('reuse', record, deps);
    case 'retired':
      return deny('reuse', record, deps);
    case 'revoked':
      return deny('revoked', record, deps);
  }
}

// A dead credential is denied whatever happens to the incident response: a failed response
// must never turn into an allowed token or an error that a caller might treat as one.
async function deny(
  reason: 'reuse' | 'revoked',
  record: CredentialRecord,
  deps: VerifierDependencies,
): Promise<Verdict> {
  const known = { secretName: record.secretName, versionId: record.versionId };
  try {
    return { allowed: false, reason, ...known, incidentOpened: await respondToReuse(record, deps) };
  } catch (error) {
    deps.onResponseFailed?.(error);
    return { allowed: false, reason, ...known, incidentOpened: false, responseFailed: true };
  }
}

// One audit event per credential used in grace: a job that started before the rotation.
// The read already says whether it was recorded: later presentations cost no write.
async function recordFirstGraceUse(record: CredentialRecord, deps: VerifierDependencies, now: number): Promise<void> {
  if (record.graceUsedAt !== undefined) return;
  if (!(await deps.ledger.markGraceUse(record.fingerprint, now))) return;
  await deps.ledger.appendAudit({
    secretArn: record.secretArn,
    secretName: record.secretName,
    type: 'grace-used',
    at: now,
    versionId: record.versionId,
    fingerprintPrefix: fingerprintPrefix(record.fingerprint),
    ...(record.graceEndsAt === undefined
      ? {}
      : { detail: { graceEndsAt: new Date(record.graceEndsAt).toISOString() } }),
  });
}
