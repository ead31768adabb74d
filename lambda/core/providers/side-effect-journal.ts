/**
 * Durable record of provider actions outside AWS. The engine claims an entry before a provider
 * with external side effects creates a credential: the first claim wins; a retry or a
 * concurrent twin that finds the entry already claimed must not act again. The journal never
 * holds a credential, only fingerprints.
 *
 * An entry is keyed by what the action spends when the provider names it (the fingerprint of
 * an OAuth refresh token: no rotation may present that token again), and otherwise by the
 * rotation's version id (one action per rotation).
 */
export interface SideEffectJournal {
  /**
   * Claims the one allowed provider action, in one conditional write.
   * @returns `claimed` (with the id that proves it) when the caller may act; `already-claimed`
   * with what the journal holds when an earlier or concurrent attempt holds the claim.
   */
  claim(entry: SideEffectJournalEntry): Promise<JournalClaim>;
  /**
   * Gives a claim up because the action certainly did not happen (the request never left, or the
   * provider refused it without acting), so a later attempt may act. Removes only the claim
   * `claimId` holds; does nothing otherwise.
   */
  release(entry: SideEffectJournalEntry, claimId: string): Promise<void>;
  /**
   * Records that the provider rejected the spend (the credential is dead at the issuer): the
   * entry stays, so no attempt presents the credential again, and says why.
   */
  markRejected(entry: SideEffectJournalEntry, claimId: string): Promise<void>;
  /**
   * Claims the one second attempt allowed after an earlier attempt's result was lost (only
   * within the issuer's reuse interval), in one conditional write on the entry.
   * @returns the new claim id, or undefined when the second attempt was already claimed.
   */
  claimLostRetry(entry: SideEffectJournalEntry, record: JournalRecord): Promise<string | undefined>;
}

export interface SideEffectJournalEntry {
  readonly secretArn: string;
  /** The rotation's ClientRequestToken. */
  readonly versionId: string;
  /** What is about to happen, for the audit trail (for example `oauth2-refresh-token:create`). */
  readonly action: string;
  /** Fingerprint of the single-use credential the action spends; the entry is keyed by it when given. */
  readonly spends?: string;
}

/** What the journal holds for a claimed entry. */
export interface JournalRecord {
  /** The rotation whose attempt holds the claim. */
  readonly versionId: string;
  readonly action: string;
  /** Epoch milliseconds. */
  readonly claimedAt: number;
  /** `in-flight` until the provider rejects the spend (`rejected`); a success leaves it in-flight, its result is the stored version. */
  readonly outcome: 'in-flight' | 'rejected';
  /** When the one second attempt after a lost result was claimed (epoch milliseconds). */
  readonly lostRetryAt?: number;
}

export type JournalClaim =
  | { readonly outcome: 'claimed'; readonly claimId: string }
  | { readonly outcome: 'already-claimed'; readonly record: JournalRecord };
