import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as logs from 'aws-cdk-lib/aws-logs';
import { loadRotorConfig, parseRotorConfig, RotorConfigError } from '../../lib/config/rotor-config';
import { COMMITTED_CONFIG_PATH } from './infra-test-app';

type Fields = Record<string, unknown>;

/** A valid one-stage, one-secret config; `stage` and `secret` override fields (undefined removes one). */
function config(overrides: { stage?: Fields; secret?: Fields } = {}): unknown {
  return {
    stages: [
      {
        name: 'development',
        secretNamePrefix: 'rotor/development/',
        logRetentionDays: 30,
        secrets: [
          {
            name: 'deploy-token',
            provider: 'managed-token',
            schedule: 'rate(4 hours)',
            window: '1h',
            ...overrides.secret,
          },
        ],
        ...overrides.stage,
      },
    ],
  };
}

function stage(name: string, secretNamePrefix: string): Fields {
  return {
    name,
    secretNamePrefix,
    logRetentionDays: 30,
    secrets: [{ name: 'deploy-token', provider: 'managed-token', schedule: 'rate(1 day)', window: '1h' }],
  };
}

const parse = (value: unknown) => () => parseRotorConfig(value);

describe('parseRotorConfig', () => {
  it('accepts the committed rotor.config.json', () => {
    const committed = loadRotorConfig(COMMITTED_CONFIG_PATH);
    expect(committed.stages.map((s) => s.name)).toEqual(['development', 'production']);
  });

  it('returns typed values: the window as a Duration and the retention as RetentionDays', () => {
    // WHEN
    const { stages } = parseRotorConfig(config({ secret: { window: '3h' } }));
    // THEN
    const [development] = stages;
    expect(development!.logRetentionDays).toBe(logs.RetentionDays.ONE_MONTH);
    expect(development!.secrets[0]!.window.toHours()).toBe(3);
    expect(development!.secrets[0]).not.toHaveProperty('description');
    expect(development).not.toHaveProperty('account');
  });

  it('reports every problem at once, one line each', () => {
    let error: unknown;
    try {
      parseRotorConfig(config({ stage: { logRetentionDays: 31 }, secret: { provider: 'gitlab', window: '90m' } }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(RotorConfigError);
    expect((error as RotorConfigError).issues).toEqual([
      'stages[0].logRetentionDays: must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653), got 31',
      'stages[0].secrets[0].provider: must be one of "managed-token", "oauth2-refresh-token", "gitlab-access-token", got "gitlab"',
      'stages[0].secrets[0].window: must be whole hours from "1h" to "24h", got "90m"',
    ]);
    expect((error as Error).message).toMatch(/^Rotor config is invalid:\n {2}- stages\[0\]\.logRetentionDays: /);
  });

  describe('the document', () => {
    it('fails when it is not an object', () => {
      expect(parse([])).toThrow(/\(config\): must be an object, got \[\]/);
    });

    it('fails without stages', () => {
      expect(parse({})).toThrow(/stages: is required/);
      expect(parse({ stages: [] })).toThrow(/stages: must list at least one stage, got \[\]/);
    });

    it('fails on an unknown field, so that a misspelt field is not silently ignored', () => {
      expect(parse({ ...(config() as Fields), stagse: [] })).toThrow(
        /\(config\): has unknown field "stagse"; check the spelling/,
      );
      expect(parse(config({ secret: { windw: '1h' } }))).toThrow(
        /stages\[0\]\.secrets\[0\]: has unknown field "windw"; check the spelling/,
      );
    });

    it('fails when a required field is missing or has the wrong type', () => {
      expect(parse(config({ secret: { provider: undefined } }))).toThrow(
        /stages\[0\]\.secrets\[0\]\.provider: is required/,
      );
      expect(parse(config({ secret: { schedule: 4 } }))).toThrow(
        /stages\[0\]\.secrets\[0\]\.schedule: must be a string, got 4/,
      );
      expect(parse(config({ stage: { secrets: {} } }))).toThrow(/stages\[0\]\.secrets: must be a list, got \{\}/);
    });
  });

  describe('stage name', () => {
    it.each(['development', 'prod-eu-1', 'a', 'x'.repeat(32)])('accepts %s', (name) => {
      expect(parse(config({ stage: { name } }))).not.toThrow();
    });

    it.each(['Dev', 'dev_1', '-dev', 'dev-', 'dev--x', '1dev', '', 'x'.repeat(33)])('fails on %j', (name) => {
      expect(parse(config({ stage: { name } }))).toThrow(
        new RegExp(
          `stages\\[0\\]\\.name: must be a lower-case slug such as "development" .*, got ${JSON.stringify(name)}`,
        ),
      );
    });

    it('fails when two stages share a name', () => {
      expect(parse({ stages: [stage('development', 'rotor/a/'), stage('development', 'rotor/b/')] })).toThrow(
        /stages\[1\]\.name: "development" is also the name of stages\[0\]; stage names must be unique/,
      );
    });
  });

  describe('secretNamePrefix', () => {
    it.each(['rotor/development/', 'ci/', 'team.a/rotor@dev/'])('accepts %s', (secretNamePrefix) => {
      expect(parse(config({ stage: { secretNamePrefix } }))).not.toThrow();
    });

    it.each(['rotor/development', '/rotor/', 'rotor//dev/', 'rotor dev/', ''])('fails on %j', (secretNamePrefix) => {
      expect(parse(config({ stage: { secretNamePrefix } }))).toThrow(
        new RegExp(
          `stages\\[0\\]\\.secretNamePrefix: must be path segments that end with "/".*, got "${secretNamePrefix}"`,
        ),
      );
    });

    it.each(['rotor-internal/', 'rotor-internal/development/'])(
      "fails on %j, under the prefix of Rotor's own secrets",
      (secretNamePrefix) => {
        expect(parse(config({ stage: { secretNamePrefix } }))).toThrow(
          new RegExp(
            `stages\\[0\\]\\.secretNamePrefix: must not start with "rotor-internal/", which holds Rotor's own secrets \\(the fingerprint pepper\\), got "${secretNamePrefix}"`,
          ),
        );
      },
    );

    it('accepts prefixes of which neither starts with the other', () => {
      expect(parse({ stages: [stage('dev', 'rotor/dev/'), stage('development', 'rotor/development/')] })).not.toThrow();
    });

    it("fails when a prefix starts with another stage's prefix", () => {
      expect(parse({ stages: [stage('all', 'rotor/'), stage('production', 'rotor/production/')] })).toThrow(
        /stages\[1\]\.secretNamePrefix: "rotor\/production\/" overlaps stages\[0\]\.secretNamePrefix "rotor\/": one starts with the other/,
      );
    });

    it('fails when two stages share a prefix', () => {
      expect(parse({ stages: [stage('a', 'rotor/shared/'), stage('b', 'rotor/shared/')] })).toThrow(
        /stages\[1\]\.secretNamePrefix: "rotor\/shared\/" overlaps stages\[0\]\.secretNamePrefix "rotor\/shared\/"/,
      );
    });
  });

  describe('logRetentionDays', () => {
    it.each([1, 30, 365, 3653])('accepts %d', (logRetentionDays) => {
      expect(parse(config({ stage: { logRetentionDays } }))).not.toThrow();
    });

    it.each([31, 0, 30.5, 9999])('fails on %d, which CloudWatch Logs does not accept', (logRetentionDays) => {
      expect(parse(config({ stage: { logRetentionDays } }))).toThrow(
        new RegExp(
          `stages\\[0\\]\\.logRetentionDays: must be a retention CloudWatch Logs accepts \\(1, 3, .*\\), got ${logRetentionDays}$`,
          'm',
        ),
      );
    });

    it('fails on a string', () => {
      expect(parse(config({ stage: { logRetentionDays: '30' } }))).toThrow(
        /stages\[0\]\.logRetentionDays: must be a number, got "30"/,
      );
    });
  });

  describe('grace, reuse memory, audit retention, sweep and event bus', () => {
    it('default to 15 minutes, 30 days, 400 days, every 5 minutes and the default bus, in seconds', () => {
      const [development] = parseRotorConfig(config()).stages;
      expect(development).toMatchObject({
        graceSeconds: 900,
        reuseMemorySeconds: 30 * 24 * 3600,
        auditRetentionSeconds: 400 * 24 * 3600,
        sweepSchedule: 'rate(5 minutes)',
        eventBusName: 'default',
      });
    });

    it('are read from the file, days converted to seconds', () => {
      const [development] = parseRotorConfig(
        config({
          stage: {
            graceSeconds: 2,
            reuseMemoryDays: 7,
            auditRetentionDays: 90,
            sweepSchedule: 'cron(0/10 * * * ? *)',
            eventBusName: 'ci-events',
          },
        }),
      ).stages;
      expect(development).toMatchObject({
        graceSeconds: 2,
        reuseMemorySeconds: 7 * 24 * 3600,
        auditRetentionSeconds: 90 * 24 * 3600,
        sweepSchedule: 'cron(0/10 * * * ? *)',
        eventBusName: 'ci-events',
      });
    });

    it('take the health check watch period and idle interval, 15 minutes and 1 hour by default', () => {
      expect(parseRotorConfig(config()).stages[0]).toMatchObject({
        healthCheckWatchSeconds: 900,
        healthCheckIdleSeconds: 3600,
      });
      expect(
        parseRotorConfig(config({ stage: { healthCheckWatchSeconds: 600, healthCheckIdleSeconds: 7200 } })).stages[0],
      ).toMatchObject({ healthCheckWatchSeconds: 600, healthCheckIdleSeconds: 7200 });
    });

    it.each([
      ['healthCheckWatchSeconds', 59],
      ['healthCheckIdleSeconds', 86401],
    ])('fail on %s of %d', (key, seconds) => {
      expect(parse(config({ stage: { [key]: seconds } }))).toThrow(
        new RegExp(`stages\\[0\\]\\.${key}: must be a whole number of seconds from 60 to 86400, got ${seconds}$`, 'm'),
      );
    });

    it.each([0, 1, 900, 86400])('accept a grace of %d seconds', (graceSeconds) => {
      expect(parseRotorConfig(config({ stage: { graceSeconds } })).stages[0]!.graceSeconds).toBe(graceSeconds);
    });

    it.each([-1, 86401, 1.5])('fail on a grace of %d seconds', (graceSeconds) => {
      expect(parse(config({ stage: { graceSeconds } }))).toThrow(
        new RegExp(
          `stages\\[0\\]\\.graceSeconds: must be a whole number of seconds from 0 to 86400, got ${graceSeconds}$`,
          'm',
        ),
      );
    });

    it('fail on a grace given as a string', () => {
      expect(parse(config({ stage: { graceSeconds: '900' } }))).toThrow(
        /stages\[0\]\.graceSeconds: must be a number, got "900"/,
      );
    });

    it.each([
      ['reuseMemoryDays', 0],
      ['reuseMemoryDays', 3651],
      ['auditRetentionDays', 0],
      ['auditRetentionDays', 2.5],
    ])('fail on %s %d', (field, days) => {
      expect(parse(config({ stage: { [field]: days } }))).toThrow(
        new RegExp(`stages\\[0\\]\\.${field}: must be a whole number of days from 1 to 3650, got ${days}$`, 'm'),
      );
    });

    it.each(['rate(1 minute)', 'rate(5 minutes)', 'rate(2 hours)', 'rate(1 day)', 'cron(0 * * * ? *)'])(
      'accept the sweep schedule %s',
      (sweepSchedule) => {
        expect(parse(config({ stage: { sweepSchedule } }))).not.toThrow();
      },
    );

    it.each([
      [
        'every 5 minutes',
        /must be "rate\(N minutes\|hours\|days\)" or "cron\(minutes hours day-of-month month day-of-week year\)" \(UTC\)/,
      ],
      ['rate(5 minute)', /rate\(\) takes a singular unit for 1 and a plural one otherwise/],
      ['rate(1 minutes)', /rate\(\) takes a singular unit for 1 and a plural one otherwise/],
      ['rate(0 minutes)', /rate\(\) must be at least 1/],
      ['rate(5 seconds)', /must be "rate\(N minutes\|hours\|days\)"/],
      ['cron(0 * * * *)', /cron\(\) needs 6 fields \(minutes hours day-of-month month day-of-week year\), found 5/],
      ['cron(0 * * * * *)', /cron\(\) needs \? in exactly one of day-of-month and day-of-week/],
    ])('fail on the sweep schedule %j', (sweepSchedule, problem) => {
      const value = JSON.stringify(sweepSchedule).replace(/[()*?$/]/g, '\\$&');
      expect(parse(config({ stage: { sweepSchedule } }))).toThrow(
        new RegExp(`stages\\[0\\]\\.sweepSchedule: ${problem.source}.*, got ${value}`),
      );
    });

    it.each(['', 'arn:aws:events:eu-west-1:123456789012:event-bus/ci', 'aws.partner/x', 'ci events'])(
      'fail on the event bus name %j',
      (eventBusName) => {
        expect(parse(config({ stage: { eventBusName } }))).toThrow(
          /stages\[0\]\.eventBusName: must be the name of an event bus in the stage's account and region, such as "default" \(letters, digits and \._-, at most 256 characters\), got /,
        );
      },
    );

    it('refuse a misspelt field', () => {
      expect(parse(config({ stage: { graceSecond: 60 } }))).toThrow(
        /stages\[0\]: has unknown field "graceSecond"; check the spelling/,
      );
    });
  });

  describe('account and region', () => {
    it('accepts a 12-digit account and a region', () => {
      const { stages } = parseRotorConfig(config({ stage: { account: '123456789012', region: 'us-gov-west-1' } }));
      expect(stages[0]).toMatchObject({ account: '123456789012', region: 'us-gov-west-1' });
    });

    it.each(['12345678901', '12345678901a'])('fails on account %j', (account) => {
      expect(parse(config({ stage: { account } }))).toThrow(
        new RegExp(`stages\\[0\\]\\.account: must be a 12-digit AWS account id, got "${account}"`),
      );
    });

    it.each(['EU-WEST-1', 'europe', 'eu-west'])('fails on region %j', (region) => {
      expect(parse(config({ stage: { region } }))).toThrow(
        new RegExp(`stages\\[0\\]\\.region: must be an AWS region such as "eu-west-1", got "${region}"`),
      );
    });
  });

  describe('secrets', () => {
    it('fails when a stage has none', () => {
      expect(parse(config({ stage: { secrets: [] } }))).toThrow(
        /stages\[0\]\.secrets: must list at least one secret \(or give secretSets\), got \[\]/,
      );
    });

    it('accepts the same secret name in two stages', () => {
      expect(
        parse({ stages: [stage('development', 'rotor/development/'), stage('production', 'rotor/production/')] }),
      ).not.toThrow();
    });

    it('fails when two secrets of a stage share a name', () => {
      const secret = { name: 'deploy-token', provider: 'managed-token', schedule: 'rate(1 day)', window: '1h' };
      expect(parse(config({ stage: { secrets: [secret, { ...secret }] } }))).toThrow(
        /stages\[0\]\.secrets\[1\]\.name: "deploy-token" is also the name of secrets\[0\]; secret names must be unique within a stage/,
      );
    });

    // The longest name is set by the alarm names (255 characters, see alert-config.test.ts), not Secrets Manager's 512.
    it.each(['deploy-token', 'ci/deploy_token', 'a.b@c+d=e', 'x'.repeat(197)])('accepts the name %s', (name) => {
      expect(parse(config({ secret: { name } }))).not.toThrow();
    });

    it.each(['deploy token', '/deploy', 'deploy/', 'ci//x', '', 'tök'])('fails on the name %j', (name) => {
      expect(parse(config({ secret: { name } }))).toThrow(
        new RegExp(`stages\\[0\\]\\.secrets\\[0\\]\\.name: must be a Secrets Manager name .*, got "${name}"`),
      );
    });

    it('fails when the full name is longer than Secrets Manager allows', () => {
      expect(parse(config({ secret: { name: 'x'.repeat(495) } }))).toThrow(
        /stages\[0\]\.secrets\[0\]\.name: with the prefix the name must be at most 512 characters, got 513/,
      );
    });

    it('fails on an unknown provider', () => {
      expect(parse(config({ secret: { provider: 'gitlab' } }))).toThrow(
        /stages\[0\]\.secrets\[0\]\.provider: must be one of "managed-token", "oauth2-refresh-token", "gitlab-access-token", got "gitlab"/,
      );
    });

    it('accepts a description and fails on an empty or overlong one', () => {
      expect(parse(config({ secret: { description: 'CI deploy token' } }))).not.toThrow();
      expect(parse(config({ secret: { description: '' } }))).toThrow(
        /stages\[0\]\.secrets\[0\]\.description: must not be empty; leave it out instead/,
      );
      expect(parse(config({ secret: { description: 'x'.repeat(2049) } }))).toThrow(
        /stages\[0\]\.secrets\[0\]\.description: must be at most 2048 characters, got 2049/,
      );
    });
  });

  describe('secretSets', () => {
    const team = {
      names: ['team-a/build', 'team-a/deploy'],
      provider: 'managed-token',
      schedule: 'rate(4 hours)',
      window: '1h',
    };

    it("expands each name into a secret with the set's settings and the stage's alarm thresholds", () => {
      const parsed = parseRotorConfig(
        config({
          stage: {
            secretSets: [{ ...team, description: 'Team A pipeline token' }],
            alarms: { rotationFailures: { threshold: 5 } },
          },
        }),
      );
      const secrets = parsed.stages[0]!.secrets;
      expect(secrets.map((secret) => secret.name)).toEqual(['deploy-token', 'team-a/build', 'team-a/deploy']);
      expect(secrets[2]).toMatchObject({
        provider: 'managed-token',
        schedule: 'rate(4 hours)',
        description: 'Team A pipeline token',
        alarms: { rotationFailures: { threshold: 5, periodSeconds: 60, evaluationPeriods: 1 } },
      });
      expect(secrets[2]!.window.toHours()).toBe(1);
    });

    it('is enough on its own: a stage of sets only', () => {
      expect(parse(config({ stage: { secrets: undefined, secretSets: [team] } }))).not.toThrow();
    });

    it('fails when a name is also a listed secret or in another set', () => {
      expect(
        parse(config({ stage: { secretSets: [team, { ...team, names: ['deploy-token', 'team-a/deploy'] }] } })),
      ).toThrow(
        /stages\[0\]\.secretSets\[1\]\.names\[0\]: "deploy-token" is also the name of secrets\[0\]; secret names must be unique within a stage\n.*stages\[0\]\.secretSets\[1\]\.names\[1\]: "team-a\/deploy" is also the name of secretSets\[0\]\.names\[1\]/,
      );
    });

    it('fails on a provider whose secrets have settings of their own', () => {
      expect(parse(config({ stage: { secretSets: [{ ...team, provider: 'oauth2-refresh-token' }] } }))).toThrow(
        /stages\[0\]\.secretSets\[0\]\.provider: must be one of "managed-token" \(other providers have settings of their own: list those secrets in "secrets"\), got "oauth2-refresh-token"/,
      );
    });

    it('fails on a bad name, an empty list, or a window that does not fit the schedule', () => {
      expect(parse(config({ stage: { secretSets: [{ ...team, names: ['bad name'] }] } }))).toThrow(
        /stages\[0\]\.secretSets\[0\]\.names\[0\]: must be a Secrets Manager name/,
      );
      expect(parse(config({ stage: { secretSets: [{ ...team, names: [] }] } }))).toThrow(
        /stages\[0\]\.secretSets\[0\]\.names: must list at least one name, got \[\]/,
      );
      expect(parse(config({ stage: { secretSets: [{ ...team, window: '4h' }] } }))).toThrow(
        /stages\[0\]\.secretSets\[0\]\.window: must be shorter than the 4 hours between two windows/,
      );
    });

    it('lets consumers read secrets of a set', () => {
      const consumer = {
        name: 'a',
        platform: 'github-actions',
        repository: 'o/r',
        refs: ['refs/heads/main'],
        secrets: ['team-a/build'],
      };
      expect(parse(config({ stage: { secretSets: [team], consumers: [consumer] } }))).not.toThrow();
    });
  });

  describe('shards', () => {
    it('is absent unless given, and read from the file', () => {
      expect(parseRotorConfig(config()).stages[0]!.shards).toBeUndefined();
      expect(parseRotorConfig(config({ stage: { shards: 64 } })).stages[0]!.shards).toBe(64);
    });

    it.each([0, 401, 2.5, '4'])('fails on %j', (shards) => {
      expect(parse(config({ stage: { shards } }))).toThrow(
        /stages\[0\]\.shards: must be (a whole number of shards from 1 to 400|a number)/,
      );
    });
  });

  describe('alarmGroups', () => {
    it('is the shard count up to 10 in a sharded stage unless given, and absent without shards', () => {
      const groups = (stage: Record<string, unknown>) => parseRotorConfig(config({ stage })).stages[0]!.alarmGroups;
      expect(groups({})).toBeUndefined();
      expect(groups({ shards: 4 })).toBe(4);
      expect(groups({ shards: 64 })).toBe(10);
      expect(groups({ shards: 64, alarmGroups: 20 })).toBe(20);
    });

    it('fails without shards, with more groups than shards, and on what is not a group count', () => {
      expect(parse(config({ stage: { alarmGroups: 2 } }))).toThrow(
        'stages[0].alarmGroups: applies only to a sharded stage (set "shards"); a stage without shards has alarms per secret, got 2',
      );
      expect(parse(config({ stage: { shards: 4, alarmGroups: 5 } }))).toThrow(
        'stages[0].alarmGroups: must be at most "shards" (4), got 5',
      );
      expect(parse(config({ stage: { shards: 4, alarmGroups: 0 } }))).toThrow(
        /stages\[0\]\.alarmGroups: must be a whole number of alarm groups from 1 to 400, got 0/,
      );
    });
  });

  describe('schedule', () => {
    it.each([
      ['rate(4 hours)', '3h'],
      ['rate(6 hours)', '5h'],
      ['rate(23 hours)', '1h'],
      ['rate(1 day)', '24h'],
      ['rate(7 days)', '6h'],
      ['rate(999 days)', '1h'],
      ['cron(0 4 * * ? *)', '20h'],
      ['cron(0 0/6 * * ? *)', '5h'],
      ['cron(0 */8 ? * MON-FRI *)', '7h'],
      ['cron(0 1,13 L * ? *)', '11h'],
      ['cron(0 2-20/6 * * ? *)', '4h'],
      ['cron(0 0 ? * SUN#1 *)', '24h'],
    ])('accepts %s with a %s window', (schedule, window) => {
      expect(parse(config({ secret: { schedule, window } }))).not.toThrow();
    });

    it.each([
      ['rate(2 hours)', /Secrets Manager rotates at most every 4 hours/],
      ['rate(3 hours)', /Secrets Manager rotates at most every 4 hours/],
      ['rate(24 hours)', /rate\(\) in hours must be at most 23 hours; write longer rates in days/],
      ['rate(0 days)', /rate\(\) in days must be from 1 to 999 days/],
      ['rate(1000 days)', /rate\(\) in days must be from 1 to 999 days/],
      ['rate(4 minutes)', /must be "rate\(N hours\)", "rate\(N days\)" or "cron\(0 H D M W \*\)" \(UTC\)/],
      ['every 4 hours', /must be "rate\(N hours\)", "rate\(N days\)" or "cron\(0 H D M W \*\)" \(UTC\)/],
      ['cron(0 4 * * ?)', /cron\(\) needs 6 fields \(minutes hours day-of-month month day-of-week year\), found 5/],
      ['cron(30 4 * * ? *)', /cron\(\) minutes must be 0 because rotation windows open on the hour/],
      ['cron(0 4 * * ? 2030)', /cron\(\) year must be \*/],
      ['cron(0 4 * * * *)', /cron\(\) needs \? in exactly one of day-of-month and day-of-week/],
      ['cron(0 4 ? * ? *)', /cron\(\) needs \? in exactly one of day-of-month and day-of-week/],
      ['cron(0 4 $ * ? *)', /cron\(\) day-of-month, month or day-of-week has a character AWS cron does not allow/],
      ['cron(0 24 * * ? *)', /cron\(\) hours must be 0-23, written with , - \* and \//],
      ['cron(0 6-2 * * ? *)', /cron\(\) hours must be 0-23/],
      ['cron(0 */2 * * ? *)', /Secrets Manager rotates at most every 4 hours/],
      ['cron(0 * * * ? *)', /Secrets Manager rotates at most every 4 hours/],
      ['cron(0 8-11 * * ? *)', /Secrets Manager rotates at most every 4 hours/],
      ['cron(0 1,3 * * ? *)', /Secrets Manager rotates at most every 4 hours/],
    ])('fails on %s', (schedule, problem) => {
      // The message names the path, the rule and the value.
      const where = /stages\[0\]\.secrets\[0\]\.schedule: /.source;
      const value = `, got ${JSON.stringify(schedule).replace(/[()*?$/]/g, '\\$&')}`;
      expect(parse(config({ secret: { schedule } }))).toThrow(new RegExp(`${where}${problem.source}.*${value}`));
    });
  });

  describe('window', () => {
    it.each(['0h', '25h', '90m', '1.5h', ' 2h', '2H', '2'])(
      'fails on %j, which is not whole hours from 1h to 24h',
      (window) => {
        expect(parse(config({ secret: { schedule: 'rate(1 day)', window } }))).toThrow(
          new RegExp(
            `stages\\[0\\]\\.secrets\\[0\\]\\.window: must be whole hours from "1h" to "24h", got "${window.replace('.', '\\.')}"`,
          ),
        );
      },
    );

    it('fails when it is as long as the interval between rotations', () => {
      expect(parse(config({ secret: { schedule: 'rate(4 hours)', window: '4h' } }))).toThrow(
        /stages\[0\]\.secrets\[0\]\.window: must be shorter than the 4 hours between two windows of "rate\(4 hours\)", got "4h"/,
      );
      expect(parse(config({ secret: { schedule: 'cron(0 0/6 * * ? *)', window: '6h' } }))).toThrow(
        /window: must be shorter than the 6 hours between two windows of "cron\(0 0\/6 \* \* \? \*\)", got "6h"/,
      );
    });

    it.each([
      ['rate(7 hours)', '4h', '21:00', '3h'],
      ['rate(13 hours)', '12h', '13:00', '11h'],
      ['cron(0 20 * * ? *)', '5h', '20:00', '4h'],
      ['cron(0 2-20/6 * * ? *)', '5h', '20:00', '4h'],
    ])('fails when the last window of %s would run %s past midnight UTC', (schedule, window, opens, most) => {
      expect(parse(config({ secret: { schedule, window } }))).toThrow(
        new RegExp(
          `stages\\[0\\]\\.secrets\\[0\\]\\.window: must end by midnight UTC: the last window of ".*" opens at ${opens} UTC, ` +
            `so it can be at most ${most}, got "${window}"`,
        ),
      );
    });
  });
});

describe('loadRotorConfig', () => {
  const directory = mkdtempSync(join(tmpdir(), 'rotor-config-'));

  it('loads a valid file', () => {
    const path = join(directory, 'valid.json');
    writeFileSync(path, JSON.stringify(config()));
    expect(loadRotorConfig(path).stages[0]!.name).toBe('development');
  });

  it('fails when the file does not exist, saying how to point to one', () => {
    const path = join(directory, 'missing.json');
    expect(() => loadRotorConfig(path)).toThrow(RotorConfigError);
    expect(() => loadRotorConfig(path)).toThrow(
      new RegExp(`Rotor config not found at ${path}: create it .* or point to it with \`cdk synth -c config=<path>\``),
    );
  });

  it('fails when the file is not JSON', () => {
    const path = join(directory, 'broken.json');
    writeFileSync(path, '{ "stages": [ }');
    expect(() => loadRotorConfig(path)).toThrow(new RegExp(`Rotor config ${path} is not valid JSON: `));
  });

  it('fails with the file name and every problem when the config is invalid', () => {
    const path = join(directory, 'invalid.json');
    writeFileSync(path, JSON.stringify(config({ secret: { schedule: 'rate(2 hours)' } })));
    expect(() => loadRotorConfig(path)).toThrow(
      new RegExp(
        `Rotor config ${path} is invalid:\\n  - stages\\[0\\]\\.secrets\\[0\\]\\.schedule: Secrets Manager rotates at most every 4 hours, got "rate\\(2 hours\\)"`,
      ),
    );
  });
});
