import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CfnResource, NestedStack } from 'aws-cdk-lib';
import { type App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { MANAGED_BY_TAG, RotorStackOutput } from '../../lambda/shared/rotor-constants';
import { parseRotorConfig, RotorConfigError } from '../../lib/config/rotor-config';
import type { RotorStack } from '../../lib/rotor-stack';
import { addRotorStages } from '../../lib/rotor-stages';
import { shardId, shardOf } from '../../lib/shard-assignment';
import { alarmGroupOf } from '../../lambda/shared/alarm-group-of';
import { cfnLint } from './cfn-lint-runner';
import { fleetSecretName, fleetStageFile, newTestApp } from './infra-test-app';
import { findings } from './nag-findings';

/** Synthesizes `stageFile` and returns the app, its stack, each template's JSON and file by stack path. */
function synthStage(stageFile: Record<string, unknown>): {
  app: App;
  stack: RotorStack;
  templates: Map<string, string>;
  files: string[];
} {
  const app = newTestApp();
  const [stack] = addRotorStages(app, parseRotorConfig({ stages: [stageFile] }));
  const assembly = app.synth();
  const stacks = app.node.findAll().filter((construct): construct is Stack => Stack.isStack(construct));
  const files = stacks.map((each) => join(assembly.directory, each.templateFile));
  const templates = new Map(stacks.map((each, index) => [each.node.path, readFileSync(files[index]!, 'utf8')]));
  return { app, stack: stack!, templates, files };
}

const resourcesOf = (template: string): Record<string, { Type: string; Properties?: Record<string, unknown> }> =>
  (JSON.parse(template) as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> })
    .Resources;

const SHARDS = 10;
// The default: as many as the shards, up to 10.
const ALARM_GROUPS = 10;

describe('a sharded stage of 1,000 secrets', () => {
  // GIVEN 1,000 managed tokens in 10 shards
  let app: App;
  let stack: RotorStack;
  let templates: Map<string, string>;
  let files: string[];

  beforeAll(() => {
    // WHEN synthesized
    ({ app, stack, templates, files } = synthStage(fleetStageFile(1000, SHARDS)));
  });

  it('keeps every template within CloudFormation limits: at most 500 resources, 200 parameters and outputs, under 1 MB', () => {
    expect(templates.size).toBe(SHARDS + 1);
    for (const [path, text] of templates) {
      const template = JSON.parse(text) as Record<string, object | undefined>;
      expect({ path, within: Object.keys(template.Resources ?? {}).length <= 500 }).toEqual({ path, within: true });
      expect(Object.keys(template.Parameters ?? {}).length).toBeLessThanOrEqual(200);
      expect(Object.keys(template.Outputs ?? {}).length).toBeLessThanOrEqual(200);
      expect(Buffer.byteLength(text)).toBeLessThan(1024 * 1024);
    }
  });

  it('puts each secret, with its rotation schedule, in the shard its name hashes to, watched by its alarm group’s alarms in the stage’s stack', () => {
    for (let index = 0; index < 1000; index += 37) {
      const name = fleetSecretName(index);
      const shard = stack.node.findChild(shardId(shardOf(name, SHARDS))) as NestedStack;
      const secret = stack.secrets[index]!;
      expect(secret.secretName).toBe(`rotor/fleet/${name}`);
      expect(Stack.of(secret)).toBe(shard);
      expect(Stack.of(secret.rotationSchedule)).toBe(shard);
      expect(stack.secretAlarms[index]).toBeUndefined();
      expect(secret.alarmGroup).toBe(alarmGroupOf(name, ALARM_GROUPS));
      const alarms = stack.alarmGroups[secret.alarmGroup!]!.alarms;
      expect(Object.values(alarms).map((alarm) => Stack.of(alarm))).toEqual([stack, stack, stack]);
    }
  });

  it('has as many alarms as a stage of 10 secrets: three Metrics Insights alarms per alarm group, none per secret', () => {
    // Besides the stage's four dead-letter alarms, one per asynchronously invoked function.
    const alarmsOf = (all: Map<string, string>) => {
      const found = [...all.values()].flatMap((text) =>
        Object.values(resourcesOf(text)).filter((resource) => resource.Type === 'AWS::CloudWatch::Alarm'),
      );
      const deadLetters = found.filter((alarm) =>
        String(alarm.Properties?.AlarmName).startsWith('rotor-fleet-dead-letters.'),
      );
      expect(deadLetters).toHaveLength(4);
      return found.filter((alarm) => !deadLetters.includes(alarm));
    };
    const alarms = alarmsOf(templates);
    // a stage of 10 secrets, each with its three alarms
    const small = alarmsOf(synthStage(fleetStageFile(10)).templates);
    expect(small).toHaveLength(10 * 3);
    expect(alarms).toHaveLength(small.length);
    expect(alarms).toHaveLength(ALARM_GROUPS * 3);
    for (const alarm of alarms) {
      expect(alarm.Properties).not.toHaveProperty('Dimensions');
      expect(alarm.Properties).not.toHaveProperty('MetricName');
    }
  });

  it('has no cdk-nag finding, error or warning, in the shards either', () => {
    expect(findings(app)).toEqual([]);
  });

  it("has no cfn-lint finding, not even a warning, in the stage's template and its fullest shard", () => {
    // Every shard's template is made by the same code from secrets of the same shape; linting all
    // ten would take a minute of the suite for nothing the fullest one does not show.
    const [own, ...shards] = files;
    const resources = (file: string) => Object.keys(resourcesOf(readFileSync(file, 'utf8'))).length;
    const fullest = shards.reduce((a, b) => (resources(b) > resources(a) ? b : a));
    expect(shards).toHaveLength(SHARDS);
    expect(cfnLint([own!, fullest])).toEqual({ status: 0, findings: [] });
  });

  it("queries each alarm group's secrets by the AlarmGroup dimension, one contributor per SecretName, at the stage's thresholds", () => {
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'rotor-fleet-health-check-failures.group-007',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 2,
      TreatMissingData: 'notBreaching',
      Metrics: [
        {
          Id: 'expr_1',
          Expression:
            'SELECT SUM(HealthCheckFailed) FROM SCHEMA("Rotor", SecretName, AlarmGroup) WHERE AlarmGroup = \'7\' GROUP BY SecretName',
          Period: 60,
          ReturnData: true,
        },
      ],
    });
  });

  it('shows the fleet on the dashboard from metrics with the SecretName and AlarmGroup dimensions the functions emit', () => {
    const dashboard = Object.values(resourcesOf(templates.get('Rotor-fleet')!)).find(
      (resource) => resource.Type === 'AWS::CloudWatch::Dashboard',
    )!;
    const body = JSON.stringify(dashboard.Properties).replace(/\\/g, '');
    expect(body).toContain('FROM SCHEMA("Rotor", SecretName, AlarmGroup) WHERE SecretName LIKE');
    expect(body).not.toContain('SCHEMA("Rotor", SecretName)');
  });

  it('sends contributor state changes of the alarm groups’ rotation and health-check alarms to the rollback function', () => {
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.cloudwatch'],
        'detail-type': ['CloudWatch Alarm Contributor State Change'],
        detail: {
          alarmName: [
            { prefix: 'rotor-fleet-rotation-failures.group-' },
            { prefix: 'rotor-fleet-health-check-failures.group-' },
          ],
          state: { value: ['ALARM'] },
        },
      },
    });
    const environment = Object.values(
      template.findResources('AWS::Lambda::Function') as Record<
        string,
        { Properties: { Environment?: { Variables?: Record<string, unknown> } } }
      >,
    ).map((fn) => fn.Properties.Environment?.Variables?.ROTOR_ALARM_GROUP_COUNT);
    expect(environment.filter((value) => value === String(ALARM_GROUPS)).length).toBeGreaterThanOrEqual(5);
  });

  it("leaves the stage's own template free of any secret: the functions reach them by prefix and the stage's tag", () => {
    const own = templates.get('Rotor-fleet')!;
    expect(own).not.toContain('team-0/pipeline-0');
    expect(
      Object.values(resourcesOf(own)).filter((resource) => resource.Type === 'AWS::CloudFormation::Stack'),
    ).toHaveLength(SHARDS);
    const template = Template.fromStack(stack);
    const stageSecrets = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':secretsmanager:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':secret:rotor/fleet/*',
        ],
      ],
    };
    const tagged = { [`aws:ResourceTag/${MANAGED_BY_TAG}`]: 'fleet' };
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: [
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:PutSecretValue',
              'secretsmanager:UpdateSecretVersionStage',
            ],
            Effect: 'Allow',
            Resource: stageSecrets,
            Condition: { StringEquals: tagged },
          },
        ],
      },
      Roles: [{ Ref: stack.getLogicalId(stack.rotationFunction.role.node.defaultChild as CfnResource) }],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'secretsmanager:DescribeSecret',
            Effect: 'Allow',
            Resource: stageSecrets,
            Condition: { StringEquals: tagged },
          },
          {
            Action: 'secretsmanager:GetSecretValue',
            Effect: 'Allow',
            Resource: stageSecrets,
            Condition: { StringEquals: { ...tagged, 'secretsmanager:VersionStage': 'AWSCURRENT' } },
          },
        ],
      },
    });
    template.hasOutput(RotorStackOutput.secretNamePrefix, { Value: 'rotor/fleet/' });
  });

  it('grants Secrets Manager the use of the stage key once, not once per secret, so that synthesis stays fast', () => {
    // CDK merges a key policy's identical statements at synthesis in time quadratic in their number.
    const keyPolicy: unknown = (stack.encryptionKey.node.defaultChild as kms.CfnKey).keyPolicy;
    expect(keyPolicy).toBeInstanceOf(iam.PolicyDocument);
    expect((keyPolicy as iam.PolicyDocument).statementCount).toBeLessThan(20);
  });

  it('tags every secret with its stage, which the functions’ access requires', () => {
    const shard = Template.fromStack(stack.shards[3]!);
    const secrets = shard.findResources('AWS::SecretsManager::Secret');
    expect(Object.keys(secrets).length).toBeGreaterThan(0);
    for (const secret of Object.values(secrets)) {
      expect((secret as { Properties: { Tags: unknown[] } }).Properties.Tags).toContainEqual({
        Key: MANAGED_BY_TAG,
        Value: 'fleet',
      });
    }
  });
});

describe('a sharded stage that needs more shards than alarm groups', () => {
  it('keeps three alarms per alarm group, all in its own stack, whatever its shards', () => {
    // GIVEN 200 secrets in 40 shards (as 10,000 secrets need about 60), in the default 10 groups
    const { stack, templates } = synthStage(fleetStageFile(200, 40));
    const groupAlarms = (text: string) =>
      Object.values(resourcesOf(text)).filter(
        (resource) =>
          resource.Type === 'AWS::CloudWatch::Alarm' && String(resource.Properties?.AlarmName).includes('.group-'),
      );
    // THEN 30 Metrics Insights alarms, in the stage's own stack, none in a shard
    expect(stack.shards.length).toBeGreaterThan(30);
    expect(stack.alarmGroups).toHaveLength(10);
    expect(groupAlarms(templates.get('Rotor-fleet')!)).toHaveLength(30);
    for (const shard of stack.shards) expect(groupAlarms(templates.get(shard.node.path)!)).toEqual([]);
    // and every secret's group holds it, as the functions tag its metrics
    for (const [index, secret] of stack.secrets.entries()) {
      expect(secret.alarmGroup).toBe(alarmGroupOf(fleetSecretName(index), 10));
    }
  });
});

describe('adding or removing a secret of a sharded stage', () => {
  // Nested stack resources name their template by its hash: mask it to compare the rest.
  const masked = (template: string): string => template.replace(/[0-9a-f]{64}\.json/g, '<hash>.json');

  it('changes the template of its own shard only, and no logical id elsewhere', () => {
    // GIVEN a stage of 40 secrets in 4 shards, and the same stage with one more and one fewer
    const base = fleetStageFile(40, 4);
    const secrets = base.secrets as { name: string }[];
    const added = { ...base, secrets: [...secrets, { ...secrets[0]!, name: 'team-9/new-pipeline' }] };
    const removed = { ...base, secrets: secrets.filter((secret) => secret.name !== fleetSecretName(17)) };
    // WHEN each is synthesized
    const before = synthStage(base).templates;
    const after = { added: synthStage(added).templates, removed: synthStage(removed).templates };
    // THEN only the shard of the added (removed) secret differs; the stage's own template only in
    // that shard's template hash
    const changed = (other: Map<string, string>): string[] =>
      [...before].filter(([path, text]) => other.get(path) !== text).map(([path]) => path);
    expect(changed(after.added)).toEqual(
      [`Rotor-fleet/${shardId(shardOf('team-9/new-pipeline', 4))}`, 'Rotor-fleet'].sort(),
    );
    expect(changed(after.removed)).toEqual(
      [`Rotor-fleet/${shardId(shardOf(fleetSecretName(17), 4))}`, 'Rotor-fleet'].sort(),
    );
    expect(masked(after.added.get('Rotor-fleet')!)).toBe(masked(before.get('Rotor-fleet')!));
    expect(masked(after.removed.get('Rotor-fleet')!)).toBe(masked(before.get('Rotor-fleet')!));
  });
});

describe('a stage over CloudFormation limits', () => {
  const problem = (stageFile: Record<string, unknown>): string => {
    try {
      addRotorStages(newTestApp(), parseRotorConfig({ stages: [stageFile] }));
    } catch (error) {
      expect(error).toBeInstanceOf(RotorConfigError);
      return (error as Error).message;
    }
    throw new Error('expected the stage to be refused');
  };

  it('fails without shards in one line that says how many to set', () => {
    expect(problem(fleetStageFile(100))).toBe(
      'stages[0] ("fleet"): stack Rotor-fleet needs 569 resources, more than CloudFormation\'s 500 per template; set "shards": 2 on the stage',
    );
  });

  it('fails when its alarm groups need more Metrics Insights alarms than its quota, in one line that says what to change', () => {
    expect(problem({ ...fleetStageFile(40, 8), metricsInsightsAlarmQuota: 12 })).toBe(
      'stages[0] ("fleet"): its 8 alarm groups need 24 Metrics Insights alarms (3 per group), more than "metricsInsightsAlarmQuota" allows (12, CloudWatch\'s default per account and region is 200); lower "alarmGroups" to at most 4, or raise the quota in Service Quotas and then "metricsInsightsAlarmQuota"',
    );
  });

  it('fails with too few shards in one line that says how many to set', () => {
    expect(problem(fleetStageFile(300, 1))).toBe(
      'stages[0] ("fleet"): shard Shard000 needs 600 resources, more than CloudFormation\'s 500 per template; raise "shards" from 1 to 3 (each secret then moves to the shard its name hashes to)',
    );
  });
});
