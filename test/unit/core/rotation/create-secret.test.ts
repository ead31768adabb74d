import {
  MalformedSecretError,
  MissingJournalError,
  SideEffectInProgressError,
  SideEffectOutcomeUnknownError,
  UnsupportedProviderError,
} from '../../../../lambda/core/errors';
import { isWellFormedManagedToken } from '../../../../lambda/core/providers/managed-token/managed-token-format';
import { managedTokenProvider } from '../../../../lambda/core/providers/managed-token/managed-token-provider';
import { createSecret } from '../../../../lambda/core/rotation/create-secret';
import { runRotationStep } from '../../../../lambda/core/rotation/run-rotation-step';
import { AWSCURRENT, AWSPENDING } from '../../../../lambda/core/rotation/secret-store';
import { FakeExternalProvider } from '../../fakes/fake-external-provider';
import { InMemorySecretStore } from '../../fakes/in-memory-secret-store';
import { InMemorySideEffectJournal } from '../../fakes/in-memory-side-effect-journal';
import { rejectionOf } from '../../helpers/rejection';
import {
  contextFor,
  CURRENT_TOKEN,
  CURRENT_VERSION,
  depsFor,
  managedTokenDocument,
  PENDING_VERSION,
  ROTATION_TOKEN,
  rotationEvent,
  SECRET_NAME,
  storeMidRotation,
  HARNESS_NOW,
} from '../../helpers/rotation-harness';

function pendingDocument(store: InMemorySecretStore): Record<string, unknown> {
  const value = store.valueOf(PENDING_VERSION);
  if (value === undefined) throw new Error('no pending value stored');
  return JSON.parse(value) as Record<string, unknown>;
}

describe('Function: createSecret', () => {
  it('stores the new token under AWSPENDING', async () => {
    // Prepare
    const store = storeMidRotation();
    const deps = depsFor(store);
    const context = await contextFor(rotationEvent('createSecret'), deps);

    // Act
    const report = await createSecret(context);

    // Assess
    expect(report).toEqual({ outcome: 'created', provider: 'managed-token' });
    const pending = pendingDocument(store);
    expect(pending).toMatchObject({ provider: 'managed-token', schemaVersion: 1 });
    expect(isWellFormedManagedToken(pending.token)).toBe(true);
    expect(pending.token).not.toBe(CURRENT_TOKEN);
    expect(store.stagesOf(PENDING_VERSION)).toEqual([AWSPENDING]);
    expect(store.stagesOf(CURRENT_VERSION)).toEqual([AWSCURRENT]);
    expect(store.valueOf(CURRENT_VERSION)).toBe(JSON.stringify(managedTokenDocument()));
  });

  it('passes the RotationToken to PutSecretValue', async () => {
    // Prepare
    const store = storeMidRotation();
    const context = await contextFor(rotationEvent('createSecret'), depsFor(store));

    // Act
    await createSecret(context);

    // Assess
    expect(store.puts).toEqual([
      expect.objectContaining({ versionId: PENDING_VERSION, rotationToken: ROTATION_TOKEN, result: 'created' }),
    ]);
  });

  it('passes no RotationToken when the event has none', async () => {
    // Prepare
    const store = storeMidRotation();
    const context = await contextFor(rotationEvent('createSecret', { RotationToken: undefined }), depsFor(store));

    // Act
    await createSecret(context);

    // Assess
    expect(store.puts).toHaveLength(1);
    expect(store.puts[0]!.rotationToken).toBeUndefined();
  });

  it('keeps the fields operators added to the document', async () => {
    // Prepare
    const store = storeMidRotation();
    const context = await contextFor(rotationEvent('createSecret'), depsFor(store));

    // Act
    await createSecret(context);

    // Assess
    expect(pendingDocument(store)).toEqual({
      provider: 'managed-token',
      schemaVersion: 1,
      token: expect.stringMatching(/^rtr_/) as unknown,
      owner: 'platform-team',
      consumers: ['deploy-pipeline'],
    });
  });

  it('issues the first token for a document that names only its provider', async () => {
    // Prepare
    const store = storeMidRotation('{"provider":"managed-token"}');
    const context = await contextFor(rotationEvent('createSecret'), depsFor(store));

    // Act
    const report = await createSecret(context);

    // Assess
    expect(report.outcome).toBe('created');
    const pending = pendingDocument(store);
    expect(pending).toEqual({ provider: 'managed-token', schemaVersion: 1, token: expect.any(String) as unknown });
    expect(isWellFormedManagedToken(pending.token)).toBe(true);
  });

  it('leaves a pending version that already holds a value alone', async () => {
    // Prepare
    const store = storeMidRotation();
    const existing = JSON.stringify(managedTokenDocument({ token: undefined, marker: 'first write' }));
    store.addVersion(PENDING_VERSION, existing, [AWSPENDING]);
    const context = await contextFor(rotationEvent('createSecret'), depsFor(store));

    // Act
    const report = await createSecret(context);

    // Assess
    expect(report).toEqual({ outcome: 'already-created' });
    expect(store.puts).toEqual([]);
    expect(store.valueOf(PENDING_VERSION)).toBe(existing);
  });

  it('changes nothing and succeeds when it runs again', async () => {
    // Prepare
    const store = storeMidRotation();
    const deps = depsFor(store);
    await runRotationStep(rotationEvent('createSecret'), deps);
    const afterFirstRun = store.snapshot();

    // Act
    const second = await runRotationStep(rotationEvent('createSecret'), deps);

    // Assess
    expect(second.outcome).toBe('already-created');
    expect(store.snapshot()).toEqual(afterFirstRun);
    expect(store.puts).toHaveLength(1);
  });

  it('leaves exactly one pending value when two invocations run at once, and both succeed', async () => {
    // Prepare
    const store = storeMidRotation();
    const deps = depsFor(store);

    // Act
    const results = await Promise.all([
      runRotationStep(rotationEvent('createSecret'), deps),
      runRotationStep(rotationEvent('createSecret'), deps),
    ]);

    // Assess: both raced to PutSecretValue; the first value stayed, the second was refused
    expect(results.map((result) => result.outcome).sort()).toEqual(['already-created', 'created']);
    expect(store.puts.map((put) => put.result)).toEqual(['created', 'already-exists']);
    expect(store.valueOf(PENDING_VERSION)).toBe(store.puts[0]!.value);
    expect(store.versionsWithStage(AWSPENDING)).toEqual([PENDING_VERSION]);
    expect(store.versionsWithStage(AWSCURRENT)).toEqual([CURRENT_VERSION]);
  });

  it('fails on a current document that is not a Rotor document and stores nothing', async () => {
    // Prepare
    const store = storeMidRotation(JSON.stringify({ token: CURRENT_TOKEN }));
    const context = await contextFor(rotationEvent('createSecret'), depsFor(store));

    // Act
    const error = await rejectionOf(createSecret(context));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toMatch(
      /^secret rotor\/dev\/ci-token \(AWSCURRENT\) is not a Rotor document: field 'provider'/,
    );
    expect(error.message).not.toContain(CURRENT_TOKEN);
    expect(store.puts).toEqual([]);
    expect(store.valueOf(PENDING_VERSION)).toBeUndefined();
  });

  it('fails on a current document of a provider this function does not handle and stores nothing', async () => {
    // Prepare
    const store = storeMidRotation(JSON.stringify({ provider: 'gitlab-token', token: 'glpat-secret' }));
    const context = await contextFor(rotationEvent('createSecret'), depsFor(store));

    // Act & Assess
    await expect(createSecret(context)).rejects.toThrow(UnsupportedProviderError);
    expect(store.puts).toEqual([]);
  });

  it('fails when the current version holds no value', async () => {
    // Prepare
    const store = new InMemorySecretStore(SECRET_NAME)
      .addVersion(CURRENT_VERSION, undefined, [AWSCURRENT])
      .startRotation(PENDING_VERSION);
    const context = await contextFor(rotationEvent('createSecret'), depsFor(store));

    // Act & Assess
    await expect(createSecret(context)).rejects.toThrow(
      new MalformedSecretError('secret rotor/dev/ci-token has no value in its AWSCURRENT version'),
    );
    expect(store.puts).toEqual([]);
  });
});

describe('Function: createSecret, with a provider that acts outside AWS', () => {
  let log: string[];
  let provider: FakeExternalProvider;
  let journal: InMemorySideEffectJournal;
  let store: InMemorySecretStore;

  beforeEach(() => {
    log = [];
    provider = new FakeExternalProvider(log);
    journal = new InMemorySideEffectJournal(log, () => HARNESS_NOW.getTime());
    store = storeMidRotation(JSON.stringify({ provider: 'fake-idp', credential: 'issued-0' }));
  });

  it('claims the journal entry before the provider acts', async () => {
    // Prepare
    const deps = depsFor(store, { providers: [provider, managedTokenProvider], journal });

    // Act
    const result = await runRotationStep(rotationEvent('createSecret'), deps);

    // Assess
    expect(result.outcome).toBe('created');
    expect(log).toEqual(['claim:claimed', 'create']);
    expect(journal.claims[0]!.entry).toEqual({
      secretArn: store.arn,
      versionId: PENDING_VERSION,
      action: 'fake-idp:create',
    });
    expect(pendingDocument(store)).toEqual({ provider: 'fake-idp', schemaVersion: 1, credential: 'issued-1' });
  });

  it('stores the result despite a PutSecretValue that fails once, without acting again', async () => {
    // Prepare
    const deps = depsFor(store, { providers: [provider], journal, sideEffects: { sleep: () => Promise.resolve() } });
    store.failNextPut(new Error('InternalServiceError'));

    // Act
    const result = await runRotationStep(rotationEvent('createSecret'), deps);

    // Assess
    expect(result.outcome).toBe('created');
    expect(provider.createCalls).toBe(1);
    expect(pendingDocument(store)).toMatchObject({ credential: 'issued-1' });
  });

  it('never calls the provider again after a crash between its action and PutSecretValue', async () => {
    // Prepare: the first attempt dies after the provider acted, before the value was stored
    const deps = depsFor(store, { providers: [provider], journal, sideEffects: { pendingWriteAttempts: 1 } });
    store.failNextPut(new Error('Task timed out after 30.00 seconds'));
    await expect(runRotationStep(rotationEvent('createSecret'), deps)).rejects.toThrow('Task timed out');
    journal.age(70_001);

    // Act: Secrets Manager retries with the same token, after the first attempt's lease
    const error = await rejectionOf(runRotationStep(rotationEvent('createSecret'), deps));

    // Assess
    expect(error).toBeInstanceOf(SideEffectOutcomeUnknownError);
    expect(error.message).toContain(
      `rotation ${PENDING_VERSION} of secret ${SECRET_NAME} called provider fake-idp at 2025-01-15T09:58:49.999Z ` +
        'and its result never reached AWSPENDING',
    );
    expect(error.message).not.toContain('issued-');
    expect(provider.createCalls).toBe(1);
    expect(store.valueOf(PENDING_VERSION)).toBeUndefined();
    expect(store.stagesOf(PENDING_VERSION)).toEqual([AWSPENDING]);
  });

  it('returns already-created for a concurrent twin whose pending value landed meanwhile', async () => {
    // Prepare: the twin reaches the journal only after the first invocation stored its value
    const deps = depsFor(store, { providers: [provider], journal });
    const first = runRotationStep(rotationEvent('createSecret'), deps);
    journal.beforeClaim = async (_entry, attempt) => {
      if (attempt === 2) await first;
    };

    // Act
    const twin = runRotationStep(rotationEvent('createSecret'), deps);
    const results = await Promise.all([first, twin]);

    // Assess
    expect(results.map((result) => result.outcome)).toEqual(['created', 'already-created']);
    expect(journal.claims.map((claim) => claim.result)).toEqual(['claimed', 'already-claimed']);
    expect(provider.createCalls).toBe(1);
    expect(store.puts).toHaveLength(1);
    expect(pendingDocument(store)).toMatchObject({ credential: 'issued-1' });
  });

  it('lets a concurrent twin wait for the holder’s value instead of acting', async () => {
    // Prepare: the first invocation has claimed and acted, but not stored its value yet
    const deps = depsFor(store, { providers: [provider], journal, sideEffects: { twinWaitMs: 60_000 } });
    let releaseFirst: () => void = () => undefined;
    provider.afterAct = () => new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = runRotationStep(rotationEvent('createSecret'), deps);
    while (provider.createCalls === 0) await new Promise((resolve) => setImmediate(resolve));

    // Act
    const twin = runRotationStep(rotationEvent('createSecret'), deps);
    while (journal.claims.length < 2) await new Promise((resolve) => setImmediate(resolve));
    releaseFirst();

    // Assess
    await expect(first).resolves.toMatchObject({ outcome: 'created' });
    await expect(twin).resolves.toMatchObject({ outcome: 'already-created' });
    expect(journal.claims.map((claim) => claim.result)).toEqual(['claimed', 'already-claimed']);
    expect(provider.createCalls).toBe(1);
    expect(pendingDocument(store)).toMatchObject({ credential: 'issued-1' });
  });

  it('fails a twin whose wait ends before the holder stores its value, without acting', async () => {
    // Prepare
    const deps = depsFor(store, { providers: [provider], journal });
    let releaseFirst: () => void = () => undefined;
    provider.afterAct = () => new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = runRotationStep(rotationEvent('createSecret'), deps);
    while (provider.createCalls === 0) await new Promise((resolve) => setImmediate(resolve));

    // Act: the twin's clock runs on while it waits, past its wait budget
    let clock = HARNESS_NOW.getTime();
    const twin = runRotationStep(rotationEvent('createSecret'), {
      ...deps,
      now: () => new Date(clock),
      sideEffects: { twinWaitMs: 1_000, sleep: (ms) => Promise.resolve(void (clock += ms)) },
    });

    // Assess
    await expect(twin).rejects.toThrow(SideEffectInProgressError);
    releaseFirst();
    await expect(first).resolves.toMatchObject({ outcome: 'created' });
    expect(provider.createCalls).toBe(1);
  });

  it('does not claim when the pending version already holds a value', async () => {
    // Prepare
    const deps = depsFor(store, { providers: [provider], journal });
    await runRotationStep(rotationEvent('createSecret'), deps);

    // Act
    const again = await runRotationStep(rotationEvent('createSecret'), deps);

    // Assess
    expect(again.outcome).toBe('already-created');
    expect(journal.claims).toHaveLength(1);
    expect(provider.createCalls).toBe(1);
  });

  it('fails when no journal is wired, before the provider acts', async () => {
    // Prepare
    const deps = depsFor(store, { providers: [provider] });

    // Act
    const attempt = runRotationStep(rotationEvent('createSecret'), deps);

    // Assess
    await expect(attempt).rejects.toThrow(MissingJournalError);
    await expect(attempt).rejects.toThrow('provider fake-idp acts outside AWS and needs a side-effect journal');
    expect(provider.createCalls).toBe(0);
    expect(store.puts).toEqual([]);
  });
});
