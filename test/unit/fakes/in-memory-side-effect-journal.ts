import type {
  JournalClaim,
  JournalRecord,
  SideEffectJournal,
  SideEffectJournalEntry,
} from '../../../lambda/core/providers/side-effect-journal';

interface HeldEntry {
  record: JournalRecord;
  claimId: string;
}

/**
 * A {@link SideEffectJournal} in memory, keyed as the DynamoDB ledger keys it (by the spent
 * credential's fingerprint when given, else by the rotation): the first claim wins, as a
 * conditional put would.
 */
export class InMemorySideEffectJournal implements SideEffectJournal {
  /** Every claim, in order, with what it answered. */
  readonly claims: { readonly entry: SideEffectJournalEntry; readonly result: 'claimed' | 'already-claimed' }[] = [];
  /** Awaited before a claim is decided, so a test can hold one invocation at that point. */
  beforeClaim: (entry: SideEffectJournalEntry, attempt: number) => Promise<void> = () => Promise.resolve();

  private readonly held = new Map<string, HeldEntry>();
  private attempts = 0;
  private ids = 0;

  constructor(
    private readonly log: string[] = [],
    private readonly now: () => number = Date.now,
  ) {}

  async claim(entry: SideEffectJournalEntry): Promise<JournalClaim> {
    this.attempts += 1;
    await this.beforeClaim(entry, this.attempts);
    const key = keyOf(entry);
    const existing = this.held.get(key);
    const result = existing === undefined ? 'claimed' : 'already-claimed';
    this.claims.push({ entry, result });
    this.log.push(`claim:${result}`);
    if (existing !== undefined) return { outcome: 'already-claimed', record: existing.record };
    const claimId = this.newId();
    this.held.set(key, {
      claimId,
      record: { versionId: entry.versionId, action: entry.action, claimedAt: this.now(), outcome: 'in-flight' },
    });
    return { outcome: 'claimed', claimId };
  }

  release(entry: SideEffectJournalEntry, claimId: string): Promise<void> {
    const key = keyOf(entry);
    if (this.held.get(key)?.claimId === claimId) this.held.delete(key);
    this.log.push('release');
    return Promise.resolve();
  }

  markRejected(entry: SideEffectJournalEntry, claimId: string): Promise<void> {
    const held = this.held.get(keyOf(entry));
    if (held?.claimId !== claimId) return Promise.reject(new Error('the journal claim is no longer this attempt’s'));
    held.record = { ...held.record, outcome: 'rejected' };
    this.log.push('mark-rejected');
    return Promise.resolve();
  }

  claimLostRetry(entry: SideEffectJournalEntry, record: JournalRecord): Promise<string | undefined> {
    const held = this.held.get(keyOf(entry));
    if (
      held === undefined ||
      held.record.lostRetryAt !== undefined ||
      held.record.versionId !== record.versionId ||
      held.record.claimedAt !== record.claimedAt ||
      held.record.outcome !== 'in-flight'
    ) {
      return Promise.resolve(undefined);
    }
    held.claimId = this.newId();
    held.record = { ...held.record, versionId: entry.versionId, lostRetryAt: this.now() };
    this.log.push('claim-lost-retry');
    return Promise.resolve(held.claimId);
  }

  isClaimed(secretArn: string, versionId: string): boolean {
    return this.held.has(keyOf({ secretArn, versionId, action: '' }));
  }

  /** The record held for a spent credential's fingerprint, if any. */
  spentRecord(secretArn: string, fingerprint: string): JournalRecord | undefined {
    return this.held.get(keyOf({ secretArn, versionId: '', action: '', spends: fingerprint }))?.record;
  }

  /** Backdates every claim, as if its holder had stopped long ago. */
  age(ms: number): void {
    for (const held of this.held.values()) {
      const { claimedAt, lostRetryAt } = held.record;
      held.record = {
        ...held.record,
        claimedAt: claimedAt - ms,
        ...(lostRetryAt === undefined ? {} : { lostRetryAt: lostRetryAt - ms }),
      };
    }
  }

  private newId(): string {
    this.ids += 1;
    return `claim-${this.ids}`;
  }
}

function keyOf(entry: SideEffectJournalEntry): string {
  return entry.spends === undefined
    ? `${entry.secretArn}\u0000JOURNAL#${entry.versionId}`
    : `${entry.secretArn}\u0000SPENT#${entry.spends}`;
}
