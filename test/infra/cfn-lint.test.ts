import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRotorConfig, parseRotorConfig } from '../../lib/config/rotor-config';
import { addRotorStages } from '../../lib/rotor-stages';
import { cfnLint, ERROR_BIT } from './cfn-lint-runner';
import { COMMITTED_CONFIG_PATH, newValidatingTestApp, oauth2TestStageFile } from './infra-test-app';

// Each app here also runs CDK's built-in template validation at synth (newValidatingTestApp), which
// cdk.json's validateAgainstDefaultRules makes fatal: every stage shape passes both linters.
describe('cfn-lint', () => {
  beforeAll(() => {
    // Never skipped: a machine without cfn-lint fails here with the way to install it.
    const version = spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' });
    if (version.error || version.status !== 0) {
      throw new Error(
        `cfn-lint is not installed or not on PATH (${version.error?.message ?? version.stderr}): install it with \`pip install cfn-lint\``,
      );
    }
  });

  it('finds nothing, not even a warning, in the template of every configured stage', () => {
    // GIVEN the app synthesized from the committed config
    const config = loadRotorConfig(COMMITTED_CONFIG_PATH);
    const app = newValidatingTestApp({ outdir: mkdtempSync(join(tmpdir(), 'rotor-cfn-lint-')) });
    const stacks = addRotorStages(app, config);
    const assembly = app.synth();
    // WHEN linted, each stage in its own region (the default region for environment-agnostic stages)
    const byRegion = new Map<string | undefined, string[]>();
    stacks.forEach((stack, index) => {
      const region = config.stages[index]!.region;
      byRegion.set(region, [
        ...(byRegion.get(region) ?? []),
        assembly.getStackByName(stack.stackName).templateFullPath,
      ]);
    });
    // THEN
    for (const [region, templates] of byRegion) {
      expect(cfnLint(templates, region)).toEqual({ status: 0, findings: [] });
    }
  });

  it('finds nothing in the template of a stage with every optional field set', () => {
    // GIVEN a stage with subscriptions, tuned alarms, schedules, a custom bus and an OAuth 2.0 secret
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
    expect(stack!.accessTokenRefreshSchedules.size).toBe(1);
    // WHEN
    const template = app.synth().getStackByName(stack!.stackName).templateFullPath;
    // THEN
    expect(cfnLint([template], 'eu-west-1')).toEqual({ status: 0, findings: [] });
  });

  it('finds nothing in the templates of a sharded stage: its own and every shard', () => {
    // GIVEN a stage of OAuth 2.0 and managed-token secrets in 3 shards
    const config = parseRotorConfig({ stages: [{ ...oauth2TestStageFile(), shards: 3 }] });
    const app = newValidatingTestApp({ outdir: mkdtempSync(join(tmpdir(), 'rotor-cfn-lint-sharded-')) });
    const [stack] = addRotorStages(app, config);
    // WHEN
    const assembly = app.synth();
    const templates = [stack!, ...stack!.shards].map((each) => join(assembly.directory, each.templateFile));
    // THEN
    // (one of the three shards holds none of the three secrets, and is left out)
    expect(templates).toHaveLength(3);
    expect(cfnLint(templates)).toEqual({ status: 0, findings: [] });
  });

  it('finds nothing in the templates of stages in a VPC: one Rotor makes, and an existing one', () => {
    // GIVEN an isolated VPC with its endpoints and flow log, and existing subnets with reservations
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
    expect(stacks.map((stack) => stack.network?.vpc === undefined)).toEqual([false, true]);
    // WHEN
    const assembly = app.synth();
    // THEN
    expect(cfnLint(stacks.map((stack) => join(assembly.directory, stack.templateFile)))).toEqual({
      status: 0,
      findings: [],
    });
  });

  it('fails on a template with errors (proves the check can fail)', () => {
    // GIVEN a function on a runtime Lambda retired and with a timeout over the maximum
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
    // WHEN
    const { status, findings } = cfnLint([path]);
    // THEN
    expect(status & ERROR_BIT).toBe(ERROR_BIT);
    expect(findings.map(({ rule, where }) => [rule, where])).toEqual(
      expect.arrayContaining([
        ['E2533', 'Resources/Bad/Properties/Runtime'],
        ['E3034', 'Resources/Bad/Properties/Timeout'],
      ]),
    );
  });
});
