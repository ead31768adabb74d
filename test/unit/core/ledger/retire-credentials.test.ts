import type { CredentialRecord } from '../../../../lambda/core/ledger/ledger-records';
import {
  retireCredential,
  RevocationFailedError,
  sweepOverdueRetirements,
  type RetirementDependencies,
} from '../../../../lambda/core/ledger/retire-credentials';
import { InMemoryLedger } from '../../fakes/in-memory-ledger';
import { rejectionOf } from '../../helpers/rejection';
import {
  fingerprinter,
  GRACE_MS,
  LEDGER_SECRET,
  ManualClock,
  secretWithHistory,
  T0,
  tokenNumber,
  type SecretHistory,
} from '../../helpers/ledger-harness';

describe('Function: retireCredential', () => {
  let clock: ManualClock;
  let ledger: InMemoryLedger;
  let revokeAtIssuer: jest.Mock<Promise<void>, [CredentialRecord]>;
  let deps: RetirementDependencies;
  let history: SecretHistory;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    ledger = new InMemoryLedger(clock.now);
    revokeAtIssuer = jest.fn((_record: CredentialRecord) => Promise.resolve());
    deps = { ledger, now: clock.now, revokeAtIssuer };
    history = await secretWithHistory(ledger);
    ledger.calls.length = 0;
  });

  it('retires a previous credential whose grace has ended, revokes it at its issuer and records the event', async () => {
    // Prepare
    clock.current = history.graceEndsAt;

    // Act
    const result = await retireCredential(history.previous.fingerprint, deps);

    // Assess
    expect(result).toEqual({
      outcome: 'retired',
      record: expect.objectContaining({ state: 'retired', retiredAt: history.graceEndsAt }) as unknown,
    });
    expect(revokeAtIssuer).toHaveBeenCalledWith(
      expect.objectContaining({ fingerprint: history.previous.fingerprint, versionId: history.previous.versionId }),
    );
    expect(ledger.auditOf(LEDGER_SECRET.arn).at(-1)).toEqual({
      id: expect.any(String) as unknown,
      secretArn: LEDGER_SECRET.arn,
      secretName: LEDGER_SECRET.name,
      type: 'retired',
      at: history.graceEndsAt,
      versionId: history.previous.versionId,
      fingerprintPrefix: history.previous.fingerprint.slice(0, 12),
      detail: { graceEndedAt: new Date(history.graceEndsAt).toISOString() },
    });
  });

  it('answers not-due within the grace and changes nothing else', async () => {
    // Prepare
    clock.current = history.graceEndsAt - 1;

    // Act
    const result = await retireCredential(history.previous.fingerprint, deps);

    // Assess
    expect(result).toEqual({ outcome: 'not-due' });
    expect(ledger.calls).toEqual(['getCredential', 'retire']);
    expect(revokeAtIssuer).not.toHaveBeenCalled();
  });

  it('revokes at the issuer before the ledger, and a failed revoke leaves the credential previous for the sweep', async () => {
    // Prepare
    clock.current = history.graceEndsAt;
    revokeAtIssuer.mockRejectedValueOnce(new Error('GitLab answered HTTP 503'));

    // Act
    const error = await rejectionOf(retireCredential(history.previous.fingerprint, deps));
    const overdue = await ledger.listOverdue(clock.now(), 10);
    const retry = await retireCredential(history.previous.fingerprint, deps);

    // Assess
    expect(error).toBeInstanceOf(RevocationFailedError);
    expect(overdue.map((record) => record.fingerprint)).toEqual([history.previous.fingerprint]);
    expect(retry.outcome).toBe('retired');
    expect(revokeAtIssuer).toHaveBeenCalledTimes(2);
  });

  it('answers not-previous the second time, without revoking or recording again', async () => {
    // Prepare
    clock.current = history.graceEndsAt;
    await retireCredential(history.previous.fingerprint, deps);
    revokeAtIssuer.mockClear();
    const events = ledger.auditOf(LEDGER_SECRET.arn).length;

    // Act
    const result = await retireCredential(history.previous.fingerprint, deps);

    // Assess
    expect(result).toEqual({ outcome: 'not-previous' });
    expect(revokeAtIssuer).not.toHaveBeenCalled();
    expect(ledger.auditOf(LEDGER_SECRET.arn)).toHaveLength(events);
  });

  it('answers not-previous for the current and an unknown credential', async () => {
    // Prepare
    clock.current = history.graceEndsAt;

    // Act
    const outcomes = [
      await retireCredential(history.current.fingerprint, deps),
      await retireCredential(fingerprinter.of(tokenNumber(42)), deps),
    ];

    // Assess
    expect(outcomes).toEqual([{ outcome: 'not-previous' }, { outcome: 'not-previous' }]);
  });

  it('retires without an issuer revocation when the provider has none', async () => {
    // Prepare
    clock.current = history.graceEndsAt;

    // Act
    const result = await retireCredential(history.previous.fingerprint, { ledger, now: clock.now });

    // Assess
    expect(result.outcome).toBe('retired');
  });

  it.each([
    ['a token', tokenNumber(1)],
    ['upper-case hex', 'A'.repeat(64)],
    ['63 hex characters', 'a'.repeat(63)],
    ['65 hex characters', 'a'.repeat(65)],
    ['an empty string', ''],
  ])('refuses %s as the fingerprint without asking the ledger or echoing it', async (_label, value) => {
    // Act
    const error = await rejectionOf(retireCredential(value, deps));

    // Assess
    expect(error.message).toBe('retirement names no fingerprint (expected 64 hex characters)');
    expect(ledger.calls).toEqual([]);
  });
});

describe('Function: sweepOverdueRetirements', () => {
  let clock: ManualClock;
  let ledger: InMemoryLedger;
  let deps: RetirementDependencies;

  beforeEach(() => {
    clock = new ManualClock(T0);
    ledger = new InMemoryLedger(clock.now);
    deps = { ledger, now: clock.now };
  });

  /** A secret `name` whose previous credential (token `seed`) has its grace end at `graceEndsAt`. */
  async function previousCredential(name: string, seed: number, graceEndsAt: number): Promise<string> {
    const secret = { secretArn: `${LEDGER_SECRET.arn}-${name}`, secretName: name, provider: 'managed-token' };
    const [old, next] = [tokenNumber(seed), tokenNumber(seed + 100)].map((token) => fingerprinter.of(token));
    const base = { ...secret, now: T0, onReuse: 'revoke-and-rotate' as const, previousExpiresAt: 2e9 };
    await ledger.recordPromotion({ ...base, current: { versionId: 'a', fingerprint: old! }, graceEndsAt });
    await ledger.recordPromotion({
      ...base,
      current: { versionId: 'b', fingerprint: next! },
      previous: { versionId: 'a', fingerprint: old! },
      graceEndsAt,
    });
    return old!;
  }

  it('retires every previous credential whose grace has ended, oldest first, and leaves the others', async () => {
    // Prepare
    const late = await previousCredential('late', 1, T0 + 2000);
    const early = await previousCredential('early', 2, T0 + 1000);
    const inGrace = await previousCredential('in-grace', 3, T0 + GRACE_MS);
    clock.current = T0 + 5000;

    // Act
    const retired = await sweepOverdueRetirements(deps);

    // Assess
    expect(retired.map((record) => record.fingerprint)).toEqual([early, late]);
    expect(retired.map((record) => record.secretName)).toEqual(['early', 'late']);
    expect((await ledger.getCredential(inGrace))?.state).toBe('previous');
    expect(ledger.auditOf(`${LEDGER_SECRET.arn}-early`).at(-1)?.type).toBe('retired');
  });

  it('retires at most `limit` credentials per sweep', async () => {
    // Prepare
    for (let seed = 1; seed <= 3; seed += 1) await previousCredential(`s${seed}`, seed, T0 + seed);
    clock.current = T0 + 5000;

    // Act
    const first = await sweepOverdueRetirements(deps, 2);
    const second = await sweepOverdueRetirements(deps, 2);

    // Assess
    expect(first.map((record) => record.secretName)).toEqual(['s1', 's2']);
    expect(second.map((record) => record.secretName)).toEqual(['s3']);
  });

  it('does not count a credential its one-time schedule retired while the sweep ran', async () => {
    // Prepare: the schedule wins the race between listOverdue and the sweep's own retire
    const fingerprint = await previousCredential('raced', 1, T0 + 1000);
    clock.current = T0 + 5000;
    const listOverdue = ledger.listOverdue.bind(ledger);
    jest.spyOn(ledger, 'listOverdue').mockImplementation(async (now, limit) => {
      const overdue = await listOverdue(now, limit);
      await ledger.retire(fingerprint, now);
      return overdue;
    });

    // Act
    const retired = await sweepOverdueRetirements(deps);

    // Assess
    expect(retired).toEqual([]);
  });

  it('retires nothing when nothing is overdue', async () => {
    // Act
    const retired = await sweepOverdueRetirements(deps);

    // Assess
    expect(retired).toEqual([]);
    expect(ledger.calls).toEqual(['listOverdue']);
  });
});
