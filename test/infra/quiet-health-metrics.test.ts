import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MetricName } from '../../lambda/shared/rotor-constants';
import { parseRotorConfig } from '../../lib/config/rotor-config';
import { addRotorStages } from '../../lib/rotor-stages';
import { fleetStageFile, newTestApp, testStage } from './infra-test-app';
import { RotorStack } from '../../lib/rotor-stack';

type Resource = { Type: string; Properties: Record<string, unknown> };

/** Every CloudWatch alarm of the app, in any of its stacks (a sharded stage's alarms are in its shards). */
function alarmsOf(stacks: readonly Stack[]): Resource[] {
  return stacks.flatMap((stack) =>
    Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>),
  );
}

const watches = (alarm: Resource, metricName: string): boolean => JSON.stringify(alarm.Properties).includes(metricName);

/**
 * A healthy secret emits no metric of its own: its health-check alarm sees no data in a quiet
 * minute, which must read as "not breaching", or every healthy secret would sit in
 * INSUFFICIENT_DATA (or, worse, breach). Checked on the alarms, whatever their form.
 */
describe('health-check alarms over metrics that are quiet while healthy', () => {
  it('treat missing data as not breaching in a stage with a secret per alarm', () => {
    // GIVEN the two-secret stage
    const app = newTestApp();
    new RotorStack(app, 'Rotor-test', { stage: testStage() });

    // WHEN
    const alarms = alarmsOf(app.node.findAll().filter((each): each is Stack => Stack.isStack(each)));

    // THEN
    const health = alarms.filter((alarm) => watches(alarm, MetricName.HealthCheckFailed));
    expect(health.length).toBeGreaterThan(0);
    expect(health.map((alarm) => alarm.Properties.TreatMissingData)).toEqual(health.map(() => 'notBreaching'));
  });

  it('treat missing data as not breaching in a sharded stage', () => {
    // GIVEN a stage of 40 secrets in 2 shards
    const app = newTestApp();
    addRotorStages(app, parseRotorConfig({ stages: [fleetStageFile(40, 2)] }));

    // WHEN
    const alarms = alarmsOf(app.node.findAll().filter((each): each is Stack => Stack.isStack(each)));

    // THEN
    const health = alarms.filter((alarm) => watches(alarm, MetricName.HealthCheckFailed));
    expect(health.length).toBeGreaterThan(0);
    expect(health.map((alarm) => alarm.Properties.TreatMissingData)).toEqual(health.map(() => 'notBreaching'));
  });

  it('alarm on no metric a healthy secret would have to emit', () => {
    // GIVEN the two-secret stage
    const app = newTestApp();
    new RotorStack(app, 'Rotor-test', { stage: testStage() });

    // WHEN
    const alarms = alarmsOf(app.node.findAll().filter((each): each is Stack => Stack.isStack(each)));

    // THEN: nothing waits for a per-secret success (which is no longer emitted)
    expect(alarms.filter((alarm) => watches(alarm, 'HealthCheckSucceeded'))).toEqual([]);
  });
});
