/**
 * Measures, on the emulator, what one rotation of a managed token and one health check do per
 * secret (API calls per operation at the wire, DynamoDB request units, Lambda invocations and
 * time, metric series and log bytes the functions write), then prices both designs with the cost
 * model: today's (three standard alarms per secret, a per-secret health metric every minute, every
 * secret read every minute) and the fleet's (Metrics Insights alarms per alarm group and kind, healthy
 * secrets counted per stage, the adaptive health check: watched after each change, idle once an
 * hour, read in batches), with a scaled run for the health check's time at 10,000 secrets.
 */
import { performance } from 'node:perf_hooks';
import { beginRotation } from '../cli/local/local-rotation';
import { ROTATION_STEPS } from '../lambda/core/rotation/rotation-event';
import { startLocalRotor } from '../test/support/local-rotor';
import { AWS_LIST_PRICES_US_EAST_1 } from './aws-list-prices';
import { HEALTH_AND_ROLLBACK_DEFAULTS, HealthAndRollbackEnv } from '../lambda/shared/rotor-constants';
import { measureScaledRun, type ScaleMeasurement } from './health-check-scale';
import {
  cadenceOf,
  checksPerSecretMonth,
  COST_COMPONENTS,
  dynamoDbUnits,
  monthlyCostPerSecret,
  total,
  type Design,
  type MeasuredHealthCheck,
  type MeasuredWork,
  type StageWorkload,
} from './cost-model';
import { putSecretValueEvent } from '../test/support/secret-change-event';
import { defaultAlarmGroups } from '../lib/config/alarm-groups-config';
import { benchShards } from './fleet-synth';

/** Secrets measured: each rotated once, then checked together in one health-check run. */
const MEASURED_SECRETS = 5;
/** The health check lists the stage's secrets 100 at a time (ListSecrets MaxResults). */
const SECRETS_PER_LIST_PAGE = 100;
const FLEET_SIZES = [100, 1000, 10_000] as const;
/** The defaults of a stage: Rotor's functions have 256 MB; the health check tests 10 secrets at once. */
const CADENCE = cadenceOf({
  rotationEveryHours: 4,
  healthCheckEveryMinutes: 1,
  lambdaMemoryMb: 256,
  healthCheckConcurrency: 10,
});

export const TODAY: Design = {
  name: 'today: per-secret alarms and health metric',
  alarms: { kind: 'per-secret', alarmsPerSecret: 3 },
  // The per-secret HealthCheckSucceeded that the health check wrote every minute before it went quiet.
  extraHealthySecretSeries: 1,
  // The per-secret RotationSucceeded and RotationStepLatency each rotation wrote before they went to the stage.
  extraRotationSecretSeries: 2,
  stageSeries: false,
  // Every secret read every minute with one GetSecretValue by its label.
  readsPerCheck: 1,
};
/** The health check's default cadence: watched 15 runs after each change, otherwise once an hour, 20 secrets a read. */
const ADAPTIVE_HEALTH_CHECK = {
  watchRunsPerRotation:
    HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckWatchSeconds / HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckRunSeconds,
  idleChecksPerMonth: (730 * 3600) / HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckIdleSeconds,
  secretsPerBatch: 20,
} as const;

export const FLEET: Design = {
  name: 'fleet: Metrics Insights alarms, quiet metrics, adaptive health check',
  // One alarm per kind and alarm group (the default: the bench's shards, up to 10); 1 % of secrets
  // with a failure series in the window.
  alarms: {
    kind: 'metrics-insights',
    kinds: 3,
    alarmGroups: (secrets) => defaultAlarmGroups(benchShards(secrets)),
    troubledShare: 0.01,
  },
  extraHealthySecretSeries: 0,
  extraRotationSecretSeries: 0,
  stageSeries: true,
  healthCheck: ADAPTIVE_HEALTH_CHECK,
};

// Secrets Manager's API calls that CloudTrail reports as a change (besides the schedule's RotateSecret).
const CHANGE_CALLS = ['secretsmanager.PutSecretValue', 'secretsmanager.UpdateSecretVersionStage'];

interface Emitted {
  readonly logs: readonly string[];
}

export interface CostMeasurement {
  readonly rotation: MeasuredWork;
  readonly healthCheck: MeasuredHealthCheck;
  readonly callsPerRotation: Readonly<Record<string, number>>;
  readonly callsPerCheckedSecret: Readonly<Record<string, number>>;
  /** BatchGetSecretValue calls of the run that tested every measured secret. */
  readonly batchCalls: number;
  /** Calls of a run that tested nothing (idle cadence, nothing watched). */
  readonly callsPerIdleRun: Readonly<Record<string, number>>;
  /** Secrets the run after the change events tested, of those changed. */
  readonly watchedTested: number;
  readonly scale: ScaleMeasurement;
}

export async function measureCost(): Promise<CostMeasurement> {
  const rotor = await startLocalRotor();
  try {
    const arns: string[] = [];
    for (let index = 0; index < MEASURED_SECRETS; index += 1) {
      arns.push(await rotor.createSecret(`rotor/development/cost-${index}`, '{"provider":"managed-token"}'));
    }

    // One rotation of each secret, every step in its own process (wall time is an upper bound).
    const rotationLogs: string[] = [];
    let rotationMs = 0;
    let rotationRequests: { operation: string; body: string }[] = [];
    for (const arn of arns) {
      // The first rotation replaces the placeholder value; the second is the steady state (it
      // schedules the retirement of a previous credential), and is the one measured.
      const first = await beginRotation(rotor.local, arn);
      for (const step of ROTATION_STEPS) await rotor.runStep(step, arn, first.versionId);
      const { versionId } = await beginRotation(rotor.local, arn);
      rotor.proxy.resetCounts();
      for (const step of ROTATION_STEPS) {
        const started = performance.now();
        const run = await rotor.runStep(step, arn, versionId);
        rotationMs += performance.now() - started;
        if (!run.ok) throw new Error(`${step} failed in the cost bench: ${run.error?.errorMessage ?? ''}`);
        rotationLogs.push(...run.logs);
      }
      rotationRequests = rotationRequests.concat(rotor.proxy.requests());
    }
    const rotationWork = work(rotationRequests, { logs: rotationLogs }, MEASURED_SECRETS);
    const retirements = rotationWork.schedulerInvocations;
    const rotation: MeasuredWork = {
      ...rotationWork,
      // Each step is one invocation; each scheduled retirement fires the retire function once.
      lambdaInvocations: ROTATION_STEPS.length + retirements,
      lambdaMs: rotationMs / MEASURED_SECRETS,
    };

    // One health-check run over the healthy secrets: every secret due (the emulator's default
    // idle interval is the run period).
    const env = rotor.local.env as Record<string, string>;
    env[HealthAndRollbackEnv.healthCheckIdleSeconds] = String(HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckRunSeconds);
    rotor.proxy.resetCounts();
    const check = await rotor.healthCheck();
    if (!check.ok) throw new Error(`the health check failed in the cost bench: ${check.error?.errorMessage ?? ''}`);
    const checkRequests = rotor.proxy.requests();
    const perSecretLines = check.logs.filter((line) => /"secretName":"rotor\/development\/cost-/.test(line));
    const durations = perSecretLines
      .map((line) => JSON.parse(line) as { durationMs?: number; outcome?: string })
      .filter((line) => line.outcome === 'healthy');
    if (durations.length !== MEASURED_SECRETS) {
      throw new Error(
        `the cost bench expected ${MEASURED_SECRETS} healthy secrets, the health check found ${durations.length}`,
      );
    }
    // Secrets Manager calls naming a measured secret are per secret; ListSecrets pages and the
    // pepper read are per run.
    const names = (body: string) => arns.some((arn) => body.includes(arn));
    const isPerRun = ({ operation, body }: { operation: string; body: string }) =>
      operation.startsWith('secretsmanager.') && !names(body);
    // The batch read is priced by the cadence's model (one call per 20 due secrets), not per secret.
    // So is the watch-list Query, once per run.
    const isBatch = ({ operation }: { operation: string }) =>
      operation === 'secretsmanager.BatchGetSecretValue' || operation === 'DynamoDB_20120810.Query';
    const batchCalls = checkRequests.filter(
      ({ operation }) => operation === 'secretsmanager.BatchGetSecretValue',
    ).length;
    const perSecretRequests = checkRequests.filter((request) => !isPerRun(request) && !isBatch(request));
    const checkWork = work(perSecretRequests, { logs: perSecretLines }, MEASURED_SECRETS);
    const perRun = checkRequests.filter(isPerRun);

    // A run at the production cadence with nothing changed: what every run costs whatever is due.
    env[HealthAndRollbackEnv.healthCheckIdleSeconds] = String(86_400 * 365);
    rotor.proxy.resetCounts();
    const idleRun = await rotor.healthCheck();
    if (!idleRun.ok) throw new Error(`the idle health check failed: ${idleRun.error?.errorMessage ?? ''}`);
    const idleRequests = rotor.proxy.requests();
    const watchQueryUnits = idleRequests
      .filter(({ operation }) => operation === 'DynamoDB_20120810.Query')
      .reduce((sum, { operation, body }) => sum + dynamoDbUnits(operation, body).read, 0);

    // Before any secret is watched: a run over a few hundred secrets, against one over none.
    const scale = await measureScaledRun(rotor);

    // Secrets Manager reports each measured secret changed (CloudTrail's PutSecretValue event);
    // the rotation-events function marks it watched. An event it ignores first starts its warm
    // container, so the measured invocations' wall time is the handler's, as Lambda bills it.
    await rotor.rotationEvents({ source: 'aws.kms' });
    rotor.proxy.resetCounts();
    const changeLogs: string[] = [];
    let changeMs = 0;
    for (const arn of arns) {
      const started = performance.now();
      const delivered = await rotor.rotationEvents(putSecretValueEvent({ arn }));
      changeMs += performance.now() - started;
      if (!delivered.ok) throw new Error(`the change event failed: ${delivered.error?.errorMessage ?? ''}`);
      changeLogs.push(...delivered.logs);
    }
    const perChange: MeasuredWork = {
      ...work(rotor.proxy.requests(), { logs: changeLogs }, MEASURED_SECRETS),
      lambdaInvocations: 1,
      lambdaMs: changeMs / MEASURED_SECRETS,
    };
    const watchedRun = await rotor.healthCheck();
    const watchedTested = watchedRun.logs.filter(
      (line) => line.includes('"due":"changed"') && /"secretName":"rotor\/development\/cost-/.test(line),
    ).length;
    const changesPerRotation =
      rotationRequests.filter(({ operation }) => CHANGE_CALLS.includes(operation)).length / MEASURED_SECRETS + 1;

    const healthCheck: MeasuredHealthCheck = {
      perSecret: {
        ...checkWork,
        secretSeries: secretSeries(check.logs) / MEASURED_SECRETS,
        lambdaInvocations: 1,
        lambdaMs: durations.reduce((sum, line) => sum + (line.durationMs ?? 0), 0) / MEASURED_SECRETS,
        schedulerInvocations: 0,
      },
      stageSeries: stageSeries(check.logs),
      perRunLogBytes: bytes(check.logs.filter((line) => !perSecretLines.includes(line))),
      perRunSecretsManagerCalls: perRun.filter(({ operation }) => operation !== 'secretsmanager.ListSecrets').length,
      secretsPerListPage: SECRETS_PER_LIST_PAGE,
      perRunDynamoDbReadUnits: watchQueryUnits,
      perChange,
      changesPerRotation,
    };
    return {
      rotation,
      healthCheck,
      callsPerRotation: perOperation(rotationRequests, MEASURED_SECRETS),
      callsPerCheckedSecret: perOperation(perSecretRequests, MEASURED_SECRETS),
      batchCalls,
      callsPerIdleRun: perOperation(idleRequests, 1),
      watchedTested,
      scale,
    };
  } finally {
    await rotor.stop();
  }
}

/** The work in `requests` and `emitted`, per secret. */
function work(
  requests: readonly { operation: string; body: string }[],
  emitted: Emitted,
  secrets: number,
): MeasuredWork {
  let secretsManagerCalls = 0;
  let read = 0;
  let write = 0;
  let schedules = 0;
  let events = 0;
  for (const { operation, body } of requests) {
    if (operation.startsWith('secretsmanager.')) secretsManagerCalls += 1;
    if (operation.startsWith('DynamoDB_')) {
      const units = dynamoDbUnits(operation, body);
      read += units.read;
      write += units.write;
    }
    // Scheduler speaks REST: creating a one-time schedule is a POST to /schedules/<name>.
    if (operation.startsWith('POST /schedules/')) schedules += 1;
    if (operation === 'AWSEvents.PutEvents')
      events += ((JSON.parse(body) as { Entries?: unknown[] }).Entries ?? []).length;
  }
  return {
    secretsManagerCalls: secretsManagerCalls / secrets,
    dynamoDbReadUnits: read / secrets,
    dynamoDbWriteUnits: write / secrets,
    lambdaInvocations: 0,
    lambdaMs: 0,
    schedulerInvocations: schedules / secrets,
    events: events / secrets,
    secretSeries: secretSeries(emitted.logs) / secrets,
    logBytes: bytes(emitted.logs) / secrets,
  };
}

function emf(logs: readonly string[]): Record<string, unknown>[] {
  return logs
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** Distinct (metric, dimension, value) series in EMF records carrying `dimension`. */
function series(logs: readonly string[], dimension: string): number {
  const distinct = new Set<string>();
  for (const record of emf(logs)) {
    if (typeof record[dimension] !== 'string') continue;
    const { CloudWatchMetrics } = record._aws as { CloudWatchMetrics: { Metrics: { Name: string }[] }[] };
    for (const metric of CloudWatchMetrics.flatMap((directive) => directive.Metrics)) {
      distinct.add(`${metric.Name}/${dimension}=${String(record[dimension])}`);
    }
  }
  return distinct.size;
}
const secretSeries = (logs: readonly string[]) => series(logs, 'SecretName');
const stageSeries = (logs: readonly string[]) => series(logs, 'Stage');

function bytes(logs: readonly string[]): number {
  return logs.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
}

function perOperation(requests: readonly { operation: string }[], secrets: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { operation } of requests) {
    const name = operation.startsWith('POST /schedules/') ? 'scheduler.CreateSchedule' : operation;
    counts[name] = (counts[name] ?? 0) + 1 / secrets;
  }
  return counts;
}

function measuredCalls(calls: Readonly<Record<string, number>>): string {
  return Object.entries(calls)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([operation, count]) => `${operation} ${Number(count.toFixed(2))}`)
    .join(', ');
}

/** The printed table: per secret per month, by component, for each fleet size and design. */
export function costTable(measured: CostMeasurement): string {
  const workload = (secrets: number): StageWorkload => ({
    secrets,
    rotation: measured.rotation,
    healthCheck: measured.healthCheck,
    cadence: CADENCE,
  });
  const columns = FLEET_SIZES.flatMap((secrets) =>
    [TODAY, FLEET].map((design) => ({
      title: `${secrets.toLocaleString('en-US')} ${design === TODAY ? 'today' : 'fleet'}`,
      cost: monthlyCostPerSecret(workload(secrets), design, AWS_LIST_PRICES_US_EAST_1),
    })),
  );
  const rows = [
    ['USD per secret per month', ...columns.map((column) => column.title)],
    ...COST_COMPONENTS.map((component) => [component, ...columns.map((column) => dollars(column.cost[component]))]),
    ['total', ...columns.map((column) => dollars(total(column.cost)))],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: readonly string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [
    line(rows[0]!),
    `| ${widths.map((width) => '-'.repeat(width)).join(' | ')} |`,
    ...rows.slice(1).map(line),
    '',
    `Measured per rotation: ${measuredCalls(measured.callsPerRotation)}; ${measured.rotation.secretSeries} per-secret series, ${Math.round(measured.rotation.logBytes)} log bytes.`,
    `Measured per secret per health check: ${measuredCalls(measured.callsPerCheckedSecret)}, plus per run ${measured.healthCheck.perRunSecretsManagerCalls} Secrets Manager call(s) and 1 ListSecrets per ${measured.healthCheck.secretsPerListPage} secrets; ${measured.healthCheck.perSecret.secretSeries} per-secret series, ${measured.healthCheck.stageSeries} stage series per run, ${Math.round(measured.healthCheck.perSecret.logBytes)} log bytes, ${measured.healthCheck.perSecret.lambdaMs.toFixed(1)} ms. The run read its ${MEASURED_SECRETS} secrets in ${measured.batchCalls} BatchGetSecretValue call(s); today's design read each with one GetSecretValue by its label (priced as such). BatchGetSecretValue is priced as one API call (the pricing page has no other rate for it); billed per secret instead, the fleet's Secrets Manager line would be about ${dollars(perSecretBatchBilling(measured))} at 10,000 secrets.`,
    cadenceLines(measured).join('\n'),
  ].join('\n');
}

/** The fleet's Secrets Manager cost per secret at 10,000 secrets if each secret of a batch were billed as a call. */
function perSecretBatchBilling(measured: CostMeasurement): number {
  const cost = monthlyCostPerSecret(
    { secrets: 10_000, rotation: measured.rotation, healthCheck: measured.healthCheck, cadence: CADENCE },
    { ...FLEET, healthCheck: { ...ADAPTIVE_HEALTH_CHECK, secretsPerBatch: 1 } },
    AWS_LIST_PRICES_US_EAST_1,
  );
  return cost['Secrets Manager API'];
}

function dollars(value: number): string {
  return `$${value.toFixed(4)}`;
}

/** The adaptive cadence's model, measured: checks, due secrets and batches per run, and a run's time at each fleet size. */
function cadenceLines(measured: CostMeasurement): string[] {
  const perSecret = checksPerSecretMonth(CADENCE, FLEET);
  const { scale } = measured;
  const change = measured.healthCheck.perChange;
  const lines = [
    `Adaptive cadence: each secret checked ${Number(perSecret.toFixed(1))} times a month (${ADAPTIVE_HEALTH_CHECK.idleChecksPerMonth} idle + ${CADENCE.rotationsPerMonth} rotations × ${ADAPTIVE_HEALTH_CHECK.watchRunsPerRotation} watched runs) instead of ${CADENCE.healthChecksPerMonth}; ${measured.healthCheck.changesPerRotation ?? 0} change events per rotation, each one warm rotation-events invocation of ${(change?.lambdaMs ?? 0).toFixed(0)} ms with ${change?.dynamoDbWriteUnits ?? 0} write unit(s); a run at the idle cadence made ${measuredCalls(measured.callsPerIdleRun)}; after the change events the next run tested ${measured.watchedTested} of ${MEASURED_SECRETS} changed secrets as watched.`,
    `Scaled run on the emulator: ${scale.secrets} secrets, all due: ${scale.batches} batches at ${scale.concurrency} at once in ${Math.round(scale.fullRunMs)} ms; none due: ${Math.round(scale.emptyRunMs)} ms (ListSecrets, the watch Query); so ${Math.round(scale.msPerRound)} ms per round of ${scale.concurrency} batches.`,
  ];
  for (const secrets of FLEET_SIZES) {
    const due = Math.ceil((secrets * perSecret) / CADENCE.healthChecksPerMonth);
    const batches = Math.ceil(due / ADAPTIVE_HEALTH_CHECK.secretsPerBatch);
    const rounds = Math.ceil(batches / scale.concurrency);
    const burstRounds = Math.ceil(Math.ceil(secrets / ADAPTIVE_HEALTH_CHECK.secretsPerBatch) / scale.concurrency);
    lines.push(
      `- ${secrets.toLocaleString('en-US')} secrets: about ${due} due per run, ${batches} batches, ${rounds} round(s): ~${((rounds * scale.msPerRound) / 1000).toFixed(1)} s of batches per run (every secret due at once: ${burstRounds} rounds, ~${((burstRounds * scale.msPerRound) / 1000).toFixed(1)} s).`,
    );
  }
  return lines;
}
