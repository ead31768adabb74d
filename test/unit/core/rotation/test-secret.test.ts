import {
  CredentialTestFailedError,
  MalformedSecretError,
  UnexpectedVersionError,
} from '../../../../lambda/core/errors';
import { runRotationStep } from '../../../../lambda/core/rotation/run-rotation-step';
import { AWSPENDING } from '../../../../lambda/core/rotation/secret-store';
import { testSecret } from '../../../../lambda/core/rotation/test-secret';
import { rejectionOf } from '../../helpers/rejection';
import {
  contextFor,
  depsFor,
  managedTokenDocument,
  PENDING_VERSION,
  rotationEvent,
  storeMidRotation,
} from '../../helpers/rotation-harness';

const PENDING_TOKEN = 'rtr_85paEWcHsaLCYRbPIpw4jhcJNV56UuFl5TIPa3K9PAw26u7MF';

describe('Function: testSecret', () => {
  it('passes a pending managed token that is well formed, changing nothing', async () => {
    // Prepare
    const store = storeMidRotation();
    store.addVersion(PENDING_VERSION, JSON.stringify(managedTokenDocument({ token: PENDING_TOKEN })), [AWSPENDING]);
    const before = store.snapshot();
    const context = await contextFor(rotationEvent('testSecret'), depsFor(store));

    // Act
    const report = await testSecret(context);

    // Assess
    expect(report).toEqual({ outcome: 'tested', provider: 'managed-token' });
    expect(store.snapshot()).toEqual(before);
  });

  it('changes nothing and succeeds when it runs again', async () => {
    // Prepare
    const store = storeMidRotation();
    const deps = depsFor(store);
    await runRotationStep(rotationEvent('createSecret'), deps);
    await runRotationStep(rotationEvent('testSecret'), deps);
    const before = store.snapshot();

    // Act
    const second = await runRotationStep(rotationEvent('testSecret'), deps);

    // Assess
    expect(second.outcome).toBe('tested');
    expect(store.snapshot()).toEqual(before);
  });

  it('fails when the pending document holds no token', async () => {
    // Prepare
    const store = storeMidRotation();
    store.addVersion(PENDING_VERSION, '{"provider":"managed-token"}', [AWSPENDING]);
    const context = await contextFor(rotationEvent('testSecret'), depsFor(store));

    // Act & Assess
    await expect(testSecret(context)).rejects.toThrow(
      new CredentialTestFailedError('pending managed-token document holds no well-formed token'),
    );
  });

  it('fails on a pending token with a bad checksum, without quoting it', async () => {
    // Prepare
    const badToken = `${PENDING_TOKEN.slice(0, -1)}X`;
    const store = storeMidRotation();
    store.addVersion(PENDING_VERSION, JSON.stringify(managedTokenDocument({ token: badToken })), [AWSPENDING]);
    const context = await contextFor(rotationEvent('testSecret'), depsFor(store));

    // Act
    const error = await rejectionOf(testSecret(context));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toMatch(/field 'token': must be a Rotor token/);
    expect(error.message).not.toContain(badToken);
  });

  it('fails when the pending version holds no value yet', async () => {
    // Prepare
    const store = storeMidRotation();
    const context = await contextFor(rotationEvent('testSecret'), depsFor(store));

    // Act & Assess
    await expect(testSecret(context)).rejects.toThrow(UnexpectedVersionError);
  });
});
