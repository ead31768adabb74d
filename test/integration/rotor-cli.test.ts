import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { UpdateFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { CreateScheduleCommand, CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { invokeBundle } from '../../cli/local/invoke-bundle';
import { LOCAL_CREDENTIALS, localClients } from '../../cli/local/local-clients';
import { beginRotation } from '../../cli/local/local-rotation';
import type { MotoServer } from '../../cli/local/moto-server';
import { workerMoto } from '../support/worker-moto';
import { provisionLocal, type LocalEnvironment } from '../../cli/local/provision-local';
import { LambdaBundle, RotorResourceName } from '../../lambda/shared/rotor-constants';
import { secretFirstDocument } from '../../lib/secret-first-document';
import { isWellFormedManagedToken } from '../../lambda/core/providers/managed-token/managed-token-format';
import { alarmGroupOf } from '../../lambda/shared/alarm-group-of';
import { startAwsProxy, type AwsProxy } from '../../cli/local/aws-proxy';

// The built CLI (dist/cli/rotor.js), run as the README runs it, against a moto server.

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'rotor.js');
const SECRET = 'rotor/ci/deploy-token';
const CI_STAGE = {
  name: 'ci',
  secretNamePrefix: 'rotor/ci/',
  secrets: [{ name: 'deploy-token', provider: 'managed-token' as const }],
};
let moto: MotoServer;
let configPath: string;
// A web server that answers every request with an HTML page, as a wrong --endpoint might.
let htmlServer: Server;
let htmlEndpoint: string;

beforeAll(async () => {
  moto = await workerMoto();
  configPath = join(mkdtempSync(join(tmpdir(), 'rotor-cli-')), 'rotor.config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      stages: [
        {
          name: 'ci',
          secretNamePrefix: 'rotor/ci/',
          logRetentionDays: 30,
          secrets: [{ name: 'deploy-token', provider: 'managed-token', schedule: 'rate(4 hours)', window: '1h' }],
        },
        {
          name: 'production',
          secretNamePrefix: 'rotor/production/',
          logRetentionDays: 365,
          secrets: [{ name: 'deploy-token', provider: 'managed-token', schedule: 'rate(4 hours)', window: '1h' }],
        },
      ],
    }),
  );
  htmlServer = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' });
    response.end('<!doctype html><html><body>not AWS</body></html>');
  });
  await new Promise<void>((resolve) => htmlServer.listen(0, '127.0.0.1', resolve));
  htmlEndpoint = `http://127.0.0.1:${(htmlServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await moto?.stop();
  await new Promise((resolve) => htmlServer?.close(resolve));
});

async function rotor(args: string[], env: Record<string, string> = {}) {
  try {
    // HOME points nowhere: no shared AWS config or credentials file of the machine leaks in.
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const local = () => ['--local', '--endpoint', moto.endpoint, '--config', configPath];

describe('rotor CLI', () => {
  it('local up provisions the stage and prints the environment the bundles need', async () => {
    // Act
    const up = await rotor(['local', 'up', '--endpoint', moto.endpoint, '--config', configPath]);

    // Assess
    expect(up.code).toBe(0);
    const printed = JSON.parse(up.stdout) as { env: Record<string, string>; secrets: string[]; iam: string };
    expect(printed.env).toMatchObject({
      ROTOR_STAGE: 'ci',
      ROTOR_SECRET_NAME_PREFIX: 'rotor/ci/',
      AWS_ENDPOINT_URL: moto.endpoint,
      // Every setting the deployed functions get, defaults included.
      ROTOR_MAX_ROLLBACK_ATTEMPTS: '3',
      ROTOR_ROLLBACK_INCIDENT_WINDOW_SECONDS: '86400',
      ROTOR_HEALTH_CHECK_CONCURRENCY: '8',
      ROTOR_HEALTH_CHECK_BUDGET_SECONDS: '40',
      // No CloudTrail events locally: every run tests every secret.
      ROTOR_HEALTH_CHECK_RUN_SECONDS: '60',
      ROTOR_HEALTH_CHECK_IDLE_SECONDS: '60',
      ROTOR_HEALTH_CHECK_WATCH_SECONDS: '900',
      ROTOR_SIDE_EFFECT_LEASE_SECONDS: '70',
    });
    expect(Object.keys(printed.env)).toEqual(
      expect.arrayContaining(['ROTOR_ALERT_TOPIC_ARN', 'ROTOR_PEPPER_SECRET_ARN']),
    );
    expect(printed.secrets).toEqual([SECRET]);
    expect(printed.iam).toMatch(/^enforced: .*\(ROTOR_LOCAL_IAM=off turns it off\)$/);
    const secret = await localClients({ endpoint: moto.endpoint, region: 'us-east-1' }).secretsManager.send(
      new DescribeSecretCommand({ SecretId: SECRET }),
    );
    expect(secret.KmsKeyId).toMatch(/^arn:aws:kms:/);
    expect(secret.Tags).toEqual([{ Key: 'rotor:stage', Value: 'ci' }]);
  });

  it('rotate --local runs the four steps twice and versions shows the labels move', async () => {
    // Act
    const first = await rotor(['rotate', SECRET, ...local()]);
    const second = await rotor(['rotate', SECRET, ...local()]);
    const versions = await rotor(['versions', SECRET, ...local(), '--fingerprints']);

    // Assess
    for (const run of [first, second]) {
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(
        /createSecret\s+ok\s+created\n\s+setSecret\s+ok\s+nothing-to-set\n\s+testSecret\s+ok\s+tested\n\s+finishSecret\s+ok\s+promoted\n/,
      );
    }
    const rows = versions.stdout.split('\n').filter((line) => /^\s+[0-9a-f-]{36}\s/.test(line));
    expect(rows).toHaveLength(3);
    expect(rows[1]).toMatch(/\sAWSPREVIOUS\s+\S+\s+sha256:[0-9a-f]{12}$/);
    expect(rows[2]).toMatch(/\sAWSCURRENT\s+\S+\s+sha256:[0-9a-f]{12}$/);
    const current = await localClients({ endpoint: moto.endpoint, region: 'us-east-1' }).secretsManager.send(
      new GetSecretValueCommand({ SecretId: SECRET, VersionStage: 'AWSCURRENT' }),
    );
    const token = (JSON.parse(current.SecretString!) as { token: string }).token;
    expect(isWellFormedManagedToken(token)).toBe(true);
    expect(first.stdout + second.stdout + versions.stdout).not.toContain(token);
  });

  it('audit --local prints the ledger events of the two rotations, oldest first, without a token', async () => {
    // Act
    const audited = await rotor(['audit', SECRET, ...local()]);

    // Assess
    expect(audited.code).toBe(0);
    const events = audited.stdout
      .split('\n')
      .filter((line) => /^\s+\d{4}-\d\d-\d\dT/.test(line))
      .map((line) => line.trim().split(/\s+/)[1]);
    expect(events).toEqual(['created', 'promoted', 'created', 'promoted']);
    expect(audited.stdout).not.toMatch(/rtr_[0-9A-Za-z]{49}/);
  });

  it('rotate without --local calls RotateSecret, as the console button does', async () => {
    // Prepare: a secret never rotated (moto refuses RotateSecret after a finished rotation; AWS does not)
    const clients = localClients({ endpoint: moto.endpoint, region: 'us-east-1' });
    await clients.secretsManager.send(
      new CreateSecretCommand({ Name: 'rotor/ci/console-button', SecretString: '{"provider":"managed-token"}' }),
    );

    // Act
    const started = await rotor(['rotate', 'rotor/ci/console-button'], {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'rotor-local',
      AWS_SECRET_ACCESS_KEY: 'rotor-local',
    });

    // Assess
    expect(started.code).toBe(0);
    const versionId = /version (\S+) is AWSPENDING/.exec(started.stdout)?.[1];
    const secret = await clients.secretsManager.send(
      new DescribeSecretCommand({ SecretId: 'rotor/ci/console-button' }),
    );
    // On AWS the new version stays AWSPENDING while the rotation function runs; moto, with no
    // function to run, labels it at once. Either way it is the version RotateSecret returned.
    expect(Object.keys(secret.VersionIdsToStages ?? {})).toContain(versionId);
    expect(Object.keys(secret.VersionIdsToStages ?? {})).toHaveLength(2);
  });

  it.each([
    [['rotate'], /^rotor: missing required argument 'secret'\nsee `rotor rotate --help`\n$/],
    [
      ['rotate', 'a', 'b'],
      /^rotor: too many arguments for 'rotate'\. Expected 1 argument but got 2\.\nsee `rotor rotate --help`\n$/,
    ],
    [['rotate', SECRET, '--local'], /^rotor: --local needs --endpoint URL .*\nsee `rotor rotate --help`\n$/],
    [
      ['rotate', SECRET, '--local', '--endpoint', 'not a url'],
      /^rotor: --endpoint must be a URL.*\nsee `rotor rotate --help`\n$/,
    ],
    [['frobnicate'], /^rotor: unknown command 'frobnicate'\nsee `rotor --help`\n$/],
    [['rotate', SECRET, '--bogus'], /^rotor: unknown option '--bogus'\nsee `rotor rotate --help`\n$/],
    [
      ['local'],
      /^rotor: local needs a subcommand: `rotor local emulator` .* or `rotor local up` .*\nsee `rotor local --help`\n$/,
    ],
    [['local', 'down'], /^rotor: unknown local command "down".*\nsee `rotor local --help`\n$/],
  ])('exits 2 with one line and a pointer to the help for %j', async (args, message) => {
    // Act
    const run = await rotor(args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
  });

  it('prints the version from package.json', async () => {
    // Act
    const run = await rotor(['--version']);

    // Assess
    const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(run).toMatchObject({ code: 0, stdout: `${manifest.version}\n` });
  });

  it.each([
    ['rotate', /<secret>/],
    ['versions', /<secret>/],
    ['audit', /<secret>/],
    ['status', /--stage <name>/],
    ['resume', /<secret>/],
    ['bootstrap', /<secret>/],
    ['repair', /--dry-run/],
    ['doctor', /--stage <name>/],
    ['local up', /--endpoint <url>/],
    ['local emulator', /--port <port>/],
  ])('rotor %s --help explains the command, its arguments and an example', async (command, argument) => {
    // Act
    const run = await rotor([...command.split(' '), '--help']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: rotor ${command} `));
    expect(run.stdout).toMatch(argument);
    expect(run.stdout).toMatch(new RegExp(`Examples:\n  \\$ rotor ${command}`));
  });
});

describe('rotor CLI failures a person can cause', () => {
  const account = () => ({ AWS_ACCESS_KEY_ID: 'rotor-local', AWS_SECRET_ACCESS_KEY: 'rotor-local' });

  it.each([
    ['no region', ['rotate', SECRET], {}, /^rotor: no AWS region: pass --region REGION or set AWS_REGION/],
    [
      'no credentials',
      ['versions', SECRET],
      { AWS_REGION: 'us-east-1' },
      /^rotor: no AWS credentials: set AWS_PROFILE/,
    ],
  ])('%s: one line that says what to do, exit 3', async (_name, args, env, message) => {
    // Act
    const run = await rotor(args, env);

    // Assess
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('nothing listening at the endpoint: one line naming it, exit 3', async () => {
    // Prepare: a port that was free a moment ago
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));

    // Act
    const run = await rotor(['versions', SECRET, '--local', '--endpoint', endpoint]);

    // Assess
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      `rotor: nothing answers at ${endpoint} (ECONNREFUSED): start the emulator (\`rotor local emulator\`) or point --endpoint (or AWS_ENDPOINT_URL) at it\n`,
    );
  });

  it.each([['versions'], ['rotate'], ['audit'], ['resume']])(
    '%s against an endpoint that answers HTML: one line, exit 3',
    async (command) => {
      // Act
      const run = await rotor([
        command,
        'rotor/ci/nope',
        '--local',
        '--endpoint',
        htmlEndpoint,
        '--config',
        configPath,
      ]);

      // Assess
      expect(run.code).toBe(3);
      expect(run.stderr).toBe(
        `rotor: ${htmlEndpoint} answered, but not as an AWS API does (an HTML page?): point --endpoint (or AWS_ENDPOINT_URL) at the emulator, e.g. http://127.0.0.1:4566\n`,
      );
    },
  );

  it.each([['versions'], ['rotate'], ['audit'], ['resume'], ['repair']])(
    '%s of an unknown secret says so the same way, exit 4',
    async (command) => {
      // Act
      const run = await rotor([command, 'rotor/ci/nope', ...local()]);

      // Assess
      expect(run.code).toBe(4);
      expect(run.stderr).toBe(
        `rotor: no secret rotor/ci/nope in the emulator at ${moto.endpoint}: check the name (\`rotor status\` lists the stage's secrets)\n`,
      );
    },
  );

  it('unknown secret against an account: the same line, exit 4', async () => {
    // Act
    const run = await rotor(['rotate', 'rotor/ci/nope'], {
      ...account(),
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: moto.endpoint,
    });

    // Assess
    expect(run.code).toBe(4);
    expect(run.stderr).toBe(
      "rotor: no secret rotor/ci/nope in the account (us-east-1): check the name (`rotor status` lists the stage's secrets)\n",
    );
  });

  it('rotating a secret of another stage is refused before anything changes, exit 2', async () => {
    // Prepare
    const before = await describeSecret(SECRET);

    // Act
    const run = await rotor(['rotate', SECRET, ...local(), '--stage', 'production']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      `rotor: ${SECRET} is not in stage production (its secrets start with rotor/production/): pass the secret's stage with --stage\nsee \`rotor rotate --help\`\n`,
    );
    const after = await describeSecret(SECRET);
    expect(after.VersionIdsToStages).toEqual(before.VersionIdsToStages);
    expect(after.RotationLambdaARN).toBe(before.RotationLambdaARN);
  });

  it('a secret holding garbage: refused once, not retried, no AWSPENDING left, status says unreadable', async () => {
    // Prepare
    const env = await stageEnvironment();
    const name = 'rotor/ci/garbage';
    await localClients(env.endpoint).secretsManager.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: 'hunter2 is not json',
        KmsKeyId: env.kmsKeyArn,
        Tags: [{ Key: 'rotor:stage', Value: 'ci' }],
      }),
    );

    // Act
    const first = await rotor(['rotate', name, ...local()]);
    const second = await rotor(['rotate', name, ...local()]);
    const status = await rotor(['status', ...local()]);

    // Assess
    for (const run of [first, second]) {
      expect(run.code).toBe(1);
      expect(run.stdout.match(/MalformedSecretError/g)).toHaveLength(1);
      expect(run.stdout).not.toMatch(/retrying/);
      expect(run.stderr).toMatch(
        /^rotor: rotation of rotor\/ci\/garbage refused at createSecret \(MalformedSecretError, shown above\); not retried, .*the empty AWSPENDING was removed/,
      );
      expect(run.stdout + run.stderr).not.toContain('hunter2');
    }
    const labels = Object.values((await describeSecret(name)).VersionIdsToStages ?? {}).flat();
    expect(labels).toEqual(['AWSCURRENT']);
    expect(status.stdout).toMatch(/rotor\/ci\/garbage\s+-\s+unreadable\s/);
    expect(status.stdout).toMatch(/rotor\/ci\/deploy-token\s+managed-token\s+active\s/);
  });
});

describe('rotor local enforces IAM', () => {
  it('runs each function with its own role: a call outside it is refused as AWS would, where moto alone lets it through', async () => {
    // Prepare: under the stage's prefix but without the stage's tag, so no role of the stack names it
    const env = await stageEnvironment();
    const name = 'rotor/ci/untagged';
    const { secretsManager } = localClients(env.endpoint);
    const document = JSON.stringify(secretFirstDocument('managed-token'));
    await secretsManager.send(new CreateSecretCommand({ Name: name, SecretString: document, KmsKeyId: env.kmsKeyArn }));
    const current = async () =>
      (await secretsManager.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' })))
        .SecretString;

    // Act
    const enforced = await rotor(['rotate', name, ...local(), '--max-attempts', '1']);
    const afterEnforced = await current();
    const unchecked = await rotor(['rotate', name, ...local(), '--max-attempts', '1'], { ROTOR_LOCAL_IAM: 'off' });
    const up = await rotor(['local', 'up', '--endpoint', moto.endpoint, '--config', configPath], {
      ROTOR_LOCAL_IAM: 'off',
    });

    // Assess: the function's first call, DescribeSecret, is refused, and the secret keeps its value
    expect(enforced.code).toBe(1);
    expect(enforced.stdout).toMatch(
      /createSecret {2}FAILED {2}AccessDeniedException: User: arn:aws:sts::123456789012:assumed-role\/[^/\s]+\/rotation is not authorized to perform: secretsmanager:DescribeSecret on resource: arn:aws:secretsmanager:us-east-1:123456789012:secret:rotor\/ci\/untagged-\w+ because no identity-based policy allows/,
    );
    expect(afterEnforced).toBe(document);
    // Unchecked, moto lets the same rotation through: what an account would refuse passes
    expect(unchecked.code).toBe(0);
    expect(unchecked.stdout).not.toMatch(/AccessDenied/);
    expect(await current()).not.toBe(document);
    expect((JSON.parse(up.stdout) as { iam: string }).iam).toMatch(/^off \(ROTOR_LOCAL_IAM=off\)/);
  });
});

async function describeSecret(secretId: string) {
  return localClients({ endpoint: moto.endpoint, region: 'us-east-1' }).secretsManager.send(
    new DescribeSecretCommand({ SecretId: secretId }),
  );
}

// The stage as the CLI provisions it (idempotent), for the tests' own rotations.
function stageEnvironment(): Promise<LocalEnvironment> {
  return provisionLocal({ endpoint: moto.endpoint, region: 'us-east-1' }, CI_STAGE);
}

function pendingOf(stages: Record<string, string[]> | undefined): string | undefined {
  return Object.entries(stages ?? {}).find(([, labels]) => labels.includes('AWSPENDING'))?.[0];
}

describe('rotor repair and rotor doctor', () => {
  it('doctor prints a healthy table for the rotated stage', async () => {
    // Act
    const run = await rotor(['doctor', ...local()]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/ledger reachable\s+rotor-ci-ledger\s+ok/);
    expect(run.stdout).toMatch(/pepper readable\s+rotor-internal\/ci\/fingerprint-pepper\s+ok/);
    expect(run.stdout).toMatch(/wired to rotation\s+rotor\/ci\/deploy-token\s+ok\s+function rotor-ci-rotation/);
    expect(run.stdout).toMatch(/no stuck rotation\s+rotor\/ci\/deploy-token\s+ok/);
    expect(run.stdout).toMatch(/alarms reporting\s+rotor\/ci\/deploy-token\s+skipped/);
    expect(run.stdout).not.toMatch(/PROBLEM/);
    expect(run.stdout).toMatch(/stage ci is healthy\n$/);
  });

  it('a valueless AWSPENDING: doctor flags it, repair --dry-run says and changes nothing, repair removes it', async () => {
    // Prepare: RotateSecret left an empty AWSPENDING (its first step never ran)
    const env = await stageEnvironment();
    const { versionId } = await beginRotation(env, SECRET);
    const before = await describeSecret(SECRET);

    // Act
    const doctor = await rotor(['doctor', ...local()]);
    const dryRun = await rotor(['repair', SECRET, ...local(), '--dry-run']);
    const afterDryRun = await describeSecret(SECRET);
    const repaired = await rotor(['repair', SECRET, ...local()]);
    const after = await describeSecret(SECRET);
    const doctorAgain = await rotor(['doctor', ...local()]);

    // Assess
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(
      new RegExp(
        `no stuck rotation\\s+rotor/ci/deploy-token\\s+PROBLEM\\s+version ${versionId} is AWSPENDING\\s+\`rotor repair rotor/ci/deploy-token\``,
      ),
    );
    expect(doctor.stderr).toBe('rotor: 1 problem(s) in stage ci: apply the FIX column, then run doctor again\n');
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain(`AWSPENDING  ${versionId}  holds no value`);
    expect(dryRun.stdout).toMatch(/action: remove AWSPENDING from that empty version/);
    expect(dryRun.stdout).toMatch(/dry run: nothing changed\n$/);
    expect(afterDryRun.VersionIdsToStages).toEqual(before.VersionIdsToStages);
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toContain(`repaired: AWSPENDING removed from ${versionId}`);
    expect(pendingOf(after.VersionIdsToStages)).toBeUndefined();
    expect(Object.entries(after.VersionIdsToStages ?? {}).find(([, l]) => l.includes('AWSCURRENT'))).toEqual(
      Object.entries(before.VersionIdsToStages ?? {}).find(([, l]) => l.includes('AWSCURRENT')),
    );
    expect(doctorAgain.code).toBe(0);
  });

  it('a pending managed token that was never promoted is cancelled; AWSCURRENT keeps its value', async () => {
    // Prepare: createSecret stored a new token under AWSPENDING, then the rotation stopped
    const env = await stageEnvironment();
    const { arn, versionId } = await beginRotation(env, SECRET);
    const created = await invokeBundle(
      LambdaBundle.rotation,
      { Step: 'createSecret', SecretId: arn, ClientRequestToken: versionId },
      { env: env.env },
    );
    expect(created.ok).toBe(true);
    const sm = localClients(env.endpoint).secretsManager;
    const current = await sm.send(new GetSecretValueCommand({ SecretId: SECRET, VersionStage: 'AWSCURRENT' }));

    // Act
    const repaired = await rotor(['repair', SECRET, ...local()]);

    // Assess
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toContain(`AWSPENDING  ${versionId}  holds a value (provider managed-token)`);
    expect(repaired.stdout).toMatch(/diagnosis: .*managed token that was never promoted/);
    expect(pendingOf((await describeSecret(SECRET)).VersionIdsToStages)).toBeUndefined();
    const after = await sm.send(new GetSecretValueCommand({ SecretId: SECRET, VersionStage: 'AWSCURRENT' }));
    expect(after.VersionId).toBe(current.VersionId);
    expect(repaired.stdout).not.toMatch(/rtr_[0-9A-Za-z]{20}/);
  });

  it('doctor against an account: schedules, alarms and the stage of the function, with a fix for an alarm without data', async () => {
    // Prepare: what the stack creates and the emulator does not (schedules, alarms, the function's settings)
    const env = await stageEnvironment();
    const clients = localClients(env.endpoint);
    await clients.lambda.send(
      new UpdateFunctionConfigurationCommand({
        FunctionName: env.rotationFunctionArn,
        Environment: { Variables: { ROTOR_STAGE: 'ci' } },
      }),
    );
    const scheduler = new SchedulerClient({
      endpoint: env.endpoint.endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    // The health check has a schedule group of its own, so that its role trusts only it.
    await scheduler.send(new CreateScheduleGroupCommand({ Name: RotorResourceName.healthCheckScheduleGroup('ci') }));
    for (const [name, group] of [
      ['health-check', RotorResourceName.healthCheckScheduleGroup('ci')],
      ['sweep-overdue-retirements', 'rotor-ci'],
    ] as const) {
      await scheduler.send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: group,
          ScheduleExpression: 'rate(1 minute)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: env.retireFunctionArn,
            RoleArn: env.env.ROTOR_SCHEDULER_ROLE_ARN ?? 'arn:aws:iam::123456789012:role/x',
          },
        }),
      );
    }
    const alarms = ['rotation-failures', 'health-check-failures', 'reuse-detected'].map(
      (kind) => `rotor-ci-${kind}-rotor-ci-deploy-token`,
    );
    for (const name of alarms) {
      await clients.cloudWatch.send(
        new PutMetricAlarmCommand({
          AlarmName: name,
          Namespace: 'Rotor',
          MetricName: 'RotationFailed',
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 2,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      );
    }
    await clients.cloudWatch.send(
      new SetAlarmStateCommand({ AlarmName: alarms[2]!, StateValue: 'INSUFFICIENT_DATA', StateReason: 'test' }),
    );

    // Act
    const run = await rotor(['doctor', '--config', configPath, '--stage', 'ci'], {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'rotor-local',
      AWS_SECRET_ACCESS_KEY: 'rotor-local',
    });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/schedule present\s+health-check\s+ok\s+enabled/);
    expect(run.stdout).toMatch(/schedule present\s+sweep-overdue-retirements\s+ok/);
    expect(run.stdout).toMatch(/wired to rotation\s+rotor\/ci\/deploy-token\s+ok\s+function rotor-ci-rotation/);
    expect(run.stdout).toMatch(new RegExp(`alarm reporting\\s+${alarms[0]}\\s+ok`));
    expect(run.stdout).toMatch(
      new RegExp(
        `alarm reporting\\s+${alarms[2]}\\s+PROBLEM\\s+INSUFFICIENT_DATA: no metric data reaches it\\s+check the health-check schedule runs`,
      ),
    );
    expect(run.stdout.match(/PROBLEM/g)).toHaveLength(1);
    expect(run.stderr).toBe('rotor: 1 problem(s) in stage ci: apply the FIX column, then run doctor again\n');
  });

  it('repair of a secret with nothing stuck changes nothing', async () => {
    // Act
    const run = await rotor(['repair', SECRET, ...local()]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/diagnosis: no rotation is in progress/);
  });
});

describe('rotor doctor and rotor status of a sharded stage, against an account', () => {
  const SHARDS = 4;
  // The default for 4 shards: as many alarm groups.
  const GROUPS = 4;
  const KINDS = ['rotation-failures', 'health-check-failures', 'reuse-detected'] as const;
  let fleetConfig: string;
  // Two secrets at the stage's thresholds in different alarm groups, and one with thresholds of its own.
  let failing: string;
  let stuck: string;
  const tuned = 'tuned';
  let proxy: AwsProxy;

  const inStage = (name: string) => `rotor/fleet/${name}`;
  const groupAlarmOf = (kind: (typeof KINDS)[number], group: number) =>
    `rotor-fleet-${kind}.group-${String(group).padStart(3, '0')}`;
  const groupAlarm = (kind: (typeof KINDS)[number], name: string) => groupAlarmOf(kind, alarmGroupOf(name, GROUPS));
  const groupAlarms = Array.from({ length: GROUPS }, (_, group) =>
    KINDS.map((kind) => groupAlarmOf(kind, group)),
  ).flat();
  const account = (endpoint: string) => ({
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'rotor-local',
    AWS_SECRET_ACCESS_KEY: 'rotor-local',
  });

  beforeAll(async () => {
    const candidates = ['api', 'deploy', 'release', 'registry', 'pages', 'docs'];
    failing = candidates[0]!;
    stuck = candidates.find((name) => alarmGroupOf(name, GROUPS) !== alarmGroupOf(failing, GROUPS))!;
    const secrets = [failing, stuck, tuned].map((name) => ({
      name,
      provider: 'managed-token' as const,
      schedule: 'rate(4 hours)',
      window: '1h',
      ...(name === tuned ? { alarms: { reuseDetected: { threshold: 3 } } } : {}),
    }));
    fleetConfig = join(mkdtempSync(join(tmpdir(), 'rotor-cli-fleet-')), 'rotor.config.json');
    writeFileSync(
      fleetConfig,
      JSON.stringify({
        stages: [{ name: 'fleet', secretNamePrefix: 'rotor/fleet/', logRetentionDays: 30, shards: SHARDS, secrets }],
      }),
    );
    await provisionLocal(
      { endpoint: moto.endpoint, region: 'us-east-1' },
      { name: 'fleet', secretNamePrefix: 'rotor/fleet/', secrets },
    );
    // What the stack creates: each alarm group's three Metrics Insights alarms, the tuned secret's own three.
    const { cloudWatch } = localClients({ endpoint: moto.endpoint, region: 'us-east-1' });
    const groupAlarms = Array.from({ length: GROUPS }, (_, group) =>
      KINDS.map((kind) => groupAlarmOf(kind, group)),
    ).flat();
    for (const alarmName of groupAlarms) {
      await cloudWatch.send(
        new PutMetricAlarmCommand({
          AlarmName: alarmName,
          Metrics: [
            {
              Id: 'expr_1',
              Expression: `SELECT SUM(HealthCheckFailed) FROM SCHEMA("Rotor", SecretName, AlarmGroup) WHERE AlarmGroup = '${Number(alarmName.slice(-3))}' GROUP BY SecretName`,
              Period: 60,
              ReturnData: true,
            },
          ],
          EvaluationPeriods: 2,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
        }),
      );
    }
    for (const kind of KINDS) {
      await cloudWatch.send(
        new PutMetricAlarmCommand({
          AlarmName: `rotor-fleet-${kind}-rotor-fleet-${tuned}`,
          Namespace: 'Rotor',
          MetricName: 'HealthCheckFailed',
          Dimensions: [{ Name: 'SecretName', Value: inStage(tuned) }],
          Statistic: 'Sum',
          Period: 60,
          EvaluationPeriods: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        }),
      );
    }
    await cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: groupAlarm('health-check-failures', failing),
        StateValue: 'ALARM',
        StateReason: 'Threshold Crossed: 1 contributor',
      }),
    );
    await cloudWatch.send(
      new SetAlarmStateCommand({
        AlarmName: groupAlarm('rotation-failures', stuck),
        StateValue: 'INSUFFICIENT_DATA',
        StateReason: 'test',
      }),
    );
    // The contributor call the emulator lacks, answered as CloudWatch does, in front of moto.
    proxy = await startAwsProxy(moto.endpoint);
    proxy.answerWith('GraniteServiceVersion20100801.DescribeAlarmContributors', {
      AlarmContributors: [
        {
          ContributorId: 'c-1',
          ContributorAttributes: { SecretName: inStage(failing) },
          StateReason: 'Threshold Crossed: 2 datapoints were greater than or equal to the threshold (1.0)',
          StateTransitionedTimestamp: 1_800_000_000,
        },
      ],
    });
  });

  afterAll(async () => {
    await proxy?.stop();
  });

  it('doctor checks each alarm group alarm once instead of alarms each secret does not have, and a secret with its own thresholds by its own', async () => {
    // Act
    const run = await rotor(['doctor', '--config', fleetConfig, '--stage', 'fleet'], account(moto.endpoint));

    // Assess
    expect(run.code).toBe(1);
    for (const name of [failing, stuck]) {
      expect(run.stdout).not.toContain(`-rotor-fleet-${name}`);
    }
    const rows = run.stdout.split('\n').filter((line) => /^\s+alarm (reporting|present)\s/.test(line));
    for (const alarmName of groupAlarms) expect(rows.filter((row) => row.includes(alarmName))).toHaveLength(1);
    expect(run.stdout).toMatch(
      new RegExp(`alarm reporting\\s+${groupAlarm('rotation-failures', stuck)}\\s+PROBLEM\\s+INSUFFICIENT_DATA`),
    );
    expect(run.stdout).toMatch(new RegExp(`alarm reporting\\s+${groupAlarm('reuse-detected', stuck)}\\s+ok\\s+OK`));
    for (const kind of KINDS) {
      expect(run.stdout).toMatch(new RegExp(`alarm reporting\\s+rotor-fleet-${kind}-rotor-fleet-${tuned}\\s+ok\\s+OK`));
    }
    expect(run.stdout).not.toMatch(/alarm present .* missing/);
  });

  it('without the contributor call (the emulator), doctor and status say the group alarm is in ALARM and where to see which secrets', async () => {
    // Act
    const doctor = await rotor(['doctor', '--config', fleetConfig, '--stage', 'fleet'], account(moto.endpoint));
    const status = await rotor(
      ['status', '--config', fleetConfig, '--stage', 'fleet', '--table', 'rotor-fleet-ledger'],
      account(moto.endpoint),
    );

    // Assess
    const alarm = groupAlarm('health-check-failures', failing);
    expect(doctor.stdout).toMatch(
      new RegExp(
        `alarm reporting\\s+${alarm}\\s+PROBLEM\\s+ALARM; its contributors could not be listed: the endpoint does not answer DescribeAlarmContributors .*\\s+see which secrets are in ALARM in the CloudWatch console`,
      ),
    );
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`${inStage(failing)}\\s.*rotation:OK health:ALARM\\? reuse:OK`));
    expect(status.stdout).toMatch(new RegExp(`${inStage(stuck)}\\s.*rotation:INSUFFICIENT_DATA health:OK reuse:OK`));
    expect(status.stdout).toMatch(new RegExp(`${inStage(tuned)}\\s.*rotation:OK health:OK reuse:OK`));
    expect(status.stdout).toContain(`${alarm} is in ALARM, and which of its secrets are could not be listed`);
  });

  it('with the contributor call, doctor names each secret in ALARM with its fix, and status marks it', async () => {
    // Act
    const doctor = await rotor(['doctor', '--config', fleetConfig, '--stage', 'fleet'], account(proxy.endpoint));
    const status = await rotor(
      ['status', '--config', fleetConfig, '--stage', 'fleet', '--table', 'rotor-fleet-ledger'],
      account(proxy.endpoint),
    );

    // Assess
    const alarm = groupAlarm('health-check-failures', failing);
    expect(doctor.stdout).toMatch(new RegExp(`alarm reporting\\s+${alarm}\\s+ok\\s+ALARM, 1 secret\\(s\\) in ALARM`));
    expect(doctor.stdout).toMatch(
      new RegExp(
        `secret in ALARM\\s+${inStage(failing)}\\s+PROBLEM\\s+contributor of ${alarm}: Threshold Crossed: 2 datapoints.*\\s+its current credential fails its test: Rotor rolls back or pauses`,
      ),
    );
    expect(doctor.stdout.match(/secret in ALARM/g)).toHaveLength(1);
    expect(status.stdout).toMatch(new RegExp(`${inStage(failing)}\\s.*rotation:OK health:ALARM reuse:OK`));
    expect(status.stdout).toContain(
      `${inStage(failing)} is in ALARM in its alarm group's alarm ${alarm}: Threshold Crossed`,
    );
    expect(status.stdout).not.toContain('could not be listed');
    expect(proxy.counts()['GraniteServiceVersion20100801.DescribeAlarmContributors']).toBe(2);
  });
});
