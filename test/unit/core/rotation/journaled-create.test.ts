import {
  MissingJournalError,
  ProviderCallError,
  ProviderRefusedError,
  ReauthorizationRequiredError,
  SideEffectInProgressError,
  SideEffectOutcomeUnknownError,
  UpstreamReuseSuspectedError,
} from '../../../../lambda/core/errors';
import type {
  RotationObserver,
  SideEffectOutcomeUnknown,
  UpstreamReuseSuspected,
} from '../../../../lambda/core/rotation/rotation-observer';
import { runRotationStep } from '../../../../lambda/core/rotation/run-rotation-step';
import { AWSCURRENT, AWSPENDING } from '../../../../lambda/core/rotation/secret-store';
import { DEFAULT_SIDE_EFFECT_LEASE_SECONDS } from '../../../../lambda/shared/rotor-constants';
import { FAKE_SINGLE_USE_PROVIDER, FakeSingleUseProvider } from '../../fakes/fake-single-use-provider';
import { InMemorySecretStore } from '../../fakes/in-memory-secret-store';
import { InMemorySideEffectJournal } from '../../fakes/in-memory-side-effect-journal';
import { rejectionOf } from '../../helpers/rejection';
import {
  CURRENT_VERSION,
  depsFor,
  HARNESS_NOW,
  PENDING_VERSION,
  rotationEvent,
  SECRET_NAME,
} from '../../helpers/rotation-harness';

const LEASE_MS = DEFAULT_SIDE_EFFECT_LEASE_SECONDS * 1000;
const ABANDONED_VERSION = '0a0a0a0a-0000-4000-8000-00000000abcd';

/** A readable stand-in for the HMAC: what matters here is that the journal is keyed by it. */
const fingerprint = (credential: string): Promise<string> => Promise.resolve(`fp(${credential})`);

function documentWith(refresh: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    provider: FAKE_SINGLE_USE_PROVIDER,
    schemaVersion: 1,
    refresh,
    access: 'access-0',
    ...extra,
  });
}

function pendingOf(store: InMemorySecretStore): Record<string, unknown> | undefined {
  const value = store.valueOf(PENDING_VERSION);
  return value === undefined ? undefined : (JSON.parse(value) as Record<string, unknown>);
}

describe('Function: createSecret, with a provider that spends single-use credentials', () => {
  let provider: FakeSingleUseProvider;
  let journal: InMemorySideEffectJournal;
  let unknownOutcomes: SideEffectOutcomeUnknown[];
  let theftReports: UpstreamReuseSuspected[];
  let observer: RotationObserver;

  beforeEach(() => {
    provider = new FakeSingleUseProvider();
    journal = new InMemorySideEffectJournal([], () => HARNESS_NOW.getTime());
    unknownOutcomes = [];
    theftReports = [];
    observer = {
      sideEffectOutcomeUnknown: (event) => Promise.resolve(void unknownOutcomes.push(event)),
      upstreamReuseSuspected: (event) => Promise.resolve(void theftReports.push(event)),
    };
  });

  function storeWith(current: string): InMemorySecretStore {
    return new InMemorySecretStore(SECRET_NAME)
      .addVersion(CURRENT_VERSION, current, [AWSCURRENT])
      .startRotation(PENDING_VERSION);
  }

  function deps(store: InMemorySecretStore) {
    return depsFor(store, { providers: [provider], journal, fingerprint, observers: [observer] });
  }

  it('journals the spent credential by its fingerprint, presents it once and stores the successor', async () => {
    // Prepare
    const store = storeWith(documentWith('refresh-0'));

    // Act
    const result = await runRotationStep(rotationEvent('createSecret'), deps(store));

    // Assess
    expect(result.outcome).toBe('created');
    expect(provider.presented).toEqual(['refresh-0']);
    expect(journal.claims[0]!.entry).toEqual({
      secretArn: store.arn,
      versionId: PENDING_VERSION,
      action: `${FAKE_SINGLE_USE_PROVIDER}:create`,
      spends: 'fp(refresh-0)',
    });
    expect(pendingOf(store)).toMatchObject({ refresh: 'refresh-1', access: 'access-1' });
    expect(journal.spentRecord(store.arn, 'fp(refresh-0)')).toMatchObject({ versionId: PENDING_VERSION });
  });

  it('continues from an earlier rotation’s stored result instead of presenting the spent credential again', async () => {
    // Prepare: an abandoned rotation spent refresh-0 and stored refresh-9 in its own version
    const store = storeWith(documentWith('refresh-0')).addVersion(ABANDONED_VERSION, documentWith('refresh-9'), []);
    await journal.claim({ secretArn: store.arn, versionId: ABANDONED_VERSION, action: 'x', spends: 'fp(refresh-0)' });
    journal.age(LEASE_MS + 1);

    // Act
    const result = await runRotationStep(rotationEvent('createSecret'), deps(store));

    // Assess
    expect(result.outcome).toBe('created');
    expect(provider.presented).toEqual(['refresh-9']);
    expect(pendingOf(store)).toMatchObject({ refresh: 'refresh-1' });
    expect(unknownOutcomes).toEqual([]);
  });

  it('leaves a credential another rotation is spending right now alone, saying the call is in progress', async () => {
    // Prepare: another rotation claimed refresh-0 a moment ago and has stored nothing yet
    const store = storeWith(documentWith('refresh-0'));
    await journal.claim({ secretArn: store.arn, versionId: ABANDONED_VERSION, action: 'x', spends: 'fp(refresh-0)' });

    // Act
    const error = await rejectionOf(runRotationStep(rotationEvent('createSecret'), deps(store)));

    // Assess
    expect(error).toBeInstanceOf(SideEffectInProgressError);
    expect(provider.presented).toEqual([]);
    expect(unknownOutcomes).toEqual([]);
    expect(store.valueOf(PENDING_VERSION)).toBeUndefined();
  });

  it('reports a lost result and never presents the credential again when the issuer allows no reuse', async () => {
    // Prepare: an earlier rotation spent refresh-0 and nothing of it was stored
    const store = storeWith(documentWith('refresh-0'));
    await journal.claim({ secretArn: store.arn, versionId: ABANDONED_VERSION, action: 'x', spends: 'fp(refresh-0)' });
    journal.age(LEASE_MS + 1);
    const before = store.snapshot();

    // Act
    const error = await rejectionOf(runRotationStep(rotationEvent('createSecret'), deps(store)));

    // Assess
    expect(error).toBeInstanceOf(SideEffectOutcomeUnknownError);
    expect(error.message).toContain('the secret declares no reuse interval for its issuer');
    expect(error.message).toContain(`rotor bootstrap ${SECRET_NAME}`);
    expect(provider.presented).toEqual([]);
    expect(store.snapshot()).toEqual(before);
    expect(unknownOutcomes).toEqual([
      expect.objectContaining({
        versionId: PENDING_VERSION,
        spentBy: ABANDONED_VERSION,
        spentFingerprint: 'fp(refresh-0)',
        retrying: false,
      }),
    ]);
  });

  it('presents a lost credential once more within the issuer’s reuse interval, and only once', async () => {
    // Prepare
    const store = storeWith(documentWith('refresh-0', { reuseIntervalSeconds: 600 }));
    await journal.claim({ secretArn: store.arn, versionId: ABANDONED_VERSION, action: 'x', spends: 'fp(refresh-0)' });
    journal.age(LEASE_MS + 1);

    // Act
    const result = await runRotationStep(rotationEvent('createSecret'), deps(store));

    // Assess
    expect(result.outcome).toBe('created');
    expect(provider.presented).toEqual(['refresh-0']);
    expect(unknownOutcomes.map((event) => event.retrying)).toEqual([true]);
    expect(journal.spentRecord(store.arn, 'fp(refresh-0)')?.lostRetryAt).toBe(HARNESS_NOW.getTime());
  });

  it('does not retry a lost credential twice, even within the reuse interval', async () => {
    // Prepare: the one retry was spent and lost too
    const store = storeWith(documentWith('refresh-0', { reuseIntervalSeconds: 600 }));
    await journal.claim({ secretArn: store.arn, versionId: ABANDONED_VERSION, action: 'x', spends: 'fp(refresh-0)' });
    journal.age(LEASE_MS + 1);
    provider.failNext = new ProviderCallError('timed out after sending', 'unknown');
    await expect(runRotationStep(rotationEvent('createSecret'), deps(store))).rejects.toThrow('timed out');
    journal.age(LEASE_MS + 1);

    // Act
    const error = await rejectionOf(runRotationStep(rotationEvent('createSecret'), deps(store)));

    // Assess
    expect(error).toBeInstanceOf(SideEffectOutcomeUnknownError);
    expect(error.message).toContain('the one retry within the issuer’s reuse interval was already made');
    expect(provider.presented).toEqual(['refresh-0']);
  });

  it('keeps the entry when the lost-result retry is refused without acting, so the credential is not presented a third time', async () => {
    // Prepare: the one retry within the reuse interval is rate-limited
    const store = storeWith(documentWith('refresh-0', { reuseIntervalSeconds: 600 }));
    await journal.claim({ secretArn: store.arn, versionId: ABANDONED_VERSION, action: 'x', spends: 'fp(refresh-0)' });
    journal.age(LEASE_MS + 1);
    provider.failNext = new ProviderRefusedError('HTTP 429');
    await expect(runRotationStep(rotationEvent('createSecret'), deps(store))).rejects.toThrow('HTTP 429');
    journal.age(LEASE_MS + 1);

    // Act
    const error = await rejectionOf(runRotationStep(rotationEvent('createSecret'), deps(store)));

    // Assess
    expect(error).toBeInstanceOf(SideEffectOutcomeUnknownError);
    expect(error.message).toContain('the one retry within the issuer’s reuse interval was already made');
    expect(provider.presented).toEqual(['refresh-0']);
    expect(journal.spentRecord(store.arn, 'fp(refresh-0)')).toMatchObject({ versionId: PENDING_VERSION });
  });

  it('treats a lost-result retry still in its lease as in progress, not as lost again', async () => {
    // Prepare: one invocation is presenting the credential again, after the first result was lost
    const store = storeWith(documentWith('refresh-0', { reuseIntervalSeconds: 600 }));
    await journal.claim({ secretArn: store.arn, versionId: ABANDONED_VERSION, action: 'x', spends: 'fp(refresh-0)' });
    journal.age(LEASE_MS + 1);
    let releaseRetry: () => void = () => undefined;
    provider.afterPresent = () => new Promise<void>((resolve) => (releaseRetry = resolve));
    const retry = runRotationStep(rotationEvent('createSecret'), deps(store));
    while (provider.presented.length === 0) await new Promise((resolve) => setImmediate(resolve));

    // Act: a twin whose wait runs out before the retry stores its value
    let clock = HARNESS_NOW.getTime();
    const twin = rejectionOf(
      runRotationStep(rotationEvent('createSecret'), {
        ...deps(store),
        now: () => new Date(clock),
        sideEffects: { twinWaitMs: 1_000, sleep: (ms) => Promise.resolve(void (clock += ms)) },
      }),
    );

    // Assess
    expect(await twin).toBeInstanceOf(SideEffectInProgressError);
    releaseRetry();
    await expect(retry).resolves.toMatchObject({ outcome: 'created' });
    expect(provider.presented).toEqual(['refresh-0']);
    expect(unknownOutcomes.map((event) => event.retrying)).toEqual([true]);
  });

  it('asks for re-authorization, not a theft report, when the issuer refuses the lost-result retry', async () => {
    // Prepare: the retry within the reuse interval is refused, as an IdP whose interval ended does
    const store = storeWith(documentWith('refresh-0', { reuseIntervalSeconds: 600 }));
    await journal.claim({ secretArn: store.arn, versionId: ABANDONED_VERSION, action: 'x', spends: 'fp(refresh-0)' });
    journal.age(LEASE_MS + 1);
    provider.failNext = new UpstreamReuseSuspectedError('invalid_grant');

    // Act
    const error = await rejectionOf(runRotationStep(rotationEvent('createSecret'), deps(store)));

    // Assess
    expect(error).toBeInstanceOf(ReauthorizationRequiredError);
    expect(error.message).toContain('refused the second presentation');
    expect(theftReports).toEqual([]);
    expect(journal.spentRecord(store.arn, 'fp(refresh-0)')?.outcome).toBe('rejected');
  });

  it('marks the credential rejected on possible theft upstream, reports it, and stores nothing', async () => {
    // Prepare
    const store = storeWith(documentWith('refresh-0'));
    provider.failNext = new UpstreamReuseSuspectedError('invalid_grant');
    const before = store.snapshot();

    // Act
    const first = await rejectionOf(runRotationStep(rotationEvent('createSecret'), deps(store)));
    journal.age(LEASE_MS + 1);
    const retry = await rejectionOf(runRotationStep(rotationEvent('createSecret'), deps(store)));

    // Assess
    expect(first).toBeInstanceOf(UpstreamReuseSuspectedError);
    expect(retry).toBeInstanceOf(ReauthorizationRequiredError);
    expect(retry.message).toContain(`rotor bootstrap ${SECRET_NAME}`);
    expect(provider.presented).toEqual(['refresh-0']);
    expect(store.snapshot()).toEqual(before);
    expect(theftReports).toEqual([
      expect.objectContaining({
        versionId: PENDING_VERSION,
        refusedVersionId: CURRENT_VERSION,
        spentFingerprint: 'fp(refresh-0)',
      }),
    ]);
    expect(journal.spentRecord(store.arn, 'fp(refresh-0)')?.outcome).toBe('rejected');
  });

  it.each([
    ['a refusal that spent nothing', new ProviderRefusedError('invalid_client')],
    ['a request that never left', new ProviderCallError('connection refused', 'none')],
  ])('releases the claim after %s, so the retry presents the credential again', async (_case, failure) => {
    // Prepare
    const store = storeWith(documentWith('refresh-0'));
    provider.failNext = failure;
    await expect(runRotationStep(rotationEvent('createSecret'), deps(store))).rejects.toThrow(failure.message);

    // Act
    const result = await runRotationStep(rotationEvent('createSecret'), deps(store));

    // Assess
    expect(result.outcome).toBe('created');
    expect(provider.presented).toEqual(['refresh-0', 'refresh-0']);
  });

  it('keeps the claim after a call that may have reached the issuer', async () => {
    // Prepare
    const store = storeWith(documentWith('refresh-0'));
    provider.failNext = new ProviderCallError('timed out after sending', 'unknown');
    await expect(runRotationStep(rotationEvent('createSecret'), deps(store))).rejects.toThrow('timed out');
    journal.age(LEASE_MS + 1);

    // Act
    const error = await rejectionOf(runRotationStep(rotationEvent('createSecret'), deps(store)));

    // Assess
    expect(error).toBeInstanceOf(SideEffectOutcomeUnknownError);
    expect(provider.presented).toEqual(['refresh-0']);
    expect(unknownOutcomes).toHaveLength(1);
  });

  it('releases the claim when the issuer did not rotate the credential, so the next rotation may spend it', async () => {
    // Prepare
    const store = storeWith(documentWith('refresh-0'));
    provider.rotates = false;

    // Act
    await runRotationStep(rotationEvent('createSecret'), deps(store));

    // Assess: the next rotation presents the same credential again
    expect(pendingOf(store)).toMatchObject({ refresh: 'refresh-0', access: 'access-1' });
    expect(journal.spentRecord(store.arn, 'fp(refresh-0)')).toBeUndefined();
    const next = storeWith(documentWith('refresh-0'));
    await runRotationStep(rotationEvent('createSecret'), deps(next));
    expect(provider.presented).toEqual(['refresh-0', 'refresh-0']);
  });

  it('refuses to present anything without a fingerprinter', async () => {
    // Prepare
    const store = storeWith(documentWith('refresh-0'));

    // Act
    const attempt = runRotationStep(
      rotationEvent('createSecret'),
      depsFor(store, { providers: [provider], journal, observers: [observer] }),
    );

    // Assess
    await expect(attempt).rejects.toThrow(MissingJournalError);
    expect(provider.presented).toEqual([]);
    expect(store.stagesOf(PENDING_VERSION)).toEqual([AWSPENDING]);
  });
});
