import { answerAlarm } from '../../../../lambda/core/rollback/answer-alarm';
import { resumeRotation } from '../../../../lambda/core/rollback/resume-rotation';
import { LEDGER_SECRET } from '../../helpers/ledger-harness';
import { alarmEvent, RollbackWorld } from '../../helpers/rollback-harness';

describe('Function: resumeRotation', () => {
  let world: RollbackWorld;
  const secret = { arn: LEDGER_SECRET.arn, name: LEDGER_SECRET.name };

  beforeEach(() => {
    world = new RollbackWorld();
  });

  const deps = () => ({ ledger: world.ledger, events: world.notices, now: world.clock.now });

  it('lifts a pause: active, the incident reset, a resumed event in the ledger and on EventBridge', async () => {
    // Prepare: paused by the rollback (no usable previous credential)
    await world.badCurrent();
    world.clock.current += 11 * 60_000;
    const paused = await answerAlarm(alarmEvent(), world.deps());
    const pausedAt = world.clock.current;
    world.clock.current += 60_000;

    // Act
    const outcome = await resumeRotation(secret, 'ops@laptop', deps());

    // Assess
    expect(paused.outcome).toBe('paused');
    expect(outcome).toEqual({
      outcome: 'resumed',
      notice: {
        secretArn: LEDGER_SECRET.arn,
        secretName: LEDGER_SECRET.name,
        resumedAt: new Date(world.clock.current).toISOString(),
        resumedBy: 'ops@laptop',
        pausedAt: new Date(pausedAt).toISOString(),
        pauseReason: (paused as { reason: string }).reason,
      },
    });
    expect(world.notices.resumed).toEqual([(outcome as { notice: unknown }).notice]);
    const state = await world.ledger.getSecretState(LEDGER_SECRET.arn);
    expect(state?.status).toBe('active');
    expect(state).not.toHaveProperty('pause');
    expect(state).not.toHaveProperty('rollback');
    expect(world.ledger.auditOf(LEDGER_SECRET.arn).at(-1)).toMatchObject({
      type: 'resumed',
      detail: { by: 'ops@laptop' },
    });
  });

  it('changes nothing and tells nobody when the secret is not paused', async () => {
    // Prepare
    await world.rotate();

    // Act
    const outcome = await resumeRotation(secret, 'ops', deps());

    // Assess
    expect(outcome).toEqual({ outcome: 'not-paused', status: 'active' });
    expect(world.notices.resumed).toEqual([]);
    expect(world.log).toEqual(['getSecretState']);
  });

  it('answers unknown for a secret the ledger does not know', async () => {
    expect(await resumeRotation(secret, 'ops', deps())).toEqual({ outcome: 'not-paused', status: 'unknown' });
  });
});
