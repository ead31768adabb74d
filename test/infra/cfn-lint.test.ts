import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRotorConfig, parseRotorConfig } from '../../lib/config/rotor-config';
import { addRotorStages } from '../../lib/rotor-stages';
import { cfnLintByRegion, ERROR_BIT, type LintedTemplates, type LintTarget } from './cfn-lint-runner';
import { COMMITTED_CONFIG_PATH, newValidatingTestApp, oauth2TestStageFile } from './infra-test-app';

// Each app here also runs CDK's built-in template validation at synth (newValidatingTestApp), which
// cdk.json's validateAgainstDefaultRules makes fatal: every stage shape passes both linters.
//
// cfn-lint's start-up costs more than linting most templates, so every app of the file is
// synthesized first and all the templates are linted together, one cfn-lint run per region; each
// test then reads the findings in its own templates (the failing template proves that they are
// told apart).

/** The app synthesized from the committed config: each stage in its own region. */
function committedStages(): LintTarget[] {
  const config = loadRotorConfig(COMMITTED_CONFIG_PATH);
  const app = newValidatingTestApp({ outdir: mkdtempSync(join(tmpdir(), 'rotor-cfn-lint-')) });
  const stacks = addRotorStages(app, config);
  const assembly = app.synth();
  return stacks.map((stack, index) => ({
    path: assembly.getStackByName(stack.stackName).templateFullPath,
    region: config.stages[index]!.region,
  }));
}

/** A stage with subscriptions, tuned alarms, schedules, a custom bus and an OAuth 2.0 secret. */
function tunedStage(): { target: LintTarget; accessTokenRefreshSchedules: number } {
  const config = parseRotorConfig({
    stages: [
      {
        name: 'tuned',
        secretNamePrefix: 'rotor/tuned/',
        logRetentionDays: 7,
        account: '111111111111',
        region: 'eu-west-1',
        graceSeconds: 60,
        reuseMemoryDays: 7,
        auditRetentionDays: 90,
        sweepSchedule: 'rate(1 hour)',
        eventBusName: 'ci-events',
        healthCheckSchedule: 'cron(0/5 * * * ? *)',
        maxRollbackAttempts: 5,
        alertEmails: ['oncall@example.com'],
        alertHttpsEndpoints: ['https://hooks.example.com/rotor'],
        alarms: { rotationFailures: { threshold: 3, periodSeconds: 3600, evaluationPeriods: 24 } },
        secrets: [
          {
            name: 'token',
            provider: 'managed-token',
            schedule: 'rate(1 day)',
            window: '1h',
            alarms: { reuseDetected: { periodSeconds: 300 } },
          },
          // An OAuth 2.0 secret: its refresh schedule (Scheduler's universal target for
          // RotateSecret), its role, and the rotation function's certificate and event grants.
          {
            name: 'idp/token',
            provider: 'oauth2-refresh-token',
            schedule: 'rate(12 hours)',
            window: '2h',
            oauth2: {
              tokenEndpoint: 'https://idp.example.com/oauth2/token',
              clientId: 'rotor-ci',
              clientAuthentication: 'client_secret_post',
              scope: 'deploy:write',
              introspectionEndpoint: 'https://idp.example.com/oauth2/introspect',
              accessTokenLifetimeSeconds: 1800,
              refreshTokenLifetimeSeconds: 2_592_000,
              refreshIntervalSeconds: 900,
              refreshTokenReuseIntervalSeconds: 30,
              tls: { minVersion: 'TLSv1.2', clientCertificateSecretName: 'rotor/tuned/idp/client-certificate' },
            },
          },
        ],
      },
    ],
  });
  const app = newValidatingTestApp({ outdir: mkdtempSync(join(tmpdir(), 'rotor-cfn-lint-tuned-')) });
  const [stack] = addRotorStages(app, config);
  const path = app.synth().getStackByName(stack!.stackName).templateFullPath;
  return {
    target: { path, region: 'eu-west-1' },
    accessTokenRefreshSchedules: stack!.accessTokenRefreshSchedules.size,
  };
}

/** A stage of OAuth 2.0 and managed-token secrets in 3 shards: its own template and every shard's. */
function shardedStage(): LintTarget[] {
  const config = parseRotorConfig({ stages: [{ ...oauth2TestStageFile(), shards: 3 }] });
  const app = newValidatingTestApp({ outdir: mkdtempSync(join(tmpdir(), 'rotor-cfn-lint-sharded-')) });
  const [stack] = addRotorStages(app, config);
  const assembly = app.synth();
  return [stack!, ...stack!.shards].map((each) => ({ path: join(assembly.directory, each.templateFile) }));
}

/** An isolated VPC with its endpoints and flow log, and existing subnets with reservations. */
function vpcStages(): { targets: LintTarget[]; madeVpc: boolean[] } {
  const config = parseRotorConfig({
    stages: [
      {
        name: 'isolated',
        secretNamePrefix: 'rotor/isolated/',
        logRetentionDays: 14,
        vpc: { isolated: { cidr: '10.20.0.0/24' } },
        secrets: [{ name: 'deploy-token', provider: 'managed-token', schedule: 'rate(4 hours)', window: '1h' }],
      },
      {
        ...oauth2TestStageFile(),
        vpc: {
          existing: {
            vpcId: 'vpc-0123456789abcdef0',
            subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
          },
        },
        reservedConcurrency: { verifier: 50, rollback: 5 },
      },
    ],
  });
  const app = newValidatingTestApp({ outdir: mkdtempSync(join(tmpdir(), 'rotor-cfn-lint-vpc-')) });
  const stacks = addRotorStages(app, config);
  const assembly = app.synth();
  return {
    targets: stacks.map((stack) => ({ path: join(assembly.directory, stack.templateFile) })),
    madeVpc: stacks.map((stack) => stack.network?.vpc === undefined),
  };
}

/** A function on a runtime Lambda retired and with a timeout over the maximum. */
function badTemplate(): LintTarget {
  const path = join(mkdtempSync(join(tmpdir(), 'rotor-cfn-lint-bad-')), 'bad.template.json');
  writeFileSync(
    path,
    JSON.stringify({
      Resources: {
        Bad: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            Code: { ZipFile: 'exports.handler = async () => {};' },
            Role: 'arn:aws:iam::123456789012:role/bad',
            Handler: 'index.handler',
            Runtime: 'nodejs4.3',
            Timeout: 1000,
          },
        },
      },
    }),
  );
  return { path };
}

describe('cfn-lint', () => {
  let committed: LintTarget[];
  let tuned: ReturnType<typeof tunedStage>;
  let sharded: LintTarget[];
  let vpc: ReturnType<typeof vpcStages>;
  let bad: LintTarget;
  let linted: LintedTemplates;
  const pathsOf = (targets: readonly LintTarget[]) => targets.map((target) => target.path);

  beforeAll(() => {
    // GIVEN every app synthesized, and a template with errors
    committed = committedStages();
    tuned = tunedStage();
    sharded = shardedStage();
    vpc = vpcStages();
    bad = badTemplate();
    // WHEN linted, each template in its stage's region (the default region for environment-agnostic
    // stages). Never skipped: a machine without cfn-lint fails here with the way to install it.
    linted = cfnLintByRegion([...committed, tuned.target, ...sharded, ...vpc.targets, bad]);
  });

  it('finds nothing, not even a warning, in the template of every configured stage', () => {
    expect(committed.length).toBeGreaterThan(0);
    expect(linted.findingsIn(pathsOf(committed))).toEqual([]);
  });

  it('finds nothing in the template of a stage with every optional field set', () => {
    expect(tuned.accessTokenRefreshSchedules).toBe(1);
    expect(linted.findingsIn([tuned.target.path])).toEqual([]);
    // alone in its region's run: nothing at all was found
    expect(linted.statusOf(tuned.target.path)).toBe(0);
  });

  it('finds nothing in the templates of a sharded stage: its own and every shard', () => {
    // (one of the three shards holds none of the three secrets, and is left out)
    expect(sharded).toHaveLength(3);
    expect(linted.findingsIn(pathsOf(sharded))).toEqual([]);
  });

  it('finds nothing in the templates of stages in a VPC: one Rotor makes, and an existing one', () => {
    expect(vpc.madeVpc).toEqual([false, true]);
    expect(linted.findingsIn(pathsOf(vpc.targets))).toEqual([]);
  });

  it('fails on a template with errors (proves the check can fail, and that findings are told apart by template)', () => {
    expect(linted.statusOf(bad.path) & ERROR_BIT).toBe(ERROR_BIT);
    expect(linted.findingsIn([bad.path]).map(({ rule, where }) => [rule, where])).toEqual(
      expect.arrayContaining([
        ['E2533', 'Resources/Bad/Properties/Runtime'],
        ['E3034', 'Resources/Bad/Properties/Timeout'],
      ]),
    );
    // every finding of the run is in the bad template
    expect(linted.findingsIn([bad.path])).toEqual(
      linted.findingsIn(pathsOf([...committed, ...sharded, ...vpc.targets, bad])),
    );
  });
});
