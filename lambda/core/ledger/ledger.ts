import type { SideEffectJournal } from '../providers/side-effect-journal';
import type {
  AuditEvent,
  CredentialRecord,
  ReuseResponse,
  SecretLedgerState,
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
}

/** The operator's durations, in seconds (configurable down to seconds so tests run in real time). */
export interface LedgerDurations {
  readonly defaultGraceSeconds: number;
  readonly reuseMemorySeconds: number;
}

/** The pending credential is forgotten after this if no rotation promotes it. */
export const PENDING_LIFETIME_SECONDS = 24 * 3600;
