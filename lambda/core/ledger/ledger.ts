import type { SideEffectJournal } from '../providers/side-effect-journal';
import type {
  AuditEvent,
  CredentialRecord,
  ReuseResponse,
  RollbackClaim,
  SecretLedgerState,
  SecretStatus,
  StoredAuditEvent,
} from './ledger-records';

/** A credential version, by fingerprint. */
export interface CredentialVersionRef {
  readonly versionId: string;
  readonly fingerprint: string;
}

export interface PendingCredential extends CredentialVersionRef {
  readonly secretArn: string;
  readonly secretName: string;
  readonly provider: string;
  readonly now: number;
  /** Epoch seconds: a pending credential that is never promoted is forgotten then. */
  readonly expiresAt: number;
}

export interface Promotion {
  readonly secretArn: string;
  readonly secretName: string;
  readonly provider: string;
  /** The version that just became AWSCURRENT. */
  readonly current: CredentialVersionRef;
  /** The version it replaced, when that version held a credential. */
  readonly previous?: CredentialVersionRef;
  readonly now: number;
  /** Until when the previous credential is still accepted. */
  readonly graceEndsAt: number;
  /** Epoch seconds: the previous credential is forgotten then (grace end + reuse memory). */
  readonly previousExpiresAt: number;
  readonly onReuse: ReuseResponse;
}

/** The credential AWSCURRENT is about to move away from, and the end of the grace it will have. */
export interface Supersession extends CredentialVersionRef {
  readonly secretArn: string;
  readonly graceEndsAt: number;
  readonly now: number;
}

/** A rollback attempt to claim, and the state the decision to make it was taken on. */
export interface RollbackClaimRequest extends RollbackClaim {
  readonly secretArn: string;
  /** The claim fails (`changed`) unless the secret's state still has all of these. */
  readonly expected: {
    readonly status: SecretStatus;
    readonly currentVersionId: string | undefined;
    /** The incident's last attempt, as read (undefined: none). */
    readonly lastAttemptAt: number | undefined;
    /** The claim whose lease passed and that this one takes over; undefined: there must be none. */
    readonly claimId: string | undefined;
  };
}

/** A rollback carried out in Secrets Manager, to record under its claim. */
export interface RollbackRecord {
  readonly secretArn: string;
  readonly secretName: string;
  readonly claimId: string;
  readonly alarmKey: string;
  readonly alarmName: string;
  /** The bad credential AWSCURRENT moved away from: revoked. */
  readonly from: CredentialVersionRef;
  /** The previous credential AWSCURRENT moved back to: current again. */
  readonly to: CredentialVersionRef;
  /** The attempt's number in its incident. */
  readonly attempt: number;
  readonly incidentStartedAt: number;
  readonly now: number;
  /** Epoch seconds: the revoked credential is remembered (and caught as reuse) until then. */
  readonly revokedExpiresAt: number;
}

/**
 * AWSCURRENT moved back to the ledger's current credential after a version written outside Rotor
 * had taken it: the credentials are unchanged, the incident counts it, the audit trail says so.
 */
export interface RestoreRecord {
  readonly secretArn: string;
  readonly secretName: string;
  readonly claimId: string;
  readonly alarmKey: string;
  readonly alarmName: string;
  /** The version written outside Rotor that AWSCURRENT moved away from. */
  readonly from: { readonly versionId: string };
  /** The ledger's current credential, AWSCURRENT again. */
  readonly to: CredentialVersionRef;
  /** The attempt's number in its incident. */
  readonly attempt: number;
  readonly incidentStartedAt: number;
  readonly now: number;
}

/** Pausing rotation of a secret, under the rollback claim that decided it. */
export interface PauseRequest {
  readonly secretArn: string;
  readonly secretName: string;
  readonly claimId: string;
  readonly alarmKey: string;
  readonly reason: string;
  readonly now: number;
}

/** An operator lifting a pause. */
export interface ResumeRequest {
  readonly secretArn: string;
  readonly secretName: string;
  readonly now: number;
  /** Who resumed, for the audit trail (for example the caller's ARN). */
  readonly by: string;
}

/**
 * The ledger of every credential version Rotor issued, by fingerprint. Every state change is
 * a conditional write, so of two racing callers exactly one wins; reads are consistent and
 * treat expired items as absent (TTL deletion is lazy).
 */
export interface Ledger extends SideEffectJournal {
  /** Records a credential createSecret stored. Running it again changes nothing. */
  recordPending(credential: PendingCredential): Promise<void>;
  /**
   * Records a finished rotation in one transaction: the new credential current, the replaced
   * one previous until `graceEndsAt` (unless it was revoked, which stays revoked), the secret's
   * state, and a `promoted` audit event.
   * @returns `already-recorded` when the state already names this version current.
   */
  recordPromotion(promotion: Promotion): Promise<'recorded' | 'already-recorded'>;
  /**
   * Marks the current credential with the grace it will have, before finishSecret moves AWSCURRENT
   * away from it, so that until the promotion is recorded the verifier knows how long the ledger's
   * `current` can be trusted. Leaves a credential that is not current (for this secret and version)
   * alone; running it again moves the mark.
   */
  markSupersession(supersession: Supersession): Promise<void>;
  getCredential(fingerprint: string): Promise<CredentialRecord | undefined>;
  getSecretState(secretArn: string): Promise<SecretLedgerState | undefined>;
  /**
   * previous -> retired, once its grace is over.
   * @returns `not-due` while in grace, `not-previous` when it is not (or no longer) previous.
   */
  retire(fingerprint: string, now: number): Promise<'retired' | 'not-due' | 'not-previous'>;
  /** Previous credentials whose grace ended before `now`, oldest first. */
  listOverdue(now: number, limit: number): Promise<CredentialRecord[]>;
  /**
   * Claims the one report of `fingerprint` being presented while dead: a burst of
   * presentations yields one incident.
   * @returns true for the first caller only.
   */
  claimReuseReport(secretArn: string, fingerprint: string, now: number): Promise<boolean>;
  /**
   * Gives up a reuse report claimed by {@link claimReuseReport} whose response failed, so the
   * next presentation of the credential answers the incident again.
   */
  releaseReuseReport(secretArn: string, fingerprint: string): Promise<void>;
  /**
   * Revokes every version of the secret that a consumer may hold (current and previous) and
   * marks the secret compromised. A pending credential is left alone: no consumer has it, and
   * the rotation that made it is the way out of the incident.
   * @returns the fingerprints this call revoked (a second call returns none).
   */
  revokeFamily(secretArn: string, now: number, expiresAt: number): Promise<string[]>;
  /** Records that the previous credential was used within its grace, once per credential. @returns true the first time. */
  markGraceUse(fingerprint: string, now: number): Promise<boolean>;
  appendAudit(event: AuditEvent): Promise<void>;
  /** The secret's audit trail, oldest first. */
  readAudit(secretArn: string, limit?: number): Promise<StoredAuditEvent[]>;

  /**
   * Claims the secret's next rollback attempt in one conditional write on its state, which holds
   * only if the state is still as `expected` and the alarm state change is not answered yet: of
   * twin deliveries of one alarm event, exactly one claims. Sets status `rolling-back` for a
   * `rollback` plan.
   * @returns `changed` when the state moved since it was read: read it again and decide again.
   */
  claimRollback(request: RollbackClaimRequest): Promise<'claimed' | 'changed'>;
  /**
   * Records a performed rollback in one transaction, conditional on the claim and on the ledger's
   * current version being `from`: `to` current again (its grace, TTL and retirement gone), `from`
   * revoked, the state pointing at them with status `active`, the incident's count, the claim
   * released and the alarm answered, and a `rolled-back` audit event.
   * @returns `already-recorded` when this claim's rollback is recorded; `claim-lost` when the claim
   * is someone else's now, or a rotation promoted another version meanwhile.
   */
  recordRollback(rollback: RollbackRecord): Promise<'recorded' | 'already-recorded' | 'claim-lost'>;
  /**
   * Records an undone out-of-band change in one transaction, conditional on the claim, on the
   * ledger's current credential still being `to` and live: status `active`, the incident's count,
   * the claim released and the alarm answered, and a `rolled-back` audit event with
   * `cause: 'out-of-band-change'`. No credential changes.
   * @returns as {@link recordRollback}.
   */
  recordRestore(restore: RestoreRecord): Promise<'recorded' | 'already-recorded' | 'claim-lost'>;
  /**
   * Pauses rotation (status `paused`, with the time, reason and alarm) and appends a `paused` audit
   * event, conditional on the claim. The claim stays until {@link releaseRollbackClaim}, after the
   * notifications, so a retry after a crash notifies again rather than never.
   * @returns `already-paused` when this alarm paused it already; `claim-lost` when the claim is gone.
   */
  pause(request: PauseRequest): Promise<'paused' | 'already-paused' | 'claim-lost'>;
  /** Ends a claim and marks its alarm state change answered; does nothing if the claim is not this one. */
  releaseRollbackClaim(secretArn: string, claimId: string, alarmKey: string): Promise<void>;
  /**
   * Lifts a pause: status `active`, the incident's count reset, a `resumed` audit event.
   * @returns `not-paused` (and changes nothing) when the secret is not paused.
   */
  resume(request: ResumeRequest): Promise<'resumed' | 'not-paused'>;
  /**
   * Records that an operator stored a fresh single-use credential as the secret's current version
   * (`rotor bootstrap`): a `compromised` status goes back to `active` and a `reauthorized` audit
   * event is appended. A `paused` status stays paused: that is `rotor resume`'s decision.
   */
  recordReauthorization(request: ReauthorizationRequest): Promise<void>;
}

/** An operator re-authorized a secret (`rotor bootstrap`). */
export interface ReauthorizationRequest {
  readonly secretArn: string;
  readonly secretName: string;
  /** The version that now holds the fresh credential. */
  readonly versionId: string;
  readonly now: number;
  /** Who, for the audit trail. */
  readonly by: string;
}

/** The operator's durations, in seconds (configurable down to seconds so tests run in real time). */
export interface LedgerDurations {
  readonly defaultGraceSeconds: number;
  readonly reuseMemorySeconds: number;
}

/** The pending credential is forgotten after this if no rotation promotes it. */
export const PENDING_LIFETIME_SECONDS = 24 * 3600;
