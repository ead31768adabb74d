import { Template } from 'aws-cdk-lib/assertions';
import { RotorStack } from '../../lib/rotor-stack';
import { newTestApp, testStage } from './infra-test-app';

interface Widget {
  readonly type: string;
  readonly width: number;
  readonly properties: { title?: string; markdown?: string; metrics?: unknown[][]; alarms?: string[] };
}

/**
 * The dashboard's body with every intrinsic replaced by a readable placeholder: `{Ref:X}` by
 * `<X>` and `{Fn::GetAtt:[X, Arn]}` by `<X.Arn>`, so that its widgets can be read as JSON.
 */
function dashboardWidgets(template: Template): Widget[] {
  const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  const body = (dashboard!.Properties as { DashboardBody: { 'Fn::Join': [string, unknown[]] } }).DashboardBody;
  const text = body['Fn::Join'][1]
    .map((part) => {
      if (typeof part === 'string') return part;
      const intrinsic = part as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      return intrinsic.Ref !== undefined ? `<${intrinsic.Ref}>` : `<${intrinsic['Fn::GetAtt']!.join('.')}>`;
    })
    .join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets;
}

describe('RotorDashboard', () => {
  // GIVEN the stack of a stage with two secrets
  let stack: RotorStack;
  let template: Template;
  let widgets: Widget[];

  beforeAll(() => {
    // WHEN
    stack = new RotorStack(newTestApp(), 'Rotor-test', { stage: testStage() });
    template = Template.fromStack(stack);
    widgets = dashboardWidgets(template);
  });

  it('is one dashboard named rotor-test', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'rotor-test' });
  });

  it('shows the state of every alarm of the stage on top', () => {
    const alarmIds = stack.secretAlarms.flatMap((alarms) =>
      Object.values(alarms!.alarms).map((alarm) => `<${stack.getLogicalId(alarm.node.defaultChild as never)}.Arn>`),
    );
    expect(alarmIds).toHaveLength(6);
    expect(widgets[0]).toMatchObject({
      type: 'alarm',
      width: 24,
      properties: { title: 'Rotor test: alarms', alarms: alarmIds },
    });
  });

  it("has the stage's health checks and rotations, then one titled row per secret: rotation failures, health failures, reuse and rollbacks, grace use", () => {
    const titles = widgets.map((widget) => widget.properties.markdown ?? widget.properties.title);
    expect(titles).toEqual([
      'Rotor test: alarms',
      'Health checks of the stage',
      'Rotations of the stage',
      'Rotation step latency of the stage',
      '### rotor/test/deploy-token',
      'Rotation failures',
      'Health-check failures',
      'Reuse detected and rollbacks',
      'Grace use',
      '### rotor/test/release-token',
      'Rotation failures',
      'Health-check failures',
      'Reuse detected and rollbacks',
      'Grace use',
      'Rotor functions: errors',
    ]);
  });

  it("counts the stage's rotations from per-stage metrics, since a routine rotation emits nothing per secret", () => {
    expect(widgets[2]!.properties.metrics).toEqual([
      [
        'Rotor',
        'RotationSucceeded',
        'Stage',
        'test',
        { color: '#2ca02c', label: 'Succeeded', period: 3600, stat: 'Sum' },
      ],
      [
        'Rotor',
        'RotationThrottled',
        'Stage',
        'test',
        { color: '#ff7f0e', label: 'Throttled steps (retried, not failures)', period: 3600, stat: 'Sum' },
      ],
    ]);
    expect(widgets[3]!.properties.metrics).toEqual([
      ['Rotor', 'RotationStepLatency', 'Stage', 'test', { label: 'p90 (ms)', period: 3600, stat: 'p90' }],
      ['Rotor', 'RotationStepLatency', 'Stage', 'test', { label: 'max (ms)', period: 3600, stat: 'Maximum' }],
    ]);
  });

  it("graphs each secret's rotation failures, its only rotation metric", () => {
    expect(widgets[5]!.properties.metrics).toEqual([
      [
        'Rotor',
        'RotationFailed',
        'SecretName',
        'rotor/test/deploy-token',
        { color: '#d62728', label: 'Failed', period: 3600, stat: 'Sum' },
      ],
    ]);
  });

  it('reads no per-secret metric that a routine rotation no longer emits', () => {
    const perSecret = widgets
      .flatMap((widget) => widget.properties.metrics ?? [])
      .filter((metric) => metric[2] === 'SecretName')
      .map((metric) => metric[1]);
    expect(perSecret).not.toContain('RotationSucceeded');
    expect(perSecret).not.toContain('RotationStepLatency');
  });

  it("counts the stage's healthy secrets from the one per-stage metric, since a healthy secret emits nothing", () => {
    expect(widgets[1]!.properties.metrics).toEqual([
      [
        'Rotor',
        'HealthChecksSucceeded',
        'Stage',
        'test',
        { color: '#2ca02c', label: 'Healthy secrets (checks)', stat: 'Sum' },
      ],
    ]);
  });

  it('graphs health-check failures, reuse against rollbacks, and grace use, per secret', () => {
    const metricNames = (widget: Widget): unknown[] =>
      widget.properties.metrics!.map((metric) => [metric[1], metric[3]]);
    expect(widgets.slice(11, 14).map(metricNames)).toEqual([
      [['HealthCheckFailed', 'rotor/test/release-token']],
      [
        ['ReuseDetected', 'rotor/test/release-token'],
        ['RollbackPerformed', 'rotor/test/release-token'],
      ],
      [['GraceUse', 'rotor/test/release-token']],
    ]);
  });

  it('ends with the errors of the six Rotor functions', () => {
    const errors = widgets.at(-1)!.properties.metrics!;
    expect(errors.map((metric) => [metric[0], metric[1], (metric.at(-1) as { label: string }).label])).toEqual([
      ['AWS/Lambda', 'Errors', 'rotation'],
      ['AWS/Lambda', 'Errors', 'verifier'],
      ['AWS/Lambda', 'Errors', 'retire'],
      ['AWS/Lambda', 'Errors', 'health-check'],
      ['AWS/Lambda', 'Errors', 'rollback'],
      ['AWS/Lambda', 'Errors', 'rotation-events'],
    ]);
  });
});
