import { InMemoryLedger } from './in-memory-ledger';
import {
  GRACE_MS,
  LEDGER_SECRET,
  ManualClock,
  REUSE_MEMORY_SECONDS,
  secretWithHistory,
  T0,
} from '../helpers/ledger-harness';

// The fake stands in for DynamoDbLedger in the core's tests: these pin the port semantics it
// promises, which test/integration/dynamodb-ledger.test.ts checks for the real adapter.

describe('Class: InMemoryLedger (test fake)', () => {
  let clock: ManualClock;
  let ledger: InMemoryLedger;

  beforeEach(() => {
    clock = new ManualClock(T0 + 3000);
    ledger = new InMemoryLedger(clock.now);
  });

  it('gives each claim to exactly one of 20 concurrent callers', async () => {
    // Prepare
    const { previous } = await secretWithHistory(ledger);
    const twenty = Array.from({ length: 20 });

    // Act
    const reports = await Promise.all(
      twenty.map(() => ledger.claimReuseReport(LEDGER_SECRET.arn, previous.fingerprint, clock.current)),
    );
    const graceUses = await Promise.all(twenty.map(() => ledger.markGraceUse(previous.fingerprint, clock.current)));
    const retirements = await Promise.all(twenty.map(() => ledger.retire(previous.fingerprint, T0 + 1000 + GRACE_MS)));

    // Assess
    expect(reports.filter(Boolean)).toHaveLength(1);
    expect(graceUses.filter(Boolean)).toHaveLength(1);
    expect(retirements.filter((outcome) => outcome === 'retired')).toHaveLength(1);
  });

  it('records a promotion once and answers already-recorded after', async () => {
    // Prepare
    const { current, previous, graceEndsAt } = await secretWithHistory(ledger);
    const again = {
      secretArn: LEDGER_SECRET.arn,
      secretName: LEDGER_SECRET.name,
      provider: 'managed-token',
      current,
      previous,
      now: T0 + 5000,
      graceEndsAt: T0 + 5000 + GRACE_MS,
      previousExpiresAt: 0,
      onReuse: 'alert-only' as const,
    };

    // Act
    const outcome = await ledger.recordPromotion(again);

    // Assess
    expect(outcome).toBe('already-recorded');
    expect(ledger.auditOf(LEDGER_SECRET.arn).filter((event) => event.type === 'promoted')).toHaveLength(2);
    expect(await ledger.getCredential(previous.fingerprint)).toMatchObject({ state: 'previous', graceEndsAt });
    expect(await ledger.getSecretState(LEDGER_SECRET.arn)).toMatchObject({
      generation: 2,
      onReuse: 'revoke-and-rotate',
    });
  });

  it('revokes the current and previous credentials, not the pending one, once', async () => {
    // Prepare
    const { previous, current, pending } = await secretWithHistory(ledger);

    // Act
    const first = await ledger.revokeFamily(LEDGER_SECRET.arn, clock.current, 1);
    const second = await ledger.revokeFamily(LEDGER_SECRET.arn, clock.current, 1);

    // Assess
    expect(first.sort()).toEqual([previous.fingerprint, current.fingerprint].sort());
    expect(second).toEqual([]);
    expect((await ledger.getCredential(pending.fingerprint))?.state).toBe('pending');
    expect((await ledger.getSecretState(LEDGER_SECRET.arn))?.status).toBe('compromised');
  });

  it('treats a credential as absent from the second its TTL names', async () => {
    // Prepare
    const { previous, graceEndsAt } = await secretWithHistory(ledger);
    const expiresAtMs = (Math.floor(graceEndsAt / 1000) + REUSE_MEMORY_SECONDS) * 1000;

    // Act
    clock.current = expiresAtMs - 1;
    const before = await ledger.getCredential(previous.fingerprint);
    clock.current = expiresAtMs;
    const after = await ledger.getCredential(previous.fingerprint);

    // Assess
    expect(before?.state).toBe('previous');
    expect(after).toBeUndefined();
    expect(await ledger.claimReuseReport(LEDGER_SECRET.arn, previous.fingerprint, expiresAtMs)).toBe(false);
  });
});
