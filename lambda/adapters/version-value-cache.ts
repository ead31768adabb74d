/**
 * A small in-memory cache of secret version values, keyed by secret ARN and version id.
 *
 * Secrets Manager never changes the value of an existing version, so a value this container
 * has read or written stays right for as long as the version exists. Secrets Manager calls
 * the four rotation steps within seconds of each other, usually on the same warm container:
 * with this cache, setSecret, testSecret and finishSecret reuse the value createSecret wrote
 * instead of reading it again. Entries expire after `maxAgeMs` so a credential does not stay
 * in memory longer than a rotation takes.
 */
export class VersionValueCache {
  private readonly entries = new Map<string, { readonly value: string; readonly storedAt: number }>();

  constructor(
    private readonly maxEntries = 32,
    private readonly maxAgeMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(secretArn: string, versionId: string): string | undefined {
    const key = keyOf(secretArn, versionId);
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (this.now() - entry.storedAt > this.maxAgeMs) {
      this.entries.delete(key);
      return undefined;
    }
    // Least recently used goes first: a read moves the entry to the end of the Map's order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(secretArn: string, versionId: string, value: string): void {
    this.dropExpired();
    const key = keyOf(secretArn, versionId);
    this.entries.delete(key);
    this.entries.set(key, { value, storedAt: this.now() });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  // Entries are in insertion order, oldest first, so the expired ones lead.
  private dropExpired(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (now - entry.storedAt <= this.maxAgeMs) continue;
      this.entries.delete(key);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

function keyOf(secretArn: string, versionId: string): string {
  return `${secretArn}\u0000${versionId}`;
}
