import { MalformedSecretError, UnexpectedVersionError } from '../../../../lambda/core/errors';
import { runRotationStep } from '../../../../lambda/core/rotation/run-rotation-step';
import { AWSPENDING } from '../../../../lambda/core/rotation/secret-store';
import { setSecret } from '../../../../lambda/core/rotation/set-secret';
import { FakeExternalProvider } from '../../fakes/fake-external-provider';
import { InMemorySideEffectJournal } from '../../fakes/in-memory-side-effect-journal';
import {
  contextFor,
  depsFor,
  managedTokenDocument,
  PENDING_VERSION,
  rotationEvent,
  SECRET_NAME,
  storeMidRotation,
} from '../../helpers/rotation-harness';

const PENDING_TOKEN = 'rtr_85paEWcHsaLCYRbPIpw4jhcJNV56UuFl5TIPa3K9PAw26u7MF';

describe('Function: setSecret', () => {
  it('has nothing to set for a managed token and changes nothing', async () => {
    // Prepare
    const store = storeMidRotation();
    store.addVersion(PENDING_VERSION, JSON.stringify(managedTokenDocument({ token: PENDING_TOKEN })), [AWSPENDING]);
    const before = store.snapshot();
    const context = await contextFor(rotationEvent('setSecret'), depsFor(store));

    // Act
    const report = await setSecret(context);

    // Assess
    expect(report).toEqual({ outcome: 'nothing-to-set', provider: 'managed-token' });
    expect(store.snapshot()).toEqual(before);
    expect(store.puts).toEqual([]);
    expect(store.moves).toEqual([]);
  });

  it('hands the pending document and the rotation to a provider that registers credentials', async () => {
    // Prepare
    const provider = new FakeExternalProvider();
    const store = storeMidRotation(JSON.stringify({ provider: 'fake-idp', credential: 'issued-0' }));
    store.addVersion(PENDING_VERSION, JSON.stringify({ provider: 'fake-idp', credential: 'issued-1' }), [AWSPENDING]);
    const deps = depsFor(store, { providers: [provider], journal: new InMemorySideEffectJournal() });
    const context = await contextFor(rotationEvent('setSecret'), deps);

    // Act
    const report = await setSecret(context);

    // Assess
    expect(report).toEqual({ outcome: 'set', provider: 'fake-idp' });
    expect(provider.setCalls).toEqual([
      {
        pending: { provider: 'fake-idp', credential: 'issued-1' },
        context: { secretArn: store.arn, secretName: SECRET_NAME, versionId: PENDING_VERSION, now: deps.now },
      },
    ]);
  });

  it('changes nothing and succeeds when it runs again', async () => {
    // Prepare
    const store = storeMidRotation();
    const deps = depsFor(store);
    await runRotationStep(rotationEvent('createSecret'), deps);
    const first = await runRotationStep(rotationEvent('setSecret'), deps);
    const before = store.snapshot();

    // Act
    const second = await runRotationStep(rotationEvent('setSecret'), deps);

    // Assess
    expect(first.outcome).toBe('nothing-to-set');
    expect(second.outcome).toBe('nothing-to-set');
    expect(store.snapshot()).toEqual(before);
  });

  it('fails when the pending version holds no value yet', async () => {
    // Prepare
    const store = storeMidRotation();
    const context = await contextFor(rotationEvent('setSecret'), depsFor(store));

    // Act & Assess
    await expect(setSecret(context)).rejects.toThrow(
      new UnexpectedVersionError(
        `pending version ${PENDING_VERSION} of secret ${SECRET_NAME} holds no value yet; createSecret must run first`,
      ),
    );
  });

  it('fails on a malformed pending document without calling the provider', async () => {
    // Prepare
    const provider = new FakeExternalProvider();
    const store = storeMidRotation(JSON.stringify({ provider: 'fake-idp' }));
    store.addVersion(PENDING_VERSION, JSON.stringify({ provider: 'fake-idp', credential: 42 }), [AWSPENDING]);
    const context = await contextFor(rotationEvent('setSecret'), depsFor(store, { providers: [provider] }));

    // Act & Assess
    await expect(setSecret(context)).rejects.toThrow(MalformedSecretError);
    expect(provider.setCalls).toEqual([]);
  });
});
