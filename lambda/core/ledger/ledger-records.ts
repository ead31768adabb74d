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
  /**
   * Set on a `current` credential just before finishSecret moves AWSCURRENT away from it: the end
   * of the grace it will have. Until the ledger records the promotion, the credential is
   * AWSCURRENT or within this grace; after it, only Secrets Manager can say which.
   */
  readonly supersessionGraceEndsAt?: number;
  /** Set while (and after) the credential is `previous`: until then it is still accepted. */
  readonly graceEndsAt?: number;
  readonly retiredAt?: number;
  readonly revokedAt?: number;
  /** When its first use within grace was recorded (once per credential). */
  readonly graceUsedAt?: number;
  /** When a presentation after its death was reported (once per credential, until released). */
  readonly reuseReportedAt?: number;
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
  /** Set while `status` is `paused`: when and why rotation was paused, and by what (an alarm, an operator). */
  readonly pause?: RotationPauseRecord;
  /** The current rollback incident's count, when the secret has had one (see `rollback-policy.ts`). */
  readonly rollback?: RollbackIncidentRecord;
  /** The rollback attempt being carried out, while one is. */
  readonly rollbackClaim?: RollbackClaim;
  /** The alarm state changes already answered (newest last, at most {@link MAX_HANDLED_ALARMS}). */
  readonly handledAlarms?: readonly string[];
}

/** Why and since when rotation of a secret is paused. */
export interface RotationPauseRecord {
  readonly pausedAt: number;
  readonly reason: string;
  /** The alarm state change that led to the pause, or `operator`. */
  readonly pausedBy: string;
}

/** Rollback attempts of one incident. */
export interface RollbackIncidentRecord {
  /** Rollbacks performed in the incident. */
  readonly attempts: number;
  readonly startedAt: number;
  readonly lastAttemptAt: number;
}

/** What one rollback attempt does: move AWSCURRENT back, or pause rotation. */
export type RollbackPlan =
  | {
      readonly action: 'rollback';
      /** The version AWSCURRENT moves away from (the bad credential, revoked). */
      readonly from: { readonly versionId: string; readonly fingerprint: string };
      /** The previous version AWSCURRENT moves back to. */
      readonly to: { readonly versionId: string; readonly fingerprint: string };
    }
  | {
      /**
       * AWSCURRENT was moved outside Rotor (a PutSecretValue by hand, a script) to a version Rotor
       * never issued; it moves back to the ledger's current credential, which still holds.
       */
      readonly action: 'restore';
      /** The version written outside Rotor: it holds no credential the ledger knows. */
      readonly from: { readonly versionId: string };
      /** The ledger's current version (AWSPREVIOUS since the overwrite). */
      readonly to: { readonly versionId: string; readonly fingerprint: string };
    }
  | { readonly action: 'pause'; readonly reason: string };

/**
 * The one rollback attempt in progress on a secret: who holds it (`claimId`), which alarm state
 * change it answers, and until when the holder is presumed alive. A claim whose lease has passed
 * is taken over and its plan carried out again (every step of a plan is safe to repeat).
 */
export interface RollbackClaim {
  readonly claimId: string;
  /** The alarm state change it answers: `<alarm name>@<state timestamp>`. */
  readonly alarmKey: string;
  readonly alarmName: string;
  readonly plan: RollbackPlan;
  /** For `rollback`: the attempt's number in its incident; for `pause`: the rollbacks the incident had. */
  readonly attempt: number;
  readonly incidentStartedAt: number;
  readonly claimedAt: number;
  readonly leaseUntil: number;
}

/** How many answered alarm state changes a secret's state remembers (for dedupe of redeliveries). */
export const MAX_HANDLED_ALARMS = 32;

export type AuditEventType =
  | 'created'
  | 'promoted'
  | 'grace-used'
  | 'retired'
  | 'revoked'
  | 'reuse-detected'
  | 'rotation-started'
  | 'retirement-schedule-failed'
  /**
   * AWSCURRENT moved back to the previous credential after an alarm, the bad one revoked; or, with
   * detail `cause: 'out-of-band-change'`, back to the current credential after a version written
   * outside Rotor took AWSCURRENT.
   */
  | 'rolled-back'
  /** Automatic rollback gave up: no new rotation starts until `rotor resume`. */
  | 'paused'
  /** An operator lifted the pause. */
  | 'resumed'
  /** A provider action spent a single-use credential and its result never reached AWSPENDING. */
  | 'outcome-unknown'
  /** An operator stored a fresh single-use credential (`rotor bootstrap`) as the secret's first version. */
  | 'reauthorized';

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
