import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CfnResource, Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import { clientCertificateSecretArnPattern } from '../../lib/client-certificate-access';
import { RotationFunction } from '../../lib/rotation-function';
import { newStageFixture, type StageFixture, fixtureEnvironment } from './infra-test-app';

describe('RotationFunction', () => {
  // GIVEN a rotation function of stage `test` with a one-week log retention, granted two secrets
  let fixture: StageFixture;
  let stack: Stack;
  let template: Template;
  let rotation: RotationFunction;
  let secrets: secretsmanager.Secret[];
  let key: kms.Key;
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);
  const functionOf = (): Record<string, unknown> =>
    template.findResources('AWS::Lambda::Function')[id(rotation.function)]!;

  beforeAll(() => {
    fixture = newStageFixture();
    ({ stack, key } = fixture);
    rotation = new RotationFunction(stack, 'Rotation', {
      resources: fixture.resources,
      retirement: fixture.retirement,
      logRetention: logs.RetentionDays.ONE_WEEK,
    });
    secrets = ['one', 'two'].map(
      (name) => new secretsmanager.Secret(stack, name, { secretName: `rotor/test/${name}` }),
    );
    // WHEN
    for (const secret of secrets) rotation.grantRotation(secret);
    template = Template.fromStack(stack);
  });

  it('runs the built bundle on Node.js 24 on ARM64 with active tracing', () => {
    expect(functionOf()).toMatchObject({
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        MemorySize: 256,
        Timeout: 60,
        Code: { S3Key: expect.stringMatching(/^[0-9a-f]{64}\.zip$/) as unknown },
      },
    });
  });

  it("has exactly the stage's Rotor environment: rotorLambdaEnvironment of its settings", () => {
    const { Environment } = (functionOf() as { Properties: { Environment: unknown } }).Properties;
    expect(Environment).toEqual({
      Variables: fixtureEnvironment(fixture, { logLevel: 'INFO', sideEffectLeaseSeconds: 70 }),
    });
  });

  it('holds a journal claim for its timeout plus 10 seconds (ROTOR_SIDE_EFFECT_LEASE_SECONDS)', () => {
    const other = newStageFixture();
    const slow = new RotationFunction(other.stack, 'Rotation', {
      resources: other.resources,
      retirement: other.retirement,
      timeout: Duration.minutes(3),
    });
    expect(slow.settings.sideEffectLeaseSeconds).toBe(190);
    Template.fromStack(other.stack).hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 180,
      Environment: { Variables: Match.objectLike({ ROTOR_SIDE_EFFECT_LEASE_SECONDS: '190' }) },
    });
  });

  it('logs to its own retained log group with the configured retention', () => {
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 7 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(functionOf()).toMatchObject({ Properties: { LoggingConfig: { LogGroup: { Ref: id(rotation.logGroup) } } } });
  });

  it('has its own role for Lambda with no managed policies', () => {
    expect(template.findResources('AWS::IAM::Role')[id(rotation.role)]).toEqual({
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
        },
        Description: 'Rotor test: rotation function',
      },
    });
  });

  it('may write its logs, use the key through Secrets Manager and DynamoDB, keep the ledger, read the pepper, pass the scheduler role and rotate only the granted secrets', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RotationRoleDefaultPolicy'),
      Roles: [{ Ref: id(rotation.role) }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [id(rotation.logGroup), 'Arn'] },
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: { 'Fn::GetAtt': [id(key), 'Arn'] },
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
          },
          {
            Effect: 'Allow',
            Action: ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Resource: { 'Fn::GetAtt': [id(fixture.ledger.table), 'Arn'] },
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
            Resource: { 'Fn::GetAtt': [id(key), 'Arn'] },
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
          },
          {
            // Releasing a journal claim: only items of the stage's secrets.
            Effect: 'Allow',
            Action: 'dynamodb:DeleteItem',
            Resource: { 'Fn::GetAtt': [id(fixture.ledger.table), 'Arn'] },
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
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: id(fixture.pepper.secret) } },
          {
            Effect: 'Allow',
            Action: 'iam:PassRole',
            Resource: { 'Fn::GetAtt': [id(fixture.retirement.schedulerRole), 'Arn'] },
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
            Resource: secrets.map((secret) => ({ Ref: id(secret) })),
          },
        ],
      }),
    });
  });

  it("may create schedules only in the stage's schedule group, from a policy of its own", () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RotationRetirementSchedulingPolicy'),
      Roles: [{ Ref: id(rotation.role) }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'scheduler:CreateSchedule',
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
                  ':schedule/rotor-test/*',
                ],
              ],
            },
          },
        ],
      }),
    });
    // CreateSchedule fails in a group that does not exist yet.
    const [policy] = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: { PolicyName: Match.stringLikeRegexp('^RotationRetirement') },
      }),
    );
    expect(policy!.DependsOn).toEqual([id(fixture.retirement.scheduleGroup)]);
  });

  it('may send traces, from a policy of its own', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RotationTracingPolicy'),
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' }],
      }),
      Roles: [{ Ref: id(rotation.role) }],
    });
  });

  it('may be invoked only by Secrets Manager acting for this account', () => {
    const permissions = template.findResources('AWS::Lambda::Permission', {
      Properties: { FunctionName: { 'Fn::GetAtt': [id(rotation.function), 'Arn'] } },
    });
    expect(Object.values(permissions).map((permission) => permission.Properties as unknown)).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        Principal: 'secretsmanager.amazonaws.com',
        SourceAccount: { Ref: 'AWS::AccountId' },
        FunctionName: { 'Fn::GetAtt': [id(rotation.function), 'Arn'] },
      },
    ]);
  });

  it('is created after its policies, without a DependsOn on the role it already references (cfn-lint W3005)', () => {
    expect(functionOf().DependsOn).toEqual([
      expect.stringMatching(/^RotationRetirementSchedulingPolicy/),
      expect.stringMatching(/^RotationRoleDefaultPolicy/),
      expect.stringMatching(/^RotationTracingPolicy/),
    ]);
  });

  it('defaults to one month of log retention and takes timeout, memory and log level', () => {
    // GIVEN
    const other = newStageFixture();
    // WHEN
    const fn = new RotationFunction(other.stack, 'Rotation', {
      resources: other.resources,
      retirement: other.retirement,
      timeout: Duration.seconds(90),
      memorySize: 512,
      logLevel: 'DEBUG',
    });
    // THEN
    const otherTemplate = Template.fromStack(other.stack);
    const logGroupId = other.stack.getLogicalId(fn.logGroup.node.defaultChild as CfnResource);
    expect(otherTemplate.findResources('AWS::Logs::LogGroup')[logGroupId]).toMatchObject({
      Properties: { RetentionInDays: 30 },
    });
    otherTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 90,
      MemorySize: 512,
      Environment: { Variables: Match.objectLike({ POWERTOOLS_LOG_LEVEL: 'DEBUG' }) },
    });
    expect(fn.settings.logLevel).toBe('DEBUG');
  });

  it('fails when the bundle has not been built', () => {
    const other = newStageFixture();
    const empty = mkdtempSync(join(tmpdir(), 'rotor-no-bundle-'));
    expect(
      () =>
        new RotationFunction(other.stack, 'Rotation', {
          resources: other.resources,
          retirement: other.retirement,
          bundleDirectory: empty,
        }),
    ).toThrow(/index\.js does not exist: run `npm run build` first/);
  });

  it('fails when the secret name prefix does not end with a slash', () => {
    const other = newStageFixture();
    expect(
      () =>
        new RotationFunction(other.stack, 'Rotation', {
          resources: { ...other.resources, secretNamePrefix: 'rotor/test' },
          retirement: other.retirement,
        }),
    ).toThrow(/RotationFunction secretNamePrefix must end with "\/", got "rotor\/test"/);
  });

  it('fails to grant a secret whose full ARN is unknown', () => {
    const other = newStageFixture();
    const fn = new RotationFunction(other.stack, 'Rotation', {
      resources: other.resources,
      retirement: other.retirement,
    });
    const byName = secretsmanager.Secret.fromSecretNameV2(other.stack, 'ByName', 'rotor/test/imported');
    expect(() => fn.grantRotation(byName)).toThrow(/only rotate secrets with a known full ARN.*got Test\/ByName/);
  });
});

describe('RotationFunction for OAuth 2.0 secrets', () => {
  // GIVEN a rotation function of stage `test` (event bus `ci-events`), granted a secret, the right to
  // publish events (twice) and two client certificates (one of them twice)
  let fixture: StageFixture;
  let template: Template;
  let rotation: RotationFunction;
  let secret: secretsmanager.Secret;
  const id = (construct: IConstruct): string =>
    fixture.stack.getLogicalId(
      (CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource,
    );
  const certificateArn = (name: string): unknown => ({
    'Fn::Join': [
      '',
      [
        'arn:',
        { Ref: 'AWS::Partition' },
        ':secretsmanager:',
        { Ref: 'AWS::Region' },
        ':',
        { Ref: 'AWS::AccountId' },
        `:secret:${name}-??????`,
      ],
    ],
  });

  beforeAll(() => {
    fixture = newStageFixture({ eventBusName: 'ci-events' });
    rotation = new RotationFunction(fixture.stack, 'Rotation', {
      resources: fixture.resources,
      retirement: fixture.retirement,
    });
    secret = new secretsmanager.Secret(fixture.stack, 'IdpToken', { secretName: 'rotor/test/idp-token' });
    // WHEN
    rotation.grantRotation(secret);
    const first = rotation.grantPublishEvents();
    expect(rotation.grantPublishEvents()).toBe(first);
    rotation.grantReadClientCertificate('rotor/test/idp-client-certificate');
    rotation.grantReadClientCertificate('rotor/test/partner/client-certificate');
    rotation.grantReadClientCertificate('rotor/test/idp-client-certificate');
    template = Template.fromStack(fixture.stack);
  });

  it('may publish to the stage bus, and read only the AWSCURRENT version of exactly the named certificate secrets', () => {
    const [policy] = Object.values(
      template.findResources('AWS::IAM::Policy', {
        Properties: { PolicyName: Match.stringLikeRegexp('^RotationRoleDefaultPolicy') },
      }),
    );
    const statements = (policy!.Properties as { PolicyDocument: { Statement: unknown[] } }).PolicyDocument.Statement;
    // After logs, key, ledger, journal release, pepper, PassRole and the rotated secret:
    expect(statements.slice(8)).toEqual([
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
              ':event-bus/ci-events',
            ],
          ],
        },
      },
      {
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: [
          certificateArn('rotor/test/idp-client-certificate'),
          certificateArn('rotor/test/partner/client-certificate'),
        ],
        Condition: { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } },
      },
    ]);
    expect(statements[7]).toEqual({
      Effect: 'Allow',
      Action: [
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      Resource: { Ref: id(secret) },
    });
    expect(statements).toHaveLength(10);
  });

  it('decrypts the certificate secrets with the stage key through Secrets Manager, as every rotated secret (no new key grant)', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RotationRoleDefaultPolicy'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: { 'Fn::GetAtt': [id(fixture.key), 'Arn'] },
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
          },
        ]),
      },
    });
  });

  it('refuses a certificate secret outside its prefix, the prefix itself, and a name with a wildcard', () => {
    const other = newStageFixture();
    const fn = new RotationFunction(other.stack, 'Rotation', {
      resources: other.resources,
      retirement: other.retirement,
    });
    for (const name of ['rotor/production/cert', 'rotor/test/', 'cert']) {
      expect(() => fn.grantReadClientCertificate(name)).toThrow(
        new RegExp(`client certificate secret must be named under the prefix "rotor/test/", got "${name}"`),
      );
    }
    expect(() => fn.grantReadClientCertificate('rotor/test/*')).toThrow(/must not contain \* or \?/);
  });

  it("builds the certificate's ARN pattern from its name and Secrets Manager's six random characters", () => {
    expect(fixture.stack.resolve(clientCertificateSecretArnPattern('rotor/test/cert'))).toEqual(
      certificateArn('rotor/test/cert'),
    );
  });
});
