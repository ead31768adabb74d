import { fingerprintPrefix, type Fingerprinter } from '../ledger/fingerprint';
import type { Ledger } from '../ledger/ledger';
import type { CredentialRecord } from '../ledger/ledger-records';
import { isWellFormedManagedToken } from '../providers/managed-token/managed-token-format';
import { respondToReuse, type ReuseResponseDependencies } from './reuse-response';
import type { Verdict } from './verdict';

/** Asks Secrets Manager whether a version is AWSCURRENT now (DescribeSecret). */
export interface CurrentVersionLookup {
  isCurrent(secretArn: string, versionId: string): Promise<boolean>;
}

export interface VerifierDependencies extends ReuseResponseDependencies {
  readonly ledger: Ledger;
  /** Asked only when the ledger may lag Secrets Manager (see {@link verifyToken}). */
  readonly versions: CurrentVersionLookup;
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
 *
 * The ledger records a promotion after Secrets Manager moved AWSCURRENT, so a fault between the
 * two leaves it behind for a while. Two rules keep the answer right meanwhile, at the cost of one
 * DescribeSecret only in those cases: a `pending` token is allowed if its version is AWSCURRENT
 * (the promotion is not recorded yet); a `current` token past the grace that finishSecret marked
 * before moving the label is allowed only if its version is still AWSCURRENT (the move failed),
 * and is otherwise a rotated-out token presented after its grace: reuse.
 */
export async function verifyToken(candidate: unknown, deps: VerifierDependencies): Promise<Verdict> {
  if (!isWellFormedManagedToken(candidate)) return { allowed: false, reason: 'malformed' };
  const fingerprint = (await deps.fingerprinter()).of(candidate);
  const record = await deps.ledger.getCredential(fingerprint);
  if (record === undefined) return { allowed: false, reason: 'unknown' };

  const known = { secretName: record.secretName, versionId: record.versionId };
  const now = deps.now();
  switch (record.state) {
    case 'current': {
      const markedEnd = record.supersessionGraceEndsAt;
      if (markedEnd === undefined || now < markedEnd) return { allowed: true, reason: 'current', ...known };
      const stillCurrent = await askSecretsManager(record, deps);
      if (stillCurrent === undefined) return { allowed: false, reason: 'unconfirmed', ...known };
      return stillCurrent ? { allowed: true, reason: 'current', ...known } : deny('reuse', record, deps);
    }
    case 'pending': {
      const promoted = await askSecretsManager(record, deps);
      if (promoted === undefined) return { allowed: false, reason: 'unconfirmed', ...known };
      return { allowed: promoted, reason: promoted ? 'current' : 'pending', ...known };
    }
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

// Fails closed: a lookup that fails denies the token (undefined), it never allows it.
async function askSecretsManager(record: CredentialRecord, deps: VerifierDependencies): Promise<boolean | undefined> {
  try {
    return await deps.versions.isCurrent(record.secretArn, record.versionId);
  } catch (error) {
    deps.onResponseFailed?.(error);
    return undefined;
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
