import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { localClients } from '../../cli/local/local-clients';
import type { MotoServer } from '../../cli/local/moto-server';
import { workerMoto } from '../support/worker-moto';
import { isWellFormedManagedToken } from '../../lambda/core/providers/managed-token/managed-token-format';

// The built CLI (dist/cli/rotor.js), run as the README runs it, against a moto server.

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'rotor.js');
const SECRET = 'rotor/ci/deploy-token';
let moto: MotoServer;
let configPath: string;

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
      ],
    }),
  );
});

afterAll(async () => {
  await moto?.stop();
});

async function rotor(args: string[], env: Record<string, string> = {}) {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
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
    const printed = JSON.parse(up.stdout) as { env: Record<string, string>; secrets: string[] };
    expect(printed.env).toMatchObject({
      ROTOR_STAGE: 'ci',
      ROTOR_SECRET_NAME_PREFIX: 'rotor/ci/',
      AWS_ENDPOINT_URL: moto.endpoint,
      // Every setting the deployed functions get, defaults included.
      ROTOR_MAX_ROLLBACK_ATTEMPTS: '3',
      ROTOR_ROLLBACK_INCIDENT_WINDOW_SECONDS: '86400',
      ROTOR_HEALTH_CHECK_CONCURRENCY: '8',
      ROTOR_HEALTH_CHECK_BUDGET_SECONDS: '40',
      ROTOR_SIDE_EFFECT_LEASE_SECONDS: '70',
    });
    expect(Object.keys(printed.env)).toEqual(
      expect.arrayContaining(['ROTOR_ALERT_TOPIC_ARN', 'ROTOR_PEPPER_SECRET_ARN']),
    );
    expect(printed.secrets).toEqual([SECRET]);
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
    [['rotate'], /rotate needs the secret name or ARN/],
    [['rotate', SECRET, '--local'], /--local needs --endpoint URL/],
    [['rotate', SECRET, '--local', '--endpoint', 'not a url'], /--endpoint must be a URL/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['rotate', SECRET, '--bogus'], /Unknown option '--bogus'/],
  ])('exits 2 with the usage for %j', async (args, message) => {
    // Act
    const run = await rotor(args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Usage:');
  });
});
