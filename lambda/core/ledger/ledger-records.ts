/**
 * What the ledger remembers. Times are epoch milliseconds from the injected clock, except
 * `expiresAt`, which is DynamoDB's TTL attribute in epoch seconds. No record ever holds a
 * credential: credentials are known by their fingerprint only.
 */

/** Life of one credential version (DESIGN section 4). */
export type CredentialState = 'pending' | 'current' | 'previous' | 'retired' | 'revoked';

/** Rotation state of a secret. `rolling-back` and `paused` belong to automatic rollback. */
export type SecretStatus = 'active' | 'rolling-back' | 'paused' | 'compromised';

/** What Rotor does when a rotated-out credential is presented again. */
export type ReuseResponse = 'revoke-and-rotate' | 'alert-only';
export const REUSE_RESPONSES: readonly ReuseResponse[] = ['revoke-and-rotate', 'alert-only'];

/** One credential version: item `TOKEN#<fingerprint>`. */
export interface CredentialRecord {
  readonly fingerprint: string;
  readonly secretArn: string;
  readonly secretName: string;
  readonly versionId: string;
  /** Provider that issued it, so retirement knows whether it can revoke at the issuer. */
  readonly provider: string;
  readonly state: CredentialState;
  readonly createdAt: number;
  readonly promotedAt?: number;
  readonly supersededAt?: number;
  /** Set while (and after) the credential is `previous`: until then it is still accepted. */
  readonly graceEndsAt?: number;
  readonly retiredAt?: number;
  readonly revokedAt?: number;
  /** Epoch seconds; absent while the credential is current. */
  readonly expiresAt?: number;
}

/** A secret's rotation state: item `SECRET#<arn>` / `STATE`. */
export interface SecretLedgerState {
  readonly secretArn: string;
  readonly secretName: string;
  /** Number of promotions recorded. */
  readonly generation: number;
  readonly status: SecretStatus;
  readonly currentVersionId?: string;
  readonly currentFingerprint?: string;
  readonly previousVersionId?: string;
  readonly previousFingerprint?: string;
  readonly previousGraceEndsAt?: number;
  /** A rotation in progress: the version createSecret stored. */
  readonly pendingVersionId?: string;
  readonly pendingFingerprint?: string;
  readonly onReuse: ReuseResponse;
}

export type AuditEventType =
  | 'created'
  | 'promoted'
  | 'grace-used'
  | 'retired'
  | 'revoked'
  | 'reuse-detected'
  | 'rotation-started'
  | 'retirement-schedule-failed';

/** One lifecycle event: item `SECRET#<arn>` / `EVENT#<ISO time>#<id>`, kept for the audit retention. */
export interface AuditEvent {
  readonly secretArn: string;
  readonly secretName: string;
  readonly type: AuditEventType;
  readonly at: number;
  readonly versionId?: string;
  /** The first 12 hex digits of the fingerprint: enough to tell versions apart, useless to a thief. */
  readonly fingerprintPrefix?: string;
  /** Non-secret facts: reason, grace end, response taken. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

/** An audit event as read back, with its sort position. */
export interface StoredAuditEvent extends AuditEvent {
  readonly id: string;
}
