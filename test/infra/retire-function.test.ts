import { CfnResource, Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { rotorLambdaEnvironment } from '../../lambda/shared/rotor-constants';
import type { RetireFunction } from '../../lib/retire-function';
import { deadLetterQueueArn, deadLetterSendStatements } from './dead-letter-fixtures';
import { newStageFixture, type StageFixture } from './infra-test-app';

describe('RetireFunction', () => {
  // GIVEN the retire function of stage `test` with the default sweep
  let fixture: StageFixture;
  let stack: Stack;
  let template: Template;
  let retire: RetireFunction;
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);
  const retireArn = {
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':lambda:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        ':function:rotor-test-retire',
      ],
    ],
  };

  beforeAll(() => {
    // WHEN
    fixture = newStageFixture();
    ({ stack, retirement: retire } = fixture);
    template = Template.fromStack(stack);
  });

  it('runs the built bundle as rotor-test-retire on Node.js 24 on ARM64, 256 MiB, one minute, traced', () => {
    expect(template.findResources('AWS::Lambda::Function')[id(retire.function)]).toMatchObject({
      Properties: {
        FunctionName: 'rotor-test-retire',
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 60,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: id(retire.logGroup) } },
      },
      // Lambda checks at creation that the role may send to the dead-letter queue.
      DependsOn: [
        expect.stringMatching(/^RetireDeadLettersQueuePolicy/),
        expect.stringMatching(/^RetireDeadLettersQueue[0-9A-F]{8}$/),
        expect.stringMatching(/^RetireRoleDefaultPolicy/),
        expect.stringMatching(/^RetireTracingPolicy/),
      ],
    });
  });

  it("sends the invocations that failed after Lambda's retries to its dead-letter queue", () => {
    const fn = template.findResources('AWS::Lambda::Function')[id(retire.function)]!;
    expect((fn.Properties as { DeadLetterConfig: unknown }).DeadLetterConfig).toEqual({
      TargetArn: deadLetterQueueArn('retire'),
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: 'rotor-test-retire-dead-letters',
      KmsMasterKeyId: { 'Fn::GetAtt': [id(fixture.key), 'Arn'] },
    });
  });

  it("has exactly the stage's Rotor environment, its own ARN (known from its name) included", () => {
    const fn = template.findResources('AWS::Lambda::Function')[id(retire.function)]!;
    expect((fn.Properties as { Environment: unknown }).Environment).toEqual({
      Variables: stack.resolve(
        rotorLambdaEnvironment({
          stage: 'test',
          secretNamePrefix: 'rotor/test/',
          ledgerTableName: fixture.ledger.table.tableName,
          pepperSecretArn: fixture.pepper.secret.secretArn,
          retireFunctionArn: retireArn as unknown as string,
          schedulerRoleArn: retire.schedulerRole.roleArn,
          scheduleGroupName: 'rotor-test',
          eventBusName: 'default',
        }),
      ) as unknown,
    });
  });

  it('may write its logs, keep the ledger and query the grace index, with the key only through DynamoDB', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RetireRoleDefaultPolicy'),
      Roles: [{ Ref: id(retire.role) }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [id(retire.logGroup), 'Arn'] },
          },
          ...deadLetterSendStatements('retire', id(fixture.key)),
          {
            Effect: 'Allow',
            Action: ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Resource: { 'Fn::GetAtt': [id(fixture.ledger.table), 'Arn'] },
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
            Resource: { 'Fn::GetAtt': [id(fixture.key), 'Arn'] },
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
          },
          {
            Effect: 'Allow',
            Action: 'dynamodb:Query',
            Resource: {
              'Fn::Join': ['', [{ 'Fn::GetAtt': [id(fixture.ledger.table), 'Arn'] }, '/index/previous-by-grace-end']],
            },
          },
        ],
      }),
    });
    // Besides the tracing policy, nothing else: no Secrets Manager access while no provider can revoke.
    const attached = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: id(retire.role) }] } });
    expect(Object.keys(attached)).toEqual([
      expect.stringMatching(/^RetireRoleDefaultPolicy/),
      expect.stringMatching(/^RetireTracingPolicy/),
    ]);
  });

  it('creates the schedule group rotor-test', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', Match.objectEquals({ Name: 'rotor-test' }));
  });

  it('has a scheduler role that only Scheduler acting for this account and this group may assume', () => {
    expect(template.findResources('AWS::IAM::Role')[id(retire.schedulerRole)]).toEqual({
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: 'Rotor test: EventBridge Scheduler invokes the retire function',
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Condition: {
                StringEquals: {
                  'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                  'aws:SourceArn': { 'Fn::GetAtt': [id(retire.scheduleGroup), 'Arn'] },
                },
              },
            },
          ],
        },
      },
    });
  });

  it('lets the scheduler role invoke the retire function and send undelivered sweeps to its dead-letter queue, nothing else', () => {
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: id(retire.schedulerRole) }] },
    });
    expect(
      Object.values(policies).map((policy) => (policy.Properties as { PolicyDocument: unknown }).PolicyDocument),
    ).toEqual([
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: { 'Fn::GetAtt': [id(retire.function), 'Arn'] },
          },
          ...deadLetterSendStatements('retire', id(fixture.key)),
        ],
      },
    ]);
  });

  it('sweeps every 5 minutes (UTC) with {"sweep":true}, retrying briefly, once the scheduler role may invoke', () => {
    const schedules = template.findResources('AWS::Scheduler::Schedule');
    expect(Object.values(schedules)).toEqual([
      {
        Type: 'AWS::Scheduler::Schedule',
        Properties: {
          Name: 'sweep-overdue-retirements',
          GroupName: { Ref: id(retire.scheduleGroup) },
          Description: 'Rotor test: retire every previous credential whose grace is over',
          ScheduleExpression: 'rate(5 minutes)',
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          State: 'ENABLED',
          Target: {
            Arn: { 'Fn::GetAtt': [id(retire.function), 'Arn'] },
            RoleArn: { 'Fn::GetAtt': [id(retire.schedulerRole), 'Arn'] },
            Input: '{"sweep":true}',
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 240 },
            DeadLetterConfig: { Arn: deadLetterQueueArn('retire') },
          },
        },
        DependsOn: [
          expect.stringMatching(/^RetireDeadLettersQueuePolicy/),
          expect.stringMatching(/^RetireDeadLettersQueue[0-9A-F]{8}$/),
          expect.stringMatching(/^RetireSchedulerRoleDefaultPolicy/),
        ],
      },
    ]);
  });

  it('takes the sweep schedule, the log level, memory and timeout', () => {
    // WHEN
    const other = newStageFixture({
      retire: { sweepSchedule: 'rate(1 hour)', logLevel: 'WARN', memorySize: 512, timeout: Duration.minutes(2) },
    });
    // THEN
    const otherTemplate = Template.fromStack(other.stack);
    otherTemplate.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 hour)' });
    otherTemplate.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'rotor-test-retire',
      MemorySize: 512,
      Timeout: 120,
      Environment: { Variables: Match.objectLike({ POWERTOOLS_LOG_LEVEL: 'WARN' }) },
    });
  });

  it.each([
    ['every 5 minutes', /must be "rate\(N minutes\|hours\|days\)" or "cron\(.*\)" \(UTC\), got "every 5 minutes"/],
    ['rate(0 minutes)', /rate\(\) must be at least 1, got "rate\(0 minutes\)"/],
    ['rate(5 minute)', /rate\(\) takes a singular unit for 1 and a plural one otherwise/],
    ['cron(0/5 * * * *)', /cron\(\) needs 6 fields .*, found 5/],
  ])('fails on the sweep schedule %j', (sweepSchedule, problem) => {
    expect(() => newStageFixture({ retire: { sweepSchedule } })).toThrow(
      new RegExp(`RetireFunction sweepSchedule ${problem.source}`),
    );
  });
});
