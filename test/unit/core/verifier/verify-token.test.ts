import type { Fingerprinter } from '../../../../lambda/core/ledger/fingerprint';
import { verifyToken, type VerifierDependencies } from '../../../../lambda/core/verifier/verify-token';
import { InMemoryLedger } from '../../fakes/in-memory-ledger';
import {
  fingerprinter,
  LEDGER_SECRET,
  ManualClock,
  RecordingIncidents,
  RecordingRotations,
  REUSE_MEMORY_SECONDS,
  secretWithHistory,
  T0,
  tokenNumber,
  type SecretHistory,
} from '../../helpers/ledger-harness';

const WELL_FORMED = tokenNumber(9);

describe('Function: verifyToken', () => {
  let clock: ManualClock;
  let ledger: InMemoryLedger;
  let incidents: RecordingIncidents;
  let rotations: RecordingRotations;
  let loadFingerprinter: jest.Mock<Promise<Fingerprinter>, []>;
  let deps: VerifierDependencies;
  let history: SecretHistory;
  /** Version ids Secrets Manager has AWSCURRENT, per secret ARN (the verifier's DescribeSecret). */
  let awsCurrent: Map<string, string>;
  let lookups: string[];

  beforeEach(async () => {
    clock = new ManualClock(T0 + 3000);
    ledger = new InMemoryLedger(clock.now);
    incidents = new RecordingIncidents();
    rotations = new RecordingRotations();
    loadFingerprinter = jest.fn(() => Promise.resolve(fingerprinter));
    awsCurrent = new Map();
    lookups = [];
    deps = {
      ledger,
      fingerprinter: loadFingerprinter,
      incidents,
      rotations,
      versions: {
        isCurrent: (secretArn, versionId) => {
          lookups.push(versionId);
          if (!awsCurrent.has(secretArn)) return Promise.reject(new Error('ThrottlingException: injected'));
          return Promise.resolve(awsCurrent.get(secretArn) === versionId);
        },
      },
      now: clock.now,
      reuseMemorySeconds: REUSE_MEMORY_SECONDS,
    };
    history = await secretWithHistory(ledger);
    awsCurrent.set(LEDGER_SECRET.arn, history.current.versionId);
    ledger.calls.length = 0;
  });

  const known = (credential: { versionId: string }) => ({ secretName: LEDGER_SECRET.name, ...credential });
  const auditTypes = () => ledger.auditOf(LEDGER_SECRET.arn).map((event) => event.type);

  describe('malformed input', () => {
    it.each([
      ['an empty string', ''],
      ['an oversized string', `rtr_${'a'.repeat(100_000)}`],
      ['a number', 42],
      ['undefined', undefined],
      ['null', null],
      ['an object', { token: WELL_FORMED }],
      ['an array', [WELL_FORMED]],
      ['a wrong prefix', `ghp_${WELL_FORMED.slice(4)}`],
      ['an upper-case prefix', `RTR_${WELL_FORMED.slice(4)}`],
      ['a wrong checksum', `${WELL_FORMED.slice(0, -1)}${WELL_FORMED.endsWith('A') ? 'B' : 'A'}`],
      ['surrounding whitespace', ` ${WELL_FORMED}\n`],
    ])('denies %s as malformed without loading the pepper or asking the ledger', async (_label, candidate) => {
      // Act
      const verdict = await verifyToken(candidate, deps);

      // Assess
      expect(verdict).toEqual({ allowed: false, reason: 'malformed' });
      expect(loadFingerprinter).not.toHaveBeenCalled();
      expect(ledger.calls).toEqual([]);
    });
  });

  it('denies a well-formed token the ledger does not know as unknown, after one read', async () => {
    // Act
    const verdict = await verifyToken(WELL_FORMED, deps);

    // Assess
    expect(verdict).toEqual({ allowed: false, reason: 'unknown' });
    expect(ledger.calls).toEqual(['getCredential']);
  });

  it('denies a pending token, naming its secret, and reports nothing', async () => {
    // Act
    const verdict = await verifyToken(history.pending.token, deps);

    // Assess
    expect(verdict).toEqual({ allowed: false, reason: 'pending', ...known({ versionId: history.pending.versionId }) });
    expect(ledger.calls).toEqual(['getCredential']);
    expect(incidents.published).toEqual([]);
  });

  describe('while the ledger lags Secrets Manager (a promotion not recorded yet)', () => {
    it('allows a pending token whose version is AWSCURRENT, after asking Secrets Manager once', async () => {
      // Prepare: finishSecret moved AWSCURRENT to the pending version; the ledger did not hear of it.
      awsCurrent.set(LEDGER_SECRET.arn, history.pending.versionId);

      // Act
      const verdict = await verifyToken(history.pending.token, deps);

      // Assess
      expect(verdict).toEqual({ allowed: true, reason: 'current', ...known({ versionId: history.pending.versionId }) });
      expect(lookups).toEqual([history.pending.versionId]);
    });

    it('denies a pending token when Secrets Manager cannot be asked (fails closed)', async () => {
      // Prepare
      awsCurrent.delete(LEDGER_SECRET.arn);

      // Act
      const verdict = await verifyToken(history.pending.token, deps);

      // Assess
      expect(verdict).toMatchObject({ allowed: false, reason: 'unconfirmed' });
    });

    it('trusts a current token marked for supersession until the marked grace ends, without asking', async () => {
      // Prepare
      await ledger.markSupersession({
        secretArn: LEDGER_SECRET.arn,
        ...history.current,
        graceEndsAt: clock.now() + 1000,
        now: clock.now(),
      });

      // Act
      const verdict = await verifyToken(history.current.token, deps);

      // Assess
      expect(verdict).toEqual({ allowed: true, reason: 'current', ...known({ versionId: history.current.versionId }) });
      expect(lookups).toEqual([]);
    });

    it('after the marked grace, allows it only while it is still AWSCURRENT, and treats it as reuse once it is not', async () => {
      // Prepare
      await ledger.markSupersession({
        secretArn: LEDGER_SECRET.arn,
        ...history.current,
        graceEndsAt: clock.now() + 1000,
        now: clock.now(),
      });
      clock.current += 1000;

      // Act: the move failed (still AWSCURRENT), then the move happened (AWSCURRENT elsewhere).
      const moveFailed = await verifyToken(history.current.token, deps);
      awsCurrent.set(LEDGER_SECRET.arn, history.pending.versionId);
      const moved = await verifyToken(history.current.token, deps);

      // Assess
      expect(moveFailed).toMatchObject({ allowed: true, reason: 'current' });
      expect(moved).toMatchObject({ allowed: false, reason: 'reuse', incidentOpened: true });
      expect(lookups).toEqual([history.current.versionId, history.current.versionId]);
    });
  });

  it('allows the current token in one consistent read and nothing else', async () => {
    // Act
    const verdict = await verifyToken(history.current.token, deps);

    // Assess
    expect(verdict).toEqual({ allowed: true, reason: 'current', ...known({ versionId: history.current.versionId }) });
    expect(ledger.calls).toEqual(['getCredential']);
    expect(loadFingerprinter).toHaveBeenCalledTimes(1);
  });

  it('allows the previous token within its grace, and records one grace-used event per credential', async () => {
    // Act
    const verdicts = [];
    for (let index = 0; index < 3; index += 1) verdicts.push(await verifyToken(history.previous.token, deps));
    await Promise.all([verifyToken(history.previous.token, deps), verifyToken(history.previous.token, deps)]);

    // Assess
    expect(verdicts).toEqual(
      Array(3).fill({
        allowed: true,
        reason: 'grace',
        ...known({ versionId: history.previous.versionId }),
        graceEndsAt: history.graceEndsAt,
      }),
    );
    const graceUsed = ledger.auditOf(LEDGER_SECRET.arn).filter((event) => event.type === 'grace-used');
    expect(graceUsed).toEqual([
      expect.objectContaining({
        at: T0 + 3000,
        versionId: history.previous.versionId,
        fingerprintPrefix: history.previous.fingerprint.slice(0, 12),
        detail: { graceEndsAt: new Date(history.graceEndsAt).toISOString() },
      }),
    ]);
    expect(incidents.published).toEqual([]);
  });

  it('answers later presentations of a token in grace with one read and no write', async () => {
    // Prepare: the first presentation recorded the grace use
    await verifyToken(history.previous.token, deps);
    ledger.calls.length = 0;

    // Act
    const verdict = await verifyToken(history.previous.token, deps);

    // Assess
    expect(verdict).toMatchObject({ allowed: true, reason: 'grace' });
    expect(ledger.calls).toEqual(['getCredential']);
  });

  it('answers later presentations of a dead token with one read and no write', async () => {
    // Prepare: the first presentation after grace opened the incident
    clock.current = history.graceEndsAt + 1;
    await verifyToken(history.previous.token, deps);
    ledger.calls.length = 0;

    // Act
    const verdict = await verifyToken(history.previous.token, deps);

    // Assess
    expect(verdict).toMatchObject({ allowed: false, incidentOpened: false });
    expect(ledger.calls).toEqual(['getCredential']);
  });

  it('still allows the previous token one millisecond before its grace ends', async () => {
    // Prepare
    clock.current = history.graceEndsAt - 1;

    // Act
    const verdict = await verifyToken(history.previous.token, deps);

    // Assess
    expect(verdict).toMatchObject({ allowed: true, reason: 'grace' });
  });

  it('denies the previous token as reuse at the very millisecond its grace ends', async () => {
    // Prepare: grace is [promotion, graceEndsAt), as retire() treats graceEndsAt <= now as due
    clock.current = history.graceEndsAt;

    // Act
    const verdict = await verifyToken(history.previous.token, deps);

    // Assess
    expect(verdict).toEqual({
      allowed: false,
      reason: 'reuse',
      ...known({ versionId: history.previous.versionId }),
      incidentOpened: true,
    });
  });

  it('denies the previous token after its grace as reuse, opening one incident and one rotation', async () => {
    // (revoke-and-rotate: the second presentation finds the credential revoked by the first)
    // Prepare
    clock.current = history.graceEndsAt + 1;

    // Act
    const first = await verifyToken(history.previous.token, deps);
    const second = await verifyToken(history.previous.token, deps);

    // Assess
    expect([first.incidentOpened, second.incidentOpened]).toEqual([true, false]);
    expect([first.reason, second.reason]).toEqual(['reuse', 'revoked']);
    expect(incidents.published).toEqual([expect.objectContaining({ credentialState: 'previous' })]);
    expect(rotations.started).toEqual([LEDGER_SECRET.arn]);
    expect(auditTypes().filter((type) => type === 'reuse-detected')).toHaveLength(1);
  });

  it('denies a retired token as reuse and opens an incident', async () => {
    // Prepare
    clock.current = history.graceEndsAt + 1;
    await ledger.retire(history.previous.fingerprint, clock.current);

    // Act
    const verdict = await verifyToken(history.previous.token, deps);

    // Assess
    expect(verdict).toMatchObject({ allowed: false, reason: 'reuse', incidentOpened: true });
    expect(incidents.published).toEqual([expect.objectContaining({ credentialState: 'retired' })]);
  });

  it('denies a revoked token as revoked, reports it once and restarts the unfinished rotation once', async () => {
    // Prepare: an earlier incident revoked the family
    await ledger.revokeFamily(LEDGER_SECRET.arn, clock.current, Math.floor(clock.current / 1000) + 60);

    // Act
    const first = await verifyToken(history.current.token, deps);
    const second = await verifyToken(history.current.token, deps);

    // Assess
    expect(first).toEqual({
      allowed: false,
      reason: 'revoked',
      ...known({ versionId: history.current.versionId }),
      incidentOpened: true,
    });
    expect(second).toMatchObject({ allowed: false, reason: 'revoked', incidentOpened: false });
    expect(incidents.published).toEqual([
      expect.objectContaining({ credentialState: 'revoked', response: 'already-revoked' }),
    ]);
    expect(rotations.started).toEqual([LEDGER_SECRET.arn]);
  });

  it('denies a dead token even when the incident response fails, and says the response failed', async () => {
    // Prepare: the rotation cannot be started
    await ledger.revokeFamily(LEDGER_SECRET.arn, clock.current, Math.floor(clock.current / 1000) + 60);
    rotations.failure = new Error('AccessDeniedException');
    const failures: unknown[] = [];

    // Act
    const verdict = await verifyToken(history.current.token, { ...deps, onResponseFailed: (e) => failures.push(e) });

    // Assess
    expect(verdict).toMatchObject({ allowed: false, reason: 'revoked', incidentOpened: false, responseFailed: true });
    expect(failures).toEqual([new Error('AccessDeniedException')]);
  });

  it('denies a dead token as unknown once the ledger has forgotten it', async () => {
    // Prepare: past the previous credential's reuse memory
    clock.current = (Math.floor(history.graceEndsAt / 1000) + REUSE_MEMORY_SECONDS) * 1000;

    // Act
    const verdict = await verifyToken(history.previous.token, deps);

    // Assess
    expect(verdict).toEqual({ allowed: false, reason: 'unknown' });
    expect(incidents.published).toEqual([]);
  });

  it('opens exactly one incident and one rotation for 50 concurrent presentations of a dead token', async () => {
    // Prepare
    clock.current = history.graceEndsAt + 1;

    // Act
    const verdicts = await Promise.all(Array.from({ length: 50 }, () => verifyToken(history.previous.token, deps)));

    // Assess
    expect(verdicts.every((verdict) => !verdict.allowed && verdict.reason === 'reuse')).toBe(true);
    expect(verdicts.filter((verdict) => verdict.incidentOpened)).toHaveLength(1);
    expect(incidents.published).toHaveLength(1);
    expect(rotations.started).toHaveLength(1);
  });

  it('keeps every token out of its answers and out of the ledger', async () => {
    // Prepare
    const tokens = [history.previous.token, history.current.token, history.pending.token, WELL_FORMED];
    clock.current = history.graceEndsAt + 1;

    // Act
    const verdicts = await Promise.all(tokens.map((token) => verifyToken(token, deps)));

    // Assess
    const everything = JSON.stringify([verdicts, incidents.published]) + ledger.dump();
    for (const token of tokens) expect(everything).not.toContain(token);
  });
});
