import { CfnResource, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { RotationEventsFunction } from '../../lib/rotation-events-function';
import { deadLetterQueueArn, deadLetterSendStatements } from './dead-letter-fixtures';
import { fixtureEnvironment, newStageFixture, type StageFixture } from './infra-test-app';

describe('RotationEventsFunction', () => {
  // GIVEN the rotation-events function of stage `test`
  let fixture: StageFixture;
  let stack: Stack;
  let template: Template;
  let rotationEvents: RotationEventsFunction;
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);

  beforeAll(() => {
    fixture = newStageFixture();
    stack = fixture.stack;
    // WHEN
    rotationEvents = new RotationEventsFunction(stack, 'RotationEvents', {
      resources: fixture.resources,
      retirement: fixture.retirement,
    });
    template = Template.fromStack(stack);
  });

  it("runs the built bundle on Node.js 24 on ARM64, 256 MiB, 10 seconds, traced, with exactly the stage's Rotor environment", () => {
    const fn = template.findResources('AWS::Lambda::Function')[id(rotationEvents.function)]!;
    expect(fn.Properties).toMatchObject({
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 10,
      TracingConfig: { Mode: 'Active' },
    });
    expect((fn.Properties as { Environment: unknown }).Environment).toEqual({
      Variables: fixtureEnvironment(fixture),
    });
    expect(rotationEvents.settings).toEqual({
      stage: 'test',
      secretNamePrefix: 'rotor/test/',
      ledgerTableName: fixture.ledger.table.tableName,
      pepperSecretArn: fixture.pepper.secret.secretArn,
      retireFunctionArn: fixture.retirement.retireFunctionArn,
      schedulerRoleArn: fixture.retirement.schedulerRole.roleArn,
      scheduleGroupName: 'rotor-test',
      eventBusName: 'default',
      logLevel: 'INFO',
    });
  });

  it("may write its logs and traces, send to its dead-letter queue, and update items of the ledger's watch partition only, and nothing else", () => {
    const attached = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: id(rotationEvents.role) }] },
    });
    expect(
      Object.fromEntries(
        Object.entries(attached).map(([logicalId, policy]) => [
          logicalId.replace(/[0-9A-F]{8}$/, ''),
          (policy.Properties as { PolicyDocument: unknown }).PolicyDocument,
        ]),
      ),
    ).toEqual({
      RotationEventsRoleDefaultPolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [id(rotationEvents.logGroup), 'Arn'] },
          },
          ...deadLetterSendStatements('rotation-events', id(fixture.key)),
          {
            Effect: 'Allow',
            Action: 'dynamodb:UpdateItem',
            Resource: { 'Fn::GetAtt': [id(fixture.ledger.table), 'Arn'] },
            Condition: {
              'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['HEALTH#WATCH'] },
              Null: { 'dynamodb:LeadingKeys': 'false' },
            },
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
            Resource: { 'Fn::GetAtt': [id(fixture.resources.encryptionKey), 'Arn'] },
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
          },
        ],
      },
      RotationEventsTracingPolicy: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' }],
      },
    });
  });

  it("sends the events it failed to count after Lambda's retries to its dead-letter queue", () => {
    const fn = template.findResources('AWS::Lambda::Function')[id(rotationEvents.function)]!;
    expect((fn.Properties as { DeadLetterConfig: unknown }).DeadLetterConfig).toEqual({
      TargetArn: deadLetterQueueArn('rotation-events'),
    });
  });

  it("sends Secrets Manager's RotationFailed and RotationAbandoned events, from the default bus, to the function, with retries", () => {
    expect(template.findResources('AWS::Events::Rule')[id(rotationEvents.rule)]).toEqual({
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: 'Rotor test: Secrets Manager reports a rotation failed or was abandoned',
        State: 'ENABLED',
        EventPattern: {
          source: ['aws.secretsmanager'],
          'detail-type': ['AWS Service Event via CloudTrail'],
          detail: {
            eventSource: ['secretsmanager.amazonaws.com'],
            eventName: ['RotationFailed', 'RotationAbandoned'],
          },
        },
        Targets: [
          {
            Id: 'Target0',
            Arn: { 'Fn::GetAtt': [id(rotationEvents.function), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 },
          },
        ],
      },
    });
  });

  it("sends Secrets Manager's API calls that change a secret's value or labels, from the default bus, to the function, with retries", () => {
    expect(template.findResources('AWS::Events::Rule')[id(rotationEvents.changeRule)]).toEqual({
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: "Rotor test: a Secrets Manager API call changed a secret's value or labels",
        State: 'ENABLED',
        EventPattern: {
          source: ['aws.secretsmanager'],
          'detail-type': ['AWS API Call via CloudTrail'],
          detail: {
            eventSource: ['secretsmanager.amazonaws.com'],
            eventName: [
              'PutSecretValue',
              'UpdateSecret',
              'UpdateSecretVersionStage',
              'RotateSecret',
              'CancelRotateSecret',
              'RestoreSecret',
            ],
          },
        },
        Targets: [
          {
            Id: 'Target0',
            Arn: { 'Fn::GetAtt': [id(rotationEvents.function), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 },
          },
        ],
      },
    });
  });

  it('lets only those two rules invoke the function', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Permission',
      { FunctionName: { 'Fn::GetAtt': [id(rotationEvents.function), 'Arn'] } },
      2,
    );
    for (const rule of [rotationEvents.rule, rotationEvents.changeRule]) {
      template.hasResourceProperties(
        'AWS::Lambda::Permission',
        Match.objectEquals({
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [id(rotationEvents.function), 'Arn'] },
          Principal: 'events.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [id(rule), 'Arn'] },
        }),
      );
    }
  });
});
