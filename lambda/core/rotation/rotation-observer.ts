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
 * Told about the rotation's lifecycle by the engine, after Secrets Manager has the change. A
 * failing observer fails the step, so Secrets Manager retries it: observers must be
 * idempotent, since they may be told the same thing again.
 */
export interface RotationObserver {
  pendingStored?(event: PendingStored): Promise<void>;
  promoted?(event: Promoted): Promise<void>;
}
