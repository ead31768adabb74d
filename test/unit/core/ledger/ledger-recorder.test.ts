import type { Fingerprinter } from '../../../../lambda/core/ledger/fingerprint';
import { LedgerRecorder, type LedgerRecorderDependencies } from '../../../../lambda/core/ledger/ledger-recorder';
import type { Retirement } from '../../../../lambda/core/ledger/retirement-scheduler';
import { managedTokenProvider } from '../../../../lambda/core/providers/managed-token/managed-token-provider';
import { ProviderRegistry } from '../../../../lambda/core/providers/provider-registry';
import type { Promoted } from '../../../../lambda/core/rotation/rotation-observer';
import type { SecretDescription } from '../../../../lambda/core/rotation/secret-store';
import { parseSecretDocument, type ParsedSecretDocument } from '../../../../lambda/core/secret-document';
import { InMemoryLedger } from '../../fakes/in-memory-ledger';
import { fingerprinter, LEDGER_SECRET, ManualClock, T0, tokenNumber } from '../../helpers/ledger-harness';

const DEFAULT_GRACE_SECONDS = 900;
const REUSE_MEMORY_SECONDS = 7200;
const SECRET: SecretDescription = { ...LEDGER_SECRET, rotationEnabled: true, versionStages: {} };
const providers = new ProviderRegistry([managedTokenProvider]);
const [FIRST, SECOND] = [tokenNumber(1), tokenNumber(2)];

function document(fields: Record<string, unknown>): ParsedSecretDocument {
  return parseSecretDocument(JSON.stringify({ provider: 'managed-token', ...fields }), providers, 'test document');
}

describe('Class: LedgerRecorder', () => {
  let clock: ManualClock;
  let ledger: InMemoryLedger;
  let loadFingerprinter: jest.Mock<Promise<Fingerprinter>, []>;
  let scheduled: Retirement[];
  let schedule: jest.Mock<Promise<void>, [Retirement]>;
  let onRetirementScheduleFailed: jest.Mock<void, [string, unknown]>;
  let recorder: LedgerRecorder;

  function newRecorder(overrides: Partial<LedgerRecorderDependencies> = {}): LedgerRecorder {
    return new LedgerRecorder({
      ledger,
      fingerprinter: loadFingerprinter,
      retirements: { schedule },
      durations: { defaultGraceSeconds: DEFAULT_GRACE_SECONDS, reuseMemorySeconds: REUSE_MEMORY_SECONDS },
      now: clock.now,
      onRetirementScheduleFailed,
      ...overrides,
    });
  }

  /** finishSecret's event: `versionId` is now AWSCURRENT, holding `current`. */
  function promoted(
    versionId: string,
    current: ParsedSecretDocument,
    previous?: { versionId: string; document?: ParsedSecretDocument },
  ): Promoted & { readPrevious: jest.Mock<Promise<ParsedSecretDocument | undefined>, []> } {
    return {
      secret: SECRET,
      versionId,
      current,
      ...(previous === undefined ? {} : { previousVersionId: previous.versionId }),
      readPrevious: jest.fn(() => Promise.resolve(previous?.document)),
    };
  }

  /** The first rotation: version v1 (FIRST) replaced a document without a token. */
  async function firstRotation(fields: Record<string, unknown> = {}): Promise<void> {
    await recorder.promoted(
      promoted('v1', document({ token: FIRST, ...fields }), { versionId: 'v0', document: document({}) }),
    );
    ledger.calls.length = 0;
    schedule.mockClear();
  }

  beforeEach(() => {
    clock = new ManualClock(T0);
    ledger = new InMemoryLedger(clock.now);
    loadFingerprinter = jest.fn(() => Promise.resolve(fingerprinter));
    scheduled = [];
    schedule = jest.fn((retirement: Retirement) => {
      scheduled.push(retirement);
      return Promise.resolve();
    });
    onRetirementScheduleFailed = jest.fn((_secretName: string, _error: unknown) => undefined);
    recorder = newRecorder();
  });

  /** What a writing step tells before its first write: `versionId` is AWSCURRENT. */
  function observed(versionId: string, current: ParsedSecretDocument | undefined, previousVersionId?: string) {
    return {
      secret: SECRET,
      versionId,
      readCurrent: jest.fn(() => Promise.resolve(current)),
      ...(previousVersionId === undefined ? {} : { previousVersionId }),
      readPrevious: jest.fn(() => Promise.resolve(undefined)),
    };
  }

  describe('Method: prepare', () => {
    it('loads the pepper and reads the secret state, and writes nothing when the ledger is in step', async () => {
      // Prepare
      await firstRotation();
      const event = observed('v1', document({ token: FIRST }), 'v0');

      // Act
      await recorder.prepare(event);

      // Assess
      expect(loadFingerprinter).toHaveBeenCalled();
      expect(ledger.calls).toEqual(['getSecretState']);
      expect(event.readCurrent).not.toHaveBeenCalled();
    });

    it('fails before anything is written when the pepper cannot be loaded', async () => {
      // Prepare
      loadFingerprinter.mockRejectedValueOnce(new Error('AccessDeniedException'));

      // Act & Assess
      await expect(recorder.prepare(observed('v1', document({ token: FIRST })))).rejects.toThrow(
        'AccessDeniedException',
      );
      expect(ledger.calls).toEqual([]);
    });

    it('records a promotion the ledger missed: AWSCURRENT holds the credential the ledger has pending for that version', async () => {
      // Prepare: v2 was stored and recorded pending; finishSecret moved AWSCURRENT and failed before the ledger heard.
      await firstRotation();
      await recorder.promoting(promoted('v2', document({ token: SECOND }), { versionId: 'v1' }));
      await recorder.pendingStored({ secret: SECRET, versionId: 'v2', pending: document({ token: SECOND }) });
      const markedEnd = T0 + DEFAULT_GRACE_SECONDS * 1000;
      clock.current = T0 + 60_000;

      // Act
      await recorder.prepare(observed('v2', document({ token: SECOND }), 'v1'));

      // Assess: v2 current; v1 previous within the grace marked before the move, not a later one.
      expect(await ledger.getCredential(fingerprinter.of(SECOND))).toMatchObject({ state: 'current', versionId: 'v2' });
      expect(await ledger.getCredential(fingerprinter.of(FIRST))).toMatchObject({
        state: 'previous',
        graceEndsAt: markedEnd,
      });
      expect(await ledger.getSecretState(SECRET.arn)).toMatchObject({
        currentVersionId: 'v2',
        previousVersionId: 'v1',
      });
    });

    it('adopts nothing the ledger does not know as pending for that version (a value written outside Rotor)', async () => {
      // Prepare
      await firstRotation();

      // Act
      await recorder.prepare(observed('v9', document({ token: SECOND }), 'v1'));

      // Assess
      expect(await ledger.getCredential(fingerprinter.of(SECOND))).toBeUndefined();
      expect(await ledger.getSecretState(SECRET.arn)).toMatchObject({ currentVersionId: 'v1' });
    });
  });

  describe('Method: promoting', () => {
    it('marks the current credential with the grace end it is about to get, and changes nothing else', async () => {
      // Prepare
      await firstRotation({ graceSeconds: 120 });

      // Act
      await recorder.promoting(promoted('v2', document({ token: SECOND, graceSeconds: 120 }), { versionId: 'v1' }));

      // Assess
      expect(await ledger.getCredential(fingerprinter.of(FIRST))).toMatchObject({
        state: 'current',
        supersessionGraceEndsAt: T0 + 120_000,
      });
      expect(await ledger.getCredential(fingerprinter.of(SECOND))).toBeUndefined();
      expect(schedule).not.toHaveBeenCalled();
    });

    it('marks nothing when the version AWSCURRENT leaves holds no credential (a first rotation)', async () => {
      // Act
      await recorder.promoting(promoted('v1', document({ token: FIRST }), { versionId: 'v0', document: document({}) }));

      // Assess
      expect(ledger.calls.filter((call) => call === 'markSupersession')).toEqual([]);
    });
  });

  describe('Method: pendingStored', () => {
    it('records the pending credential by its fingerprint, with a one-day lifetime, and never the token', async () => {
      // Act
      await recorder.pendingStored({ secret: SECRET, versionId: 'v1', pending: document({ token: FIRST }) });

      // Assess
      expect(await ledger.getCredential(fingerprinter.of(FIRST))).toEqual({
        fingerprint: fingerprinter.of(FIRST),
        secretArn: SECRET.arn,
        secretName: SECRET.name,
        versionId: 'v1',
        provider: 'managed-token',
        state: 'pending',
        createdAt: T0,
        expiresAt: Math.floor(T0 / 1000) + 86_400,
      });
      expect(ledger.dump()).not.toContain(FIRST);
    });

    it('records nothing, and loads no pepper, for a document without a credential', async () => {
      // Act
      await recorder.pendingStored({ secret: SECRET, versionId: 'v1', pending: document({}) });

      // Assess
      expect(ledger.calls).toEqual([]);
      expect(loadFingerprinter).not.toHaveBeenCalled();
    });
  });

  describe('Method: promoted', () => {
    it('records the first credential current, with no previous and no retirement', async () => {
      // Prepare: the secret's first version held no token
      const event = promoted('v1', document({ token: FIRST }), { versionId: 'v0', document: document({}) });

      // Act
      await recorder.promoted(event);

      // Assess
      expect(event.readPrevious).toHaveBeenCalledTimes(1);
      expect(await ledger.getCredential(fingerprinter.of(FIRST))).toMatchObject({ state: 'current', versionId: 'v1' });
      expect(await ledger.getSecretState(SECRET.arn)).toMatchObject({ currentVersionId: 'v1', generation: 1 });
      expect(schedule).not.toHaveBeenCalled();
    });

    it('takes the replaced credential’s fingerprint from the ledger without reading the version', async () => {
      // Prepare
      await firstRotation();
      clock.current = T0 + 10_000;
      const event = promoted('v2', document({ token: SECOND }), { versionId: 'v1' });

      // Act
      await recorder.promoted(event);

      // Assess
      expect(event.readPrevious).not.toHaveBeenCalled();
      const graceEndsAt = T0 + 10_000 + DEFAULT_GRACE_SECONDS * 1000;
      expect(await ledger.getCredential(fingerprinter.of(FIRST))).toMatchObject({
        state: 'previous',
        versionId: 'v1',
        supersededAt: T0 + 10_000,
        graceEndsAt,
        expiresAt: Math.floor(graceEndsAt / 1000) + REUSE_MEMORY_SECONDS,
      });
      expect(await ledger.getCredential(fingerprinter.of(SECOND))).toMatchObject({ state: 'current', versionId: 'v2' });
      expect(scheduled).toEqual([
        { secretArn: SECRET.arn, versionId: 'v1', fingerprint: fingerprinter.of(FIRST), at: graceEndsAt },
      ]);
    });

    it('reads the replaced version when the ledger does not know it, and fingerprints its credential', async () => {
      // Prepare: the ledger never heard of v1 (it was current before Rotor kept a ledger)
      const event = promoted('v2', document({ token: SECOND }), {
        versionId: 'v1',
        document: document({ token: FIRST }),
      });

      // Act
      await recorder.promoted(event);

      // Assess
      expect(event.readPrevious).toHaveBeenCalledTimes(1);
      expect(scheduled).toEqual([expect.objectContaining({ versionId: 'v1', fingerprint: fingerprinter.of(FIRST) })]);
      expect(await ledger.getSecretState(SECRET.arn)).toMatchObject({
        previousVersionId: 'v1',
        previousFingerprint: fingerprinter.of(FIRST),
      });
    });

    it('records no previous and schedules nothing when AWSCURRENT moved from no known version', async () => {
      // Prepare
      const event = promoted('v1', document({ token: FIRST }));

      // Act
      await recorder.promoted(event);

      // Assess
      expect(event.readPrevious).not.toHaveBeenCalled();
      expect((await ledger.getSecretState(SECRET.arn))?.previousVersionId).toBeUndefined();
      expect(schedule).not.toHaveBeenCalled();
    });

    it('does nothing when the ledger already names the version current', async () => {
      // Prepare
      await firstRotation();
      const event = promoted('v1', document({ token: FIRST }), { versionId: 'v0' });
      loadFingerprinter.mockClear();

      // Act
      await recorder.promoted(event);

      // Assess
      expect(ledger.calls).toEqual(['getSecretState']);
      expect(loadFingerprinter).not.toHaveBeenCalled();
      expect(event.readPrevious).not.toHaveBeenCalled();
      expect(schedule).not.toHaveBeenCalled();
    });

    it('does nothing for a current document that holds no credential', async () => {
      // Act
      await recorder.promoted(promoted('v1', document({}), { versionId: 'v0' }));

      // Assess
      expect(ledger.calls).toEqual(['getSecretState']);
      expect(schedule).not.toHaveBeenCalled();
    });

    it.each([
      [5, 5000],
      [0, 0],
    ])('uses the document’s graceSeconds (%i) over the default', async (graceSeconds, graceMs) => {
      // Prepare
      await firstRotation();

      // Act
      await recorder.promoted(promoted('v2', document({ token: SECOND, graceSeconds }), { versionId: 'v1' }));

      // Assess
      expect((await ledger.getSecretState(SECRET.arn))?.previousGraceEndsAt).toBe(T0 + graceMs);
      expect(scheduled).toEqual([expect.objectContaining({ at: T0 + graceMs })]);
    });

    it('records the document’s onReuse, and revoke-and-rotate when it names none', async () => {
      // Prepare
      await firstRotation();
      const before = (await ledger.getSecretState(SECRET.arn))?.onReuse;

      // Act
      await recorder.promoted(promoted('v2', document({ token: SECOND, onReuse: 'alert-only' }), { versionId: 'v1' }));

      // Assess
      expect(before).toBe('revoke-and-rotate');
      expect((await ledger.getSecretState(SECRET.arn))?.onReuse).toBe('alert-only');
    });

    it('records and schedules once when two finishSecret invocations report the promotion at once', async () => {
      // Prepare
      await firstRotation();
      const event = () => promoted('v2', document({ token: SECOND }), { versionId: 'v1' });

      // Act
      await Promise.all([recorder.promoted(event()), recorder.promoted(event())]);

      // Assess
      expect(ledger.calls.filter((call) => call === 'recordPromotion')).toHaveLength(2);
      expect(ledger.auditOf(SECRET.arn).filter((audit) => audit.type === 'promoted')).toHaveLength(2);
      expect(schedule).toHaveBeenCalledTimes(1);
    });

    it('completes when the retirement cannot be scheduled, reporting it to the callback and the audit trail', async () => {
      // Prepare
      await firstRotation();
      const failure = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      schedule.mockRejectedValueOnce(failure);
      clock.current = T0 + 10_000;

      // Act
      await recorder.promoted(promoted('v2', document({ token: SECOND }), { versionId: 'v1' }));

      // Assess
      expect(onRetirementScheduleFailed).toHaveBeenCalledWith(SECRET.name, failure);
      expect(ledger.auditOf(SECRET.arn).at(-1)).toEqual({
        id: expect.any(String) as unknown,
        secretArn: SECRET.arn,
        secretName: SECRET.name,
        type: 'retirement-schedule-failed',
        at: T0 + 10_000,
        versionId: 'v1',
        fingerprintPrefix: fingerprinter.of(FIRST).slice(0, 12),
        detail: { error: 'ThrottlingException' },
      });
      expect((await ledger.getSecretState(SECRET.arn))?.currentVersionId).toBe('v2');
    });

    it('completes when the retirement cannot be scheduled and nobody listens, naming a non-Error failure Error', async () => {
      // Prepare
      recorder = newRecorder({ onRetirementScheduleFailed: undefined });
      await firstRotation();
      schedule.mockRejectedValueOnce('boom');

      // Act
      await recorder.promoted(promoted('v2', document({ token: SECOND }), { versionId: 'v1' }));

      // Assess
      expect(ledger.auditOf(SECRET.arn).at(-1)).toMatchObject({
        type: 'retirement-schedule-failed',
        detail: { error: 'Error' },
      });
    });

    it('never hands the ledger or the scheduler a token', async () => {
      // Prepare
      await firstRotation();

      // Act
      await recorder.promoted(promoted('v2', document({ token: SECOND }), { versionId: 'v1' }));

      // Assess
      const everything = ledger.dump() + JSON.stringify(scheduled);
      expect(everything).not.toContain(FIRST);
      expect(everything).not.toContain(SECOND);
    });
  });
});
