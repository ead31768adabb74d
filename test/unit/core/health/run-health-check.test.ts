import type { CredentialRecord } from '../../../../lambda/core/ledger/ledger-records';
import {
  runHealthCheck,
  type BudgetTimer,
  type HealthCheckDependencies,
  type SecretHealthResult,
} from '../../../../lambda/core/health/run-health-check';
import type { CurrentVersion, ManagedSecret, SecretCatalog } from '../../../../lambda/core/health/secret-catalog';
import type { HealthWatch, HealthWatchStore } from '../../../../lambda/core/health/health-watch';
import { dueReason, type CheckCadence } from '../../../../lambda/core/health/check-cadence';
import { managedTokenProvider } from '../../../../lambda/core/providers/managed-token/managed-token-provider';
import { ProviderRegistry } from '../../../../lambda/core/providers/provider-registry';
import { fingerprinter, ManualClock, T0, tokenNumber } from '../../helpers/ledger-harness';

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
}
function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

/** N secrets, each with a current managed token the ledger has current. */
function catalogOf(count: number, gate?: (index: number) => Promise<void>) {
  const secrets: ManagedSecret[] = Array.from({ length: count }, (_, index) => ({
    arn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/s${index}-AbC123`,
    name: `rotor/dev/s${index}`,
  }));
  const tokens = secrets.map((_, index) => tokenNumber(100 + index));
  const records = new Map<string, CredentialRecord>(
    tokens.map((token, index) => [
      fingerprinter.of(token),
      {
        fingerprint: fingerprinter.of(token),
        secretArn: secrets[index]!.arn,
        secretName: secrets[index]!.name,
        versionId: `v${index}`,
        provider: 'managed-token',
        state: 'current',
        createdAt: T0,
      },
    ]),
  );
  let inFlight = 0;
  let maxInFlight = 0;
  const batches: string[][] = [];
  const versionOf = (index: number): CurrentVersion => ({
    versionId: `v${index}`,
    value: JSON.stringify({ provider: 'managed-token', token: tokens[index] }),
  });
  const catalog: SecretCatalog = {
    list: () => Promise.resolve(secrets),
    readCurrent: (arn) => Promise.resolve(versionOf(secrets.findIndex((secret) => secret.arn === arn))),
    // One batch in flight per worker; the gate of a batch is that of its first secret.
    async readCurrentBatch(arns) {
      batches.push([...arns]);
      const indexes = arns.map((arn) => secrets.findIndex((secret) => secret.arn === arn));
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await (gate?.(indexes[0]!) ?? Promise.resolve());
      } finally {
        inFlight -= 1;
      }
      return new Map(indexes.map((index) => [secrets[index]!.arn, versionOf(index)]));
    },
  };
  return { catalog, records, secrets, batches, maxInFlight: () => maxInFlight };
}

/** A budget timer the test expires by hand. */
function manualTimer(): { timer: BudgetTimer; expire(): void; cancelled: () => boolean } {
  const expiry = deferred();
  let cancelled = false;
  return {
    timer: () => ({ expired: expiry.promise, cancel: () => (cancelled = true) }),
    expire: () => expiry.resolve(),
    cancelled: () => cancelled,
  };
}

describe('Function: runHealthCheck', () => {
  let clock: ManualClock;
  let results: SecretHealthResult[];

  beforeEach(() => {
    clock = new ManualClock(T0);
    results = [];
  });

  function deps(
    setup: ReturnType<typeof catalogOf>,
    overrides: Partial<HealthCheckDependencies> = {},
  ): HealthCheckDependencies {
    return {
      catalog: setup.catalog,
      providers: new ProviderRegistry([managedTokenProvider]),
      ledger: { getCredential: (fingerprint) => Promise.resolve(setup.records.get(fingerprint)) },
      fingerprinter: () => Promise.resolve(fingerprinter),
      now: clock.now,
      concurrency: 3,
      budgetMs: 40_000,
      timer: manualTimer().timer,
      onResult: (result) => results.push(result),
      ...overrides,
    };
  }

  it('tests every secret and reports each once', async () => {
    // Prepare
    const setup = catalogOf(5);
    const revoked = [...setup.records.values()][2]!;
    setup.records.set(revoked.fingerprint, { ...revoked, state: 'revoked' });

    // Act
    const summary = await runHealthCheck(deps(setup));

    // Assess
    expect(summary).toEqual({ secrets: 5, due: 5, checked: 5, healthy: 4, unhealthy: 1, skipped: 0 });
    expect(results.map((result) => [result.secretName, result.outcome]).sort()).toEqual([
      ['rotor/dev/s0', 'healthy'],
      ['rotor/dev/s1', 'healthy'],
      ['rotor/dev/s2', 'unhealthy'],
      ['rotor/dev/s3', 'healthy'],
      ['rotor/dev/s4', 'healthy'],
    ]);
    expect(results.find((result) => result.outcome === 'unhealthy')).toMatchObject({
      versionId: 'v2',
      provider: 'managed-token',
      reason: 'the ledger has the credential of AWSCURRENT (version v2) revoked, not current',
    });
  });

  it('reads the secrets in batches of 20, at most `concurrency` batches at once', async () => {
    // Prepare: every read waits a turn, so the workers overlap as much as they may
    const setup = catalogOf(90, () => new Promise((resolve) => setImmediate(resolve)));

    // Act
    await runHealthCheck(deps(setup, { concurrency: 3 }));

    // Assess
    expect(setup.batches.map((batch) => batch.length)).toEqual([20, 20, 20, 20, 10]);
    expect(setup.maxInFlight()).toBe(3);
    expect(results).toHaveLength(90);
  });

  it('reports the secrets not reached within the budget as skipped, not failed, and stops its timer', async () => {
    // Prepare: the first batch's read hangs until the budget runs out; one worker
    const hang = deferred();
    const budget = manualTimer();
    const setup = catalogOf(45, (index) => (index === 0 ? hang.promise : Promise.resolve()));

    // Act
    const running = runHealthCheck(deps(setup, { concurrency: 1, timer: budget.timer }));
    await new Promise((resolve) => setImmediate(resolve));
    clock.current += 40_000;
    budget.expire();
    const summary = await running;
    hang.resolve();

    // Assess
    expect(summary).toMatchObject({ checked: 0, healthy: 0, unhealthy: 0, skipped: 45 });
    const reasons = new Map(results.map((result) => [result.secretName, result.reason]));
    expect(reasons.get('rotor/dev/s0')).toBe('the health check ran out of its time budget during its test');
    expect(reasons.get('rotor/dev/s19')).toBe('the health check ran out of its time budget during its test');
    expect(reasons.get('rotor/dev/s20')).toBe('the health check ran out of its time budget before reaching it');
    expect(reasons.get('rotor/dev/s44')).toBe('the health check ran out of its time budget before reaching it');
    expect(budget.cancelled()).toBe(true);
  });

  it('skips the secrets it has not started when the clock passes the budget', async () => {
    // Prepare: each batch read takes 15 s of the clock; the budget is 40 s
    const setup = catalogOf(80, () => {
      clock.current += 15_000;
      return Promise.resolve();
    });

    // Act
    const summary = await runHealthCheck(deps(setup, { concurrency: 1 }));

    // Assess: two batches tested; the third's read ends past the budget; the fourth not started
    expect(summary).toMatchObject({ checked: 40, healthy: 40, unhealthy: 0, skipped: 40 });
    expect(results[40]).toMatchObject({
      secretName: 'rotor/dev/s40',
      outcome: 'skipped',
      reason: 'the health check ran out of its time budget during its test',
    });
    expect(results.at(-1)).toMatchObject({
      secretName: 'rotor/dev/s79',
      outcome: 'skipped',
      reason: 'the health check ran out of its time budget before reaching it',
    });
  });

  it('fails only the secret whose read failed, saying so', async () => {
    // Prepare
    const setup = catalogOf(2);
    const catalog: SecretCatalog = {
      ...setup.catalog,
      readCurrentBatch: async (arns) => {
        const read: Map<string, CurrentVersion | undefined | Error> = await setup.catalog.readCurrentBatch(arns);
        read.set(arns[0]!, Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
        return read;
      },
    };

    // Act
    const summary = await runHealthCheck(deps(setup, { catalog }));

    // Assess
    expect(summary).toMatchObject({ checked: 2, healthy: 1, unhealthy: 1, skipped: 0 });
    expect(results.find((result) => result.secretName === 'rotor/dev/s0')).toMatchObject({
      outcome: 'unhealthy',
      reason: 'could not be checked: ThrottlingException: Rate exceeded',
    });
  });

  it('skips a secret whose AWSCURRENT holds no credential yet, and fails one with no AWSCURRENT', async () => {
    // Prepare
    const setup = catalogOf(2);
    const catalog: SecretCatalog = {
      ...setup.catalog,
      readCurrentBatch: (arns) =>
        Promise.resolve(
          new Map(
            arns.map((arn) => [
              arn,
              arn.includes('s0') ? { versionId: 'v0', value: '{"provider":"managed-token"}' } : undefined,
            ]),
          ),
        ),
    };

    // Act
    const summary = await runHealthCheck(deps(setup, { catalog }));

    // Assess
    expect(summary).toMatchObject({ checked: 1, healthy: 0, unhealthy: 1, skipped: 1 });
    expect(results.map((result) => [result.secretName, result.outcome, result.reason]).sort()).toEqual([
      ['rotor/dev/s0', 'skipped', 'AWSCURRENT holds no credential yet (first rotation pending)'],
      ['rotor/dev/s1', 'unhealthy', 'the secret has no AWSCURRENT version'],
    ]);
  });

  describe('with the watch list', () => {
    const settings: CheckCadence = { runSeconds: 60, watchSeconds: 900, idleSeconds: 3600 };

    /** A watch list in memory that records the writes. */
    function watchList(initial: Record<string, HealthWatch> = {}) {
      const watches = new Map(Object.entries(initial));
      const writes: string[] = [];
      const store: HealthWatchStore = {
        list: () => Promise.resolve(new Map(watches)),
        recordFailing: (name) => {
          writes.push(`failing ${name}`);
          return Promise.resolve();
        },
        recordRecovered: (name, until) => {
          writes.push(`recovered ${name} until +${until - clock.current / 1000}`);
          return Promise.resolve();
        },
        recordCredentialExpiry: (name, at) => {
          writes.push(`expiry ${name} at ${at}`);
          return Promise.resolve();
        },
      };
      return { store, writes };
    }

    it('tests only the secrets due: watched, failing, and those in their idle slot', async () => {
      // Prepare: 40 quiet secrets, one changed, one failing
      const setup = catalogOf(40);
      const { store } = watchList({
        'rotor/dev/s3': { changedUntil: clock.current / 1000 + 300 },
        'rotor/dev/s7': { failing: true },
      });
      const idle = setup.secrets.filter((secret) => dueReason(secret.name, undefined, clock.current, settings));

      // Act
      const summary = await runHealthCheck(deps(setup, { cadence: { watch: store, settings } }));

      // Assess
      const tested = new Map(results.map((result) => [result.secretName, result.due]));
      expect(tested.get('rotor/dev/s3')).toBe('changed');
      expect(tested.get('rotor/dev/s7')).toBe('failing');
      for (const secret of idle) expect(tested.get(secret.name)).toBeDefined();
      expect(summary).toMatchObject({ secrets: 40, checked: tested.size, due: tested.size });
      expect(tested.size).toBeLessThan(40);
    });

    it('remembers a failure, and a pass after a failure, before reporting them', async () => {
      // Prepare: s0 fails; s1 failed at the last run and passes now
      const setup = catalogOf(2);
      const revoked = [...setup.records.values()][0]!;
      setup.records.set(revoked.fingerprint, { ...revoked, state: 'revoked' });
      const { store, writes } = watchList({
        'rotor/dev/s0': { changedUntil: clock.current / 1000 + 300 },
        'rotor/dev/s1': { failing: true },
      });
      const reported: string[] = [];

      // Act
      await runHealthCheck(
        deps(setup, {
          cadence: { watch: store, settings },
          onResult: (result) => reported.push(`${result.secretName} ${result.outcome} after ${writes.length}`),
        }),
      );

      // Assess
      expect(writes.sort()).toEqual(['failing rotor/dev/s0', 'recovered rotor/dev/s1 until +900']);
      expect(reported.sort()).toEqual(['rotor/dev/s0 unhealthy after 1', 'rotor/dev/s1 healthy after 2']);
    });

    it('reports the result when the ledger cannot remember it, saying so', async () => {
      // Prepare
      const setup = catalogOf(1);
      const revoked = [...setup.records.values()][0]!;
      setup.records.set(revoked.fingerprint, { ...revoked, state: 'revoked' });
      const { store } = watchList({ 'rotor/dev/s0': { failing: true } });
      const throttled = Object.assign(new Error('slow down'), { name: 'ThrottlingException' });

      // Act
      const summary = await runHealthCheck(
        deps(setup, {
          cadence: { watch: { ...store, recordFailing: () => Promise.reject(throttled) }, settings },
        }),
      );

      // Assess
      expect(summary).toMatchObject({ unhealthy: 1 });
      expect(results[0]).toMatchObject({ outcome: 'unhealthy', watchNotRecorded: 'ThrottlingException' });
    });
  });

  it('refuses a concurrency below 1', async () => {
    await expect(runHealthCheck(deps(catalogOf(1), { concurrency: 0 }))).rejects.toThrow(
      'health check concurrency must be a whole number of at least 1, got 0',
    );
  });
});
