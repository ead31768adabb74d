import { AWSCURRENT } from '../rotation/secret-store';
import { checkCredentialHealth, type CredentialHealthDependencies } from './credential-health';
import type { ManagedSecret, SecretCatalog } from './secret-catalog';

/** What the health check found for one secret. Never carries a credential. */
export interface SecretHealthResult {
  readonly secretArn: string;
  readonly secretName: string;
  /**
   * `healthy` / `unhealthy`: the AWSCURRENT credential was tested. `skipped`: it was not (the
   * budget ran out first, or the secret holds no credential yet): neither a success nor a failure.
   */
  readonly outcome: 'healthy' | 'unhealthy' | 'skipped';
  readonly reason?: string;
  readonly provider?: string;
  readonly versionId?: string;
  readonly durationMs: number;
}

export interface HealthCheckSummary {
  readonly checked: number;
  readonly healthy: number;
  readonly unhealthy: number;
  readonly skipped: number;
}

const BUDGET_OVER: unique symbol = Symbol('budget over');

/** A timer the budget runs on; injectable so tests control when it expires. */
export type BudgetTimer = (ms: number) => { readonly expired: Promise<void>; cancel(): void };

export interface HealthCheckDependencies extends CredentialHealthDependencies {
  readonly catalog: SecretCatalog;
  /** How many secrets are tested at once (at least 1). */
  readonly concurrency: number;
  /** The whole run's time budget; secrets not reached within it are skipped. */
  readonly budgetMs: number;
  /** @default setTimeout */
  readonly timer?: BudgetTimer;
  /** Told each secret's result as soon as it is known (the handler logs and emits metrics here). */
  readonly onResult?: (result: SecretHealthResult) => void;
}

/**
 * Tests every managed secret's AWSCURRENT credential (see {@link checkCredentialHealth}), at most
 * `concurrency` at a time, within `budgetMs`. A secret whose test has not started when the budget
 * runs out, or that is still being tested then, is reported `skipped`: the next run tests it, and a
 * slow run is not a reason to roll anything back. An error while checking one secret (a throttled
 * read, say) fails that secret only.
 */
export async function runHealthCheck(deps: HealthCheckDependencies): Promise<HealthCheckSummary> {
  if (!Number.isInteger(deps.concurrency) || deps.concurrency < 1) {
    throw new Error(`health check concurrency must be a whole number of at least 1, got ${deps.concurrency}`);
  }
  const deadline = deps.now() + deps.budgetMs;
  const budget = (deps.timer ?? setTimeoutTimer)(deps.budgetMs);
  let budgetOver = false;
  const overflow: Promise<typeof BUDGET_OVER> = budget.expired.then(() => {
    budgetOver = true;
    return BUDGET_OVER;
  });
  const counts = { checked: 0, healthy: 0, unhealthy: 0, skipped: 0 };
  const report = (result: SecretHealthResult) => {
    counts[result.outcome] += 1;
    if (result.outcome !== 'skipped') counts.checked += 1;
    deps.onResult?.(result);
  };

  try {
    const secrets = await deps.catalog.list();
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let index = next++; index < secrets.length; index = next++) {
        const secret = secrets[index]!;
        if (budgetOver || deps.now() >= deadline) {
          report(skipped(secret, 'the health check ran out of its time budget before reaching it', 0));
          continue;
        }
        const startedAt = deps.now();
        const result = await Promise.race([checkOne(secret, deps, startedAt), overflow]);
        report(
          result === BUDGET_OVER
            ? skipped(secret, 'the health check ran out of its time budget during its test', deps.now() - startedAt)
            : result,
        );
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, secrets.length) }, worker));
  } finally {
    budget.cancel();
  }
  return counts;
}

async function checkOne(
  secret: ManagedSecret,
  deps: HealthCheckDependencies,
  startedAt: number,
): Promise<SecretHealthResult> {
  const base = { secretArn: secret.arn, secretName: secret.name };
  try {
    const current = await deps.catalog.readCurrent(secret.arn);
    if (current === undefined) {
      return { ...base, outcome: 'unhealthy', reason: 'the secret has no AWSCURRENT version', durationMs: 0 };
    }
    const health = await checkCredentialHealth(
      { ...base, versionId: current.versionId, stage: AWSCURRENT, value: current.value },
      deps,
    );
    const durationMs = deps.now() - startedAt;
    const known = {
      ...base,
      versionId: current.versionId,
      durationMs,
      ...(health.provider === undefined ? {} : { provider: health.provider }),
    };
    switch (health.status) {
      case 'healthy':
        return { ...known, outcome: 'healthy' };
      case 'not-issued':
        return { ...known, outcome: 'skipped', reason: 'AWSCURRENT holds no credential yet (first rotation pending)' };
      case 'unhealthy':
        return { ...known, outcome: 'unhealthy', reason: health.reason };
    }
  } catch (error) {
    // AWS errors name the operation and the resource, never a secret value.
    const detail = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : 'Error';
    return {
      ...base,
      outcome: 'unhealthy',
      reason: `could not be checked: ${detail}`,
      durationMs: deps.now() - startedAt,
    };
  }
}

function skipped(secret: ManagedSecret, reason: string, durationMs: number): SecretHealthResult {
  return { secretArn: secret.arn, secretName: secret.name, outcome: 'skipped', reason, durationMs };
}

const setTimeoutTimer: BudgetTimer = (ms) => {
  let timeout: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timeout = setTimeout(resolve, ms);
  });
  return { expired, cancel: () => clearTimeout(timeout) };
};
