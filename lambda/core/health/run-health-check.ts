import { AWSCURRENT } from '../rotation/secret-store';
import { dueReason, type CheckCadence, type DueReason } from './check-cadence';
import { checkCredentialHealth, type CredentialHealthDependencies } from './credential-health';
import type { HealthWatch, HealthWatchStore } from './health-watch';
import { MAX_BATCH_READ, type CurrentVersion, type ManagedSecret, type SecretCatalog } from './secret-catalog';

/** What the health check found for one secret. Never carries a credential. */
export interface SecretHealthResult {
  readonly secretArn: string;
  readonly secretName: string;
  /**
   * `healthy` / `unhealthy`: the AWSCURRENT credential was tested. `skipped`: it was not (the
   * budget ran out first, or the secret holds no credential yet): neither a success nor a failure.
   */
  readonly outcome: 'healthy' | 'unhealthy' | 'skipped';
  /** Why the secret was due in this run. */
  readonly due?: DueReason;
  readonly reason?: string;
  readonly provider?: string;
  readonly versionId?: string;
  readonly durationMs: number;
  /** The ledger could not remember what this check found (the error's name); the next run may not test it. */
  readonly watchNotRecorded?: string;
}

export interface HealthCheckSummary {
  /** Secrets of the stage. */
  readonly secrets: number;
  /** Secrets due in this run (watched, failing, expiring, or in their idle slot). */
  readonly due: number;
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
  /**
   * The ledger's watch list and the cadence: which secrets are due in this run. @default none:
   * every secret is due in every run
   */
  readonly cadence?: { readonly watch: HealthWatchStore; readonly settings: CheckCadence };
  /** How many secrets are tested at once (at least 1): one per batch being worked through. */
  readonly concurrency: number;
  /** The whole run's time budget; secrets not reached within it are skipped. */
  readonly budgetMs: number;
  /** @default setTimeout */
  readonly timer?: BudgetTimer;
  /** Told each secret's result as soon as it is known (the handler logs and emits metrics here). */
  readonly onResult?: (result: SecretHealthResult) => void;
}

interface DueSecret extends ManagedSecret {
  readonly due?: DueReason;
  readonly watch?: HealthWatch;
}

/**
 * Tests the AWSCURRENT credential (see {@link checkCredentialHealth}) of each managed secret due
 * in this run ({@link dueReason}): the due secrets are read from Secrets Manager in batches of
 * {@link MAX_BATCH_READ}, at most `concurrency` batches at a time, each batch's secrets tested one
 * after the other, all within `budgetMs`. A secret whose test has not started when the budget runs
 * out, or that is still being tested then, is reported `skipped`: the next run tests it, and a slow
 * run is not a reason to roll anything back. An error while checking one secret (a throttled
 * read, say) fails that secret only.
 *
 * What a test finds is remembered in the ledger's watch list before it is reported: a failure
 * keeps the secret due in every run until a test passes; a pass after a failure keeps it due for
 * the watch period; a credential that expires on its own is due again just before it does.
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
  const counts = { secrets: 0, due: 0, checked: 0, healthy: 0, unhealthy: 0, skipped: 0 };
  const report = (result: SecretHealthResult) => {
    counts[result.outcome] += 1;
    if (result.outcome !== 'skipped') counts.checked += 1;
    deps.onResult?.(result);
  };
  const outOfTime = () => budgetOver || deps.now() >= deadline;

  try {
    const [secrets, watches] = await Promise.all([
      deps.catalog.list(),
      deps.cadence?.watch.list() ?? Promise.resolve(new Map<string, HealthWatch>()),
    ]);
    counts.secrets = secrets.length;
    const due = selectDue(secrets, watches, deps);
    counts.due = due.length;
    const batches: DueSecret[][] = [];
    for (let start = 0; start < due.length; start += MAX_BATCH_READ) {
      batches.push(due.slice(start, start + MAX_BATCH_READ));
    }

    let next = 0;
    const worker = async (): Promise<void> => {
      for (let index = next++; index < batches.length; index = next++) {
        const batch = batches[index]!;
        if (outOfTime()) {
          for (const secret of batch) {
            report(skipped(secret, 'the health check ran out of its time budget before reaching it', 0));
          }
          continue;
        }
        const readAt = deps.now();
        const read = await Promise.race([
          deps.catalog.readCurrentBatch(batch.map((secret) => secret.arn)).catch((error: unknown) => error as Error),
          overflow,
        ]);
        for (const secret of batch) {
          if (read === BUDGET_OVER || outOfTime()) {
            report(skipped(secret, 'the health check ran out of its time budget during its test', deps.now() - readAt));
            continue;
          }
          const current = read instanceof Error ? read : read.get(secret.arn);
          const startedAt = deps.now();
          const result = await Promise.race([checkOne(secret, current, deps, startedAt), overflow]);
          report(
            result === BUDGET_OVER
              ? skipped(secret, 'the health check ran out of its time budget during its test', deps.now() - startedAt)
              : result,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(deps.concurrency, batches.length) }, worker));
  } finally {
    budget.cancel();
  }
  return counts;
}

function selectDue(
  secrets: readonly ManagedSecret[],
  watches: ReadonlyMap<string, HealthWatch>,
  deps: HealthCheckDependencies,
): DueSecret[] {
  if (deps.cadence === undefined) return [...secrets];
  const now = deps.now();
  const due: DueSecret[] = [];
  for (const secret of secrets) {
    const watch = watches.get(secret.name);
    const reason = dueReason(secret.name, watch, now, deps.cadence.settings);
    if (reason !== undefined) due.push({ ...secret, due: reason, ...(watch === undefined ? {} : { watch }) });
  }
  // Secrets likely to fail first: a run short of time spends it where a failure is likely.
  const rank = (secret: DueSecret) => (secret.due === 'idle' ? 1 : 0);
  return due.sort((a, b) => rank(a) - rank(b));
}

async function checkOne(
  secret: DueSecret,
  current: CurrentVersion | undefined | Error,
  deps: HealthCheckDependencies,
  startedAt: number,
): Promise<SecretHealthResult> {
  const base = {
    secretArn: secret.arn,
    secretName: secret.name,
    ...(secret.due === undefined ? {} : { due: secret.due }),
  };
  let result: SecretHealthResult;
  let expiresAt: number | undefined;
  try {
    if (current instanceof Error) throw current;
    if (current === undefined) {
      result = { ...base, outcome: 'unhealthy', reason: 'the secret has no AWSCURRENT version', durationMs: 0 };
    } else {
      const health = await checkCredentialHealth(
        { ...base, versionId: current.versionId, stage: AWSCURRENT, value: current.value },
        deps,
      );
      const known = {
        ...base,
        versionId: current.versionId,
        durationMs: deps.now() - startedAt,
        ...(health.provider === undefined ? {} : { provider: health.provider }),
      };
      switch (health.status) {
        case 'healthy':
          expiresAt = health.credentialExpiresAt;
          result = { ...known, outcome: 'healthy' };
          break;
        case 'not-issued':
          result = {
            ...known,
            outcome: 'skipped',
            reason: 'AWSCURRENT holds no credential yet (first rotation pending)',
          };
          break;
        case 'unhealthy':
          result = { ...known, outcome: 'unhealthy', reason: health.reason };
          break;
      }
    }
  } catch (error) {
    // AWS errors name the operation and the resource, never a secret value.
    const detail = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : 'Error';
    result = {
      ...base,
      outcome: 'unhealthy',
      reason: `could not be checked: ${detail}`,
      durationMs: deps.now() - startedAt,
    };
  }
  const notRecorded = await remember(secret, result, expiresAt, deps);
  return notRecorded === undefined ? result : { ...result, watchNotRecorded: notRecorded };
}

/**
 * Writes what the check found to the watch list, when it changes what the next runs do; the name
 * of the error when the write failed (the result is reported all the same).
 */
async function remember(
  secret: DueSecret,
  result: SecretHealthResult,
  expiresAtMs: number | undefined,
  deps: HealthCheckDependencies,
): Promise<string | undefined> {
  const cadence = deps.cadence;
  if (cadence === undefined) return undefined;
  const now = Math.floor(deps.now() / 1000);
  try {
    if (result.outcome === 'unhealthy') {
      await cadence.watch.recordFailing(secret.name, now);
      return undefined;
    }
    if (result.outcome !== 'healthy') return undefined;
    if (secret.watch?.failing === true) {
      await cadence.watch.recordRecovered(secret.name, now + cadence.settings.watchSeconds);
    }
    const expiresAt = expiresAtMs === undefined ? undefined : Math.floor(expiresAtMs / 1000);
    if (expiresAt !== undefined && expiresAt !== secret.watch?.credentialExpiresAt) {
      await cadence.watch.recordCredentialExpiry(secret.name, expiresAt);
    }
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.name : 'Error';
  }
}

function skipped(secret: DueSecret, reason: string, durationMs: number): SecretHealthResult {
  return {
    secretArn: secret.arn,
    secretName: secret.name,
    ...(secret.due === undefined ? {} : { due: secret.due }),
    outcome: 'skipped',
    reason,
    durationMs,
  };
}

const setTimeoutTimer: BudgetTimer = (ms) => {
  let timeout: NodeJS.Timeout | undefined;
  const expired = new Promise<void>((resolve) => {
    timeout = setTimeout(resolve, ms);
  });
  return { expired, cancel: () => clearTimeout(timeout) };
};
