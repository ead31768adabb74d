import { type App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MetricName } from '../../lambda/shared/rotor-constants';
import { parseRotorConfig } from '../../lib/config/rotor-config';
import { addRotorStages } from '../../lib/rotor-stages';
import { RotorStack } from '../../lib/rotor-stack';
import { fleetStageFile, newTestApp, testStage } from './infra-test-app';

type Resource = { Type: string; Properties: Record<string, unknown> };

/** Every resource of `type` in any stack of the app (a sharded stage's alarms are in its shards). */
function resourcesOf(app: App, type: string): Resource[] {
  return app.node
    .findAll()
    .filter((each): each is Stack => Stack.isStack(each))
    .flatMap((stack) => Object.values(Template.fromStack(stack).findResources(type) as Record<string, Resource>));
}

const text = (resource: Resource): string => JSON.stringify(resource.Properties).replace(/\\/g, '');

/**
 * A routine rotation emits nothing under its secret's name (successes and step latency are
 * counted per stage), so nothing may wait for a per-secret success: not an alarm, not the
 * dashboard, which reads them under the Stage dimension instead.
 */
describe.each([
  ['a stage with a secret per alarm', (app: App) => void new RotorStack(app, 'Rotor-test', { stage: testStage() })],
  ['a sharded stage', (app: App) => void addRotorStages(app, parseRotorConfig({ stages: [fleetStageFile(40, 2)] }))],
])('rotation metrics in %s', (_label, build) => {
  let app: App;

  beforeAll(() => {
    // GIVEN / WHEN
    app = newTestApp();
    build(app);
  });

  it('no alarm watches a routine rotation metric', () => {
    const alarms = resourcesOf(app, 'AWS::CloudWatch::Alarm');
    expect(alarms.length).toBeGreaterThan(0);
    for (const name of [MetricName.RotationSucceeded, MetricName.RotationStepLatency, MetricName.RotationThrottled]) {
      expect(alarms.filter((alarm) => text(alarm).includes(name))).toEqual([]);
    }
    // Failures still speak per secret, and alarm.
    expect(alarms.filter((alarm) => text(alarm).includes(MetricName.RotationFailed)).length).toBeGreaterThan(0);
  });

  it('the dashboard reads successes and latency under the Stage dimension, never per secret', () => {
    const [dashboard] = resourcesOf(app, 'AWS::CloudWatch::Dashboard');
    const body = text(dashboard!);
    expect(body).toContain('["Rotor","RotationSucceeded","Stage"');
    expect(body).toContain('["Rotor","RotationStepLatency","Stage"');
    expect(body).not.toMatch(/"RotationSucceeded","SecretName"|SUM\(RotationSucceeded\)/);
    expect(body).not.toMatch(/"RotationStepLatency","SecretName"|\(RotationStepLatency\)/);
  });
});
