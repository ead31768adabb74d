import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDbLedger } from '../adapters/dynamodb-ledger';
import { pepperedFingerprinter } from '../adapters/pepper-source';
import { rotorProviderRegistry } from '../adapters/rotor-provider-registry';
import { endpointPolicyFromEnvironment } from '../core/providers/endpoint-policy';
import { SecretsManagerCatalog } from '../adapters/secrets-manager-catalog';
import { DynamoDbHealthWatch } from '../adapters/dynamodb-health-watch';
import { checkCadenceProblem, type CheckCadence } from '../core/health/check-cadence';
import { runHealthCheck, type HealthCheckDependencies, type HealthCheckSummary } from '../core/health/run-health-check';
import { HealthCheckTelemetry } from '../shared/health-check-telemetry';
import { RotorEnv } from '../shared/rotor-constants';
import {
  durationSettings,
  healthAndRollbackSettings,
  requiredSetting,
  RotorSettingsError,
} from '../shared/rotor-settings';
import { createLogger, SecretMetrics } from '../shared/telemetry';

const logger = createLogger('rotor-health-check');
const metrics = new SecretMetrics('rotor-health-check');
let telemetry: HealthCheckTelemetry | undefined;

// Time kept back from the Lambda's own deadline to publish the last results and return.
const DEADLINE_MARGIN_MS = 5000;

function buildDependencies(): HealthCheckDependencies {
  const secretsManager = new SecretsManagerClient({});
  const dynamodb = new DynamoDBClient({});
  const settings = healthAndRollbackSettings();
  const cadence: CheckCadence = {
    runSeconds: settings.healthCheckRunSeconds,
    watchSeconds: settings.healthCheckWatchSeconds,
    idleSeconds: settings.healthCheckIdleSeconds,
  };
  const problem = checkCadenceProblem(cadence);
  if (problem !== undefined) throw new RotorSettingsError(`the health check's cadence: ${problem}`);
  return {
    cadence: { watch: new DynamoDbHealthWatch(dynamodb, requiredSetting(RotorEnv.ledgerTable)), settings: cadence },
    catalog: new SecretsManagerCatalog(secretsManager, {
      stage: requiredSetting(RotorEnv.stage),
      secretNamePrefix: requiredSetting(RotorEnv.secretNamePrefix),
    }),
    providers: rotorProviderRegistry(
      secretsManager,
      requiredSetting(RotorEnv.secretNamePrefix),
      endpointPolicyFromEnvironment(),
    ),
    ledger: new DynamoDbLedger({
      client: dynamodb,
      tableName: requiredSetting(RotorEnv.ledgerTable),
      auditRetentionSeconds: durationSettings().auditRetentionSeconds,
    }),
    fingerprinter: pepperedFingerprinter(secretsManager, requiredSetting(RotorEnv.pepperSecretArn)),
    now: Date.now,
    concurrency: settings.healthCheckConcurrency,
    budgetMs: settings.healthCheckBudgetSeconds * 1000,
  };
}

let dependencies: HealthCheckDependencies | undefined;

/**
 * Invoked by the recurring health-check schedule (with `{}`): tests the AWSCURRENT credential of
 * each managed secret due in this run (watched after a change, failing, expiring, or in its idle
 * slot; see `dueReason`), read in batches. A failure emits `HealthCheckFailed` under its secret (EMF, dimension
 * SecretName); healthy secrets are counted once per run in `HealthChecksSucceeded` (dimension
 * Stage). One log line per secret, never a value; a secret the budget did not reach is logged as
 * skipped and emits nothing.
 */
export const handler = async (
  _event: unknown,
  context?: { getRemainingTimeInMillis?: () => number },
): Promise<HealthCheckSummary> => {
  dependencies ??= buildDependencies();
  telemetry ??= new HealthCheckTelemetry(requiredSetting(RotorEnv.stage), metrics, logger);
  const report = telemetry;
  const remaining = context?.getRemainingTimeInMillis?.();
  const budgetMs =
    remaining === undefined ? dependencies.budgetMs : Math.min(dependencies.budgetMs, remaining - DEADLINE_MARGIN_MS);
  const summary = await runHealthCheck({
    ...dependencies,
    budgetMs: Math.max(0, budgetMs),
    onResult: (result) => report.result(result),
  });
  report.summary(summary);
  return summary;
};
