/**
 * Rotor's monthly AWS cost for a stage, from what one rotation and one health check were measured
 * to do (API calls, request units, Lambda time, metric series, log bytes), the cadence, and list
 * prices. Pure arithmetic: the bench measures, this module prices.
 */
import type { AwsListPrices } from './aws-list-prices';

/** Hours in an average month (AWS prices per-hour proration on 730). */
export const HOURS_PER_MONTH = 730;
const MINUTES_PER_MONTH = HOURS_PER_MONTH * 60;

/** What a thing Rotor does costs, measured once: per rotation of a secret, or per secret per health check. */
export interface MeasuredWork {
  readonly secretsManagerCalls: number;
  readonly dynamoDbReadUnits: number;
  readonly dynamoDbWriteUnits: number;
  readonly lambdaInvocations: number;
  /** Lambda duration in milliseconds (wall time of the handler). */
  readonly lambdaMs: number;
  readonly schedulerInvocations: number;
  /** Events put on Rotor's event bus. */
  readonly events: number;
  /** Distinct metric time series under the secret's own dimension (SecretName). */
  readonly secretSeries: number;
  /** Bytes written to CloudWatch Logs (log lines and EMF records). */
  readonly logBytes: number;
}

/** A health-check run: the work per secret checked, and what the run emits once whatever its size. */
export interface MeasuredHealthCheck {
  readonly perSecret: MeasuredWork;
  /** Stage-wide metric series (dimension Stage) per run. */
  readonly stageSeries: number;
  readonly perRunLogBytes: number;
  /** Secrets Manager calls a run makes once whatever its size (reading the pepper). */
  readonly perRunSecretsManagerCalls: number;
  /** Secrets per ListSecrets page: a run lists the stage in ceil(secrets / this) calls. */
  readonly secretsPerListPage: number;
  /** DynamoDB read units a run spends once whatever its size (the watch-list Query). @default 0 */
  readonly perRunDynamoDbReadUnits?: number;
  /** What the rotation-events function does for one Secrets Manager change event (marking the secret watched). */
  readonly perChange?: MeasuredWork;
  /** Change events (CloudTrail API calls such as PutSecretValue, UpdateSecretVersionStage, RotateSecret) per rotation. */
  readonly changesPerRotation?: number;
}

/**
 * The health check's adaptive cadence: a secret is tested at every run while watched after a
 * change (each rotation), and otherwise once per idle interval; the due secrets of a run are read
 * in batches (BatchGetSecretValue).
 */
export interface AdaptiveHealthCheck {
  /** Runs a secret is tested at after each rotation (watch period / run period). */
  readonly watchRunsPerRotation: number;
  /** Idle tests of each secret per month (a month / the idle interval). */
  readonly idleChecksPerMonth: number;
  /** Secrets read per Secrets Manager call (BatchGetSecretValue: 20). */
  readonly secretsPerBatch: number;
}

export interface Cadence {
  /** Rotations of each secret per month (every 4 hours: 182.5). */
  readonly rotationsPerMonth: number;
  /** Health checks of each secret per month (every minute: 43,800). */
  readonly healthChecksPerMonth: number;
  /** Memory of Rotor's functions, in GB. */
  readonly lambdaMemoryGb: number;
  /** Secrets one health-check invocation tests at once: its wall time is the sum of their durations / this. */
  readonly healthCheckConcurrency: number;
}

/** How the stage alarms. */
export type AlarmDesign =
  | { readonly kind: 'per-secret'; readonly alarmsPerSecret: number }
  | {
      readonly kind: 'metrics-insights';
      /** Alarm kinds (rotation failures, health-check failures, reuse). */
      readonly kinds: number;
      /** The stage's alarm groups (one alarm per kind each) for a stage of `secrets` secrets. */
      readonly alarmGroups: (secrets: number) => number;
      /**
       * Share of secrets with data in an alarm's series at evaluation (a failure or reuse): quiet
       * metrics give a query nothing else to analyse.
       */
      readonly troubledShare: number;
    };

export interface Design {
  readonly name: string;
  readonly alarms: AlarmDesign;
  /** Per-secret series a healthy secret emits at every health check beyond the measured ones (today: HealthCheckSucceeded). */
  readonly extraHealthySecretSeries: number;
  /**
   * Per-secret series a routine rotation emits beyond the measured ones (today: RotationSucceeded
   * and RotationStepLatency, now counted per stage).
   */
  readonly extraRotationSecretSeries: number;
  /** Whether the stage-wide series of a run are emitted (the quiet design's healthy count). */
  readonly stageSeries: boolean;
  /**
   * The health check's cadence. @default every secret at every run, each read with the measured
   * per-secret Secrets Manager calls (today: one GetSecretValue)
   */
  readonly healthCheck?: AdaptiveHealthCheck;
  /**
   * Without the adaptive cadence: Secrets Manager calls per secret checked (today: one
   * GetSecretValue by label). @default the measured per-secret calls
   */
  readonly readsPerCheck?: number;
}

export const COST_COMPONENTS = [
  'alarms',
  'custom metrics',
  'logs (EMF, lines)',
  'Secrets Manager API',
  'Lambda requests',
  'Lambda GB-s',
  'DynamoDB',
  'Scheduler',
  'EventBridge events',
] as const;
export type CostComponent = (typeof COST_COMPONENTS)[number];
export type MonthlyCost = Readonly<Record<CostComponent, number>>;

export interface StageWorkload {
  readonly secrets: number;
  readonly rotation: MeasuredWork;
  readonly healthCheck: MeasuredHealthCheck;
  readonly cadence: Cadence;
}

/** Monthly cost of a whole stage of `workload.secrets` secrets in `design`, by component. */
export function monthlyStageCost(workload: StageWorkload, design: Design, prices: AwsListPrices): MonthlyCost {
  const { secrets, rotation, healthCheck, cadence } = workload;
  if (!Number.isInteger(secrets) || secrets < 1) throw new Error(`a stage holds at least 1 secret, got ${secrets}`);
  const rotations = secrets * cadence.rotationsPerMonth;
  // A health-check run covers the stage once; it runs at the schedule's rate.
  const runs = cadence.healthChecksPerMonth;
  const adaptive = design.healthCheck;
  const checks = secrets * checksPerSecretMonth(cadence, design);
  // Reading the due secrets: one call per secret, or one per batch of the secrets due in a run.
  const readCalls =
    adaptive === undefined
      ? checks * (design.readsPerCheck ?? healthCheck.perSecret.secretsManagerCalls)
      : runs * Math.ceil(checks / runs / adaptive.secretsPerBatch);
  // Each change Secrets Manager reports reaches the rotation-events function (adaptive only).
  const changes = adaptive === undefined ? 0 : rotations * (healthCheck.changesPerRotation ?? 0);
  const perChange = healthCheck.perChange ?? ZERO_WORK;
  const per = (pick: (work: MeasuredWork) => number) =>
    rotations * pick(rotation) + checks * pick(healthCheck.perSecret) + changes * pick(perChange);

  const lambdaSeconds =
    (rotations * rotation.lambdaMs +
      changes * perChange.lambdaMs +
      (checks * healthCheck.perSecret.lambdaMs) / cadence.healthCheckConcurrency) /
    1000;
  const logBytes = per((work) => work.logBytes) + runs * healthCheck.perRunLogBytes;

  return {
    alarms: alarmCost(secrets, design.alarms, prices),
    'custom metrics': prices.customMetricMonth * metricMonths(workload, design),
    'logs (EMF, lines)': (logBytes / 1e9) * prices.logIngestionPerGb,
    'Secrets Manager API':
      (rotations * rotation.secretsManagerCalls +
        changes * perChange.secretsManagerCalls +
        readCalls +
        runs * (healthCheck.perRunSecretsManagerCalls + Math.ceil(secrets / healthCheck.secretsPerListPage))) *
      prices.secretsManagerCall,
    'Lambda requests':
      (rotations * rotation.lambdaInvocations +
        changes * perChange.lambdaInvocations +
        runs * healthCheck.perSecret.lambdaInvocations) *
      prices.lambdaRequest,
    'Lambda GB-s': lambdaSeconds * cadence.lambdaMemoryGb * prices.lambdaGbSecond,
    DynamoDB:
      (per((work) => work.dynamoDbReadUnits) + runs * (healthCheck.perRunDynamoDbReadUnits ?? 0)) *
        prices.dynamoDbReadUnit +
      per((work) => work.dynamoDbWriteUnits) * prices.dynamoDbWriteUnit,
    // The health check's own schedule fires once per run for the whole stage.
    Scheduler: (per((work) => work.schedulerInvocations) + runs) * prices.schedulerInvocation,
    'EventBridge events': per((work) => work.events) * prices.eventBridgeEvent,
  };
}

const ZERO_WORK: MeasuredWork = {
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

/** Health-check tests of each secret per month under `design` (every run, or the adaptive cadence). */
export function checksPerSecretMonth(cadence: Cadence, design: Design): number {
  const adaptive = design.healthCheck;
  if (adaptive === undefined) return cadence.healthChecksPerMonth;
  return Math.min(
    cadence.healthChecksPerMonth,
    adaptive.idleChecksPerMonth + cadence.rotationsPerMonth * adaptive.watchRunsPerRotation,
  );
}

/** {@link monthlyStageCost} divided by the stage's secrets. */
export function monthlyCostPerSecret(workload: StageWorkload, design: Design, prices: AwsListPrices): MonthlyCost {
  const stage = monthlyStageCost(workload, design, prices);
  return Object.fromEntries(
    COST_COMPONENTS.map((component) => [component, stage[component] / workload.secrets]),
  ) as MonthlyCost;
}

export function total(cost: MonthlyCost): number {
  return COST_COMPONENTS.reduce((sum, component) => sum + cost[component], 0);
}

/**
 * Custom metrics are billed per series, pro rata by the hours in which the series receives data:
 * a series written every minute costs a whole metric-month; one written at each rotation (at most
 * once an hour) costs the share of the month's hours it is written in.
 */
function metricMonths(workload: StageWorkload, design: Design): number {
  const { secrets, rotation, healthCheck, cadence } = workload;
  const hoursWithRotation = Math.min(HOURS_PER_MONTH, cadence.rotationsPerMonth) / HOURS_PER_MONTH;
  const hoursWithChecks = Math.min(HOURS_PER_MONTH, cadence.healthChecksPerMonth) / HOURS_PER_MONTH;
  const healthySecretSeries = healthCheck.perSecret.secretSeries + design.extraHealthySecretSeries;
  return (
    secrets * (rotation.secretSeries + design.extraRotationSecretSeries) * hoursWithRotation +
    secrets * healthySecretSeries * hoursWithChecks +
    (design.stageSeries ? healthCheck.stageSeries * hoursWithChecks : 0)
  );
}

function alarmCost(secrets: number, alarms: AlarmDesign, prices: AwsListPrices): number {
  if (alarms.kind === 'per-secret') return secrets * alarms.alarmsPerSecret * prices.standardAlarmMonth;
  // The hash fills the groups about evenly; each alarm analyses at least one series.
  const groups = alarms.alarmGroups(secrets);
  const metrics = groups * Math.max(1, Math.ceil((secrets / groups) * alarms.troubledShare));
  return alarms.kinds * metrics * prices.metricsInsightsAlarmMetricMonth;
}

/** Rotor's health check runs every minute; the cadence the fleet is priced at: rotation every 4 hours. */
export function cadenceOf(options: {
  readonly rotationEveryHours: number;
  readonly healthCheckEveryMinutes: number;
  readonly lambdaMemoryMb: number;
  readonly healthCheckConcurrency: number;
}): Cadence {
  return {
    rotationsPerMonth: HOURS_PER_MONTH / options.rotationEveryHours,
    healthChecksPerMonth: MINUTES_PER_MONTH / options.healthCheckEveryMinutes,
    lambdaMemoryGb: options.lambdaMemoryMb / 1024,
    healthCheckConcurrency: options.healthCheckConcurrency,
  };
}

/**
 * DynamoDB request units of one API request (on-demand): a read of an item up to 4 KB is one read
 * unit, a write up to 1 KB one write unit, and each item of a transaction costs two. Rotor's items
 * are well under 1 KB; a Query is priced as reading one item (Rotor's queries return a handful).
 */
export function dynamoDbUnits(operation: string, body: string): { readonly read: number; readonly write: number } {
  const name = operation.replace(/^DynamoDB_\d+\./, '');
  const items = () => ((JSON.parse(body) as { TransactItems?: unknown[] }).TransactItems ?? []).length;
  switch (name) {
    case 'GetItem':
    case 'Query':
    case 'Scan':
      return { read: 1, write: 0 };
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return { read: 0, write: 1 };
    case 'TransactWriteItems':
      return { read: 0, write: 2 * items() };
    case 'TransactGetItems':
      return { read: 2 * items(), write: 0 };
    default:
      return { read: 0, write: 0 };
  }
}
