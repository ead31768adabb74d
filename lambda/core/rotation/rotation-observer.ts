import type { ParsedSecretDocument } from '../secret-document';
import type { SecretDescription } from './secret-store';

/** createSecret stored a new pending version. */
export interface PendingStored {
  readonly secret: SecretDescription;
  readonly versionId: string;
  readonly pending: ParsedSecretDocument;
}

/**
 * AWSCURRENT is on `versionId`: finishSecret just moved it there, or a late retry found it
 * there (the move succeeded but the step failed after it).
 */
export interface Promoted {
  readonly secret: SecretDescription;
  readonly versionId: string;
  readonly current: ParsedSecretDocument;
  /** The version AWSCURRENT moved away from, when known. */
  readonly previousVersionId?: string;
  /** Reads the previous version's document; only called when an observer needs its credential. */
  readPrevious(): Promise<ParsedSecretDocument | undefined>;
}

/**
 * The secret as a step finds it before its first write: its AWSCURRENT and AWSPREVIOUS versions,
 * read only when an observer needs them.
 */
export interface CurrentObserved {
  readonly secret: SecretDescription;
  /** The AWSCURRENT version. */
  readonly versionId: string;
  readCurrent(): Promise<ParsedSecretDocument | undefined>;
  /** The AWSPREVIOUS version, if any. */
  readonly previousVersionId?: string;
  readPrevious(): Promise<ParsedSecretDocument | undefined>;
}

/**
 * Told about the rotation's lifecycle by the engine, after Secrets Manager has the change (except
 * `prepare` and `promoting`, which come before a write and may refuse it). A
 * failing observer fails the step, so Secrets Manager retries it: observers must be
 * idempotent, since they may be told the same thing again.
 */
export interface RotationObserver {
  /**
   * Before createSecret or finishSecret writes anything: checks what the observer will need
   * (for the ledger: the pepper readable, the table reachable), so that a fault it would meet
   * later fails the step before Secrets Manager changed, and heals what it missed earlier.
   */
  prepare?(event: CurrentObserved): Promise<void>;
  pendingStored?(event: PendingStored): Promise<void>;
  /** finishSecret is about to move AWSCURRENT from `previousVersionId` to `versionId`. */
  promoting?(event: Promoted): Promise<void>;
  promoted?(event: Promoted): Promise<void>;
  /** The provider refused a single-use credential Rotor had not spent: possible theft upstream. */
  upstreamReuseSuspected?(event: UpstreamReuseSuspected): Promise<void>;
  /** An earlier attempt spent a single-use credential and its result never reached AWSPENDING. */
  sideEffectOutcomeUnknown?(event: SideEffectOutcomeUnknown): Promise<void>;
}

/** createSecret presented the current single-use credential and the provider said someone else had used it. */
export interface UpstreamReuseSuspected {
  readonly secret: SecretDescription;
  /** The rotation that presented it. */
  readonly versionId: string;
  /** The version whose credential was refused (AWSCURRENT, or the pending version of an earlier rotation). */
  readonly refusedVersionId: string;
  readonly provider: string;
  /** Fingerprint of the refused single-use credential. */
  readonly spentFingerprint?: string;
}

/** A journal entry with no stored result: the credential it spent may be lost. */
export interface SideEffectOutcomeUnknown {
  readonly secret: SecretDescription;
  /** The rotation that found the entry. */
  readonly versionId: string;
  readonly provider: string;
  /** The rotation whose attempt spent the credential, and when. */
  readonly spentBy: string;
  readonly spentAt: number;
  readonly spentFingerprint?: string;
  /** Whether Rotor presents the spent credential once more (within the issuer's reuse interval). */
  readonly retrying: boolean;
}
