import { LedgerRecorder } from '../../../../lambda/core/ledger/ledger-recorder';
import type { Retirement } from '../../../../lambda/core/ledger/retirement-scheduler';
import { createSecret } from '../../../../lambda/core/rotation/create-secret';
import { finishSecret } from '../../../../lambda/core/rotation/finish-secret';
import { ROTATION_STEPS, type RotationStep } from '../../../../lambda/core/rotation/rotation-event';
import type { PendingStored, Promoted, RotationObserver } from '../../../../lambda/core/rotation/rotation-observer';
import type { RotationDependencies } from '../../../../lambda/core/rotation/rotation-step-context';
import { runRotationStep } from '../../../../lambda/core/rotation/run-rotation-step';
import { AWSCURRENT, AWSPENDING } from '../../../../lambda/core/rotation/secret-store';
import type { InMemorySecretStore } from '../../fakes/in-memory-secret-store';
import { InMemoryLedger } from '../../fakes/in-memory-ledger';
import { fingerprinter, T0 } from '../../helpers/ledger-harness';
import { rejectionOf } from '../../helpers/rejection';
import {
  contextFor,
  CURRENT_TOKEN,
  CURRENT_VERSION,
  depsFor,
  managedTokenDocument,
  PENDING_VERSION,
  rotationEvent,
  SECRET_NAME,
  storeMidRotation,
} from '../../helpers/rotation-harness';

const PENDING_TOKEN = 'rtr_85paEWcHsaLCYRbPIpw4jhcJNV56UuFl5TIPa3K9PAw26u7MF';
const NEXT_VERSION = '7e57ab1e-2222-4333-8444-555566667777';

/** Keeps what the engine told it; `failure` makes every call throw after recording it. */
class RecordingObserver implements RotationObserver {
  readonly stored: PendingStored[] = [];
  readonly promotions: Promoted[] = [];
  failure: Error | undefined;

  pendingStored(event: PendingStored): Promise<void> {
    this.stored.push(event);
    return this.failure === undefined ? Promise.resolve() : Promise.reject(this.failure);
  }

  promoted(event: Promoted): Promise<void> {
    this.promotions.push(event);
    return this.failure === undefined ? Promise.resolve() : Promise.reject(this.failure);
  }
}

function tokenOf(store: InMemorySecretStore, versionId: string): string {
  return (JSON.parse(store.valueOf(versionId)!) as { token: string }).token;
}

function withObservers(store: InMemorySecretStore, ...observers: RotationObserver[]): RotationDependencies {
  return { ...depsFor(store), observers };
}

async function step(step: RotationStep, deps: RotationDependencies, versionId = PENDING_VERSION) {
  return runRotationStep(rotationEvent(step, { ClientRequestToken: versionId }), deps);
}

describe('Function: createSecret, with observers', () => {
  it('tells the observers about the stored pending version, with the current document’s policy', async () => {
    // Prepare
    const store = storeMidRotation(JSON.stringify(managedTokenDocument({ graceSeconds: 30, onReuse: 'alert-only' })));
    const observer = new RecordingObserver();

    // Act
    await step('createSecret', withObservers(store, observer));

    // Assess
    expect(observer.stored).toHaveLength(1);
    const [event] = observer.stored;
    expect(event?.secret).toMatchObject({ arn: store.arn, name: SECRET_NAME });
    expect(event?.versionId).toBe(PENDING_VERSION);
    expect(event?.pending.provider.credentialOf(event.pending.document)).toBe(tokenOf(store, PENDING_VERSION));
    expect(event?.pending.policy).toEqual({ graceSeconds: 30, onReuse: 'alert-only' });
  });

  it('tells again when the pending version already holds a value: an earlier attempt may have failed before the ledger heard', async () => {
    // Prepare
    const store = storeMidRotation();
    store.addVersion(PENDING_VERSION, JSON.stringify(managedTokenDocument({ token: PENDING_TOKEN })), [AWSPENDING]);
    const observer = new RecordingObserver();

    // Act
    const result = await step('createSecret', withObservers(store, observer));

    // Assess
    expect(result.outcome).toBe('already-created');
    expect(store.puts).toEqual([]);
    expect(observer.stored.map((event) => event.pending.provider.credentialOf(event.pending.document))).toEqual([
      PENDING_TOKEN,
    ]);
  });

  it('tells the stored value from both of two concurrent invocations when only one write is stored', async () => {
    // Prepare
    const store = storeMidRotation();
    const observer = new RecordingObserver();
    const deps = withObservers(store, observer);

    // Act
    const results = await Promise.all([step('createSecret', deps), step('createSecret', deps)]);

    // Assess
    expect(store.puts.map((put) => put.result).sort()).toEqual(['already-exists', 'created']);
    expect(results.map((result) => result.outcome).sort()).toEqual(['already-created', 'created']);
    expect(observer.stored.map((event) => event.pending.provider.credentialOf(event.pending.document))).toEqual([
      tokenOf(store, PENDING_VERSION),
      tokenOf(store, PENDING_VERSION),
    ]);
  });

  it('tells every observer in order, and fails the step when one fails, after the value was stored', async () => {
    // Prepare
    const store = storeMidRotation();
    const [first, second] = [new RecordingObserver(), new RecordingObserver()];
    first.failure = new Error('ledger unavailable');
    const context = await contextFor(rotationEvent('createSecret'), withObservers(store, first, second));

    // Act
    const error = await rejectionOf(createSecret(context));

    // Assess
    expect(error).toBe(first.failure);
    expect(store.valueOf(PENDING_VERSION)).toBeDefined();
    expect(first.stored).toHaveLength(1);
    expect(second.stored).toEqual([]);
  });
});

describe('Function: finishSecret, with observers', () => {
  function storeWithPending(): InMemorySecretStore {
    return storeMidRotation().addVersion(
      PENDING_VERSION,
      JSON.stringify(managedTokenDocument({ token: PENDING_TOKEN })),
      [AWSPENDING],
    );
  }

  it('tells the observers about the promotion, naming the version AWSCURRENT moved from', async () => {
    // Prepare
    const store = storeWithPending();
    const observer = new RecordingObserver();

    // Act
    const result = await step('finishSecret', withObservers(store, observer));

    // Assess
    expect(result.outcome).toBe('promoted');
    expect(observer.promotions).toHaveLength(1);
    const [event] = observer.promotions;
    expect(event?.versionId).toBe(PENDING_VERSION);
    expect(event?.previousVersionId).toBe(CURRENT_VERSION);
    expect(event?.current.provider.credentialOf(event.current.document)).toBe(PENDING_TOKEN);
  });

  it('reads the previous version by its id (AWSCURRENT before the move, AWSPREVIOUS after), and only when an observer asks', async () => {
    // Prepare
    const store = storeWithPending();
    const observer = new RecordingObserver();
    await step('finishSecret', withObservers(store, observer));
    const readsBefore = store.reads.length;

    // Act
    const previous = await observer.promotions[0]!.readPrevious();

    // Assess
    expect(previous?.provider.credentialOf(previous.document)).toBe(CURRENT_TOKEN);
    expect(store.reads.slice(readsBefore)).toEqual([{ versionId: CURRENT_VERSION, stage: undefined, found: true }]);
  });

  it('tells the observers from both of two concurrent invocations (promoted and already-promoted)', async () => {
    // Prepare
    const store = storeWithPending();
    const observer = new RecordingObserver();
    const deps = withObservers(store, observer);

    // Act
    const results = await Promise.all([step('finishSecret', deps), step('finishSecret', deps)]);

    // Assess
    expect(results.map((result) => result.outcome)).toEqual(['promoted', 'already-promoted']);
    expect(observer.promotions.map((event) => [event.versionId, event.previousVersionId])).toEqual([
      [PENDING_VERSION, CURRENT_VERSION],
      [PENDING_VERSION, CURRENT_VERSION],
    ]);
  });

  it('fails the step when an observer fails, after the label moved; the retry tells the observers again', async () => {
    // Prepare
    const store = storeWithPending();
    const observer = new RecordingObserver();
    observer.failure = new Error('ledger unavailable');
    const deps = withObservers(store, observer);
    const context = await contextFor(rotationEvent('finishSecret'), deps);

    // Act
    const error = await rejectionOf(finishSecret(context));
    observer.failure = undefined;
    const retry = await step('finishSecret', deps);

    // Assess
    expect(error.message).toBe('ledger unavailable');
    expect(store.versionsWithStage(AWSCURRENT)).toEqual([PENDING_VERSION]);
    expect(retry.outcome).toBe('already-current');
    expect(observer.promotions.map((event) => [event.versionId, event.previousVersionId])).toEqual([
      [PENDING_VERSION, CURRENT_VERSION],
      [PENDING_VERSION, CURRENT_VERSION],
    ]);
  });
});

describe('Function: runRotationStep, late finishSecret retry with observers', () => {
  it('tells the observers again, with the current document and AWSPREVIOUS as the previous version', async () => {
    // Prepare: the rotation finished; Secrets Manager retries finishSecret
    const store = storeMidRotation();
    const observer = new RecordingObserver();
    const deps = withObservers(store, observer);
    for (const name of ROTATION_STEPS) await step(name, deps);
    observer.promotions.length = 0;

    // Act
    const result = await step('finishSecret', deps);

    // Assess
    expect(result.outcome).toBe('already-current');
    expect(observer.promotions).toHaveLength(1);
    const [event] = observer.promotions;
    expect(event?.versionId).toBe(PENDING_VERSION);
    expect(event?.previousVersionId).toBe(CURRENT_VERSION);
    expect(event?.current.provider.credentialOf(event.current.document)).toBe(tokenOf(store, PENDING_VERSION));
    expect(store.reads.at(-1)).toEqual({ versionId: PENDING_VERSION, stage: AWSCURRENT, found: true });
  });

  it('names no previous version when the secret has no AWSPREVIOUS', async () => {
    // Prepare: the version is AWSCURRENT and nothing else is labelled
    const store = storeMidRotation().addVersion(
      PENDING_VERSION,
      JSON.stringify(managedTokenDocument({ token: PENDING_TOKEN })),
      [AWSCURRENT],
    );
    const observer = new RecordingObserver();

    // Act
    await step('finishSecret', withObservers(store, observer));

    // Assess
    expect(observer.promotions).toHaveLength(1);
    expect(observer.promotions[0]).not.toHaveProperty('previousVersionId');
    expect(await observer.promotions[0]!.readPrevious()).toBeUndefined();
  });

  it.each(['createSecret', 'setSecret', 'testSecret'] as const)(
    'tells nothing and reads nothing on a late %s retry',
    async (name) => {
      // Prepare
      const store = storeMidRotation();
      const observer = new RecordingObserver();
      const deps = withObservers(store, observer);
      for (const each of ROTATION_STEPS) await step(each, deps);
      observer.stored.length = 0;
      observer.promotions.length = 0;
      const reads = store.reads.length;

      // Act
      const result = await step(name, deps);

      // Assess
      expect(result.outcome).toBe('already-current');
      expect(observer.stored).toEqual([]);
      expect(observer.promotions).toEqual([]);
      expect(store.reads).toHaveLength(reads);
    },
  );

  it('fails the late retry when an observer fails, so Secrets Manager retries it again', async () => {
    // Prepare
    const store = storeMidRotation();
    const observer = new RecordingObserver();
    const deps = withObservers(store, observer);
    for (const name of ROTATION_STEPS) await step(name, deps);
    observer.failure = new Error('ledger unavailable');

    // Act
    const error = await rejectionOf(step('finishSecret', deps));

    // Assess
    expect(error).toBe(observer.failure);
  });
});

describe('The rotation engine with a LedgerRecorder', () => {
  it('records two rotations: the first token previous with its grace, the second current, one retirement', async () => {
    // Prepare: the secret's first version holds no token yet
    const store = storeMidRotation('{"provider":"managed-token"}');
    const ledger = new InMemoryLedger(() => T0);
    const scheduled: Retirement[] = [];
    const recorder = new LedgerRecorder({
      ledger,
      fingerprinter: () => Promise.resolve(fingerprinter),
      retirements: { schedule: (retirement) => Promise.resolve(void scheduled.push(retirement)) },
      durations: { defaultGraceSeconds: 900, reuseMemorySeconds: 3600 },
      now: () => T0,
    });
    const deps = withObservers(store, recorder);

    // Act
    for (const name of ROTATION_STEPS) await step(name, deps);
    store.startRotation(NEXT_VERSION);
    for (const name of ROTATION_STEPS) await step(name, deps, NEXT_VERSION);

    // Assess
    const [first, second] = [tokenOf(store, PENDING_VERSION), tokenOf(store, NEXT_VERSION)];
    expect(await ledger.getCredential(fingerprinter.of(first))).toMatchObject({
      versionId: PENDING_VERSION,
      state: 'previous',
      graceEndsAt: T0 + 900_000,
    });
    expect(await ledger.getCredential(fingerprinter.of(second))).toMatchObject({
      versionId: NEXT_VERSION,
      state: 'current',
    });
    expect(scheduled).toEqual([
      { secretArn: store.arn, versionId: PENDING_VERSION, fingerprint: fingerprinter.of(first), at: T0 + 900_000 },
    ]);
    expect(ledger.auditOf(store.arn).map((event) => event.type)).toEqual([
      'created',
      'promoted',
      'created',
      'promoted',
    ]);
    expect(ledger.dump()).not.toContain(first);
    expect(ledger.dump()).not.toContain(second);
  });
});
