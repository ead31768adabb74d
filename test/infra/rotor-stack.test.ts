import { CfnResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { RotorStackOutput, rotorLambdaEnvironment } from '../../lambda/shared/rotor-constants';
import { parseRotorConfig } from '../../lib/config/rotor-config';
import { spreadRefreshSchedule, spreadRotationSchedule } from '../../lib/schedule-spread';
import { RotorStack } from '../../lib/rotor-stack';
import { addRotorStages } from '../../lib/rotor-stages';
import { deadLetterSendStatements } from './dead-letter-fixtures';
import { maskAssetHashes, newTestApp, oauth2TestStage, testStage } from './infra-test-app';

describe('RotorStack', () => {
  // GIVEN a stage with a rate() and a cron() secret
  let stack: RotorStack;
  let template: Template;
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);

  beforeAll(() => {
    // WHEN
    stack = new RotorStack(newTestApp(), 'Rotor-test', { stage: testStage() });
    template = Template.fromStack(stack);
  });

  it("encrypts every function's log group with the stage's key, which CloudWatch Logs may use for the stack's log groups only", () => {
    const key = stack.getLogicalId(stack.encryptionKey.node.defaultChild as CfnResource);
    const logGroups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.keys(logGroups)).toHaveLength(6);
    for (const logGroup of Object.values(logGroups))
      expect((logGroup as { Properties: { KmsKeyId?: unknown } }).Properties.KmsKeyId).toEqual({
        'Fn::GetAtt': [key, 'Arn'],
      });
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'AllowCloudWatchLogsForTheStageLogGroups',
            Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
            Condition: {
              ArnLike: {
                'kms:EncryptionContext:aws:logs:arn': {
                  'Fn::Join': [
                    '',
                    [
                      'arn:',
                      { Ref: 'AWS::Partition' },
                      ':logs:',
                      { Ref: 'AWS::Region' },
                      ':',
                      { Ref: 'AWS::AccountId' },
                      `:log-group:${stack.stackName}-*`,
                    ],
                  ],
                },
              },
            },
          }),
        ]),
      },
    });
  });

  it('encrypts with a retained customer-managed key that rotates, aliased by stage', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::KMS::Alias', {
      AliasName: 'alias/rotor/test',
      TargetKeyId: { 'Fn::GetAtt': [id(stack.encryptionKey), 'Arn'] },
    });
  });

  it('deploys the rotation, retire, verifier, health-check, rollback and rotation-events functions, each with exactly the Rotor environment of the stage', () => {
    template.resourceCountIs('AWS::Lambda::Function', 6);
    const expected = stack.resolve(
      rotorLambdaEnvironment({
        stage: 'test',
        secretNamePrefix: 'rotor/test/',
        ledgerTableName: stack.ledger.table.tableName,
        pepperSecretArn: stack.pepper.secret.secretArn,
        retireFunctionArn: stack.retireFunction.retireFunctionArn,
        schedulerRoleArn: stack.retireFunction.schedulerRole.roleArn,
        scheduleGroupName: 'rotor-test',
        eventBusName: 'default',
        defaultGraceSeconds: 900,
        reuseMemorySeconds: 30 * 24 * 3600,
        auditRetentionSeconds: 400 * 24 * 3600,
        logLevel: 'INFO',
        alertTopicArn: stack.alertTopic.topic.topicArn,
        maxRollbackAttempts: 3,
        rollbackIncidentWindowSeconds: 24 * 3600,
        healthCheckConcurrency: 8,
        healthCheckBudgetSeconds: 40,
        healthCheckWatchSeconds: 900,
        healthCheckIdleSeconds: 3600,
      }),
    ) as Record<string, unknown>;
    expect(expected).toMatchObject({
      ROTOR_LEDGER_TABLE: { Ref: id(stack.ledger.table) },
      ROTOR_PEPPER_SECRET_ARN: { Ref: id(stack.pepper.secret) },
      ROTOR_SCHEDULER_ROLE_ARN: { 'Fn::GetAtt': [id(stack.retireFunction.schedulerRole), 'Arn'] },
      ROTOR_SCHEDULE_GROUP: 'rotor-test',
      ROTOR_EVENT_BUS_NAME: 'default',
      ROTOR_DEFAULT_GRACE_SECONDS: '900',
      ROTOR_ALERT_TOPIC_ARN: { Ref: id(stack.alertTopic.topic) },
      ROTOR_MAX_ROLLBACK_ATTEMPTS: '3',
      ROTOR_ROLLBACK_INCIDENT_WINDOW_SECONDS: '86400',
      ROTOR_HEALTH_CHECK_CONCURRENCY: '8',
      ROTOR_HEALTH_CHECK_BUDGET_SECONDS: '40',
    });
    for (const fn of [
      stack.rotationFunction,
      stack.retireFunction,
      stack.verifierFunction,
      stack.healthCheckFunction,
      stack.rollbackFunction,
      stack.rotationEventsFunction,
    ]) {
      // The rotation function alone holds journal claims: its lease is its 60 s timeout plus 10 s.
      // The health check alone runs on a schedule whose period it is told.
      const own =
        fn === stack.rotationFunction
          ? { ...expected, ROTOR_SIDE_EFFECT_LEASE_SECONDS: '70' }
          : fn === stack.healthCheckFunction
            ? { ...expected, ROTOR_HEALTH_CHECK_RUN_SECONDS: '60' }
            : expected;
      expect(template.findResources('AWS::Lambda::Function')[id(fn.function)]!.Properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Environment: { Variables: own },
      });
      expect(stack.resolve(rotorLambdaEnvironment(fn.settings))).toEqual(own);
    }
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 14 }, 6);
  });

  it('passes the configured durations, schedules, event bus, rollback attempts, alarms and subscriptions on', () => {
    // GIVEN a stage with every optional field set
    const tuned = new RotorStack(newTestApp(), 'Rotor-tuned', {
      stage: parseRotorConfig({
        stages: [
          {
            name: 'tuned',
            secretNamePrefix: 'rotor/tuned/',
            logRetentionDays: 7,
            graceSeconds: 60,
            reuseMemoryDays: 7,
            auditRetentionDays: 90,
            sweepSchedule: 'rate(1 hour)',
            eventBusName: 'ci-events',
            healthCheckSchedule: 'rate(5 minutes)',
            maxRollbackAttempts: 5,
            alertEmails: ['oncall@example.com'],
            alarms: { healthCheckFailures: { threshold: 4, periodSeconds: 300 } },
            secrets: [
              {
                name: 'token',
                provider: 'managed-token',
                schedule: 'rate(1 day)',
                window: '1h',
                alarms: { healthCheckFailures: { evaluationPeriods: 3 } },
              },
            ],
          },
        ],
      }).stages[0]!,
    });
    // THEN
    const tunedTemplate = Template.fromStack(tuned);
    tunedTemplate.resourcePropertiesCountIs(
      'AWS::Lambda::Function',
      {
        Environment: {
          Variables: Match.objectLike({
            ROTOR_DEFAULT_GRACE_SECONDS: '60',
            ROTOR_REUSE_MEMORY_SECONDS: String(7 * 24 * 3600),
            ROTOR_AUDIT_RETENTION_SECONDS: String(90 * 24 * 3600),
            ROTOR_EVENT_BUS_NAME: 'ci-events',
            ROTOR_SCHEDULE_GROUP: 'rotor-tuned',
            ROTOR_MAX_ROLLBACK_ATTEMPTS: '5',
          }),
        },
      },
      6,
    );
    tunedTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'sweep-overdue-retirements',
      ScheduleExpression: 'rate(1 hour)',
    });
    tunedTemplate.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'health-check',
      ScheduleExpression: 'rate(5 minutes)',
    });
    tunedTemplate.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'rotor-tuned-health-check-failures-rotor-tuned-token',
      Threshold: 4,
      Period: 300,
      EvaluationPeriods: 3,
    });
    tunedTemplate.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
    });
  });

  it('watches each secret with three alarms, and each dead-letter queue with one, that notify the alert topic', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 10);
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties as { AlarmName: string; AlarmActions: unknown },
    );
    expect(alarms.map((alarm) => alarm.AlarmName)).toEqual([
      'rotor-test-dead-letters.retire',
      'rotor-test-dead-letters.health-check',
      'rotor-test-dead-letters.rollback',
      'rotor-test-dead-letters.rotation-events',
      'rotor-test-rotation-failures-rotor-test-deploy-token',
      'rotor-test-health-check-failures-rotor-test-deploy-token',
      'rotor-test-reuse-detected-rotor-test-deploy-token',
      'rotor-test-rotation-failures-rotor-test-release-token',
      'rotor-test-health-check-failures-rotor-test-release-token',
      'rotor-test-reuse-detected-rotor-test-release-token',
    ]);
    for (const alarm of alarms) expect(alarm.AlarmActions).toEqual([{ Ref: id(stack.alertTopic.topic) }]);
  });

  it('checks health every minute, and rolls back on the rollback alarms and counts Secrets Manager failures from the default bus', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: 'health-check',
      GroupName: { Ref: id(stack.healthCheckFunction.scheduleGroup) },
      ScheduleExpression: 'rate(1 minute)',
      Target: Match.objectLike({ Arn: { 'Fn::GetAtt': [id(stack.healthCheckFunction.function), 'Arn'] } }),
    });
    template.resourceCountIs('AWS::Events::Rule', 3);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.cloudwatch'] }),
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id(stack.rollbackFunction.function), 'Arn'] } })],
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.secretsmanager'] }),
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id(stack.rotationEventsFunction.function), 'Arn'] } })],
    });
  });

  it('creates each configured secret, retained and encrypted with the stage key', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 3);
    for (const name of ['rotor/test/deploy-token', 'rotor/test/release-token']) {
      template.hasResource('AWS::SecretsManager::Secret', {
        Properties: {
          Name: name,
          KmsKeyId: { 'Fn::GetAtt': [id(stack.encryptionKey), 'Arn'] },
          Tags: [{ Key: 'rotor:stage', Value: 'test' }],
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
    }
  });

  it('generates the fingerprint pepper outside the prefix, untagged, with the stage key, and never rotates it', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      Properties: Match.objectEquals({
        Name: 'rotor-internal/test/fingerprint-pepper',
        Description: Match.anyValue(),
        GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
        KmsKeyId: { 'Fn::GetAtt': [id(stack.encryptionKey), 'Arn'] },
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.resourcePropertiesCountIs(
      'AWS::SecretsManager::RotationSchedule',
      { SecretId: { Ref: id(stack.pepper.secret) } },
      0,
    );
  });

  it('keeps the ledger on demand, with PITR, TTL, the stage key and the grace index, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        TableName: 'rotor-test-ledger',
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [id(stack.encryptionKey), 'Arn'] },
        },
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: [
          Match.objectLike({ IndexName: 'previous-by-grace-end', Projection: { ProjectionType: 'ALL' } }),
        ],
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('sweeps overdue retirements every 5 minutes in the schedule group rotor-test', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'rotor-test' });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      GroupName: { Ref: id(stack.retireFunction.scheduleGroup) },
      ScheduleExpression: 'rate(5 minutes)',
      Target: {
        Arn: { 'Fn::GetAtt': [id(stack.retireFunction.function), 'Arn'] },
        RoleArn: { 'Fn::GetAtt': [id(stack.retireFunction.schedulerRole), 'Arn'] },
        Input: '{"sweep":true}',
      },
    });
  });

  it('rotates each secret on its configured schedule and window, a rate() spread by its hashed offset', () => {
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
    const [deployToken, releaseToken] = stack.secrets;
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: id(deployToken!.secret) },
      RotationRules: Match.exact({
        ScheduleExpression: spreadRotationSchedule('rotor/test/deploy-token', 'rate(4 hours)', 2),
        Duration: '2h',
      }),
      RotateImmediatelyOnUpdate: true,
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: id(releaseToken!.secret) },
      RotationRules: Match.exact({ ScheduleExpression: 'cron(0 6 ? * MON-FRI *)', Duration: '3h' }),
      RotateImmediatelyOnUpdate: true,
    });
  });

  it('gives every role exactly these statements, and no role a managed or inline policy', () => {
    const region = (service: string): unknown => ({
      'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']],
    });
    const keyArn = { 'Fn::GetAtt': [id(stack.encryptionKey), 'Arn'] };
    const tableArn = { 'Fn::GetAtt': [id(stack.ledger.table), 'Arn'] };
    const secretArns = stack.secrets.map((secret) => ({ Ref: id(secret.secret) }));
    const logs = (fn: { logGroup: IConstruct }): unknown => ({
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::GetAtt': [id(fn.logGroup), 'Arn'] },
    });
    const recordKeeping = {
      Effect: 'Allow',
      Action: ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      Resource: tableArn,
    };
    const keyThroughDynamoDb = {
      Effect: 'Allow',
      Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
      Resource: keyArn,
      Condition: { StringEquals: { 'kms:ViaService': region('dynamodb') } },
    };
    // The health check's watch list: its partition only.
    const watchPartition = {
      Effect: 'Allow',
      Resource: tableArn,
      Condition: {
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['HEALTH#WATCH'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    };
    const pepper = {
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: { Ref: id(stack.pepper.secret) },
    };
    const deadLetters = (purpose: string): unknown[] => deadLetterSendStatements(purpose, id(stack.encryptionKey));
    const tracing = [{ Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' }];
    const keyThroughSecretsManager = (actions: string | string[]): unknown => ({
      Effect: 'Allow',
      Action: actions,
      Resource: keyArn,
      Condition: { StringEquals: { 'kms:ViaService': region('secretsmanager') } },
    });
    const putEventsOnDefaultBus = {
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
    };
    const inStageGroup = (schedules: string): unknown => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':scheduler:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          `:schedule/rotor-test/${schedules}`,
        ],
      ],
    });

    // Every policy in the template, by the role it is attached to.
    const policies: Record<string, Record<string, unknown>> = {};
    for (const [logicalId, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
      const { Roles, PolicyDocument } = policy.Properties as {
        Roles: { Ref: string }[];
        PolicyDocument: { Statement: unknown };
      };
      expect(Roles).toHaveLength(1);
      const role = Roles[0]!.Ref;
      policies[role] = { ...policies[role], [logicalId.replace(/[0-9A-F]{8}$/, '')]: PolicyDocument.Statement };
    }
    expect(policies).toEqual({
      [id(stack.rotationFunction.role)]: {
        RotationRoleDefaultPolicy: [
          logs(stack.rotationFunction),
          keyThroughSecretsManager(['kms:Decrypt', 'kms:GenerateDataKey']),
          recordKeeping,
          keyThroughDynamoDb,
          {
            Effect: 'Allow',
            Action: 'dynamodb:DeleteItem',
            Resource: tableArn,
            Condition: {
              'ForAllValues:StringLike': {
                'dynamodb:LeadingKeys': [
                  {
                    'Fn::Join': [
                      '',
                      [
                        'SECRET#arn:',
                        { Ref: 'AWS::Partition' },
                        ':secretsmanager:',
                        { Ref: 'AWS::Region' },
                        ':',
                        { Ref: 'AWS::AccountId' },
                        ':secret:rotor/test/*',
                      ],
                    ],
                  },
                ],
              },
              Null: { 'dynamodb:LeadingKeys': 'false' },
            },
          },
          pepper,
          {
            Effect: 'Allow',
            Action: 'iam:PassRole',
            Resource: { 'Fn::GetAtt': [id(stack.retireFunction.schedulerRole), 'Arn'] },
            Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
          },
          {
            Effect: 'Allow',
            Action: [
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:PutSecretValue',
              'secretsmanager:UpdateSecretVersionStage',
            ],
            Resource: secretArns,
          },
        ],
        RotationTracingPolicy: tracing,
        RotationRetirementSchedulingPolicy: [
          { Effect: 'Allow', Action: 'scheduler:CreateSchedule', Resource: inStageGroup('*') },
        ],
      },
      [id(stack.retireFunction.role)]: {
        RetireRoleDefaultPolicy: [
          logs(stack.retireFunction),
          ...deadLetters('retire'),
          recordKeeping,
          keyThroughDynamoDb,
          {
            Effect: 'Allow',
            Action: 'dynamodb:Query',
            Resource: { 'Fn::Join': ['', [tableArn, '/index/previous-by-grace-end']] },
          },
        ],
        RetireTracingPolicy: tracing,
      },
      [id(stack.retireFunction.schedulerRole)]: {
        RetireSchedulerRoleDefaultPolicy: [
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: { 'Fn::GetAtt': [id(stack.retireFunction.function), 'Arn'] },
          },
          ...deadLetters('retire'),
        ],
      },
      [id(stack.verifierFunction.role)]: {
        VerifierRoleDefaultPolicy: [
          logs(stack.verifierFunction),
          recordKeeping,
          keyThroughDynamoDb,
          pepper,
          keyThroughSecretsManager('kms:Decrypt'),
          putEventsOnDefaultBus,
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: { 'Fn::GetAtt': [id(stack.rotationFunction.function), 'Arn'] },
          },
          {
            Effect: 'Allow',
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:RotateSecret'],
            Resource: secretArns,
          },
        ],
        VerifierTracingPolicy: tracing,
      },
      [id(stack.healthCheckFunction.role)]: {
        HealthCheckRoleDefaultPolicy: [
          logs(stack.healthCheckFunction),
          ...deadLetters('health-check'),
          keyThroughSecretsManager('kms:Decrypt'),
          { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: tableArn },
          keyThroughDynamoDb,
          { ...watchPartition, Action: ['dynamodb:PutItem', 'dynamodb:Query'] },
          pepper,
          { Effect: 'Allow', Action: 'secretsmanager:DescribeSecret', Resource: secretArns },
          {
            Effect: 'Allow',
            Action: 'secretsmanager:GetSecretValue',
            Resource: secretArns,
            Condition: {
              StringEqualsIfExists: { 'secretsmanager:VersionStage': 'AWSCURRENT' },
              Null: { 'secretsmanager:VersionId': 'true' },
            },
          },
        ],
        HealthCheckTracingPolicy: tracing,
        HealthCheckSecretListingPolicy: [
          {
            Effect: 'Allow',
            Action: ['secretsmanager:BatchGetSecretValue', 'secretsmanager:ListSecrets'],
            Resource: '*',
          },
        ],
      },
      [id(stack.healthCheckFunction.schedulerRole)]: {
        HealthCheckSchedulerRoleDefaultPolicy: [
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: { 'Fn::GetAtt': [id(stack.healthCheckFunction.function), 'Arn'] },
          },
          ...deadLetters('health-check'),
        ],
      },
      [id(stack.rollbackFunction.role)]: {
        RollbackRoleDefaultPolicy: [
          logs(stack.rollbackFunction),
          ...deadLetters('rollback'),
          keyThroughSecretsManager('kms:Decrypt'),
          recordKeeping,
          keyThroughDynamoDb,
          pepper,
          { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: id(stack.alertTopic.topic) } },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: keyArn,
            Condition: { StringEquals: { 'kms:ViaService': region('sns') } },
          },
          putEventsOnDefaultBus,
          {
            Effect: 'Allow',
            Action: [
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:UpdateSecretVersionStage',
            ],
            Resource: secretArns,
          },
        ],
        RollbackTracingPolicy: tracing,
        RollbackRetirementCancellingPolicy: [
          { Effect: 'Allow', Action: 'scheduler:DeleteSchedule', Resource: inStageGroup('retire-*') },
        ],
      },
      [id(stack.rotationEventsFunction.role)]: {
        RotationEventsRoleDefaultPolicy: [
          logs(stack.rotationEventsFunction),
          ...deadLetters('rotation-events'),
          { ...watchPartition, Action: 'dynamodb:UpdateItem' },
          keyThroughDynamoDb,
        ],
        RotationEventsTracingPolicy: tracing,
      },
    });
    template.allResourcesProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent(), Policies: Match.absent() });
  });

  it("trusts Lambda for the functions, and Scheduler acting for this account and each scheduler role's own group", () => {
    const trust = (service: string, condition?: unknown): unknown => ({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRole',
          Principal: { Service: service },
          ...(condition === undefined ? {} : { Condition: condition }),
        },
      ],
    });
    const schedulerFor = (group: IConstruct) => ({
      StringEquals: {
        'aws:SourceAccount': { Ref: 'AWS::AccountId' },
        'aws:SourceArn': { 'Fn::GetAtt': [id(group), 'Arn'] },
      },
    });
    const roles = template.findResources('AWS::IAM::Role');
    expect(
      Object.fromEntries(
        Object.entries(roles).map(([logicalId, role]) => [
          logicalId,
          (role.Properties as { AssumeRolePolicyDocument: unknown }).AssumeRolePolicyDocument,
        ]),
      ),
    ).toEqual({
      [id(stack.rotationFunction.role)]: trust('lambda.amazonaws.com'),
      [id(stack.retireFunction.role)]: trust('lambda.amazonaws.com'),
      [id(stack.verifierFunction.role)]: trust('lambda.amazonaws.com'),
      [id(stack.healthCheckFunction.role)]: trust('lambda.amazonaws.com'),
      [id(stack.rollbackFunction.role)]: trust('lambda.amazonaws.com'),
      [id(stack.rotationEventsFunction.role)]: trust('lambda.amazonaws.com'),
      [id(stack.retireFunction.schedulerRole)]: trust(
        'scheduler.amazonaws.com',
        schedulerFor(stack.retireFunction.scheduleGroup),
      ),
      [id(stack.healthCheckFunction.schedulerRole)]: trust(
        'scheduler.amazonaws.com',
        schedulerFor(stack.healthCheckFunction.scheduleGroup),
      ),
    });
  });

  it('lets Secrets Manager in this account invoke the rotation function, each rule its function, and no one the others', () => {
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission')).map(
      (permission) => permission.Properties as Record<string, unknown>,
    );
    expect(permissions).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        Principal: 'secretsmanager.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
        FunctionName: { 'Fn::GetAtt': [id(stack.rotationFunction.function), 'Arn'] },
      },
      {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [id(stack.rollbackFunction.rule), 'Arn'] },
        FunctionName: { 'Fn::GetAtt': [id(stack.rollbackFunction.function), 'Arn'] },
      },
      {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [id(stack.rotationEventsFunction.rule), 'Arn'] },
        FunctionName: { 'Fn::GetAtt': [id(stack.rotationEventsFunction.function), 'Arn'] },
      },
      {
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [id(stack.rotationEventsFunction.changeRule), 'Arn'] },
        FunctionName: { 'Fn::GetAtt': [id(stack.rotationEventsFunction.function), 'Arn'] },
      },
    ]);
  });

  it('outputs the functions, the log group, the secret names, the ledger table, the pepper, the alert topic and the dashboard', () => {
    template.hasOutput(RotorStackOutput.rotationFunctionName, { Value: { Ref: id(stack.rotationFunction.function) } });
    template.hasOutput(RotorStackOutput.rotationLogGroupName, { Value: { Ref: id(stack.rotationFunction.logGroup) } });
    template.hasOutput(RotorStackOutput.secretNames, { Value: 'rotor/test/deploy-token,rotor/test/release-token' });
    template.hasOutput(RotorStackOutput.ledgerTableName, { Value: { Ref: id(stack.ledger.table) } });
    template.hasOutput(RotorStackOutput.verifierFunctionName, { Value: { Ref: id(stack.verifierFunction.function) } });
    template.hasOutput(RotorStackOutput.verifierFunctionArn, {
      Value: { 'Fn::GetAtt': [id(stack.verifierFunction.function), 'Arn'] },
    });
    template.hasOutput(RotorStackOutput.pepperSecretArn, { Value: { Ref: id(stack.pepper.secret) } });
    template.hasOutput(RotorStackOutput.alertTopicArn, { Value: { Ref: id(stack.alertTopic.topic) } });
    template.hasOutput(RotorStackOutput.dashboardName, { Value: { Ref: id(stack.dashboard.dashboard) } });
    expect(Object.keys(template.toJSON().Outputs as object)).toHaveLength(9);
  });

  it('matches the snapshot (asset hashes masked)', () => {
    expect(maskAssetHashes(template.toJSON())).toMatchSnapshot();
  });
});

describe('RotorStack with OAuth 2.0 secrets', () => {
  // GIVEN a stage with a managed token and two OAuth 2.0 secrets sharing a client certificate
  let stack: RotorStack;
  let template: Template;
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);

  beforeAll(() => {
    // WHEN
    stack = new RotorStack(newTestApp(), 'Rotor-test', { stage: oauth2TestStage() });
    template = Template.fromStack(stack);
  });

  it("refreshes the access token of each OAuth 2.0 secret on its interval, in the stage's refresh group; none for the managed token", () => {
    const [, idpToken, apiToken] = stack.secrets;
    const refreshGroup = Object.entries(template.findResources('AWS::Scheduler::ScheduleGroup')).find(
      ([, group]) => (group.Properties as { Name: string }).Name === 'rotor-test.access-token-refresh',
    )?.[0];
    expect(refreshGroup).toBeDefined();
    expect([...stack.accessTokenRefreshSchedules.keys()]).toEqual(['idp-token', 'partner/api-token']);
    template.resourceCountIs('AWS::Scheduler::Schedule', 4); // the sweep, the health check and two refreshes
    const refreshes = Object.values(
      template.findResources('AWS::Scheduler::Schedule', {
        Properties: { Target: { Arn: Match.objectLike({ 'Fn::Join': Match.anyValue() }) } },
      }),
    ).map((schedule) => {
      const { Name, GroupName, ScheduleExpression, Target } = schedule.Properties as Record<string, unknown>;
      return { Name, GroupName, ScheduleExpression, Input: (Target as { Input: unknown }).Input };
    });
    expect(refreshes).toEqual([
      {
        Name: 'refresh-idp-token',
        GroupName: { Ref: refreshGroup },
        ScheduleExpression: spreadRefreshSchedule('rotor/test/idp-token', 600).expression,
        Input: { 'Fn::Join': ['', ['{"SecretId":"', { Ref: id(idpToken!.secret) }, '"}']] },
      },
      {
        Name: expect.stringMatching(/^refresh-partner-api-token-[0-9a-f]{8}$/) as unknown,
        GroupName: { Ref: refreshGroup },
        ScheduleExpression: spreadRefreshSchedule('rotor/test/partner/api-token', 1200).expression,
        Input: { 'Fn::Join': ['', ['{"SecretId":"', { Ref: id(apiToken!.secret) }, '"}']] },
      },
    ]);
  });

  it('pins the provider endpoints of every function to the origins the config names, and allows no private address', () => {
    // idp-token's token and introspection endpoints share an origin; partner/api-token has two of its own.
    const origins = 'https://api.partner.example.net,https://idp.example.com,https://partner.example.net';
    for (const fn of [stack.rotationFunction, stack.healthCheckFunction, stack.rollbackFunction]) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Role: { 'Fn::GetAtt': [id(fn.role), 'Arn'] },
        Environment: {
          Variables: Match.objectLike({
            ROTOR_PROVIDER_ORIGINS: origins,
            ROTOR_ALLOW_PRIVATE_ENDPOINTS: Match.absent(),
          }),
        },
      });
    }
  });

  it('rotates the managed token at deploy and the OAuth 2.0 secrets only once bootstrapped', () => {
    const [deployToken, idpToken, apiToken] = stack.secrets;
    for (const [secret, immediately] of [
      [deployToken!, true],
      [idpToken!, false],
      [apiToken!, false],
    ] as const) {
      template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
        SecretId: { Ref: id(secret.secret) },
        RotateImmediatelyOnUpdate: immediately,
      });
    }
  });

  it("grants the rotation function, after what a managed-token stage grants, the stage bus and the certificate's current version", () => {
    const [policy] = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: id(stack.rotationFunction.role) }] } }),
    ).filter((p) => (p.Properties as { PolicyName: string }).PolicyName.startsWith('RotationRoleDefaultPolicy'));
    const statements = (policy!.Properties as { PolicyDocument: { Statement: unknown[] } }).PolicyDocument.Statement;
    expect(statements.slice(7)).toEqual([
      {
        Effect: 'Allow',
        Action: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        Resource: stack.secrets.map((secret) => ({ Ref: id(secret.secret) })),
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
        Action: 'secretsmanager:GetSecretValue',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':secretsmanager:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':secret:rotor/test/idp-client-certificate-??????',
            ],
          ],
        },
        Condition: { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } },
      },
    ]);
  });

  it('writes each OAuth 2.0 secret its settings and no token', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'rotor/test/partner/api-token',
      SecretString: JSON.stringify({
        provider: 'oauth2-refresh-token',
        schemaVersion: 1,
        tokenEndpoint: 'https://partner.example.net/token',
        clientId: 'rotor',
        clientAuthentication: 'client_secret_post',
        testUrl: 'https://api.partner.example.net/v1/whoami',
        tls: { clientCertificateSecretId: 'rotor/test/idp-client-certificate' },
      }),
    });
  });
});

describe('addRotorStages', () => {
  it('adds one Rotor-<stage> stack per stage, in the stage account and region when given', () => {
    // GIVEN
    const config = parseRotorConfig({
      stages: [
        {
          name: 'development',
          secretNamePrefix: 'rotor/development/',
          logRetentionDays: 30,
          secrets: [{ name: 'deploy-token', provider: 'managed-token', schedule: 'rate(1 day)', window: '1h' }],
        },
        {
          name: 'production',
          secretNamePrefix: 'rotor/production/',
          logRetentionDays: 365,
          account: '123456789012',
          region: 'eu-west-1',
          secrets: [{ name: 'deploy-token', provider: 'managed-token', schedule: 'rate(1 day)', window: '1h' }],
        },
      ],
    });
    // WHEN
    const stacks = addRotorStages(newTestApp(), config);
    // THEN
    expect(stacks.map((s): unknown[] => [s.stackName, s.resolve(s.account), s.resolve(s.region)])).toEqual([
      ['Rotor-development', { Ref: 'AWS::AccountId' }, { Ref: 'AWS::Region' }],
      ['Rotor-production', '123456789012', 'eu-west-1'],
    ]);
  });
});
