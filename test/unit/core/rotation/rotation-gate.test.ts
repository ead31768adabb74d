import { RotationPausedError } from '../../../../lambda/core/errors';
import { runRotationStep } from '../../../../lambda/core/rotation/run-rotation-step';
import { ledgerRotationGate, type RotationGate } from '../../../../lambda/core/rotation/rotation-gate';
import { AWSPENDING } from '../../../../lambda/core/rotation/secret-store';
import { InMemoryLedger } from '../../fakes/in-memory-ledger';
import { rejectionOf } from '../../helpers/rejection';
import { depsFor, PENDING_VERSION, rotationEvent, SECRET_NAME, storeMidRotation } from '../../helpers/rotation-harness';
import { LEDGER_SECRET, T0 } from '../../helpers/ledger-harness';

const PAUSED_AT = Date.UTC(2025, 0, 15, 9, 30);
const paused: RotationGate = {
  pauseOf: () => Promise.resolve({ pausedAt: PAUSED_AT, reason: 'AWSCURRENT still fails after 3 rollbacks' }),
};

describe('RotationGate in createSecret', () => {
  it('refuses to start a rotation of a paused secret, saying since when, why and what to do', async () => {
    // Prepare
    const store = storeMidRotation();

    // Act
    const error = await rejectionOf(
      runRotationStep(rotationEvent('createSecret'), { ...depsFor(store), gate: paused }),
    );

    // Assess
    expect(error).toBeInstanceOf(RotationPausedError);
    expect(error.message).toBe(
      `rotation of secret ${SECRET_NAME} is paused since 2025-01-15T09:30:00.000Z: AWSCURRENT still fails after 3 ` +
        `rollbacks; run \`rotor resume ${SECRET_NAME}\` after looking`,
    );
    expect(store.puts).toEqual([]);
  });

  it('lets a rotation that already stored its pending credential go on', async () => {
    // Prepare: createSecret ran before the pause; Secrets Manager retries it
    const store = storeMidRotation();
    await runRotationStep(rotationEvent('createSecret'), depsFor(store));

    // Act
    const steps = [];
    for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) {
      steps.push((await runRotationStep(rotationEvent(step), { ...depsFor(store), gate: paused })).outcome);
    }

    // Assess
    expect(steps).toEqual(['already-created', 'nothing-to-set', 'tested', 'promoted']);
    expect(store.stagesOf(PENDING_VERSION)).toContain('AWSCURRENT');
  });

  it('lets a rotation start when the gate finds no pause', async () => {
    // Prepare
    const store = storeMidRotation();
    const open: RotationGate = { pauseOf: () => Promise.resolve(undefined) };

    // Act
    const result = await runRotationStep(rotationEvent('createSecret'), { ...depsFor(store), gate: open });

    // Assess
    expect(result.outcome).toBe('created');
    expect(store.stagesOf(PENDING_VERSION)).toEqual([AWSPENDING]);
  });
});

describe('Function: ledgerRotationGate', () => {
  it('answers the pause of a paused secret and nothing for an active or unknown one', async () => {
    // Prepare
    const ledger = new InMemoryLedger(() => T0);
    const gate = ledgerRotationGate(ledger);
    const base = { secretArn: LEDGER_SECRET.arn, secretName: LEDGER_SECRET.name, provider: 'managed-token' };
    const fingerprint = 'a'.repeat(64);
    await ledger.recordPromotion({
      ...base,
      current: { versionId: 'v1', fingerprint },
      now: T0,
      graceEndsAt: T0,
      previousExpiresAt: 0,
      onReuse: 'revoke-and-rotate',
    });
    const unknown = await gate.pauseOf('arn:unknown');
    const active = await gate.pauseOf(LEDGER_SECRET.arn);
    await ledger.claimRollback({
      secretArn: LEDGER_SECRET.arn,
      claimId: 'c1',
      alarmKey: 'a@1',
      alarmName: 'a',
      plan: { action: 'pause', reason: 'no usable previous credential' },
      attempt: 0,
      incidentStartedAt: T0,
      claimedAt: T0,
      leaseUntil: T0 + 1,
      expected: { status: 'active', currentVersionId: 'v1', lastAttemptAt: undefined, claimId: undefined },
    });
    await ledger.pause({
      ...base,
      claimId: 'c1',
      alarmKey: 'a@1',
      reason: 'no usable previous credential',
      now: T0 + 5,
    });

    // Act
    const pause = await gate.pauseOf(LEDGER_SECRET.arn);

    // Assess
    expect([unknown, active]).toEqual([undefined, undefined]);
    expect(pause).toEqual({ pausedAt: T0 + 5, reason: 'no usable previous credential' });
  });
});
