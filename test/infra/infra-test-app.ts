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

/**
 * An App with cdk.json's feature flags.
 *
 * CDK's built-in template validation (the cfn-lint rules that `cdk synth` runs, which the
 * `validateAgainstDefaultRules` flag makes fatal) is off unless `builtinCloudFormationValidation`
 * says otherwise: starting its engine costs about 6 s of CPU per test file, and cfn-lint.test.ts
 * turns it on for every stage shape it lints (the committed config, a stage with every optional
 * field, a sharded stage), so each shape passes both linters. The other infrastructure tests
 * assert what their constructs put in the template.
 */
export function newTestApp(props: AppProps = {}): App {
  return new App({ builtinCloudFormationValidation: false, ...props, context: { ...CDK_CONTEXT, ...props.context } });
}

/** {@link newTestApp} with CDK's built-in template validation on, as `cdk synth` runs it. */
export function newValidatingTestApp(props: AppProps = {}): App {
  return newTestApp({ ...props, builtinCloudFormationValidation: true });
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

/** The `oauth2` block of `idp-token` in {@link oauth2TestStageFile}: every optional field of the document set. */
export const IDP_TOKEN_OAUTH2 = {
  tokenEndpoint: 'https://idp.example.com/oauth2/token',
  clientId: 'rotor-ci',
  scope: 'deploy:write artifacts:read',
  introspectionEndpoint: 'https://idp.example.com/oauth2/introspect',
  accessTokenLifetimeSeconds: 900,
  refreshTokenLifetimeSeconds: 86_400,
  refreshTokenReuseIntervalSeconds: 60,
  tls: { minVersion: 'TLSv1.3', clientCertificateSecretName: 'rotor/test/idp-client-certificate' },
} as const;

/**
 * Stage `test` as a config file with a managed token and two OAuth 2.0 secrets: `idp-token` (every
 * optional field, a client certificate, 15-minute access tokens: refreshed every 10 minutes) and
 * `partner/api-token` (client_secret_post, a test URL, the same certificate, 30-minute access tokens:
 * refreshed every 20 minutes by default; its name needs a hashed schedule name).
 */
export function oauth2TestStageFile(): Record<string, unknown> {
  return {
    name: 'test',
    secretNamePrefix: 'rotor/test/',
    logRetentionDays: 14,
    secrets: [
      { name: 'deploy-token', provider: 'managed-token', schedule: 'rate(4 hours)', window: '2h' },
      {
        name: 'idp-token',
        provider: 'oauth2-refresh-token',
        schedule: 'rate(1 day)',
        window: '1h',
        oauth2: IDP_TOKEN_OAUTH2,
      },
      {
        name: 'partner/api-token',
        provider: 'oauth2-refresh-token',
        schedule: 'rate(12 hours)',
        window: '2h',
        oauth2: {
          tokenEndpoint: 'https://partner.example.net/token',
          clientId: 'rotor',
          clientAuthentication: 'client_secret_post',
          testUrl: 'https://api.partner.example.net/v1/whoami',
          accessTokenLifetimeSeconds: 1800,
          refreshTokenLifetimeSeconds: 7 * 86_400,
          tls: { clientCertificateSecretName: 'rotor/test/idp-client-certificate' },
        },
      },
    ],
  };
}

/** {@link oauth2TestStageFile}, validated. */
export function oauth2TestStage(): RotorStageConfig {
  return parseRotorConfig({ stages: [oauth2TestStageFile()] }).stages[0]!;
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

/**
 * A stage file `fleet` of `count` managed tokens rotated every 4 hours, named
 * `team-<n>/pipeline-<m>` (a hundred per team), in `shards` shards (none: one stack).
 */
export function fleetStageFile(count: number, shards?: number): Record<string, unknown> {
  return {
    name: 'fleet',
    secretNamePrefix: 'rotor/fleet/',
    logRetentionDays: 30,
    ...(shards === undefined ? {} : { shards }),
    secrets: Array.from({ length: count }, (_, index) => ({
      name: fleetSecretName(index),
      provider: 'managed-token',
      schedule: 'rate(4 hours)',
      window: '1h',
    })),
  };
}

/** Name within the stage of the `index`th secret of {@link fleetStageFile}. */
export function fleetSecretName(index: number): string {
  return `team-${Math.floor(index / 100)}/pipeline-${index % 100}`;
}
