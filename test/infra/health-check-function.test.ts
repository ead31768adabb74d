import { CfnResource, Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import { HealthCheckFunction, type HealthCheckFunctionProps } from '../../lib/health-check-function';
import { deadLetterQueueArn, deadLetterSendStatements } from './dead-letter-fixtures';
import { newStageFixture, type StageFixture, fixtureEnvironment } from './infra-test-app';

function newHealthCheck(fixture: StageFixture, props: Partial<HealthCheckFunctionProps> = {}): HealthCheckFunction {
  return new HealthCheckFunction(fixture.stack, 'HealthCheck', {
    resources: fixture.resources,
    retirement: fixture.retirement,
    ...props,
  });
}

describe('HealthCheckFunction', () => {
  // GIVEN the health check of stage `test`, granted to test two secrets
  let fixture: StageFixture;
  let stack: Stack;
  let template: Template;
  let healthCheck: HealthCheckFunction;
  let secrets: secretsmanager.Secret[];
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);
  const functionOf = (): { Properties: Record<string, unknown>; DependsOn?: unknown } =>
    template.findResources('AWS::Lambda::Function')[id(healthCheck.function)] as never;

  beforeAll(() => {
    fixture = newStageFixture();
    stack = fixture.stack;
    healthCheck = newHealthCheck(fixture);
    secrets = ['one', 'two'].map(
      (name) => new secretsmanager.Secret(stack, name, { secretName: `rotor/test/${name}` }),
    );
    // WHEN
    for (const secret of secrets) healthCheck.grantHealthCheck(secret);
    template = Template.fromStack(stack);
  });

  it('runs the built bundle on Node.js 24 on ARM64, 256 MiB, a timeout beyond the 40-second budget, traced', () => {
    expect(functionOf()).toMatchObject({
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 256,
        Timeout: 60,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: id(healthCheck.logGroup) } },
      },
      DependsOn: [
        expect.stringMatching(/^HealthCheckDeadLettersQueuePolicy/),
        expect.stringMatching(/^HealthCheckDeadLettersQueue[0-9A-F]{8}$/),
        expect.stringMatching(/^HealthCheckRoleDefaultPolicy/),
        expect.stringMatching(/^HealthCheckSecretListingPolicy/),
        expect.stringMatching(/^HealthCheckTracingPolicy/),
      ],
    });
  });

  it('sends a health check that failed or waited a minute to its dead-letter queue, without retrying it', () => {
    expect(functionOf().Properties.DeadLetterConfig).toEqual({ TargetArn: deadLetterQueueArn('health-check') });
    template.hasResourceProperties(
      'AWS::Lambda::EventInvokeConfig',
      Match.objectEquals({
        FunctionName: { Ref: id(healthCheck.function) },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 0,
        MaximumEventAgeInSeconds: 60,
      }),
    );
  });

  it('reserves no concurrency unless told', () => {
    expect(functionOf().Properties.ReservedConcurrentExecutions).toBeUndefined();
    const other = newStageFixture();
    const reserved = newHealthCheck(other, { reservedConcurrentExecutions: 1 });
    expect(
      Template.fromStack(other.stack).findResources('AWS::Lambda::Function')[
        other.stack.getLogicalId(reserved.function.node.defaultChild as CfnResource)
      ]?.Properties,
    ).toMatchObject({ ReservedConcurrentExecutions: 1 });
  });

  it("has exactly the stage's Rotor environment, plus its cadence: every minute, watch 15 minutes, idle 1 hour", () => {
    expect(functionOf().Properties.Environment).toEqual({
      Variables: fixtureEnvironment(fixture, {
        healthCheckRunSeconds: 60,
        healthCheckWatchSeconds: 900,
        healthCheckIdleSeconds: 3600,
      }),
    });
  });

  it('may read the ledger, keep its watch partition, the pepper, and describe and read at AWSCURRENT only the granted secrets, with the key only through the services', () => {
    const keyArn = { 'Fn::GetAtt': [id(fixture.key), 'Arn'] };
    const via = (service: string): unknown => ({
      StringEquals: {
        'kms:ViaService': { 'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']] },
      },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^HealthCheckRoleDefaultPolicy'),
      Roles: [{ Ref: id(healthCheck.role) }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [id(healthCheck.logGroup), 'Arn'] },
          },
          ...deadLetterSendStatements('health-check', id(fixture.key)),
          { Effect: 'Allow', Action: 'kms:Decrypt', Resource: keyArn, Condition: via('secretsmanager') },
          {
            Effect: 'Allow',
            Action: 'dynamodb:GetItem',
            Resource: { 'Fn::GetAtt': [id(fixture.ledger.table), 'Arn'] },
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
            Resource: keyArn,
            Condition: via('dynamodb'),
          },
          {
            Effect: 'Allow',
            Action: ['dynamodb:PutItem', 'dynamodb:Query'],
            Resource: { 'Fn::GetAtt': [id(fixture.ledger.table), 'Arn'] },
            Condition: {
              'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['HEALTH#WATCH'] },
              Null: { 'dynamodb:LeadingKeys': 'false' },
            },
          },
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: id(fixture.pepper.secret) } },
          {
            Effect: 'Allow',
            Action: 'secretsmanager:DescribeSecret',
            Resource: secrets.map((secret) => ({ Ref: id(secret) })),
          },
          {
            Effect: 'Allow',
            Action: 'secretsmanager:GetSecretValue',
            Resource: secrets.map((secret) => ({ Ref: id(secret) })),
            Condition: {
              StringEqualsIfExists: { 'secretsmanager:VersionStage': 'AWSCURRENT' },
              Null: { 'secretsmanager:VersionId': 'true' },
            },
          },
        ],
      }),
    });
  });

  it('lists and batch-reads secrets from a policy of its own, the only one with a wildcard besides X-Ray', () => {
    const attached = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: id(healthCheck.role) }] },
    });
    const statements = Object.fromEntries(
      Object.entries(attached).map(([logicalId, policy]) => [
        logicalId.replace(/[0-9A-F]{8}$/, ''),
        (policy.Properties as { PolicyDocument: { Statement: unknown } }).PolicyDocument.Statement,
      ]),
    );
    expect(Object.keys(statements)).toEqual([
      'HealthCheckRoleDefaultPolicy',
      'HealthCheckTracingPolicy',
      'HealthCheckSecretListingPolicy',
    ]);
    expect(statements.HealthCheckSecretListingPolicy).toEqual([
      {
        Effect: 'Allow',
        Action: ['secretsmanager:BatchGetSecretValue', 'secretsmanager:ListSecrets'],
        Resource: '*',
      },
    ]);
    expect(statements.HealthCheckTracingPolicy).toEqual([
      { Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' },
    ]);
  });

  it("has its own scheduler role, assumable only by Scheduler for this account and the health check's own group, that may invoke only the health check and send to its dead-letter queue", () => {
    expect(template.findResources('AWS::IAM::Role')[id(healthCheck.schedulerRole)]).toEqual({
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: 'Rotor test: EventBridge Scheduler invokes the health check',
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
                  'aws:SourceArn': { 'Fn::GetAtt': [id(healthCheck.scheduleGroup), 'Arn'] },
                },
              },
            },
          ],
        },
      },
    });
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { Roles: [{ Ref: id(healthCheck.schedulerRole) }] },
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
            Resource: { 'Fn::GetAtt': [id(healthCheck.function), 'Arn'] },
          },
          ...deadLetterSendStatements('health-check', id(fixture.key)),
        ],
      },
    ]);
  });

  it('runs every minute (UTC), alone in the schedule group rotor-test.health-check, without retries, once its role may invoke', () => {
    expect(template.findResources('AWS::Scheduler::ScheduleGroup')[id(healthCheck.scheduleGroup)]).toEqual({
      Type: 'AWS::Scheduler::ScheduleGroup',
      Properties: { Name: 'rotor-test.health-check' },
    });
    expect(template.findResources('AWS::Scheduler::Schedule')[id(healthCheck.schedule)]).toEqual({
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Name: 'health-check',
        GroupName: { Ref: id(healthCheck.scheduleGroup) },
        Description: 'Rotor test: test the current credential of every managed secret',
        ScheduleExpression: 'rate(1 minute)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: { 'Fn::GetAtt': [id(healthCheck.function), 'Arn'] },
          RoleArn: { 'Fn::GetAtt': [id(healthCheck.schedulerRole), 'Arn'] },
          Input: '{}',
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
          DeadLetterConfig: { Arn: deadLetterQueueArn('health-check') },
        },
      },
      DependsOn: [
        expect.stringMatching(/^HealthCheckDeadLettersQueuePolicy/),
        expect.stringMatching(/^HealthCheckDeadLettersQueue[0-9A-F]{8}$/),
        expect.stringMatching(/^HealthCheckSchedulerRoleDefaultPolicy/),
      ],
    });
  });

  it('takes the schedule, and sizes its timeout from the budget of the stage', () => {
    // WHEN
    const other = newStageFixture({ resources: { healthAndRollback: { healthCheckBudgetSeconds: 100 } } });
    newHealthCheck(other, { schedule: 'cron(0/5 * * * ? *)' });
    // THEN
    const otherTemplate = Template.fromStack(other.stack);
    otherTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'health-check',
      ScheduleExpression: 'cron(0/5 * * * ? *)',
    });
    otherTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('tests the current credential'),
      Timeout: 120,
      Environment: { Variables: Match.objectLike({ ROTOR_HEALTH_CHECK_BUDGET_SECONDS: '100' }) },
    });
  });

  it('takes the watch period and idle interval of the stage, and tests every secret at every run of a cron() schedule', () => {
    // WHEN
    const rate = newStageFixture({
      resources: { healthAndRollback: { healthCheckWatchSeconds: 600, healthCheckIdleSeconds: 7200 } },
    });
    newHealthCheck(rate, { schedule: 'rate(2 minutes)' });
    const cron = newStageFixture();
    newHealthCheck(cron, { schedule: 'cron(0/5 * * * ? *)' });
    // THEN
    const hasEnvironment = (fixture: StageFixture, variables: Record<string, string>) =>
      Template.fromStack(fixture.stack).hasResourceProperties('AWS::Lambda::Function', {
        Description: Match.stringLikeRegexp('tests the current credential'),
        Environment: { Variables: Match.objectLike(variables) },
      });
    hasEnvironment(rate, {
      ROTOR_HEALTH_CHECK_RUN_SECONDS: '120',
      ROTOR_HEALTH_CHECK_WATCH_SECONDS: '600',
      ROTOR_HEALTH_CHECK_IDLE_SECONDS: '7200',
    });
    hasEnvironment(cron, { ROTOR_HEALTH_CHECK_RUN_SECONDS: '3600', ROTOR_HEALTH_CHECK_IDLE_SECONDS: '3600' });
  });

  it('fails on a watch period under a minute', () => {
    const short = newStageFixture({ resources: { healthAndRollback: { healthCheckWatchSeconds: 30 } } });
    expect(() => newHealthCheck(short)).toThrow(
      /HealthCheckFunction healthCheckWatchSeconds must be a whole number of seconds of at least 60, got 30/,
    );
  });

  it('fails when the timeout is not longer than the budget', () => {
    expect(() => newHealthCheck(newStageFixture(), { timeout: Duration.seconds(40) })).toThrow(
      /HealthCheckFunction timeout must be longer than the health check's budget of 40 seconds, got 40 seconds/,
    );
  });

  it.each([
    ['every minute', /must be "rate\(N minutes\|hours\|days\)" or "cron\(.*\)" \(UTC\), got "every minute"/],
    ['rate(1 minutes)', /rate\(\) takes a singular unit for 1 and a plural one otherwise/],
  ])('fails on the schedule %j', (schedule, problem) => {
    expect(() => newHealthCheck(newStageFixture(), { schedule })).toThrow(
      new RegExp(`HealthCheckFunction schedule ${problem.source}`),
    );
  });

  it('fails to grant a secret whose full ARN is unknown', () => {
    const other = newStageFixture();
    const otherHealthCheck = newHealthCheck(other);
    const byName = secretsmanager.Secret.fromSecretNameV2(other.stack, 'ByName', 'rotor/test/imported');
    expect(() => otherHealthCheck.grantHealthCheck(byName)).toThrow(
      /HealthCheckFunction can only test secrets with a known full ARN.*got Test\/ByName/,
    );
  });
});
