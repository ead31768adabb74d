import { RotationNotAllowedError, UnexpectedVersionError } from '../../../../lambda/core/errors';
import { isWellFormedManagedToken } from '../../../../lambda/core/providers/managed-token/managed-token-format';
import { ROTATION_STEPS, type RotationStep } from '../../../../lambda/core/rotation/rotation-event';
import type { RotationDependencies } from '../../../../lambda/core/rotation/rotation-step-context';
import { runRotationStep } from '../../../../lambda/core/rotation/run-rotation-step';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from '../../../../lambda/core/rotation/secret-store';
import type { InMemorySecretStore } from '../../fakes/in-memory-secret-store';
import { rejectionOf } from '../../helpers/rejection';
import {
  CURRENT_TOKEN,
  CURRENT_VERSION,
  depsFor,
  PENDING_VERSION,
  rotationEvent,
  SECRET_NAME,
  storeMidRotation,
} from '../../helpers/rotation-harness';

async function rotate(deps: RotationDependencies, versionId: string = PENDING_VERSION): Promise<string[]> {
  const outcomes: string[] = [];
  for (const step of ROTATION_STEPS) {
    const result = await runRotationStep(rotationEvent(step, { ClientRequestToken: versionId }), deps);
    outcomes.push(result.outcome);
  }
  return outcomes;
}

function tokenOf(store: InMemorySecretStore, versionId: string): unknown {
  return (JSON.parse(store.valueOf(versionId) ?? '{}') as Record<string, unknown>).token;
}

describe('Function: runRotationStep', () => {
  it('runs the four steps of a rotation to a new AWSCURRENT token', async () => {
    // Prepare
    const store = storeMidRotation();

    // Act
    const outcomes = await rotate(depsFor(store));

    // Assess
    expect(outcomes).toEqual(['created', 'nothing-to-set', 'tested', 'promoted']);
    expect(store.versionsWithStage(AWSCURRENT)).toEqual([PENDING_VERSION]);
    expect(store.versionsWithStage(AWSPREVIOUS)).toEqual([CURRENT_VERSION]);
    const newToken = tokenOf(store, PENDING_VERSION);
    expect(isWellFormedManagedToken(newToken)).toBe(true);
    expect(newToken).not.toBe(CURRENT_TOKEN);
  });

  it('reports the step and the secret it worked on', async () => {
    // Prepare
    const store = storeMidRotation();

    // Act
    const result = await runRotationStep(rotationEvent('createSecret'), depsFor(store));

    // Assess
    expect(result).toEqual({
      step: 'createSecret',
      secretArn: store.arn,
      secretName: SECRET_NAME,
      outcome: 'created',
      provider: 'managed-token',
    });
  });

  it('accepts the secret name as SecretId and works on the ARN', async () => {
    // Prepare
    const store = storeMidRotation();

    // Act
    const result = await runRotationStep(rotationEvent('createSecret', { SecretId: SECRET_NAME }), depsFor(store));

    // Assess
    expect(result.outcome).toBe('created');
    expect(store.valueOf(PENDING_VERSION)).toBeDefined();
  });

  it('keeps the fields operators added across two rotations, moving AWSPREVIOUS along', async () => {
    // Prepare
    const store = storeMidRotation();
    const deps = depsFor(store);
    await rotate(deps);
    const nextVersion = '99999999-aaaa-4bbb-8ccc-dddddddddddd';
    store.startRotation(nextVersion);

    // Act
    const outcomes = await rotate(deps, nextVersion);

    // Assess
    expect(outcomes).toEqual(['created', 'nothing-to-set', 'tested', 'promoted']);
    expect(store.stagesOf(nextVersion)).toEqual([AWSCURRENT, AWSPENDING]);
    expect(store.stagesOf(PENDING_VERSION)).toEqual([AWSPREVIOUS]);
    expect(store.stagesOf(CURRENT_VERSION)).toEqual([]);
    expect(JSON.parse(store.valueOf(nextVersion)!)).toMatchObject({
      provider: 'managed-token',
      schemaVersion: 1,
      owner: 'platform-team',
      consumers: ['deploy-pipeline'],
    });
    expect(tokenOf(store, nextVersion)).not.toBe(tokenOf(store, PENDING_VERSION));
  });

  it.each(ROTATION_STEPS)('returns already-current for %s on a finished rotation, touching nothing', async (step) => {
    // Prepare
    const store = storeMidRotation();
    const deps = depsFor(store);
    await rotate(deps);
    const before = store.snapshot();
    const counts = { reads: store.reads.length, puts: store.puts.length, moves: store.moves.length };

    // Act
    const result = await runRotationStep(rotationEvent(step), deps);

    // Assess
    expect(result.outcome).toBe('already-current');
    expect(store.snapshot()).toEqual(before);
    expect({ reads: store.reads.length, puts: store.puts.length, moves: store.moves.length }).toEqual(counts);
  });

  it.each(ROTATION_STEPS)('refuses %s when rotation is disabled, reading nothing', async (step: RotationStep) => {
    // Prepare
    const store = storeMidRotation();
    store.rotationEnabled = false;

    // Act
    const error = await rejectionOf(runRotationStep(rotationEvent(step), depsFor(store)));

    // Assess
    expect(error).toBeInstanceOf(RotationNotAllowedError);
    expect(store.reads).toEqual([]);
    expect(store.puts).toEqual([]);
    expect(store.moves).toEqual([]);
  });

  it.each(ROTATION_STEPS)('refuses %s on a secret outside the name prefix, reading nothing', async (step) => {
    // Prepare
    const store = storeMidRotation();

    // Act
    const error = await rejectionOf(
      runRotationStep(rotationEvent(step), depsFor(store, { secretNamePrefix: 'rotor/prod/' })),
    );

    // Assess
    expect(error).toBeInstanceOf(RotationNotAllowedError);
    expect(error.message).toContain("names must start with 'rotor/prod/'");
    expect(store.reads).toEqual([]);
  });

  it('runs on a secret inside the name prefix', async () => {
    // Prepare
    const store = storeMidRotation();

    // Act
    const result = await runRotationStep(
      rotationEvent('createSecret'),
      depsFor(store, { secretNamePrefix: 'rotor/dev/' }),
    );

    // Assess
    expect(result.outcome).toBe('created');
  });

  it('refuses a token that is not a version of the secret', async () => {
    // Prepare
    const store = storeMidRotation();
    const unknown = 'eeeeeeee-1111-4222-8333-444455556666';

    // Act
    const error = await rejectionOf(
      runRotationStep(rotationEvent('createSecret', { ClientRequestToken: unknown }), depsFor(store)),
    );

    // Assess
    expect(error).toBeInstanceOf(UnexpectedVersionError);
    expect(store.puts).toEqual([]);
  });

  it('refuses to work on a version that lost AWSPENDING to a newer rotation', async () => {
    // Prepare: a retry of an abandoned rotation after a new one started
    const store = storeMidRotation();
    const deps = depsFor(store);
    await runRotationStep(rotationEvent('createSecret'), deps);
    store.startRotation('77777777-aaaa-4bbb-8ccc-dddddddddddd');

    // Act
    const error = await rejectionOf(runRotationStep(rotationEvent('finishSecret'), deps));

    // Assess
    expect(error).toBeInstanceOf(UnexpectedVersionError);
    expect(store.moves).toEqual([]);
    expect(store.versionsWithStage(AWSCURRENT)).toEqual([CURRENT_VERSION]);
  });
});
