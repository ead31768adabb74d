import { type CfnResource, Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { MetricName, METRICS_NAMESPACE, SECRET_NAME_DIMENSION } from '../../lambda/shared/rotor-constants';
import type { AlarmThresholds } from '../../lib/alarm-thresholds';
import { RotatedSecret } from '../../lib/rotated-secret';
import { RotationFunction } from '../../lib/rotation-function';
import { SecretAlarms } from '../../lib/secret-alarms';
import { newStageFixture } from './infra-test-app';

function newSecret(name = 'ci/deploy-token'): { stack: Stack; secret: RotatedSecret } {
  const { stack, key, resources, retirement } = newStageFixture();
  const rotationFunction = new RotationFunction(stack, 'Rotation', { resources, retirement });
  const secret = new RotatedSecret(stack, 'DeployToken', {
    rotationFunction,
    encryptionKey: key,
    secretName: `rotor/test/${name}`,
    provider: 'managed-token',
    schedule: 'rate(4 hours)',
    window: Duration.hours(1),
  });
  return { stack, secret };
}

describe('SecretAlarms', () => {
  // GIVEN a secret whose alarms notify a topic, with the default thresholds
  let stack: Stack;
  let template: Template;
  let topic: sns.Topic;

  const alarm = (
    metricName: string,
    alarmName: string,
    threshold: number,
    evaluationPeriods = 1,
  ): Record<string, unknown> => ({
    AlarmName: alarmName,
    AlarmDescription: Match.stringLikeRegexp('^Rotor test: .* \\(rotor/test/ci/deploy-token\\)$'),
    Namespace: 'Rotor',
    MetricName: metricName,
    Dimensions: [{ Name: 'SecretName', Value: 'rotor/test/ci/deploy-token' }],
    Statistic: 'Sum',
    Period: 60,
    EvaluationPeriods: evaluationPeriods,
    Threshold: threshold,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: [{ Ref: stack.getLogicalId(topic.node.defaultChild as sns.CfnTopic) }],
  });

  beforeAll(() => {
    let secret: RotatedSecret;
    ({ stack, secret } = newSecret());
    topic = new sns.Topic(stack, 'Topic');
    // WHEN
    new SecretAlarms(stack, 'Alarms', { secret, alarmAction: new cloudwatchActions.SnsAction(topic) });
    template = Template.fromStack(stack);
  });

  it("creates three alarms (besides the stage's retire function's dead-letter alarm)", () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => (alarm.Properties as { AlarmName: string }).AlarmName,
    );
    expect(names.filter((name) => name !== 'rotor-test-dead-letters.retire')).toHaveLength(3);
  });

  it('alarms on 2 rotation failures within a 60-second period (Sum of RotationFailed)', () => {
    template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      Match.objectEquals(alarm('RotationFailed', 'rotor-test-rotation-failures-rotor-test-ci-deploy-token', 2)),
    );
  });

  it('alarms on health-check failures in two consecutive 60-second periods (the check runs once a minute)', () => {
    template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      Match.objectEquals(
        alarm('HealthCheckFailed', 'rotor-test-health-check-failures-rotor-test-ci-deploy-token', 1, 2),
      ),
    );
  });

  it('alarms on any reuse (Sum of ReuseDetected at least 1)', () => {
    template.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      Match.objectEquals(alarm('ReuseDetected', 'rotor-test-reuse-detected-rotor-test-ci-deploy-token', 1)),
    );
  });

  it('takes thresholds, periods and evaluation periods per kind, and has no action by default', () => {
    // GIVEN
    const other = newSecret();
    const thresholds: AlarmThresholds = {
      rotationFailures: { threshold: 3, periodSeconds: 300, evaluationPeriods: 2 },
      healthCheckFailures: { threshold: 5, periodSeconds: 120, evaluationPeriods: 3 },
      reuseDetected: { threshold: 1, periodSeconds: 3600, evaluationPeriods: 1 },
    };
    // WHEN
    const alarms = new SecretAlarms(other.stack, 'Alarms', { secret: other.secret, thresholds });
    // THEN
    const resolved = Object.fromEntries(
      Object.entries(alarms.alarms).map(([kind, created]) => {
        const properties = Template.fromStack(other.stack).findResources('AWS::CloudWatch::Alarm')[
          other.stack.getLogicalId(created.node.defaultChild as CfnResource)
        ]!.Properties as Record<string, unknown>;
        return [kind, [properties.Threshold, properties.Period, properties.EvaluationPeriods, properties.AlarmActions]];
      }),
    );
    expect(resolved).toEqual({
      rotationFailures: [3, 300, 2, undefined],
      healthCheckFailures: [5, 120, 3, undefined],
      reuseDetected: [1, 3600, 1, undefined],
    });
  });

  it.each([
    [
      { threshold: 0, periodSeconds: 60, evaluationPeriods: 1 },
      /threshold must be a whole number from 1 to 100000, got 0/,
    ],
    [
      { threshold: 1, periodSeconds: 30, evaluationPeriods: 1 },
      /periodSeconds must be a multiple of 60 from 60 to 86400 .*, got 30/,
    ],
    [
      { threshold: 1, periodSeconds: 60, evaluationPeriods: 0 },
      /evaluationPeriods must be a whole number of at least 1, got 0/,
    ],
    [
      { threshold: 1, periodSeconds: 600, evaluationPeriods: 145 },
      /periodSeconds × evaluationPeriods must be at most 86400 seconds \(one day for a period under an hour\), got 600 × 145 = 87000/,
    ],
    [
      { threshold: 1, periodSeconds: 3600, evaluationPeriods: 169 },
      /periodSeconds × evaluationPeriods must be at most 604800 seconds \(seven days\), got 3600 × 169 = 608400/,
    ],
  ])('fails on the rotation failure threshold %j', (rotationFailures, problem) => {
    const other = newSecret();
    expect(
      () =>
        new SecretAlarms(other.stack, 'Alarms', {
          secret: other.secret,
          thresholds: {
            rotationFailures,
            healthCheckFailures: rotationFailures,
            reuseDetected: rotationFailures,
          },
        }),
    ).toThrow(new RegExp(`SecretAlarms thresholds\\.rotationFailures ${problem.source}`));
  });

  it('fails when an alarm name would be longer than CloudWatch allows', () => {
    const other = newSecret('x'.repeat(230));
    expect(() => new SecretAlarms(other.stack, 'Alarms', { secret: other.secret })).toThrow(
      /SecretAlarms alarm names must be at most 255 characters: shorten the secret name, got 2\d\d \("rotor-test-rotation-failures-rotor-test-x+"\)/,
    );
  });
});

describe('RotatedSecret metrics', () => {
  it('are the Sum of the Rotor metric of the secret over 5 minutes, by default', () => {
    const { secret } = newSecret();
    const metrics = {
      metricRotationFailed: MetricName.RotationFailed,
      metricHealthCheckFailed: MetricName.HealthCheckFailed,
      metricReuseDetected: MetricName.ReuseDetected,
      metricRollbackPerformed: MetricName.RollbackPerformed,
      metricGraceUse: MetricName.GraceUse,
    } as const;
    for (const [method, metricName] of Object.entries(metrics)) {
      const metric = secret[method as keyof typeof metrics]();
      expect([
        method,
        metric.namespace,
        metric.metricName,
        metric.dimensions,
        metric.statistic,
        metric.period.toSeconds(),
      ]).toEqual([
        method,
        METRICS_NAMESPACE,
        metricName,
        { [SECRET_NAME_DIMENSION]: 'rotor/test/ci/deploy-token' },
        'Sum',
        300,
      ]);
    }
  });

  it('take options', () => {
    const { secret } = newSecret();
    const metric = secret.metricGraceUse({ period: Duration.hours(1), statistic: 'Maximum', label: 'grace' });
    expect([metric.period.toSeconds(), metric.statistic, metric.label]).toEqual([3600, 'Maximum', 'grace']);
  });
});
