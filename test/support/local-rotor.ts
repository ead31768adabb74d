import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  invokeBundle,
  invokeBundleConcurrently,
  invokeBundleSequence,
  type BundleInvocation,
} from '../../cli/local/invoke-bundle';
import { localClients } from '../../cli/local/local-clients';
import type { MotoServer } from '../../cli/local/moto-server';
import { workerMoto } from './worker-moto';
import { provisionLocal, type LocalEnvironment } from '../../cli/local/provision-local';
import type { RotationStep } from '../../lambda/core/rotation/rotation-event';
import { LambdaBundle, MANAGED_BY_TAG, RotorEnv } from '../../lambda/shared/rotor-constants';
import { startAwsProxy, type AwsProxy } from '../../cli/local/aws-proxy';
import { testStagePolicies } from './function-policies';
import { createIamGate } from '../../cli/local/iam-gate';
import { WarmBundles } from './warm-bundles';

export const TEST_STAGE = { name: 'development', secretNamePrefix: 'rotor/development/', secrets: [] } as const;

/** Stage durations for a test's LocalRotor, in seconds. */
export interface LocalRotorOptions {
  readonly graceSeconds?: number;
  readonly reuseMemorySeconds?: number;
  /** More environment for every bundle (for example ROTOR_HEALTH_CHECK_BUDGET_SECONDS). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * Rotor provisioned on the Jest worker's moto server (test/support/worker-moto.ts), with every
 * call of the bundles going through a counting, fault-injecting proxy that enforces each
 * function's IAM policies from the synthesized stack (moto enforces none).
 */
export interface LocalRotor {
  readonly moto: MotoServer;
  readonly proxy: AwsProxy;
  /** Environment of the bundles: AWS_ENDPOINT_URL points at the proxy. */
  readonly local: LocalEnvironment;
  /** A Secrets Manager client for the test's own reads and writes (straight to moto). */
  readonly secretsManager: SecretsManagerClient;
  /**
   * Adds origins to `ROTOR_PROVIDER_ORIGINS` of every later invocation, as a stage whose config
   * names them would (test IdPs start on ports known only once they run). Private addresses are
   * allowed, as in every local run.
   */
  allowProviderOrigins(...origins: string[]): void;
  /** Creates a secret the way the stack does: Rotor's KMS key, the stage tag. Returns its ARN. */
  createSecret(name: string, value: string): Promise<string>;
  /** Invokes one step of the bundled rotation handler, in a fresh process. */
  runStep(step: RotationStep, secretArn: string, versionId: string, extra?: object): Promise<BundleInvocation>;
  /**
   * Invokes the steps one after the other in one fresh process (one warm container, as Lambda
   * usually serves a rotation's steps), stopping at the first that fails: one result per step run.
   */
  runSteps(steps: readonly RotationStep[], secretArn: string, versionId: string): Promise<readonly BundleInvocation[]>;
  /** Invokes the bundled verifier once with `{"token": ...}`, in its warm container (see WarmBundles). */
  verify(token: unknown): Promise<BundleInvocation>;
  /** Invokes the bundled verifier with every event at once, in one process. */
  verifyConcurrently(
    events: readonly unknown[],
  ): Promise<{ results: readonly { ok: boolean; result?: unknown }[]; logs: readonly string[] }>;
  /** Invokes the bundled retire function once, in its warm container. */
  retire(event: unknown): Promise<BundleInvocation>;
  /** Invokes the bundled health check once, as its schedule does (with `{}`), in its warm container. */
  healthCheck(): Promise<BundleInvocation>;
  /** Invokes the bundled rollback function once with an EventBridge event, in its warm container. */
  rollback(event: unknown): Promise<BundleInvocation>;
  /** Invokes the bundled rollback function with every event at once, in one process. */
  rollbackConcurrently(
    events: readonly unknown[],
  ): Promise<{ results: readonly { ok: boolean; result?: unknown }[]; logs: readonly string[] }>;
  /** Invokes the bundled rotation-events function once, in its warm container. */
  rotationEvents(event: unknown): Promise<BundleInvocation>;
  /** Every item of the ledger table, as stored. */
  scanLedger(): Promise<Record<string, unknown>[]>;
  /** Version id to staging labels, labelled versions only (moto also lists unlabelled ones). */
  labels(secretId: string): Promise<Record<string, string[]>>;
  /** The value at a label, or undefined when that version has none. */
  valueAt(secretId: string, stage: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

export async function startLocalRotor(options: LocalRotorOptions = {}): Promise<LocalRotor> {
  const moto = await workerMoto();
  let proxy: AwsProxy | undefined;
  try {
    const { env: extraEnv, ...durations } = options;
    const provisioned = await provisionLocal(
      { endpoint: moto.endpoint, region: 'us-east-1' },
      { ...TEST_STAGE, ...durations },
    );
    const iamGate = createIamGate(
      provisioned,
      await testStagePolicies(provisioned, TEST_STAGE.secretNamePrefix),
      TEST_STAGE.secretNamePrefix,
    );
    proxy = await startAwsProxy(moto.endpoint, { iamGate });
    // Mutable so that allowProviderOrigins reaches every caller holding `local`.
    const env: Record<string, string> = { ...provisioned.env, ...extraEnv, AWS_ENDPOINT_URL: proxy.endpoint };
    const local: LocalEnvironment = { ...provisioned, env };
    const { secretsManager, dynamodb } = localClients(provisioned.endpoint);

    const started = proxy;
    // The functions other than the rotation steps run warm, as Lambda keeps a container between
    // invocations: a test's tenth health check does not start Node and load the bundle again.
    const warm = new WarmBundles();
    return {
      moto,
      proxy: started,
      local,
      secretsManager,
      allowProviderOrigins(...origins) {
        const current = (env[RotorEnv.providerOrigins] ?? '').split(',').filter((origin) => origin !== '');
        env[RotorEnv.providerOrigins] = [...new Set([...current, ...origins.map((url) => new URL(url).origin)])].join(
          ',',
        );
      },
      async createSecret(name, value) {
        const created = await secretsManager.send(
          new CreateSecretCommand({
            Name: name,
            KmsKeyId: local.kmsKeyArn,
            SecretString: value,
            Tags: [{ Key: MANAGED_BY_TAG, Value: TEST_STAGE.name }],
          }),
        );
        return created.ARN!;
      },
      runStep(step, secretArn, versionId, extra = {}) {
        return invokeBundle(
          LambdaBundle.rotation,
          { Step: step, SecretId: secretArn, ClientRequestToken: versionId, ...extra },
          { env: local.env },
        );
      },
      runSteps(steps, secretArn, versionId) {
        return invokeBundleSequence(
          LambdaBundle.rotation,
          steps.map((step) => ({ Step: step, SecretId: secretArn, ClientRequestToken: versionId })),
          { env: local.env },
        );
      },
      verify(token) {
        return warm.invoke(LambdaBundle.verifier, { token }, { env: local.env });
      },
      verifyConcurrently(events) {
        return invokeBundleConcurrently(LambdaBundle.verifier, events, { env: local.env });
      },
      retire(event) {
        return warm.invoke(LambdaBundle.retire, event, { env: local.env });
      },
      healthCheck() {
        return warm.invoke(LambdaBundle.healthCheck, {}, { env: local.env });
      },
      rollback(event) {
        return warm.invoke(LambdaBundle.rollback, event, { env: local.env });
      },
      rollbackConcurrently(events) {
        return invokeBundleConcurrently(LambdaBundle.rollback, events, { env: local.env });
      },
      rotationEvents(event) {
        return warm.invoke(LambdaBundle.rotationEvents, event, { env: local.env });
      },
      async scanLedger() {
        const items: Record<string, unknown>[] = [];
        let start: Record<string, never> | undefined;
        do {
          const page = await dynamodb.send(
            new ScanCommand({ TableName: local.ledgerTableName, ConsistentRead: true, ExclusiveStartKey: start }),
          );
          items.push(...(page.Items ?? []).map((item) => unmarshall(item)));
          start = page.LastEvaluatedKey as Record<string, never> | undefined;
        } while (start !== undefined);
        return items;
      },
      async labels(secretId) {
        const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
        return Object.fromEntries(
          Object.entries(described.VersionIdsToStages ?? {}).filter(([, stages]) => stages.length > 0),
        );
      },
      async valueAt(secretId, stage) {
        try {
          const value = await secretsManager.send(
            new GetSecretValueCommand({ SecretId: secretId, VersionStage: stage }),
          );
          return value.SecretString;
        } catch (error) {
          if (error instanceof ResourceNotFoundException) return undefined;
          throw error;
        }
      },
      async stop() {
        await warm.stop();
        await started.stop();
        await moto.stop();
      },
    };
  } catch (error) {
    await proxy?.stop();
    await moto.stop();
    throw error;
  }
}
