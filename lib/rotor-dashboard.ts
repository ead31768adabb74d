import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
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
}

// Rotations happen hours apart: hourly sums show each one. Health checks and grace use happen
// every minute or so: five-minute sums show a trend without hiding a burst.
const ROTATION_PERIOD = Duration.hours(1);
const FREQUENT_PERIOD = Duration.minutes(5);
const GRAPH = { width: 6, height: 6 } as const;

/**
 * The stage's CloudWatch dashboard `rotor-<stage>`: the state of every Rotor alarm of the stage on
 * top, then one row per secret (rotation success rate, health checks succeeded and failed, reuse
 * detections and rollbacks, grace use), then the errors of Rotor's functions.
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
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({
        title: `Rotor ${props.stage}: alarms`,
        alarms,
        width: 24,
        height: Math.max(2, Math.ceil(alarms.length / 4) + 1),
        sortBy: cloudwatch.AlarmStatusWidgetSortBy.STATE_UPDATED_TIMESTAMP,
      }),
    );

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

function secretRow(secret: RotatedSecret): cloudwatch.IWidget[] {
  // FILL makes an hour with failures and no success read 0 %, not missing; an hour without any
  // rotation is 0 / 0, which CloudWatch leaves out of the graph.
  const successRate = new cloudwatch.MathExpression({
    expression: '100 * FILL(succeeded, 0) / (FILL(succeeded, 0) + FILL(failed, 0))',
    usingMetrics: {
      succeeded: secret.metricRotationSucceeded({ period: ROTATION_PERIOD }),
      failed: secret.metricRotationFailed({ period: ROTATION_PERIOD }),
    },
    label: 'Rotation success rate (%)',
    period: ROTATION_PERIOD,
  });
  return [
    new cloudwatch.GraphWidget({
      title: 'Rotation success rate',
      left: [successRate],
      leftYAxis: { min: 0, max: 100, label: '%', showUnits: false },
      ...GRAPH,
    }),
    new cloudwatch.GraphWidget({
      title: 'Health checks',
      left: [
        secret.metricHealthCheckSucceeded({
          period: FREQUENT_PERIOD,
          label: 'Succeeded',
          color: cloudwatch.Color.GREEN,
        }),
        secret.metricHealthCheckFailed({ period: FREQUENT_PERIOD, label: 'Failed', color: cloudwatch.Color.RED }),
      ],
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
