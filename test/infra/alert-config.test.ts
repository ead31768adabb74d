import { parseRotorConfig } from '../../lib/config/rotor-config';

type Fields = Record<string, unknown>;

/** A valid one-stage config with two secrets; `stage` overrides stage fields, `secret` the first secret's. */
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
          { name: 'release-token', provider: 'managed-token', schedule: 'rate(1 day)', window: '1h' },
        ],
        ...overrides.stage,
      },
    ],
  };
}

const parse = (value: unknown) => () => parseRotorConfig(value);
const stageOf = (value: unknown) => parseRotorConfig(value).stages[0]!;
const DEFAULT_THRESHOLDS = {
  rotationFailures: { threshold: 2, periodSeconds: 60, evaluationPeriods: 1 },
  healthCheckFailures: { threshold: 1, periodSeconds: 60, evaluationPeriods: 2 },
  reuseDetected: { threshold: 1, periodSeconds: 60, evaluationPeriods: 1 },
};

describe('parseRotorConfig: health checks, alarms and rollback', () => {
  it('default to a check every minute, 3 rollback attempts, no subscriptions and the DESIGN.md thresholds', () => {
    const stage = stageOf(config());
    expect(stage).toMatchObject({
      healthCheckSchedule: 'rate(1 minute)',
      maxRollbackAttempts: 3,
      alertEmails: [],
      alertHttpsEndpoints: [],
      alarms: DEFAULT_THRESHOLDS,
    });
    expect(stage.secrets.map((secret) => secret.alarms)).toEqual([DEFAULT_THRESHOLDS, DEFAULT_THRESHOLDS]);
  });

  it('are read from the file', () => {
    const stage = stageOf(
      config({
        stage: {
          healthCheckSchedule: 'rate(5 minutes)',
          maxRollbackAttempts: 10,
          alertEmails: ['oncall@example.com', 'security+rotor@example.org'],
          alertHttpsEndpoints: ['https://hooks.example.com/rotor'],
        },
      }),
    );
    expect(stage).toMatchObject({
      healthCheckSchedule: 'rate(5 minutes)',
      maxRollbackAttempts: 10,
      alertEmails: ['oncall@example.com', 'security+rotor@example.org'],
      alertHttpsEndpoints: ['https://hooks.example.com/rotor'],
    });
  });

  describe('alarms', () => {
    it("merge field by field: the default, then the stage's, then the secret's", () => {
      const stage = stageOf(
        config({
          stage: {
            alarms: {
              rotationFailures: { threshold: 3 },
              healthCheckFailures: { periodSeconds: 300, evaluationPeriods: 2 },
            },
          },
          secret: { alarms: { rotationFailures: { evaluationPeriods: 5 }, reuseDetected: { threshold: 2 } } },
        }),
      );
      const stageThresholds = {
        rotationFailures: { threshold: 3, periodSeconds: 60, evaluationPeriods: 1 },
        healthCheckFailures: { threshold: 1, periodSeconds: 300, evaluationPeriods: 2 },
        reuseDetected: { threshold: 1, periodSeconds: 60, evaluationPeriods: 1 },
      };
      expect(stage.alarms).toEqual(stageThresholds);
      expect(stage.secrets[0]!.alarms).toEqual({
        rotationFailures: { threshold: 3, periodSeconds: 60, evaluationPeriods: 5 },
        healthCheckFailures: { threshold: 1, periodSeconds: 300, evaluationPeriods: 2 },
        reuseDetected: { threshold: 2, periodSeconds: 60, evaluationPeriods: 1 },
      });
      expect(stage.secrets[1]!.alarms).toEqual(stageThresholds);
    });

    it.each([
      ['threshold', 0, /must be a whole number from 1 to 100000, got 0/],
      ['threshold', 1.5, /must be a whole number from 1 to 100000, got 1\.5/],
      ['threshold', 100001, /must be a whole number from 1 to 100000, got 100001/],
      [
        'periodSeconds',
        30,
        /must be a multiple of 60 from 60 to 86400 \(Rotor's metrics have one-minute resolution\), got 30/,
      ],
      ['periodSeconds', 90, /must be a multiple of 60 from 60 to 86400 .*, got 90/],
      ['periodSeconds', 86460, /must be a multiple of 60 from 60 to 86400 .*, got 86460/],
      ['evaluationPeriods', 0, /must be a whole number of periods from 1 to 1440, got 0/],
      ['evaluationPeriods', 1441, /must be a whole number of periods from 1 to 1440, got 1441/],
    ])('fail on %s %d, at the stage and at a secret', (field, value, problem) => {
      expect(parse(config({ stage: { alarms: { healthCheckFailures: { [field]: value } } } }))).toThrow(
        new RegExp(`stages\\[0\\]\\.alarms\\.healthCheckFailures\\.${field}: ${problem.source}`),
      );
      expect(parse(config({ secret: { alarms: { reuseDetected: { [field]: value } } } }))).toThrow(
        new RegExp(`stages\\[0\\]\\.secrets\\[0\\]\\.alarms\\.reuseDetected\\.${field}: ${problem.source}`),
      );
    });

    it('fail on a string', () => {
      expect(parse(config({ stage: { alarms: { rotationFailures: { threshold: '2' } } } }))).toThrow(
        /stages\[0\]\.alarms\.rotationFailures\.threshold: must be a number, got "2"/,
      );
    });

    it('fail on an evaluation window longer than CloudWatch allows, where it is set', () => {
      expect(
        parse(config({ stage: { alarms: { rotationFailures: { periodSeconds: 600, evaluationPeriods: 145 } } } })),
      ).toThrow(
        /stages\[0\]\.alarms\.rotationFailures: periodSeconds × evaluationPeriods must be at most 86400 seconds \(one day for a period under an hour\), got 600 × 145 = 87000/,
      );
      expect(
        parse(config({ stage: { alarms: { reuseDetected: { periodSeconds: 86400, evaluationPeriods: 8 } } } })),
      ).toThrow(
        /stages\[0\]\.alarms\.reuseDetected: periodSeconds × evaluationPeriods must be at most 604800 seconds \(seven days\), got 86400 × 8 = 691200/,
      );
      // A stage period with a secret's evaluation periods: reported at the secret.
      expect(
        parse(
          config({
            stage: { alarms: { healthCheckFailures: { periodSeconds: 1800 } } },
            secret: { alarms: { healthCheckFailures: { evaluationPeriods: 49 } } },
          }),
        ),
      ).toThrow(
        /stages\[0\]\.secrets\[0\]\.alarms\.healthCheckFailures: periodSeconds × evaluationPeriods must be at most 86400 seconds .*, got 1800 × 49 = 88200/,
      );
    });

    it('accept the longest windows CloudWatch allows', () => {
      expect(
        parse(config({ stage: { alarms: { rotationFailures: { periodSeconds: 60, evaluationPeriods: 1440 } } } })),
      ).not.toThrow();
      expect(
        parse(config({ stage: { alarms: { rotationFailures: { periodSeconds: 86400, evaluationPeriods: 7 } } } })),
      ).not.toThrow();
    });

    it('report a stage window once, not again for each secret', () => {
      let issues: readonly string[] = [];
      try {
        parseRotorConfig(
          config({ stage: { alarms: { rotationFailures: { periodSeconds: 600, evaluationPeriods: 145 } } } }),
        );
      } catch (error) {
        issues = (error as { issues: readonly string[] }).issues;
      }
      expect(issues).toEqual([
        'stages[0].alarms.rotationFailures: periodSeconds × evaluationPeriods must be at most 86400 seconds (one day for a period under an hour), got 600 × 145 = 87000',
      ]);
    });

    it('refuse an unknown kind or field, so that a misspelling is not silently ignored', () => {
      expect(parse(config({ stage: { alarms: { rotationFailure: { threshold: 1 } } } }))).toThrow(
        /stages\[0\]\.alarms: has unknown field "rotationFailure"; check the spelling/,
      );
      expect(parse(config({ secret: { alarms: { reuseDetected: { period: 60 } } } }))).toThrow(
        /stages\[0\]\.secrets\[0\]\.alarms\.reuseDetected: has unknown field "period"; check the spelling/,
      );
    });

    it('fail when an alarm name would be longer than CloudWatch allows', () => {
      // rotor-development-health-check-failures- (40) + rotor-development- (18) + the name.
      expect(parse(config({ secret: { name: 'x'.repeat(197) } }))).not.toThrow();
      expect(parse(config({ secret: { name: 'x'.repeat(198) } }))).toThrow(
        /stages\[0\]\.secrets\[0\]\.name: with the stage and the alarm kind the alarm name must be at most 255 characters, got 256 \("rotor-development-health-check-failures-rotor-development-x+\.\.\.\)/,
      );
    });
  });

  describe('healthCheckSchedule', () => {
    it.each(['rate(1 minute)', 'rate(2 minutes)', 'rate(1 hour)', 'cron(0/5 * * * ? *)'])(
      'accepts %s',
      (healthCheckSchedule) => {
        expect(stageOf(config({ stage: { healthCheckSchedule } })).healthCheckSchedule).toBe(healthCheckSchedule);
      },
    );

    it.each([
      [
        'every minute',
        /must be "rate\(N minutes\|hours\|days\)" or "cron\(minutes hours day-of-month month day-of-week year\)" \(UTC\)/,
      ],
      ['rate(1 minutes)', /rate\(\) takes a singular unit for 1 and a plural one otherwise/],
      ['rate(30 seconds)', /must be "rate\(N minutes\|hours\|days\)"/],
      ['cron(* * * * *)', /cron\(\) needs 6 fields \(minutes hours day-of-month month day-of-week year\), found 5/],
    ])('fails on %j', (healthCheckSchedule, problem) => {
      const value = JSON.stringify(healthCheckSchedule).replace(/[()*?$/]/g, '\\$&');
      expect(parse(config({ stage: { healthCheckSchedule } }))).toThrow(
        new RegExp(`stages\\[0\\]\\.healthCheckSchedule: ${problem.source}.*, got ${value}`),
      );
    });
  });

  describe('maxRollbackAttempts', () => {
    it.each([1, 3, 10])('accepts %d', (maxRollbackAttempts) => {
      expect(stageOf(config({ stage: { maxRollbackAttempts } })).maxRollbackAttempts).toBe(maxRollbackAttempts);
    });

    it.each([0, 11, 2.5, -1])('fails on %d', (maxRollbackAttempts) => {
      expect(parse(config({ stage: { maxRollbackAttempts } }))).toThrow(
        new RegExp(
          `stages\\[0\\]\\.maxRollbackAttempts: must be a whole number of attempts from 1 to 10, got ${maxRollbackAttempts}$`,
          'm',
        ),
      );
    });
  });

  describe('alertEmails and alertHttpsEndpoints', () => {
    it.each(['oncall', 'oncall@', '@example.com', 'on call@example.com', 'oncall@example', 'a@b@example.com'])(
      'fail on the email address %j',
      (email) => {
        expect(parse(config({ stage: { alertEmails: [email] } }))).toThrow(
          new RegExp(
            `stages\\[0\\]\\.alertEmails\\[0\\]: must be an email address such as "oncall@example\\.com", got ${JSON.stringify(email)}`,
          ),
        );
      },
    );

    it('fail on an address given twice, whatever its case', () => {
      expect(parse(config({ stage: { alertEmails: ['oncall@example.com', 'OnCall@example.com'] } }))).toThrow(
        /stages\[0\]\.alertEmails\[1\]: "OnCall@example\.com" is also entry \[0\]/,
      );
    });

    it.each([
      'http://hooks.example.com/rotor',
      'https://user:pass@hooks.example.com/rotor',
      'hooks.example.com',
      'https://',
    ])('fail on the endpoint %j', (endpoint) => {
      expect(parse(config({ stage: { alertHttpsEndpoints: [endpoint] } }))).toThrow(
        new RegExp(
          `stages\\[0\\]\\.alertHttpsEndpoints\\[0\\]: must be an https:// URL without a user name or password, at most 2048 characters, got ${JSON.stringify(endpoint).replace(/[/.]/g, '\\$&')}`,
        ),
      );
    });

    it('fail on an endpoint given twice', () => {
      expect(
        parse(
          config({ stage: { alertHttpsEndpoints: ['https://hooks.example.com/a', 'https://hooks.example.com/a'] } }),
        ),
      ).toThrow(/stages\[0\]\.alertHttpsEndpoints\[1\]: "https:\/\/hooks\.example\.com\/a" is also entry \[0\]/);
    });

    it('fail when not a list', () => {
      expect(parse(config({ stage: { alertEmails: 'oncall@example.com' } }))).toThrow(
        /stages\[0\]\.alertEmails: must be a list, got "oncall@example\.com"/,
      );
    });
  });
});
