import type { CredentialRecord } from '../../../../lambda/core/ledger/ledger-records';
import {
  runHealthCheck,
  type BudgetTimer,
  type HealthCheckDependencies,
  type SecretHealthResult,
} from '../../../../lambda/core/health/run-health-check';
import type { CurrentVersion, ManagedSecret, SecretCatalog } from '../../../../lambda/core/health/secret-catalog';
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
  const catalog: SecretCatalog = {
    list: () => Promise.resolve(secrets),
    async readCurrent(arn): Promise<CurrentVersion> {
      const index = secrets.findIndex((secret) => secret.arn === arn);
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        await (gate?.(index) ?? Promise.resolve());
      } finally {
        inFlight -= 1;
      }
      return { versionId: `v${index}`, value: JSON.stringify({ provider: 'managed-token', token: tokens[index] }) };
    },
  };
  return { catalog, records, secrets, maxInFlight: () => maxInFlight };
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
    expect(summary).toEqual({ checked: 5, healthy: 4, unhealthy: 1, skipped: 0 });
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

  it('tests at most `concurrency` secrets at once', async () => {
    // Prepare: every read waits a turn, so the workers overlap as much as they may
    const setup = catalogOf(10, () => new Promise((resolve) => setImmediate(resolve)));

    // Act
    await runHealthCheck(deps(setup, { concurrency: 3 }));

    // Assess
    expect(setup.maxInFlight()).toBe(3);
    expect(results).toHaveLength(10);
  });

  it('reports the secrets not reached within the budget as skipped, not failed, and stops its timer', async () => {
    // Prepare: the first two checks hang until the budget runs out
    const hang = deferred();
    const budget = manualTimer();
    const setup = catalogOf(5, (index) => (index < 2 ? hang.promise : Promise.resolve()));

    // Act
    const running = runHealthCheck(deps(setup, { concurrency: 2, timer: budget.timer }));
    await new Promise((resolve) => setImmediate(resolve));
    clock.current += 40_000;
    budget.expire();
    const summary = await running;
    hang.resolve();

    // Assess
    expect(summary).toEqual({ checked: 0, healthy: 0, unhealthy: 0, skipped: 5 });
    expect(results.map((result) => [result.secretName, result.reason]).sort()).toEqual([
      ['rotor/dev/s0', 'the health check ran out of its time budget during its test'],
      ['rotor/dev/s1', 'the health check ran out of its time budget during its test'],
      ['rotor/dev/s2', 'the health check ran out of its time budget before reaching it'],
      ['rotor/dev/s3', 'the health check ran out of its time budget before reaching it'],
      ['rotor/dev/s4', 'the health check ran out of its time budget before reaching it'],
    ]);
    expect(budget.cancelled()).toBe(true);
  });

  it('skips the secrets it has not started when the clock passes the budget', async () => {
    // Prepare: each check takes 15 s of the clock; the budget is 40 s
    const setup = catalogOf(4, () => {
      clock.current += 15_000;
      return Promise.resolve();
    });

    // Act
    const summary = await runHealthCheck(deps(setup, { concurrency: 1 }));

    // Assess
    expect(summary).toEqual({ checked: 3, healthy: 3, unhealthy: 0, skipped: 1 });
    expect(results.at(-1)).toMatchObject({ secretName: 'rotor/dev/s3', outcome: 'skipped' });
  });

  it('fails only the secret whose check throws, saying so', async () => {
    // Prepare
    const setup = catalogOf(2, (index) =>
      index === 0
        ? Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }))
        : Promise.resolve(),
    );

    // Act
    const summary = await runHealthCheck(deps(setup));

    // Assess
    expect(summary).toEqual({ checked: 2, healthy: 1, unhealthy: 1, skipped: 0 });
    expect(results.find((result) => result.secretName === 'rotor/dev/s0')).toMatchObject({
      outcome: 'unhealthy',
      reason: 'could not be checked: ThrottlingException: Rate exceeded',
    });
  });

  it('skips a secret whose AWSCURRENT holds no credential yet, and fails one with no AWSCURRENT', async () => {
    // Prepare
    const setup = catalogOf(2);
    const catalog: SecretCatalog = {
      list: setup.catalog.list,
      readCurrent: (arn) =>
        Promise.resolve(arn.includes('s0') ? { versionId: 'v0', value: '{"provider":"managed-token"}' } : undefined),
    };

    // Act
    const summary = await runHealthCheck(deps(setup, { catalog }));

    // Assess
    expect(summary).toEqual({ checked: 1, healthy: 0, unhealthy: 1, skipped: 1 });
    expect(results.map((result) => [result.secretName, result.outcome, result.reason]).sort()).toEqual([
      ['rotor/dev/s0', 'skipped', 'AWSCURRENT holds no credential yet (first rotation pending)'],
      ['rotor/dev/s1', 'unhealthy', 'the secret has no AWSCURRENT version'],
    ]);
  });

  it('refuses a concurrency below 1', async () => {
    await expect(runHealthCheck(deps(catalogOf(1), { concurrency: 0 }))).rejects.toThrow(
      'health check concurrency must be a whole number of at least 1, got 0',
    );
  });
});
