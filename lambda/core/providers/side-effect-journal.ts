/**
 * Durable record of provider actions outside AWS, keyed by the rotation's version id. The
 * engine claims an entry before a provider with external side effects creates a credential:
 * the first claim wins; a retry or a concurrent twin that finds the entry already claimed
 * must not act again. The journal never holds the credential itself.
 */
export interface SideEffectJournal {
  /**
   * Claims the one allowed provider action for this rotation.
   * @returns `claimed` when the caller may act, `already-claimed` when an earlier or concurrent
   * attempt holds the claim.
   */
  claim(entry: SideEffectJournalEntry): Promise<'claimed' | 'already-claimed'>;
}

export interface SideEffectJournalEntry {
  readonly secretArn: string;
  /** The rotation's ClientRequestToken. */
  readonly versionId: string;
  /** What is about to happen, for the audit trail (for example `oauth2-refresh-token:exchange`). */
  readonly action: string;
}
