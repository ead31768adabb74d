import { CfnResource, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import { ROLLBACK_ALARM_KINDS, RotorAlarmKind, rotorAlarmName } from '../../lambda/shared/rotor-constants';
import { AlertTopic } from '../../lib/alert-topic';
import { RollbackFunction, rollbackAlarmNamePrefixes } from '../../lib/rollback-function';
import { deadLetterQueueArn, deadLetterSendStatements } from './dead-letter-fixtures';
import { newStageFixture, type StageFixture, fixtureEnvironment } from './infra-test-app';

function newRollback(fixture: StageFixture): { rollback: RollbackFunction; alerts: AlertTopic } {
  const alerts = new AlertTopic(fixture.stack, 'Alerts', { stage: 'test', encryptionKey: fixture.key });
  const rollback = new RollbackFunction(fixture.stack, 'Rollback', {
    resources: { ...fixture.resources, alertTopic: alerts.topic },
    retirement: fixture.retirement,
    alertTopic: alerts,
  });
  return { rollback, alerts };
}

describe('RollbackFunction', () => {
  // GIVEN the rollback function of stage `test`, granted to roll back two secrets
  let fixture: StageFixture;
  let stack: Stack;
  let template: Template;
  let rollback: RollbackFunction;
  let alerts: AlertTopic;
  let secrets: secretsmanager.Secret[];
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);
  const functionOf = (): { Properties: Record<string, unknown>; DependsOn?: unknown } =>
    template.findResources('AWS::Lambda::Function')[id(rollback.function)] as never;

  beforeAll(() => {
    fixture = newStageFixture();
    stack = fixture.stack;
    ({ rollback, alerts } = newRollback(fixture));
    secrets = ['one', 'two'].map(
      (name) => new secretsmanager.Secret(stack, name, { secretName: `rotor/test/${name}` }),
    );
    // WHEN
    for (const secret of secrets) rollback.grantRollback(secret);
    template = Template.fromStack(stack);
  });

  it('runs the built bundle on Node.js 24 on ARM64, 256 MiB, one minute, traced', () => {
    expect(functionOf()).toMatchObject({
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 60,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: id(rollback.logGroup) } },
      },
      DependsOn: [
        expect.stringMatching(/^RollbackDeadLettersQueuePolicy/),
        expect.stringMatching(/^RollbackDeadLettersQueue[0-9A-F]{8}$/),
        expect.stringMatching(/^RollbackRetirementCancellingPolicy/),
        expect.stringMatching(/^RollbackRoleDefaultPolicy/),
        expect.stringMatching(/^RollbackTracingPolicy/),
      ],
    });
  });

  it("sends a rollback that failed after Lambda's retries to its dead-letter queue, whose alarm tells the alert topic at the first message", () => {
    expect(functionOf().Properties.DeadLetterConfig).toEqual({ TargetArn: deadLetterQueueArn('rollback') });
    expect(template.findResources('AWS::SQS::Queue')[id(rollback.deadLetterQueue.queue)]?.Properties).toEqual({
      QueueName: 'rotor-test-rollback-dead-letters',
      KmsMasterKeyId: { 'Fn::GetAtt': [id(fixture.key), 'Arn'] },
      KmsDataKeyReusePeriodSeconds: 300,
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
    expect(template.findResources('AWS::CloudWatch::Alarm')[id(rollback.deadLetterQueue.alarm)]?.Properties).toEqual({
      AlarmName: 'rotor-test-dead-letters.rollback',
      AlarmDescription:
        'Rotor test: an invocation of the rollback function failed for good and waits in rotor-test-rollback-dead-letters (see docs/operations.md)',
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [id(rollback.deadLetterQueue.queue), 'QueueName'] } }],
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: id(alerts.topic as never) }],
    });
    // The rollback alarms' rule does not match it: its name has no rollback alarm's prefix.
    for (const prefix of rollbackAlarmNamePrefixes('test'))
      expect('rotor-test-dead-letters.rollback').not.toMatch(new RegExp(`^${prefix}`));
  });

  it("has exactly the stage's Rotor environment, the alert topic included", () => {
    expect(functionOf().Properties.Environment).toEqual({
      Variables: fixtureEnvironment(fixture, { alertTopicArn: alerts.topic.topicArn }),
    });
    expect(functionOf().Properties.Environment).toMatchObject({
      Variables: { ROTOR_ALERT_TOPIC_ARN: { Ref: id(alerts.topic) } },
    });
  });

  it('may roll back the granted secrets, keep the ledger, read the pepper, publish alerts and events, with the key only through the services', () => {
    const keyArn = { 'Fn::GetAtt': [id(fixture.key), 'Arn'] };
    const via = (service: string): unknown => ({
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RollbackRoleDefaultPolicy'),
      Roles: [{ Ref: id(rollback.role) }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [id(rollback.logGroup), 'Arn'] },
          },
          ...deadLetterSendStatements('rollback', id(fixture.key)),
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn, Condition: via('secretsmanager') },
          {
            Effect: 'Allow',
            Action: ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Resource: { 'Fn::GetAtt': [id(fixture.ledger.table), 'Arn'] },
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
            Resource: keyArn,
            Condition: via('dynamodb'),
          },
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: id(fixture.pepper.secret) } },
          { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: id(alerts.topic) } },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: keyArn,
            Condition: via('sns'),
          },
          {
            Effect: 'Allow',
            Action: 'events:PutEvents',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':events:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':event-bus/default',
                ],
              ],
            },
          },
          {
            Effect: 'Allow',
            Action: [
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:UpdateSecretVersionStage',
            ],
            Resource: secrets.map((secret) => ({ Ref: id(secret) })),
          },
        ],
      }),
    });
  });

  it("may delete only the retirement schedules of the stage's group, from a policy of its own", () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RollbackRetirementCancellingPolicy'),
      Roles: [{ Ref: id(rollback.role) }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'scheduler:DeleteSchedule',
            Resource: {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  { Ref: 'AWS::Partition' },
                  ':scheduler:',
                  { Ref: 'AWS::Region' },
                  ':',
                  { Ref: 'AWS::AccountId' },
                  ':schedule/rotor-test/retire-*',
                ],
              ],
            },
          },
        ],
      }),
    });
    const attached = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: id(rollback.role) }] },
    });
    expect(Object.keys(attached).map((logicalId) => logicalId.replace(/[0-9A-F]{8}$/, ''))).toEqual([
      'RollbackRoleDefaultPolicy',
      'RollbackTracingPolicy',
      'RollbackRetirementCancellingPolicy',
    ]);
  });

  it("sends the stage's rotation and health-check alarms entering ALARM, from the default bus, to the function, with retries", () => {
    expect(template.findResources('AWS::Events::Rule')[id(rollback.rule)]).toEqual({
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: 'Rotor test: a rotation or health-check alarm of the stage entered ALARM; roll back',
        State: 'ENABLED',
        EventPattern: {
          source: ['aws.cloudwatch'],
          'detail-type': ['CloudWatch Alarm State Change'],
          detail: {
            alarmName: [{ prefix: 'rotor-test-rotation-failures-' }, { prefix: 'rotor-test-health-check-failures-' }],
            state: { value: ['ALARM'] },
          },
        },
        Targets: [
          {
            Id: 'Target0',
            Arn: { 'Fn::GetAtt': [id(rollback.function), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 },
          },
        ],
      },
    });
    // On the default bus: no EventBusName.
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.cloudwatch'] },
      EventBusName: Match.absent(),
    });
  });

  it('lets only that rule invoke the function', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Permission',
      { FunctionName: { 'Fn::GetAtt': [id(rollback.function), 'Arn'] } },
      1,
    );
    template.hasResourceProperties(
      'AWS::Lambda::Permission',
      Match.objectEquals({
        Action: 'lambda:InvokeFunction',
        FunctionName: { 'Fn::GetAtt': [id(rollback.function), 'Arn'] },
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [id(rollback.rule), 'Arn'] },
      }),
    );
  });

  it('matches the names of the rollback alarms of each secret, and not the reuse alarm', () => {
    const prefixes = rollbackAlarmNamePrefixes('test');
    const matches = (name: string): boolean => prefixes.some((prefix) => name.startsWith(prefix));
    for (const kind of ROLLBACK_ALARM_KINDS) {
      expect(matches(rotorAlarmName('test', kind, 'rotor/test/deploy-token'))).toBe(true);
    }
    expect(matches(rotorAlarmName('test', RotorAlarmKind.reuseDetected, 'rotor/test/deploy-token'))).toBe(false);
    expect(matches(rotorAlarmName('production', RotorAlarmKind.rotationFailures, 'rotor/production/x'))).toBe(false);
  });

  it('fails to grant a secret whose full ARN is unknown', () => {
    const other = newStageFixture();
    const { rollback: otherRollback } = newRollback(other);
    const byName = secretsmanager.Secret.fromSecretNameV2(other.stack, 'ByName', 'rotor/test/imported');
    expect(() => otherRollback.grantRollback(byName)).toThrow(
      /RollbackFunction can only roll back secrets with a known full ARN.*got Test\/ByName/,
    );
  });
});
