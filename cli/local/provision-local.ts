import { CreateRoleCommand, GetRoleCommand, NoSuchEntityException } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, NotFoundException } from '@aws-sdk/client-kms';
import { CreateFunctionCommand, GetFunctionCommand, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { CreateScheduleGroupCommand, ConflictException } from '@aws-sdk/client-scheduler';
import { CreateSecretCommand, DescribeSecretCommand, ResourceExistsException } from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand } from '@aws-sdk/client-sns';
import { randomBytes } from 'node:crypto';
import {
  DEFAULT_SIDE_EFFECT_LEASE_SECONDS,
  HEALTH_AND_ROLLBACK_DEFAULTS,
  MANAGED_BY_TAG,
  RotorResourceName,
  rotorLambdaEnvironment,
  type RotorLambdaSettings,
  type RotorProvider,
} from '../../lambda/shared/rotor-constants';
import type { RotorGitLabConfig } from '../../lib/config/gitlab-config';
import type { RotorOAuth2Config } from '../../lib/config/oauth2-config';
import { stageProviderOrigins } from '../../lib/config/provider-origins';
import { secretFirstDocument } from '../../lib/secret-first-document';
import { ensureLedgerTable } from './ledger-table';
import { LOCAL_CREDENTIALS, localClients, type LocalEndpoint } from './local-clients';

/** The part of a stage's configuration that local provisioning needs. */
export interface LocalStage {
  readonly name: string;
  readonly secretNamePrefix: string;
  readonly secrets: readonly {
    readonly name: string;
    readonly provider: RotorProvider;
    readonly oauth2?: RotorOAuth2Config;
    readonly gitlab?: RotorGitLabConfig;
  }[];
  /** Durations in seconds; seconds-level values let tests run grace periods in real time. */
  readonly graceSeconds?: number;
  readonly reuseMemorySeconds?: number;
  readonly auditRetentionSeconds?: number;
  /** Rollback and health-check settings; unset, the defaults the stack also writes. */
  readonly maxRollbackAttempts?: number;
  readonly healthCheckConcurrency?: number;
  readonly healthCheckBudgetSeconds?: number;
  readonly healthCheckWatchSeconds?: number;
}

/** What `rotor local up` provisioned, and the environment the bundles need to use it. */
export interface LocalEnvironment {
  readonly endpoint: LocalEndpoint;
  readonly stage: string;
  readonly kmsKeyArn: string;
  /** The stand-in function Secrets Manager "invokes": the emulator never runs it, Rotor does. */
  readonly rotationFunctionArn: string;
  /** Stand-in target of the retirement schedules (the emulator's Scheduler never fires them). */
  readonly retireFunctionArn: string;
  readonly ledgerTableName: string;
  readonly pepperSecretArn: string;
  /** The SNS topic the rollback function tells when it pauses rotation. */
  readonly alertTopicArn: string;
  readonly secretNames: readonly string[];
  /** Every variable the bundles read: the stack's, plus the emulator endpoint and its placeholder credentials. */
  readonly env: Readonly<Record<string, string>>;
}

// An empty zip archive: the stand-in function's code is never run.
const EMPTY_ZIP = Buffer.concat([Buffer.from([0x50, 0x4b, 0x05, 0x06]), Buffer.alloc(18)]);

/**
 * Provisions a stage's supporting resources in the emulator, as the stack does in an account:
 * Rotor's KMS key, the rotation function (a stand-in), the alert topic, and the configured
 * secrets with their first document. Safe to run again: what exists is kept.
 */
export async function provisionLocal(endpoint: LocalEndpoint, stage: LocalStage): Promise<LocalEnvironment> {
  const clients = localClients(endpoint);
  const kmsKeyArn = await ensureKey(clients, `alias/rotor/${stage.name}`);
  const rotationFunctionArn = await ensureStandInFunction(clients, `rotor-${stage.name}-rotation`);
  const retireFunctionArn = await ensureStandInFunction(clients, RotorResourceName.retireFunction(stage.name));
  const schedulerRoleArn = await ensureRole(clients, `rotor-${stage.name}-scheduler`, 'scheduler.amazonaws.com');
  const scheduleGroupName = await ensureScheduleGroup(clients, RotorResourceName.scheduleGroup(stage.name));
  // Outside the stage's secret prefix, untagged: the rotation function must never rotate it.
  const pepperSecretArn = await ensurePepper(clients, RotorResourceName.fingerprintPepper(stage.name), kmsKeyArn);
  const ledgerTableName = RotorResourceName.ledgerTable(stage.name);
  await ensureLedgerTable(clients.dynamodb, ledgerTableName);
  // CreateTopic returns the existing topic of that name: safe to run again.
  const alertTopic = await clients.sns.send(new CreateTopicCommand({ Name: `rotor-${stage.name}-alerts` }));
  if (alertTopic.TopicArn === undefined) throw new Error('the emulator created a topic without an ARN');
  const alertTopicArn = alertTopic.TopicArn;
  const secretNames: string[] = [];
  for (const secret of stage.secrets) {
    const name = `${stage.secretNamePrefix}${secret.name}`;
    await ensureSecret(
      clients,
      name,
      secretFirstDocument(secret.provider, secret.oauth2, secret.gitlab),
      kmsKeyArn,
      stage.name,
    );
    secretNames.push(name);
  }
  const settings: RotorLambdaSettings = {
    stage: stage.name,
    secretNamePrefix: stage.secretNamePrefix,
    ledgerTableName,
    pepperSecretArn,
    retireFunctionArn,
    schedulerRoleArn,
    scheduleGroupName,
    eventBusName: 'default',
    alertTopicArn,
    // Written out like the stack writes them, so that `rotor local up` shows what the stage runs with.
    maxRollbackAttempts: stage.maxRollbackAttempts ?? HEALTH_AND_ROLLBACK_DEFAULTS.maxRollbackAttempts,
    rollbackIncidentWindowSeconds: HEALTH_AND_ROLLBACK_DEFAULTS.rollbackIncidentWindowSeconds,
    healthCheckConcurrency: stage.healthCheckConcurrency ?? HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckConcurrency,
    healthCheckBudgetSeconds: stage.healthCheckBudgetSeconds ?? HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckBudgetSeconds,
    healthCheckRunSeconds: HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckRunSeconds,
    healthCheckWatchSeconds: stage.healthCheckWatchSeconds ?? HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckWatchSeconds,
    // The emulator delivers no CloudTrail events to watch a changed secret by: whatever the
    // stage's idle interval, every run tests every secret.
    healthCheckIdleSeconds: HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckRunSeconds,
    // Only the rotation function reads it; locally every bundle gets one environment.
    sideEffectLeaseSeconds: DEFAULT_SIDE_EFFECT_LEASE_SECONDS,
    ...(stage.graceSeconds === undefined ? {} : { defaultGraceSeconds: stage.graceSeconds }),
    ...(stage.reuseMemorySeconds === undefined ? {} : { reuseMemorySeconds: stage.reuseMemorySeconds }),
    ...(stage.auditRetentionSeconds === undefined ? {} : { auditRetentionSeconds: stage.auditRetentionSeconds }),
    providerOrigins: stageProviderOrigins(stage),
    // Local IdPs and test servers listen on loopback; the origins stay pinned.
    allowPrivateEndpoints: true,
  };
  return {
    endpoint,
    stage: stage.name,
    kmsKeyArn,
    rotationFunctionArn,
    retireFunctionArn,
    ledgerTableName,
    pepperSecretArn,
    alertTopicArn,
    secretNames,
    env: {
      ...rotorLambdaEnvironment(settings),
      AWS_ENDPOINT_URL: endpoint.endpoint,
      AWS_REGION: endpoint.region,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    },
  };
}

async function ensureScheduleGroup(clients: ReturnType<typeof localClients>, name: string): Promise<string> {
  try {
    await clients.scheduler.send(new CreateScheduleGroupCommand({ Name: name }));
  } catch (error) {
    if (!(error instanceof ConflictException)) throw error;
  }
  return name;
}

async function ensurePepper(
  clients: ReturnType<typeof localClients>,
  name: string,
  kmsKeyArn: string,
): Promise<string> {
  try {
    const created = await clients.secretsManager.send(
      new CreateSecretCommand({ Name: name, KmsKeyId: kmsKeyArn, SecretString: randomBytes(48).toString('base64url') }),
    );
    return created.ARN!;
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    const existing = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: name }));
    return existing.ARN!;
  }
}

async function ensureKey(clients: ReturnType<typeof localClients>, alias: string): Promise<string> {
  try {
    const existing = await clients.kms.send(new DescribeKeyCommand({ KeyId: alias }));
    if (existing.KeyMetadata?.Arn !== undefined) return existing.KeyMetadata.Arn;
  } catch (error) {
    if (!(error instanceof NotFoundException)) throw error;
  }
  const key = await clients.kms.send(new CreateKeyCommand({ Description: `Rotor ${alias}` }));
  const arn = key.KeyMetadata?.Arn;
  if (arn === undefined) throw new Error('the emulator created a KMS key without an ARN');
  await clients.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: arn }));
  return arn;
}

async function ensureStandInFunction(clients: ReturnType<typeof localClients>, name: string): Promise<string> {
  try {
    const existing = await clients.lambda.send(new GetFunctionCommand({ FunctionName: name }));
    if (existing.Configuration?.FunctionArn !== undefined) return existing.Configuration.FunctionArn;
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const role = await ensureRole(clients, `${name}-role`, 'lambda.amazonaws.com');
  const created = await clients.lambda.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Role: role,
      Handler: 'index.handler',
      Code: { ZipFile: EMPTY_ZIP },
    }),
  );
  if (created.FunctionArn === undefined) throw new Error('the emulator created a function without an ARN');
  return created.FunctionArn;
}

async function ensureRole(clients: ReturnType<typeof localClients>, name: string, service: string): Promise<string> {
  try {
    const existing = await clients.iam.send(new GetRoleCommand({ RoleName: name }));
    if (existing.Role?.Arn !== undefined) return existing.Role.Arn;
  } catch (error) {
    if (!(error instanceof NoSuchEntityException)) throw error;
  }
  const created = await clients.iam.send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
      }),
    }),
  );
  if (created.Role?.Arn === undefined) throw new Error('the emulator created a role without an ARN');
  return created.Role.Arn;
}

async function ensureSecret(
  clients: ReturnType<typeof localClients>,
  name: string,
  firstDocument: Record<string, unknown>,
  kmsKeyArn: string,
  stage: string,
): Promise<void> {
  try {
    await clients.secretsManager.send(
      new CreateSecretCommand({
        Name: name,
        KmsKeyId: kmsKeyArn,
        // The document the stack writes: no credential (the first rotation, or for an OAuth 2.0
        // secret `rotor bootstrap`, provides one).
        SecretString: JSON.stringify(firstDocument),
        Tags: [{ Key: MANAGED_BY_TAG, Value: stage }],
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
  }
}
