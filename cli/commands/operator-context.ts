import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { existsSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { loadRotorConfig, type RotorStageConfig } from '../../lib/config/rotor-config';
import { DEFAULT_DURATIONS, HEALTH_AND_ROLLBACK_DEFAULTS, RotorEnv } from '../../lambda/shared/rotor-constants';
import { DynamoDbLedger } from '../../lambda/adapters/dynamodb-ledger';
import { LOCAL_CREDENTIALS } from '../local/local-clients';
import type { LocalEnvironment } from '../local/provision-local';
import { pickStage, UsageError } from './cli-options';
import { prepareLocalEnvironment, type LocalStageOptions } from './local-environment';

export interface OperatorOptions extends LocalStageOptions {
  readonly local?: boolean | undefined;
  readonly table?: string | undefined;
}

/** What an operator command (status, resume) acts on: a stage's ledger and its secrets. */
export interface OperatorContext {
  readonly stage: string;
  readonly secretNamePrefix: string;
  readonly eventBusName: string;
  readonly maxRollbackAttempts: number;
  /** Configured secrets (full name to provider), when the config was read. */
  readonly configuredProviders: ReadonlyMap<string, string>;
  /** The stage's config, when it was read: its shards, alarm groups and alarm thresholds say which alarms watch a secret. */
  readonly stageConfig?: RotorStageConfig;
  readonly ledger: DynamoDbLedger;
  readonly secretsManager: SecretsManagerClient;
  readonly eventBridge: EventBridgeClient;
  readonly cloudWatch: CloudWatchClient;
  /** With `--local`: the emulator's stage, whose environment runs the Lambda bundles. */
  readonly local?: LocalEnvironment;
}

/**
 * Locally (`--local`): the emulator's stage, provisioned if needed. Against an account: the
 * ledger table from `--table` (the stack output LedgerTableName) or ROTOR_LEDGER_TABLE, and the
 * stage from the config (`--config`, `--stage`), which `needsStage` commands cannot do without.
 */
export async function operatorContext(
  command: string,
  options: OperatorOptions,
  needsStage: boolean,
): Promise<OperatorContext> {
  if (options.local) {
    const local = await prepareLocalEnvironment(options);
    const config = { endpoint: local.endpoint.endpoint, region: local.endpoint.region, credentials: LOCAL_CREDENTIALS };
    const stage = configuredStage(options);
    return {
      stage: local.stage,
      secretNamePrefix: local.env[RotorEnv.secretNamePrefix] ?? '',
      eventBusName: local.env[RotorEnv.eventBusName] ?? 'default',
      maxRollbackAttempts: stage?.maxRollbackAttempts ?? HEALTH_AND_ROLLBACK_DEFAULTS.maxRollbackAttempts,
      configuredProviders: providersOf(stage),
      ...(stage === undefined ? {} : { stageConfig: stage }),
      ...clients(config, local.ledgerTableName),
      local,
    };
  }
  const table = options.table ?? process.env[RotorEnv.ledgerTable];
  if (table === undefined) {
    throw new UsageError(`${command} needs --table NAME (the stack output LedgerTableName) or ROTOR_LEDGER_TABLE`);
  }
  const stage = configuredStage(options);
  if (stage === undefined && needsStage) {
    throw new UsageError(
      `${command} needs the stage's config: --config FILE (default rotor.config.json) and --stage NAME`,
    );
  }
  return {
    stage: stage?.name ?? '',
    secretNamePrefix: stage?.secretNamePrefix ?? '',
    eventBusName: stage?.eventBusName ?? process.env[RotorEnv.eventBusName] ?? 'default',
    maxRollbackAttempts: stage?.maxRollbackAttempts ?? HEALTH_AND_ROLLBACK_DEFAULTS.maxRollbackAttempts,
    configuredProviders: providersOf(stage),
    ...(stage === undefined ? {} : { stageConfig: stage }),
    ...clients(options.region === undefined ? {} : { region: options.region }, table),
  };
}

// The default config file is optional for commands that can do without it; a named one is not.
function configuredStage(options: OperatorOptions): RotorStageConfig | undefined {
  const path = options.config ?? 'rotor.config.json';
  if (options.config === undefined && !existsSync(path)) return undefined;
  return pickStage(loadRotorConfig(path).stages, options.stage);
}

function providersOf(stage: RotorStageConfig | undefined): ReadonlyMap<string, string> {
  return new Map((stage?.secrets ?? []).map((secret) => [`${stage!.secretNamePrefix}${secret.name}`, secret.provider]));
}

function clients(config: object, tableName: string) {
  return {
    ledger: new DynamoDbLedger({
      client: new DynamoDBClient(config),
      tableName,
      auditRetentionSeconds: DEFAULT_DURATIONS.auditRetentionSeconds,
    }),
    secretsManager: new SecretsManagerClient(config),
    eventBridge: new EventBridgeClient(config),
    cloudWatch: new CloudWatchClient(config),
  };
}

/** Who ran an operator command, for the audit trail: the local account and host (never a credential). */
export function operatorName(command: string): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no user database entry (a container): keep "unknown"
  }
  return `${user}@${hostname()} (rotor ${command})`;
}
