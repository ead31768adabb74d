import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type AppProps, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import { parseRotorConfig, type RotorStageConfig } from '../../lib/config/rotor-config';
import { FingerprintPepper } from '../../lib/fingerprint-pepper';
import { LedgerTable } from '../../lib/ledger-table';
import { RetireFunction, type RetireFunctionProps } from '../../lib/retire-function';
import type { RotorStageResources } from '../../lib/rotor-function';
import { rotorLambdaEnvironment, type RotorLambdaSettings } from '../../lambda/shared/rotor-constants';

/** Repository root. */
export const REPOSITORY_ROOT = join(__dirname, '..', '..');

/** The committed example config. */
export const COMMITTED_CONFIG_PATH = join(REPOSITORY_ROOT, 'rotor.config.json');

// The feature flags `cdk synth` uses: templates in tests are the templates that get deployed.
const CDK_CONTEXT = (JSON.parse(readFileSync(join(REPOSITORY_ROOT, 'cdk.json'), 'utf8')) as { context: object })
  .context;

/** An App with cdk.json's feature flags. */
export function newTestApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...CDK_CONTEXT, ...props.context } });
}

/**
 * A stage with a rate() and a cron() secret, independent of the committed example config so that
 * editing the example does not change what these tests expect.
 */
export function testStage(): RotorStageConfig {
  const config = parseRotorConfig({
    stages: [
      {
        name: 'test',
        secretNamePrefix: 'rotor/test/',
        logRetentionDays: 14,
        secrets: [
          {
            name: 'deploy-token',
            provider: 'managed-token',
            schedule: 'rate(4 hours)',
            window: '2h',
            description: 'CI deploy token',
          },
          { name: 'release-token', provider: 'managed-token', schedule: 'cron(0 6 ? * MON-FRI *)', window: '3h' },
        ],
      },
    ],
  });
  return config.stages[0]!;
}

const ASSET_HASH = /[0-9a-f]{64}/g;

/**
 * The template with asset hashes replaced by `[ASSET]`, so that a snapshot changes when the
 * infrastructure changes, not when the Lambda code does (cdk-monitoring-constructs' approach).
 */
export function maskAssetHashes(template: unknown): unknown {
  return JSON.parse(JSON.stringify(template).replace(ASSET_HASH, '[ASSET]'));
}

/** A stack with what every Rotor function of stage `test` needs, built as RotorStack builds it. */
export interface StageFixture {
  readonly stack: Stack;
  readonly key: kms.Key;
  readonly ledger: LedgerTable;
  readonly pepper: FingerprintPepper;
  readonly resources: RotorStageResources;
  readonly retirement: RetireFunction;
}

/**
 * Stage `test` (prefix `rotor/test/`) in a fresh app: its key, ledger, pepper, event bus (`default`
 * unless `eventBusName` says otherwise) and the retire function. `resources` and `retire` override parts.
 */
export function newStageFixture(
  options: {
    eventBusName?: string;
    resources?: Partial<RotorStageResources>;
    retire?: Partial<RetireFunctionProps>;
  } = {},
): StageFixture {
  const stack = new Stack(newTestApp(), 'Test');
  const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
  const ledger = new LedgerTable(stack, 'Ledger', { stage: 'test', encryptionKey: key });
  const pepper = new FingerprintPepper(stack, 'Pepper', {
    stage: 'test',
    secretNamePrefix: 'rotor/test/',
    encryptionKey: key,
  });
  const resources: RotorStageResources = {
    stage: 'test',
    secretNamePrefix: 'rotor/test/',
    encryptionKey: key,
    ledger,
    pepper,
    eventBus: events.EventBus.fromEventBusName(stack, 'EventBus', options.eventBusName ?? 'default'),
    ...options.resources,
  };
  const retirement = new RetireFunction(stack, 'Retire', { resources, ...options.retire });
  return { stack, key, ledger, pepper, resources, retirement };
}

/**
 * The environment every Rotor function of a {@link newStageFixture} stage must have, resolved as
 * in the template: the stage's settings stated here, independently of the construct under test,
 * plus the function's own `extra` settings.
 */
export function fixtureEnvironment(fixture: StageFixture, extra: Partial<RotorLambdaSettings> = {}): unknown {
  return fixture.stack.resolve(
    rotorLambdaEnvironment({
      stage: 'test',
      secretNamePrefix: 'rotor/test/',
      ledgerTableName: fixture.ledger.table.tableName,
      pepperSecretArn: fixture.pepper.secret.secretArn,
      retireFunctionArn: fixture.retirement.retireFunctionArn,
      schedulerRoleArn: fixture.retirement.schedulerRole.roleArn,
      scheduleGroupName: 'rotor-test',
      eventBusName: 'default',
      ...extra,
    }),
  );
}
