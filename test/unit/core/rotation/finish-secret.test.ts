import { MalformedSecretError, UnexpectedVersionError, UnsupportedProviderError } from '../../../../lambda/core/errors';
import { finishSecret } from '../../../../lambda/core/rotation/finish-secret';
import { runRotationStep } from '../../../../lambda/core/rotation/run-rotation-step';
import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from '../../../../lambda/core/rotation/secret-store';
import type { InMemorySecretStore } from '../../fakes/in-memory-secret-store';
import { rejectionOf } from '../../helpers/rejection';
import {
  contextFor,
  CURRENT_VERSION,
  depsFor,
  managedTokenDocument,
  PENDING_VERSION,
  rotationEvent,
  SECRET_NAME,
  storeMidRotation,
} from '../../helpers/rotation-harness';

const PENDING_TOKEN = 'rtr_85paEWcHsaLCYRbPIpw4jhcJNV56UuFl5TIPa3K9PAw26u7MF';
const PENDING_VALUE = JSON.stringify(managedTokenDocument({ token: PENDING_TOKEN }));

/** `null` leaves the pending version as RotateSecret made it: without a value. */
function storeWithPending(value: string | null = PENDING_VALUE): InMemorySecretStore {
  const store = storeMidRotation();
  if (value !== null) store.addVersion(PENDING_VERSION, value, [AWSPENDING]);
  return store;
}

describe('Function: finishSecret', () => {
  it('moves AWSCURRENT to the pending version, and AWSPREVIOUS to the old one', async () => {
    // Prepare
    const store = storeWithPending();
    const context = await contextFor(rotationEvent('finishSecret'), depsFor(store));

    // Act
    const report = await finishSecret(context);

    // Assess
    expect(report).toEqual({ outcome: 'promoted', provider: 'managed-token' });
    expect(store.moves).toEqual([{ toVersionId: PENDING_VERSION, fromVersionId: CURRENT_VERSION, result: 'moved' }]);
    expect(store.versionsWithStage(AWSCURRENT)).toEqual([PENDING_VERSION]);
    expect(store.versionsWithStage(AWSPREVIOUS)).toEqual([CURRENT_VERSION]);
    expect(store.valueOf(PENDING_VERSION)).toBe(PENDING_VALUE);
  });

  it('changes nothing and succeeds when it runs again', async () => {
    // Prepare
    const store = storeWithPending();
    const deps = depsFor(store);
    await runRotationStep(rotationEvent('finishSecret'), deps);
    const before = store.snapshot();

    // Act
    const second = await runRotationStep(rotationEvent('finishSecret'), deps);

    // Assess
    expect(second.outcome).toBe('already-current');
    expect(store.snapshot()).toEqual(before);
    expect(store.moves).toHaveLength(1);
  });

  it('moves the label once when two invocations run at once, and both succeed', async () => {
    // Prepare
    const store = storeWithPending();
    const deps = depsFor(store);

    // Act
    const results = await Promise.all([
      runRotationStep(rotationEvent('finishSecret'), deps),
      runRotationStep(rotationEvent('finishSecret'), deps),
    ]);

    // Assess: both tried; the second found its RemoveFromVersionId stale and the label on its version
    expect(results.map((result) => result.outcome)).toEqual(['promoted', 'already-promoted']);
    expect(store.moves.map((move) => move.result)).toEqual(['moved', 'stale']);
    expect(store.versionsWithStage(AWSCURRENT)).toEqual([PENDING_VERSION]);
    expect(store.versionsWithStage(AWSPREVIOUS)).toEqual([CURRENT_VERSION]);
  });

  it('fails, promoting nothing, when AWSCURRENT moved to another version meanwhile', async () => {
    // Prepare: an operator rolled AWSCURRENT to another version after the guards ran
    const store = storeWithPending();
    const context = await contextFor(rotationEvent('finishSecret'), depsFor(store));
    const other = 'abcdabcd-1111-4222-8333-444455556666';
    store.addVersion(other, JSON.stringify(managedTokenDocument()), [AWSCURRENT]);

    // Act
    const error = await rejectionOf(finishSecret(context));

    // Assess
    expect(error).toBeInstanceOf(UnexpectedVersionError);
    expect(error.message).toBe(
      `Secrets Manager refused to move AWSCURRENT of secret ${SECRET_NAME} from version ${CURRENT_VERSION} ` +
        `to ${PENDING_VERSION}; AWSCURRENT is now on version ${other}. Not promoting.`,
    );
    expect(store.versionsWithStage(AWSCURRENT)).toEqual([other]);
    expect(store.stagesOf(PENDING_VERSION)).toEqual([AWSPENDING]);
  });

  it('refuses to promote a pending version that holds no value, and changes nothing', async () => {
    // Prepare
    const store = storeWithPending(null);
    const before = store.snapshot();
    const context = await contextFor(rotationEvent('finishSecret'), depsFor(store));

    // Act
    const error = await rejectionOf(finishSecret(context));

    // Assess
    expect(error).toBeInstanceOf(UnexpectedVersionError);
    expect(error.message).toMatch(/holds no value yet; createSecret must run first/);
    expect(store.moves).toEqual([]);
    expect(store.snapshot()).toEqual(before);
  });

  it.each([
    ['not JSON', `token=${PENDING_TOKEN}`, MalformedSecretError],
    [
      'a token failing its checksum',
      JSON.stringify(managedTokenDocument({ token: `${PENDING_TOKEN}x` })),
      MalformedSecretError,
    ],
    ['no provider', JSON.stringify({ token: PENDING_TOKEN }), MalformedSecretError],
    [
      'a foreign provider',
      JSON.stringify({ provider: 'gitlab-token', token: PENDING_TOKEN }),
      UnsupportedProviderError,
    ],
    [
      'schema version 2',
      JSON.stringify(managedTokenDocument({ schemaVersion: 2, token: PENDING_TOKEN })),
      MalformedSecretError,
    ],
  ])('refuses to promote a pending document with %s, and changes nothing', async (_label, value, errorClass) => {
    // Prepare
    const store = storeWithPending(value);
    const before = store.snapshot();
    const context = await contextFor(rotationEvent('finishSecret'), depsFor(store));

    // Act
    const error = await rejectionOf(finishSecret(context));

    // Assess
    expect(error).toBeInstanceOf(errorClass);
    expect(error.message).not.toContain(PENDING_TOKEN);
    expect(store.moves).toEqual([]);
    expect(store.snapshot()).toEqual(before);
  });

  it('refuses to promote a pending document that holds no credential, and changes nothing', async () => {
    // Prepare: valid as a first version, but consumers of the new AWSCURRENT would read no token
    const store = storeWithPending('{"provider":"managed-token","schemaVersion":1}');
    const before = store.snapshot();
    const context = await contextFor(rotationEvent('finishSecret'), depsFor(store));

    // Act
    const error = await rejectionOf(finishSecret(context));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(store.moves).toEqual([]);
    expect(store.snapshot()).toEqual(before);
  });
});
