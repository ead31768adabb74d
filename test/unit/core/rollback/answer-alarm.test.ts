import { VersionLabelMovedError } from '../../../../lambda/core/errors';
import { answerAlarm, type AlarmAnswer } from '../../../../lambda/core/rollback/answer-alarm';
import { AWSCURRENT, AWSPREVIOUS } from '../../../../lambda/core/rotation/secret-store';
import { RotorAlarmKind } from '../../../../lambda/shared/rotor-constants';
import { LEDGER_SECRET } from '../../helpers/ledger-harness';
import { alarmEvent, LEASE_MS, RollbackWorld, WINDOW_MS } from '../../helpers/rollback-harness';

// The rollback's decisions, on the in-memory ledger and Secrets Manager: what it acts on, when it
// rolls back, counts and pauses, and how twin deliveries and dead attempts are handled.

const WRITES = [
  'claimRollback',
  'recordRollback',
  'recordRestore',
  'pause',
  'releaseRollbackClaim',
  'resume',
  'revokeFamily',
];

describe('Function: answerAlarm', () => {
  let world: RollbackWorld;

  beforeEach(() => {
    world = new RollbackWorld();
  });

  const ledgerWrites = () => world.log.filter((call) => WRITES.includes(call));

  describe('rolling back', () => {
    it('moves AWSCURRENT back to a usable previous credential, cancels its retirement and records it', async () => {
      // Prepare
      const { good, bad } = await world.badCurrent();

      // Act
      const answer = await answerAlarm(alarmEvent(), world.deps());

      // Assess
      expect(answer).toEqual({
        outcome: 'rolled-back',
        alarmName: 'rotor-dev-health-check-failures-rotor-dev-ci-token',
        secretName: LEDGER_SECRET.name,
        fromVersionId: bad.versionId,
        toVersionId: good.versionId,
        attempt: 1,
        maxAttempts: 3,
        recorded: true,
      });
      expect(world.store.moves).toEqual([
        { toVersionId: good.versionId, fromVersionId: bad.versionId, result: 'moved' },
      ]);
      expect(world.store.stagesOf(good.versionId)).toEqual([AWSCURRENT]);
      expect(world.store.stagesOf(bad.versionId)).toEqual([AWSPREVIOUS]);
      expect(world.retirements.cancelled).toEqual([good.versionId]);
      expect(ledgerWrites()).toEqual(['claimRollback', 'recordRollback']);
      expect(world.log.indexOf('cancel')).toBeLessThan(world.log.indexOf('recordRollback'));
      expect((await world.ledger.getCredential(good.fingerprint))?.state).toBe('current');
      expect((await world.ledger.getCredential(bad.fingerprint))?.state).toBe('revoked');
      expect(world.ledger.auditOf(LEDGER_SECRET.arn).at(-1)).toMatchObject({ type: 'rolled-back' });
    });

    it('rolls back on the rotation-failure alarm too', async () => {
      // Prepare
      await world.badCurrent();

      // Act
      const answer = await answerAlarm(alarmEvent({ kind: RotorAlarmKind.rotationFailures }), world.deps());

      // Assess
      expect(answer.outcome).toBe('rolled-back');
    });

    it('does nothing, and writes nothing, when AWSCURRENT passes its test now', async () => {
      // Prepare: the rotation-failure alarm of a rotation that failed before promoting anything
      await world.rotate();
      await world.rotate();

      // Act
      const answer = await answerAlarm(alarmEvent({ kind: RotorAlarmKind.rotationFailures }), world.deps());

      // Assess
      expect(answer).toMatchObject({
        outcome: 'ignored',
        reason: expect.stringMatching(/passes its test: nothing to roll back$/) as unknown,
      });
      expect(ledgerWrites()).toEqual([]);
      expect(world.store.moves).toEqual([]);
    });

    it('fails the AWSCURRENT credential the ledger does not know (a promotion the ledger never heard of)', async () => {
      // Prepare: AWSCURRENT holds a well-formed token Rotor never recorded; its ledger says otherwise
      const { good } = await world.badCurrent();
      world.store.addVersion(
        'hand-written',
        JSON.stringify({ provider: 'managed-token', token: good.token.replace(/.$/, 'x') }),
        [],
      );

      // Act: the document is malformed (bad checksum) once written as AWSCURRENT by hand
      world.store.addVersion('hand-written', world.store.valueOf('hand-written'), [AWSCURRENT]);
      const answer = await answerAlarm(alarmEvent(), world.deps());

      // Assess: the ledger's current is not AWSCURRENT, so nothing is rolled back: rotation pauses
      expect(answer).toMatchObject({ outcome: 'paused' });
      expect((answer as { reason: string }).reason).toMatch(
        /AWSCURRENT is version hand-written, which Rotor did not promote, and AWSPREVIOUS is version-\d+, not the ledger's current version/,
      );
    });
  });

  describe('undoing an out-of-band change', () => {
    it('moves AWSCURRENT back to the ledger’s current credential once, and records it as out-of-band', async () => {
      // Prepare: one rotation (so no previous credential), then a value written by hand
      const issued = await world.rotate();
      await world.overwriteOutOfBand('by-hand', '{"provider":"managed-token","token":"oops"}');
      const event = alarmEvent();

      // Act: the alarm event, delivered twice
      const first = await answerAlarm(event, world.deps());
      const second = await answerAlarm(event, world.deps());

      // Assess
      expect(first).toEqual({
        outcome: 'rolled-back',
        cause: 'out-of-band-change',
        alarmName: 'rotor-dev-health-check-failures-rotor-dev-ci-token',
        secretName: LEDGER_SECRET.name,
        fromVersionId: 'by-hand',
        toVersionId: issued.versionId,
        attempt: 1,
        maxAttempts: 3,
        recorded: true,
      });
      expect(second).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/^duplicate/) as unknown });
      expect(world.store.moves).toEqual([{ toVersionId: issued.versionId, fromVersionId: 'by-hand', result: 'moved' }]);
      expect(world.store.stagesOf(issued.versionId)).toEqual([AWSCURRENT]);
      expect(world.store.stagesOf('by-hand')).toEqual([AWSPREVIOUS]);
      expect(ledgerWrites()).toEqual(['claimRollback', 'recordRestore']);
      expect(world.retirements.cancelled).toEqual([]);
      expect((await world.ledger.getCredential(issued.fingerprint))?.state).toBe('current');
      expect(await world.ledger.getSecretState(LEDGER_SECRET.arn)).toMatchObject({
        status: 'active',
        currentVersionId: issued.versionId,
        rollback: { attempts: 1 },
      });
      expect(world.ledger.auditOf(LEDGER_SECRET.arn).at(-1)).toMatchObject({
        type: 'rolled-back',
        versionId: issued.versionId,
        detail: { cause: 'out-of-band-change', fromVersionId: 'by-hand' },
      });
      expect(world.notices.alerts).toEqual([]);
    });

    it('pauses when the ledger’s current credential no longer holds', async () => {
      // Prepare: the credential Rotor issued was revoked before the value was written by hand
      const issued = await world.rotate();
      world.ledger.forceState(issued.fingerprint, 'revoked');
      await world.overwriteOutOfBand('by-hand', 'not a document');

      // Act
      const answer = await answerAlarm(alarmEvent(), world.deps());

      // Assess
      expect(answer).toMatchObject({ outcome: 'paused' });
      expect((answer as { reason: string }).reason).toMatch(
        /the ledger's current credential \(version .*\) is revoked$/,
      );
      expect(world.store.moves).toEqual([]);
      expect(world.store.stagesOf('by-hand')).toEqual([AWSCURRENT]);
    });

    it('never adopts a value Rotor did not issue: two overwrites by hand pause', async () => {
      // Prepare: AWSPREVIOUS is the first value written by hand, not Rotor's credential
      const issued = await world.rotate();
      await world.overwriteOutOfBand(
        'by-hand-1',
        world.store.valueOf(issued.versionId)!.replace('"token":"rtr_', '"token":"rtr_x'),
      );
      await world.overwriteOutOfBand('by-hand-2', 'not a document');

      // Act
      const answer = await answerAlarm(alarmEvent(), world.deps());

      // Assess
      expect(answer).toMatchObject({ outcome: 'paused' });
      expect((answer as { reason: string }).reason).toMatch(
        /AWSPREVIOUS is by-hand-1, not the ledger's current version/,
      );
      expect(world.store.moves).toEqual([]);
    });

    it('refuses an AWSPREVIOUS whose credential is not the ledger’s current one', async () => {
      // Prepare: the ledger's current version id at AWSPREVIOUS, but its value replaced by another token
      const issued = await world.rotate();
      const other = await world.rotate();
      await world.overwriteOutOfBand('by-hand', 'not a document');
      world.store.addVersion(other.versionId, world.store.valueOf(issued.versionId), [AWSPREVIOUS]);

      // Act
      const answer = await answerAlarm(alarmEvent(), world.deps());

      // Assess
      expect(answer).toMatchObject({ outcome: 'paused' });
      expect((answer as { reason: string }).reason).toMatch(/holds another credential than the ledger's current one$/);
      expect(world.store.moves).toEqual([]);
    });

    it('does not take a failing promotion the ledger has not recorded yet for an out-of-band change', async () => {
      // Prepare: AWSCURRENT is a version the ledger holds as pending, and it fails
      await world.rotate();
      const state = (await world.ledger.getSecretState(LEDGER_SECRET.arn))!;
      await world.overwriteOutOfBand('pending-one', 'not a document');
      jest.spyOn(world.ledger, 'getSecretState').mockResolvedValue({ ...state, pendingVersionId: 'pending-one' });

      // Act
      const answer = await answerAlarm(alarmEvent(), world.deps());

      // Assess: rotation pauses as before; nothing moves
      expect(answer).toMatchObject({ outcome: 'paused' });
      expect((answer as { reason: string }).reason).toMatch(/AWSCURRENT is the ledger's pending version pending-one/);
      expect(world.store.moves).toEqual([]);
    });
  });

  describe('counting attempts and pausing', () => {
    it('rolls back three times in one incident, then pauses and tells people and pipelines', async () => {
      // Prepare: every new credential goes bad after its promotion
      const answers: AlarmAnswer[] = [];
      await world.rotate();
      for (let round = 0; round < 4; round += 1) {
        const bad = await world.rotate();
        world.ledger.forceState(bad.fingerprint, 'revoked');
        world.clock.current += 60_000;
        // Act
        answers.push(await answerAlarm(alarmEvent(), world.deps()));
      }
      const calls = [...world.log];

      // Assess
      expect(answers.map((answer) => answer.outcome)).toEqual(['rolled-back', 'rolled-back', 'rolled-back', 'paused']);
      expect(answers.slice(0, 3).map((answer) => (answer as { attempt: number }).attempt)).toEqual([1, 2, 3]);
      const paused = answers[3] as Extract<AlarmAnswer, { outcome: 'paused' }>;
      expect(paused.reason).toMatch(/^AWSCURRENT still fails after 3 rollbacks in this incident \(at most 3\): /);
      const state = await world.ledger.getSecretState(LEDGER_SECRET.arn);
      expect(state).toMatchObject({ status: 'paused', pause: { reason: paused.reason } });
      expect(state).not.toHaveProperty('rollbackClaim');
      expect(world.notices.alerts).toEqual([
        expect.objectContaining({
          secretName: LEDGER_SECRET.name,
          rollbacks: 3,
          maxRollbacks: 3,
          reason: paused.reason,
        }) as unknown,
      ]);
      expect(world.notices.paused).toHaveLength(1);
      expect(calls.slice(-5)).toEqual(['pause', 'getSecretState', 'alert', 'event:paused', 'releaseRollbackClaim']);
    });

    it('pauses at once when no previous credential is usable', async () => {
      // Prepare: the previous credential's grace is over
      await world.badCurrent();
      world.clock.current += 11 * 60_000;

      // Act
      const answer = await answerAlarm(alarmEvent(), world.deps());

      // Assess
      expect(answer).toMatchObject({ outcome: 'paused', rollbacks: 0 });
      expect((answer as { reason: string }).reason).toMatch(
        /^AWSCURRENT fails \(.*revoked, not current\) and no previous credential is usable: the previous credential's grace/,
      );
      expect(world.store.moves).toEqual([]);
      expect(world.notices.alerts).toHaveLength(1);
    });

    it('opens a new incident when the last rollback is longer ago than the window', async () => {
      // Prepare: three rollbacks, then a quiet day
      await world.rotate();
      for (let round = 0; round < 3; round += 1) {
        world.ledger.forceState((await world.rotate()).fingerprint, 'revoked');
        await answerAlarm(alarmEvent(), world.deps());
      }
      world.clock.current += WINDOW_MS;
      world.ledger.forceState((await world.rotate()).fingerprint, 'revoked');

      // Act
      const answer = await answerAlarm(alarmEvent(), world.deps());

      // Assess
      expect(answer).toMatchObject({ outcome: 'rolled-back', attempt: 1 });
      expect((await world.ledger.getSecretState(LEDGER_SECRET.arn))?.rollback).toMatchObject({
        attempts: 1,
        startedAt: world.clock.current,
      });
    });

    it('honours the configured number of attempts', async () => {
      // Prepare
      await world.badCurrent();

      // Act
      const answer = await answerAlarm(
        alarmEvent(),
        world.deps({ policy: { maxAttempts: 0 + 1, windowMs: WINDOW_MS } }),
      );
      world.ledger.forceState((await world.rotate()).fingerprint, 'revoked');
      const second = await answerAlarm(alarmEvent(), world.deps({ policy: { maxAttempts: 1, windowMs: WINDOW_MS } }));

      // Assess
      expect([answer.outcome, second.outcome]).toEqual(['rolled-back', 'paused']);
    });
  });

  describe('dedupe', () => {
    it('acts once on two identical events delivered at once', async () => {
      // Prepare
      await world.badCurrent();
      const event = alarmEvent();

      // Act
      const answers = await Promise.all([
        answerAlarm(structuredClone(event), world.deps()),
        answerAlarm(structuredClone(event), world.deps()),
      ]);

      // Assess
      expect(answers.map((answer) => answer.outcome).sort()).toEqual(['ignored', 'rolled-back']);
      expect(answers.find((answer) => answer.outcome === 'ignored')).toMatchObject({
        reason: 'duplicate: another delivery of this alarm state change is answering it',
      });
      expect(world.store.moves).toHaveLength(1);
      expect(world.log.filter((call) => call === 'recordRollback')).toHaveLength(1);
    });

    it('treats a read of a version whose label a twin delivery moved meanwhile as done, not as an error', async () => {
      // Prepare: the twin moved the labels between this delivery's DescribeSecret and its read
      const { good, bad } = await world.badCurrent();
      const deps = world.deps();
      const store = deps.store;
      const racing = Object.assign(Object.create(store) as typeof store, {
        readVersion: async (arn: string, versionId: string, stage: string | undefined) => {
          await store.moveCurrent(arn, good.versionId, bad.versionId);
          throw new VersionLabelMovedError(`version ${versionId} of ${arn} no longer has the label ${String(stage)}`);
        },
      });

      // Act
      const answer = await answerAlarm(alarmEvent(), { ...deps, store: racing });

      // Assess
      expect(answer).toMatchObject({
        outcome: 'ignored',
        reason: expect.stringMatching(/^the version labels moved while this delivery read them \(version /) as unknown,
      });
      expect(ledgerWrites()).toEqual([]);
    });

    it('passes on any other failure to read a version', async () => {
      // Prepare
      await world.badCurrent();
      const deps = world.deps();
      const failure = new Error('ThrottlingException');
      const failing = Object.assign(Object.create(deps.store) as typeof deps.store, {
        readVersion: () => Promise.reject(failure),
      });

      // Act & Assess
      await expect(answerAlarm(alarmEvent(), { ...deps, store: failing })).rejects.toBe(failure);
    });

    it('ignores a redelivery of an event already answered', async () => {
      // Prepare
      await world.badCurrent();
      const event = alarmEvent();
      await answerAlarm(structuredClone(event), world.deps());
      world.log.length = 0;

      // Act
      const again = await answerAlarm(structuredClone(event), world.deps());

      // Assess
      expect(again).toMatchObject({
        outcome: 'ignored',
        reason: 'duplicate: this alarm state change was answered already',
      });
      expect(ledgerWrites()).toEqual([]);
    });

    it('leaves a second alarm on the same secret to the attempt in progress', async () => {
      // Prepare
      await world.badCurrent();

      // Act
      const answers = await Promise.all([
        answerAlarm(alarmEvent(), world.deps()),
        answerAlarm(alarmEvent({ kind: RotorAlarmKind.rotationFailures }), world.deps()),
      ]);

      // Assess
      expect(answers.map((answer) => answer.outcome).sort()).toEqual(['ignored', 'rolled-back']);
      expect(world.store.moves).toHaveLength(1);
    });
  });

  describe('a dead attempt', () => {
    it('is carried out again by the next delivery after its lease, and only then', async () => {
      // Prepare: an attempt moved AWSCURRENT and died before recording it
      const { good, bad } = await world.badCurrent();
      const event = alarmEvent();
      await world.ledger.claimRollback({
        secretArn: LEDGER_SECRET.arn,
        claimId: 'dead',
        alarmKey:
          'rotor-dev-health-check-failures-rotor-dev-ci-token@' +
          (event.detail as { state: { timestamp: string } }).state.timestamp,
        alarmName: 'rotor-dev-health-check-failures-rotor-dev-ci-token',
        plan: { action: 'rollback', from: bad, to: good },
        attempt: 1,
        incidentStartedAt: world.clock.now(),
        claimedAt: world.clock.now(),
        leaseUntil: world.clock.now() + LEASE_MS,
        expected: { status: 'active', currentVersionId: bad.versionId, lastAttemptAt: undefined, claimId: undefined },
      });
      await world.store.moveCurrent(world.store.arn, good.versionId, bad.versionId);

      // Act
      const early = await answerAlarm(structuredClone(event), world.deps());
      world.clock.current += LEASE_MS + 1;
      const late = await answerAlarm(structuredClone(event), world.deps());

      // Assess
      expect(early).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/^duplicate/) as unknown });
      expect(late).toMatchObject({ outcome: 'rolled-back', attempt: 1, recorded: true });
      expect(world.store.moves.at(-1)).toMatchObject({ result: 'stale' });
      expect((await world.ledger.getCredential(good.fingerprint))?.state).toBe('current');
      expect((await world.ledger.getSecretState(LEDGER_SECRET.arn))?.status).toBe('active');
    });

    it('notifies again when the pause was made but the notice failed', async () => {
      // Prepare
      await world.badCurrent();
      world.clock.current += 11 * 60_000;
      world.notices.alertFailures = 1;
      const event = alarmEvent();
      await expect(answerAlarm(structuredClone(event), world.deps())).rejects.toThrow('SNS is unavailable');

      // Act
      world.clock.current += LEASE_MS + 1;
      const retry = await answerAlarm(structuredClone(event), world.deps());

      // Assess
      expect(retry).toMatchObject({ outcome: 'paused' });
      expect(world.notices.alerts).toHaveLength(1);
      expect(world.ledger.auditOf(LEDGER_SECRET.arn).filter((e) => e.type === 'paused')).toHaveLength(1);
      expect(await world.ledger.getSecretState(LEDGER_SECRET.arn)).not.toHaveProperty('rollbackClaim');
    });

    it('gives the rollback up when a rotation moved AWSCURRENT meanwhile', async () => {
      // Prepare: the store answers the move as stale and AWSCURRENT is on a third version
      const { good, bad } = await world.badCurrent();
      const store = world.store;
      const deps = world.deps({
        store: Object.assign(Object.create(store) as typeof store, {
          moveCurrent: async () => {
            store.addVersion('third', JSON.stringify({ provider: 'managed-token' }), [AWSCURRENT]);
            return Promise.resolve('stale' as const);
          },
          describe: (id: string) => store.describe(id),
        }),
      });

      // Act
      const answer = await answerAlarm(alarmEvent(), deps);

      // Assess
      expect(answer).toMatchObject({
        outcome: 'ignored',
        reason: expect.stringMatching(/AWSCURRENT moved to version third/) as unknown,
      });
      expect((await world.ledger.getCredential(good.fingerprint))?.state).toBe('previous');
      expect((await world.ledger.getCredential(bad.fingerprint))?.state).toBe('revoked');
      expect(await world.ledger.getSecretState(LEDGER_SECRET.arn)).toMatchObject({ status: 'active' });
      expect(await world.ledger.getSecretState(LEDGER_SECRET.arn)).not.toHaveProperty('rollbackClaim');
    });
  });

  describe('what it ignores, writing nothing', () => {
    it.each<[string, () => unknown]>([
      ['a state change to OK', () => alarmEvent({ state: 'OK' })],
      ['an alarm of another owner', () => alarmEvent({ alarmName: 'billing-too-high' })],
      [
        'an alarm of another stage',
        () => alarmEvent({ alarmName: 'rotor-prod-health-check-failures-rotor-dev-ci-token' }),
      ],
      ['a reuse alarm', () => alarmEvent({ kind: RotorAlarmKind.reuseDetected })],
      ['an alarm without a SecretName', () => alarmEvent({ dimensions: {} })],
      ['a name that does not match the dimension', () => alarmEvent({ dimensions: { SecretName: 'rotor/dev/other' } })],
      ['a secret outside the prefix', () => alarmEvent({ secretName: 'rotor/prod/ci-token' })],
      ['a secret Secrets Manager does not have', () => alarmEvent({ secretName: 'rotor/dev/gone' })],
      ['something else', () => ({ 'detail-type': 'Scheduled Event', detail: {} })],
      ['nothing', () => undefined],
    ])('%s', async (_label, event) => {
      // Prepare
      await world.badCurrent();

      // Act
      const answer = await answerAlarm(event(), world.deps());

      // Assess
      expect(answer.outcome).toBe('ignored');
      expect(world.log).toEqual([]);
      expect(world.store.moves).toEqual([]);
    });

    it('a secret the ledger does not know', async () => {
      // Prepare: in Secrets Manager, never rotated
      world.store.addVersion('first', JSON.stringify({ provider: 'managed-token' }), [AWSCURRENT]);

      // Act
      const answer = await answerAlarm(alarmEvent(), world.deps());

      // Assess
      expect(answer).toMatchObject({ outcome: 'ignored', reason: 'the ledger does not know this secret' });
      expect(ledgerWrites()).toEqual([]);
    });

    it.each(['paused', 'compromised'] as const)('an alarm on a %s secret', async (status) => {
      // Prepare
      await world.badCurrent();
      if (status === 'compromised') await world.ledger.revokeFamily(LEDGER_SECRET.arn, world.clock.now(), 0);
      else {
        world.clock.current += 11 * 60_000;
        await answerAlarm(alarmEvent(), world.deps());
      }
      world.log.length = 0;

      // Act
      const answer = await answerAlarm(alarmEvent(), world.deps());

      // Assess
      expect(answer).toMatchObject({
        outcome: 'ignored',
        reason: expect.stringContaining(status === 'paused' ? 'paused since' : 'compromised') as unknown,
      });
      expect(ledgerWrites()).toEqual([]);
    });
  });
});
