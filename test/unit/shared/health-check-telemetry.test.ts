import type { SecretHealthResult } from '../../../lambda/core/health/run-health-check';
import { HealthCheckTelemetry } from '../../../lambda/shared/health-check-telemetry';
import { createLogger, SecretMetrics } from '../../../lambda/shared/telemetry';

const HEALTHY: SecretHealthResult = {
  secretArn: 'arn:aws:secretsmanager:eu-west-1:111111111111:secret:rotor/dev/a-AbCdEf',
  secretName: 'rotor/dev/a',
  outcome: 'healthy',
  provider: 'managed-token',
  versionId: 'version-a',
  durationMs: 12,
};
const UNHEALTHY: SecretHealthResult = {
  ...HEALTHY,
  secretArn: HEALTHY.secretArn.replace('/a-', '/b-'),
  secretName: 'rotor/dev/b',
  outcome: 'unhealthy',
  reason: 'the ledger has the credential of AWSCURRENT as revoked, not current',
};
const SKIPPED: SecretHealthResult = {
  secretArn: HEALTHY.secretArn.replace('/a-', '/c-'),
  secretName: 'rotor/dev/c',
  outcome: 'skipped',
  reason: 'the health check ran out of its time budget before reaching it',
  durationMs: 0,
};

describe('Class: HealthCheckTelemetry', () => {
  let written: string;
  let telemetry: HealthCheckTelemetry;

  beforeEach(() => {
    written = '';
    const capture = (chunk: unknown): boolean => {
      written += String(chunk);
      return true;
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    jest.spyOn(process.stderr, 'write').mockImplementation(capture);
    telemetry = new HealthCheckTelemetry(
      'development',
      new SecretMetrics('rotor-health-check'),
      createLogger('rotor-health-check'),
    );
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  const records = (): Record<string, unknown>[] =>
    written
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const emf = () => records().filter((record) => '_aws' in record);
  const logLines = () => records().filter((record) => !('_aws' in record));

  it('emits no metric for a healthy secret, only its log line', () => {
    // Act
    telemetry.result(HEALTHY);

    // Assess
    expect(emf()).toEqual([]);
    expect(logLines()).toEqual([
      expect.objectContaining({
        message: 'health check passed',
        secretName: 'rotor/dev/a',
        outcome: 'healthy',
        versionId: 'version-a',
      }) as unknown,
    ]);
  });

  it('emits HealthCheckFailed under the SecretName of a failing secret, and warns', () => {
    // Act
    telemetry.result(UNHEALTHY);

    // Assess
    expect(emf()).toEqual([
      {
        _aws: {
          Timestamp: expect.any(Number) as unknown,
          CloudWatchMetrics: [
            {
              Namespace: 'Rotor',
              Dimensions: [['SecretName']],
              Metrics: [{ Name: 'HealthCheckFailed', Unit: 'Count' }],
            },
          ],
        },
        SecretName: 'rotor/dev/b',
        HealthCheckFailed: 1,
      },
    ]);
    expect(logLines()).toEqual([
      expect.objectContaining({ level: 'WARN', message: 'health check failed', reason: UNHEALTHY.reason }) as unknown,
    ]);
  });

  it('emits nothing for a skipped secret', () => {
    // Act
    telemetry.result(SKIPPED);

    // Assess
    expect(emf()).toEqual([]);
    expect(logLines()).toEqual([expect.objectContaining({ message: 'health check skipped' }) as unknown]);
  });

  it("counts a run's healthy secrets in one HealthChecksSucceeded under the Stage, whatever their number", () => {
    // Act: a run over 1,000 healthy secrets, one failing and one skipped
    for (let index = 0; index < 1000; index += 1) {
      telemetry.result({ ...HEALTHY, secretName: `rotor/dev/s${index}` });
    }
    telemetry.result(UNHEALTHY);
    telemetry.result(SKIPPED);
    telemetry.summary({ secrets: 1002, due: 1002, checked: 1001, healthy: 1000, unhealthy: 1, skipped: 1 });

    // Assess: two records, so two time series: the stage's count and the failing secret's failure
    const records = emf();
    expect(records).toHaveLength(2);
    expect(records.map((record) => [record.SecretName, record.Stage])).toEqual([
      ['rotor/dev/b', undefined],
      [undefined, 'development'],
    ]);
    expect(records[1]).toEqual({
      _aws: {
        Timestamp: expect.any(Number) as unknown,
        CloudWatchMetrics: [
          { Namespace: 'Rotor', Dimensions: [['Stage']], Metrics: [{ Name: 'HealthChecksSucceeded', Unit: 'Count' }] },
        ],
      },
      Stage: 'development',
      HealthChecksSucceeded: 1000,
    });
    expect(logLines().at(-1)).toMatchObject({ message: 'health check done', healthy: 1000, unhealthy: 1 });
  });

  it('counts 0 healthy secrets too, so that a run that found none is a point, not a gap', () => {
    // Act
    telemetry.result(UNHEALTHY);
    telemetry.summary({ secrets: 1, due: 1, checked: 1, healthy: 0, unhealthy: 1, skipped: 0 });

    // Assess
    expect(emf()[1]).toMatchObject({ Stage: 'development', HealthChecksSucceeded: 0 });
  });
});
