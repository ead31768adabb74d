import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import {
  ALARM_GROUP_DIMENSION,
  MetricName,
  METRICS_NAMESPACE,
  SECRET_NAME_DIMENSION,
  STAGE_DIMENSION,
} from '../lambda/shared/rotor-constants';
import type { RotatedSecret } from './rotated-secret';
import type { SecretAlarms } from './secret-alarms';

/** One secret on the dashboard: the secret and its alarms. */
export interface DashboardSecret {
  readonly secret: RotatedSecret;
  readonly alarms: SecretAlarms;
}

/** Properties of a {@link RotorDashboard}. */
export interface RotorDashboardProps {
  /** Deployment stage; names the dashboard `rotor-<stage>`. */
  readonly stage: string;
  /** The stage's secrets, in the order they are shown. */
  readonly secrets: readonly DashboardSecret[];
  /**
   * Rotor's functions, by the name shown in the legend: their errors are on the last row (a
   * health check that crashes emits no HealthCheckFailed, so its alarm stays quiet).
   *
   * @default - no row of function errors
   */
  readonly functions?: Readonly<Record<string, lambda.IFunction>>;
  /**
   * Show the stage as a fleet: Metrics Insights queries over every secret under this name prefix
   * (the secrets in trouble, the stage's totals) instead of a row per secret, which a dashboard of
   * thousands of secrets could not hold. Pass an empty `secrets` with it.
   *
   * @default - no fleet rows
   */
  readonly fleetSecretNamePrefix?: string;
}

// Rotations happen hours apart: hourly sums show each one. Health checks and grace use happen
// every minute or so: five-minute sums show a trend without hiding a burst.
const ROTATION_PERIOD = Duration.hours(1);
const FREQUENT_PERIOD = Duration.minutes(5);
const GRAPH = { width: 6, height: 6 } as const;

/**
 * The stage's CloudWatch dashboard `rotor-<stage>`: the state of every Rotor alarm of the stage on
 * top, the stage's health checks and rotations, then one row per secret (rotation failures,
 * health-check failures, reuse detections and rollbacks, grace use) or, for a fleet, the secrets
 * in trouble, then the errors of Rotor's functions.
 */
export class RotorDashboard extends Construct {
  /** The dashboard. */
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: RotorDashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: `rotor-${props.stage}`,
      defaultInterval: Duration.days(7),
    });

    const alarms = props.secrets.flatMap(({ alarms: secretAlarms }) => Object.values(secretAlarms.alarms));
    if (alarms.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.AlarmStatusWidget({
          title: `Rotor ${props.stage}: alarms`,
          alarms,
          width: 24,
          height: Math.max(2, Math.ceil(alarms.length / 4) + 1),
          sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
        }),
      );
    }
    this.dashboard.addWidgets(stageHealth(props.stage, props.fleetSecretNamePrefix));
    this.dashboard.addWidgets(...stageRotations(props.stage, props.fleetSecretNamePrefix));
    if (props.fleetSecretNamePrefix !== undefined) this.dashboard.addWidgets(...fleetRow(props.fleetSecretNamePrefix));

    for (const { secret } of props.secrets) {
      this.dashboard.addWidgets(
        new cloudwatch.TextWidget({ markdown: `### ${secret.secretName}`, width: 24, height: 1 }),
      );
      this.dashboard.addWidgets(...secretRow(secret));
    }

    const functions = Object.entries(props.functions ?? {});
    if (functions.length > 0) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Rotor functions: errors',
          left: functions.map(([label, fn]) => fn.metricErrors({ label, period: FREQUENT_PERIOD })),
          width: 24,
          height: 6,
        }),
      );
    }
  }
}

/** At most this many secrets per "in trouble" graph: the worst first. */
const TROUBLE_LIMIT = 20;

/**
 * The Metrics Insights query of `metricName` over the secrets under `prefix` of a sharded stage
 * (whose metrics carry `SecretName` and `AlarmGroup`): one time series per
 * secret (GROUP BY), the `limit` largest, or the stage's total without a limit.
 */
export function fleetQuery(metricName: MetricName, prefix: string, limit?: number): string {
  // A sharded stage's functions add the secret's alarm group to its metrics (see AlarmGroupAlarms).
  const from = `FROM SCHEMA("${METRICS_NAMESPACE}", ${SECRET_NAME_DIMENSION}, ${ALARM_GROUP_DIMENSION}) WHERE ${SECRET_NAME_DIMENSION} LIKE '${prefix}%'`;
  return limit === undefined
    ? `SELECT SUM(${metricName}) ${from}`
    : `SELECT SUM(${metricName}) ${from} GROUP BY ${SECRET_NAME_DIMENSION} ORDER BY SUM() DESC LIMIT ${limit}`;
}

/**
 * The stage's health checks: healthy secrets are counted per stage (`HealthChecksSucceeded`,
 * dimension Stage), since a healthy secret emits nothing of its own; for a fleet, next to the
 * total of its secrets' failures.
 */
function stageHealth(stage: string, fleetPrefix: string | undefined): cloudwatch.IWidget {
  const succeeded = new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName: MetricName.HealthChecksSucceeded,
    dimensionsMap: { [STAGE_DIMENSION]: stage },
    statistic: cloudwatch.Stats.SUM,
    period: FREQUENT_PERIOD,
    label: 'Healthy secrets (checks)',
    color: cloudwatch.Color.GREEN,
  });
  const failed =
    fleetPrefix === undefined
      ? []
      : [
          new cloudwatch.MathExpression({
            expression: fleetQuery(MetricName.HealthCheckFailed, fleetPrefix),
            label: 'Failed (checks)',
            period: FREQUENT_PERIOD,
            color: cloudwatch.Color.RED,
          }),
        ];
  return new cloudwatch.GraphWidget({
    title: 'Health checks of the stage',
    left: [succeeded, ...failed],
    width: 24,
    height: 6,
  });
}

/** A Rotor metric of the whole stage (dimension Stage), as the functions count what goes well. */
function stageMetric(stage: string, metricName: MetricName, options: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: METRICS_NAMESPACE,
    metricName,
    dimensionsMap: { [STAGE_DIMENSION]: stage },
    statistic: cloudwatch.Stats.SUM,
    ...options,
  });
}

/**
 * The stage's rotations: successes and throttled steps are counted per stage (`RotationSucceeded`,
 * `RotationThrottled`, dimension Stage), since a routine rotation emits nothing under its secret;
 * for a fleet, next to the total of its secrets' failures (each secret's own row shows its
 * failures otherwise). And how long the steps take, per stage.
 */
function stageRotations(stage: string, fleetPrefix: string | undefined): cloudwatch.IWidget[] {
  const failed =
    fleetPrefix === undefined
      ? []
      : [
          new cloudwatch.MathExpression({
            expression: fleetQuery(MetricName.RotationFailed, fleetPrefix),
            label: 'Failed',
            period: ROTATION_PERIOD,
            color: cloudwatch.Color.RED,
          }),
        ];
  return [
    new cloudwatch.GraphWidget({
      title: 'Rotations of the stage',
      left: [
        stageMetric(stage, MetricName.RotationSucceeded, {
          period: ROTATION_PERIOD,
          label: 'Succeeded',
          color: cloudwatch.Color.GREEN,
        }),
        ...failed,
        stageMetric(stage, MetricName.RotationThrottled, {
          period: ROTATION_PERIOD,
          label: 'Throttled steps (retried, not failures)',
          color: cloudwatch.Color.ORANGE,
        }),
      ],
      width: 12,
      height: 6,
    }),
    new cloudwatch.GraphWidget({
      title: 'Rotation step latency of the stage',
      left: [
        stageMetric(stage, MetricName.RotationStepLatency, {
          period: ROTATION_PERIOD,
          statistic: cloudwatch.Stats.percentile(90),
          label: 'p90 (ms)',
        }),
        stageMetric(stage, MetricName.RotationStepLatency, {
          period: ROTATION_PERIOD,
          statistic: cloudwatch.Stats.MAXIMUM,
          label: 'max (ms)',
        }),
      ],
      width: 12,
      height: 6,
    }),
  ];
}

function fleetRow(prefix: string): cloudwatch.IWidget[] {
  const query = (metricName: MetricName, label: string, period: Duration, limit?: number) =>
    new cloudwatch.MathExpression({ expression: fleetQuery(metricName, prefix, limit), label, period });
  return [
    new cloudwatch.GraphWidget({
      title: `Rotation failures: worst ${TROUBLE_LIMIT} secrets`,
      left: [query(MetricName.RotationFailed, '', ROTATION_PERIOD, TROUBLE_LIMIT)],
      ...GRAPH,
    }),
    new cloudwatch.GraphWidget({
      title: `Health-check failures: worst ${TROUBLE_LIMIT} secrets`,
      left: [query(MetricName.HealthCheckFailed, '', FREQUENT_PERIOD, TROUBLE_LIMIT)],
      ...GRAPH,
    }),
    new cloudwatch.GraphWidget({
      title: `Reuse detected and rollbacks: worst ${TROUBLE_LIMIT} secrets`,
      left: [
        query(MetricName.ReuseDetected, '', ROTATION_PERIOD, TROUBLE_LIMIT),
        query(MetricName.RollbackPerformed, '', ROTATION_PERIOD, TROUBLE_LIMIT),
      ],
      ...GRAPH,
    }),
  ];
}

function secretRow(secret: RotatedSecret): cloudwatch.IWidget[] {
  // A routine rotation emits nothing under its secret (successes are counted per stage, above):
  // a secret's rotations show here only when they fail.
  return [
    new cloudwatch.GraphWidget({
      title: 'Rotation failures',
      left: [secret.metricRotationFailed({ period: ROTATION_PERIOD, label: 'Failed', color: cloudwatch.Color.RED })],
      ...GRAPH,
    }),
    // A healthy secret emits nothing: its health shows as the absence of failures here, and in
    // the stage's count of healthy secrets.
    new cloudwatch.GraphWidget({
      title: 'Health-check failures',
      left: [secret.metricHealthCheckFailed({ period: FREQUENT_PERIOD, label: 'Failed', color: cloudwatch.Color.RED })],
      ...GRAPH,
    }),
    new cloudwatch.GraphWidget({
      title: 'Reuse detected and rollbacks',
      left: [
        secret.metricReuseDetected({ period: ROTATION_PERIOD, label: 'Reuse detected', color: cloudwatch.Color.RED }),
        secret.metricRollbackPerformed({ period: ROTATION_PERIOD, label: 'Rollbacks', color: cloudwatch.Color.ORANGE }),
      ],
      ...GRAPH,
    }),
    new cloudwatch.GraphWidget({
      title: 'Grace use',
      left: [secret.metricGraceUse({ period: FREQUENT_PERIOD, label: 'Previous credential used in grace' })],
      ...GRAPH,
    }),
  ];
}
