import type { SideEffectJournal, SideEffectJournalEntry } from '../../../lambda/core/providers/side-effect-journal';

/** A {@link SideEffectJournal} in memory: the first claim of a (secret, version) wins, as a conditional put would. */
export class InMemorySideEffectJournal implements SideEffectJournal {
  /** Every claim, in order, with what it answered. */
  readonly claims: { readonly entry: SideEffectJournalEntry; readonly result: 'claimed' | 'already-claimed' }[] = [];
  /** Awaited before a claim is decided, so a test can hold one invocation at that point. */
  beforeClaim: (entry: SideEffectJournalEntry, attempt: number) => Promise<void> = () => Promise.resolve();

  private readonly held = new Set<string>();
  private attempts = 0;

  constructor(private readonly log: string[] = []) {}

  async claim(entry: SideEffectJournalEntry): Promise<'claimed' | 'already-claimed'> {
    this.attempts += 1;
    await this.beforeClaim(entry, this.attempts);
    const key = `${entry.secretArn}\u0000${entry.versionId}`;
    const result = this.held.has(key) ? 'already-claimed' : 'claimed';
    this.held.add(key);
    this.claims.push({ entry, result });
    this.log.push(`claim:${result}`);
    return result;
  }

  isClaimed(secretArn: string, versionId: string): boolean {
    return this.held.has(`${secretArn}\u0000${versionId}`);
  }
}
