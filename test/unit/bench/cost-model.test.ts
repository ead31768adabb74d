import { AWS_LIST_PRICES_US_EAST_1 as PRICES } from '../../../bench/aws-list-prices';
import {
  cadenceOf,
  dynamoDbUnits,
  monthlyCostPerSecret,
  monthlyStageCost,
  total,
  type Design,
  type MeasuredWork,
  type StageWorkload,
} from '../../../bench/cost-model';

const NOTHING: MeasuredWork = {
  secretsManagerCalls: 0,
  dynamoDbReadUnits: 0,
  dynamoDbWriteUnits: 0,
  lambdaInvocations: 0,
  lambdaMs: 0,
  schedulerInvocations: 0,
  events: 0,
  secretSeries: 0,
  logBytes: 0,
};
// Every 4 hours, every minute: 182.5 rotations and 43,800 checks per secret per month.
const CADENCE = cadenceOf({
  rotationEveryHours: 4,
  healthCheckEveryMinutes: 1,
  lambdaMemoryMb: 1024,
  healthCheckConcurrency: 10,
});
const TODAY: Design = {
  name: 'today',
  alarms: { kind: 'per-secret', alarmsPerSecret: 3 },
  extraHealthySecretSeries: 1,
  extraRotationSecretSeries: 0,
  stageSeries: false,
};
const FLEET: Design = {
  name: 'fleet',
  alarms: {
    kind: 'metrics-insights',
    kinds: 3,
    alarmGroups: (secrets) => Math.min(Math.ceil(secrets / 160), 10),
    troubledShare: 0.01,
  },
  extraHealthySecretSeries: 0,
  extraRotationSecretSeries: 0,
  stageSeries: true,
};

function workload(
  secrets: number,
  rotation: Partial<MeasuredWork> = {},
  check: Partial<MeasuredWork> = {},
): StageWorkload {
  return {
    secrets,
    rotation: { ...NOTHING, ...rotation },
    healthCheck: {
      perSecret: { ...NOTHING, lambdaInvocations: 1, ...check },
      stageSeries: 1,
      perRunLogBytes: 0,
      perRunSecretsManagerCalls: 0,
      secretsPerListPage: 100,
    },
    cadence: CADENCE,
  };
}

describe('Function: cadenceOf', () => {
  it('turns every 4 hours and every minute into 182.5 rotations and 43,800 checks a month', () => {
    expect(CADENCE).toEqual({
      rotationsPerMonth: 182.5,
      healthChecksPerMonth: 43_800,
      lambdaMemoryGb: 1,
      healthCheckConcurrency: 10,
    });
  });
});

describe('Function: monthlyCostPerSecret', () => {
  it("prices today's three standard alarms per secret at $0.30 and a per-minute health metric at $0.30", () => {
    const cost = monthlyCostPerSecret(workload(100), TODAY, PRICES);
    expect(cost.alarms).toBeCloseTo(0.3, 10);
    expect(cost['custom metrics']).toBeCloseTo(0.3, 10);
  });

  it('prices one GetSecretValue per secret per check at 43,800 calls: about $0.22, plus its share of ListSecrets', () => {
    const cost = monthlyCostPerSecret(workload(100, {}, { secretsManagerCalls: 1 }), FLEET, PRICES);
    expect(cost['Secrets Manager API']).toBeCloseTo((43_800 * (1 + 1 / 100) * 0.05) / 10_000, 10);
  });

  it('adds the calls a run makes once (the pepper) and one ListSecrets per 100 secrets', () => {
    const base = workload(250);
    const cost = monthlyStageCost(
      { ...base, healthCheck: { ...base.healthCheck, perRunSecretsManagerCalls: 1 } },
      FLEET,
      PRICES,
    );
    expect(cost['Secrets Manager API']).toBeCloseTo(43_800 * (1 + 3) * 0.000005, 10);
  });

  it('charges a per-secret series written once per rotation for the hours it is written in (a quarter at 4 hours)', () => {
    const cost = monthlyCostPerSecret(workload(1000, { secretSeries: 2 }), FLEET, PRICES);
    // 2 series x 0.25 of the month x $0.30, plus the stage's one series shared by 1,000 secrets.
    expect(cost['custom metrics']).toBeCloseTo(2 * 0.25 * 0.3 + 0.3 / 1000, 10);
  });

  it('spreads the stage-wide health series and the Metrics Insights alarms over the fleet', () => {
    const small = monthlyCostPerSecret(workload(100), FLEET, PRICES);
    const large = monthlyCostPerSecret(workload(10_000), FLEET, PRICES);
    expect(small['custom metrics']).toBeCloseTo(0.003, 10);
    expect(large['custom metrics']).toBeCloseTo(0.00003, 10);
    // 100 secrets: 1 group, 3 alarms, each analysing 1 troubled series; 10,000: 10 groups of
    // 1,000, so 10 alarms per kind, 10 series each.
    expect(small.alarms).toBeCloseTo((3 * 1 * 0.1) / 100, 10);
    expect(large.alarms).toBeCloseTo((3 * 10 * 10 * 0.1) / 10_000, 10);
  });

  it('bills Lambda one request per rotation step and one per health-check run, and GB-s by wall time', () => {
    const stage = monthlyStageCost(
      workload(1000, { lambdaInvocations: 4, lambdaMs: 250 }, { lambdaMs: 20 }),
      FLEET,
      PRICES,
    );
    expect(stage['Lambda requests']).toBeCloseTo((1000 * 182.5 * 4 + 43_800) * 0.2e-6, 10);
    // Rotations: 1000 x 182.5 x 0.25 s; checks: 1000 x 43,800 x 0.02 s / 10 at once; 1 GB.
    expect(stage['Lambda GB-s']).toBeCloseTo((1000 * 182.5 * 0.25 + (1000 * 43_800 * 0.02) / 10) * 0.0000166667, 6);
  });

  it('prices DynamoDB units, schedules (with the health check schedule, once per run), events and log bytes', () => {
    const stage = monthlyStageCost(
      workload(
        10,
        { dynamoDbReadUnits: 3, dynamoDbWriteUnits: 6, schedulerInvocations: 1, events: 2, logBytes: 1000 },
        { dynamoDbReadUnits: 1, logBytes: 200 },
      ),
      FLEET,
      PRICES,
    );
    const rotations = 10 * 182.5;
    const checks = 10 * 43_800;
    expect(stage.DynamoDB).toBeCloseTo((rotations * 3 + checks) * 0.125e-6 + rotations * 6 * 0.625e-6, 10);
    expect(stage.Scheduler).toBeCloseTo((rotations + 43_800) * 1e-6, 10);
    expect(stage['EventBridge events']).toBeCloseTo(rotations * 2 * 1e-6, 10);
    expect(stage['logs (EMF, lines)']).toBeCloseTo(((rotations * 1000 + checks * 200) / 1e9) * 0.5, 10);
  });

  it('prices the adaptive cadence: checks after each rotation and once an hour, read 20 to a BatchGetSecretValue', () => {
    // GIVEN 10,000 secrets, each watched for 15 runs after each of its 182.5 rotations and checked
    // once an hour otherwise: 3,467.5 checks a month, about 792 per run, 40 batches per run
    const adaptive: Design = {
      ...FLEET,
      healthCheck: { watchRunsPerRotation: 15, idleChecksPerMonth: 730, secretsPerBatch: 20 },
    };
    const base = workload(10_000, {}, { secretsManagerCalls: 1, dynamoDbReadUnits: 1 });
    const perChange = { ...NOTHING, lambdaInvocations: 1, dynamoDbWriteUnits: 1 };
    const stage = monthlyStageCost(
      {
        ...base,
        healthCheck: { ...base.healthCheck, perRunDynamoDbReadUnits: 2, perChange, changesPerRotation: 3 },
      },
      adaptive,
      PRICES,
    );
    // THEN
    expect(stage['Secrets Manager API']).toBeCloseTo(43_800 * (40 + 100) * 0.000005, 6);
    const changes = 10_000 * 182.5 * 3;
    expect(stage.DynamoDB).toBeCloseTo((10_000 * 3_467.5 + 43_800 * 2) * 0.125e-6 + changes * 0.625e-6, 6);
    expect(stage['Lambda requests']).toBeCloseTo((changes + 43_800) * 0.2e-6, 6);
  });

  it('never checks a secret more often than every run', () => {
    const hot: Design = {
      ...FLEET,
      healthCheck: { watchRunsPerRotation: 1_000, idleChecksPerMonth: 730, secretsPerBatch: 20 },
    };
    const stage = monthlyStageCost(workload(20, {}, { dynamoDbReadUnits: 1 }), hot, PRICES);
    expect(stage.DynamoDB).toBeCloseTo(20 * 43_800 * 0.125e-6, 10);
  });

  it('sums the components in total', () => {
    const cost = monthlyCostPerSecret(workload(100), TODAY, PRICES);
    expect(total(cost)).toBeCloseTo(
      Object.values(cost).reduce((sum, value) => sum + value, 0),
      12,
    );
  });

  it('refuses a stage without secrets', () => {
    expect(() => monthlyStageCost(workload(0), FLEET, PRICES)).toThrow('a stage holds at least 1 secret, got 0');
  });
});

describe('Function: dynamoDbUnits', () => {
  it('counts a read unit per GetItem or Query, a write unit per single write, two per transaction item', () => {
    expect(dynamoDbUnits('DynamoDB_20120810.GetItem', '{}')).toEqual({ read: 1, write: 0 });
    expect(dynamoDbUnits('DynamoDB_20120810.Query', '{}')).toEqual({ read: 1, write: 0 });
    expect(dynamoDbUnits('DynamoDB_20120810.UpdateItem', '{}')).toEqual({ read: 0, write: 1 });
    expect(
      dynamoDbUnits('DynamoDB_20120810.TransactWriteItems', JSON.stringify({ TransactItems: [{}, {}, {}] })),
    ).toEqual({ read: 0, write: 6 });
    expect(dynamoDbUnits('DynamoDB_20120810.DescribeTable', '{}')).toEqual({ read: 0, write: 0 });
  });
});
