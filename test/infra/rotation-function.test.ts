import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { RotorEnv } from '../../lambda/shared/rotor-constants';
import { RotationFunction } from '../../lib/rotation-function';
import { newTestApp } from './infra-test-app';

function newStack(): { stack: Stack; key: kms.Key } {
  const stack = new Stack(newTestApp(), 'Test');
  return { stack, key: new kms.Key(stack, 'Key', { enableKeyRotation: true }) };
}

describe('RotationFunction', () => {
  // GIVEN a rotation function with a one-week log retention, granted two secrets
  let stack: Stack;
  let template: Template;
  let rotation: RotationFunction;
  let secrets: secretsmanager.Secret[];
  let key: kms.Key;

  beforeAll(() => {
    ({ stack, key } = newStack());
    rotation = new RotationFunction(stack, 'Rotation', {
      stage: 'test',
      secretNamePrefix: 'rotor/test/',
      encryptionKey: key,
      logRetention: logs.RetentionDays.ONE_WEEK,
    });
    secrets = ['one', 'two'].map(
      (name) => new secretsmanager.Secret(stack, name, { secretName: `rotor/test/${name}` }),
    );
    // WHEN
    for (const secret of secrets) rotation.grantRotation(secret);
    template = Template.fromStack(stack);
  });

  const logicalId = (construct: { node: { defaultChild?: unknown } }): string =>
    stack.getLogicalId(construct.node.defaultChild as lambda.CfnFunction);

  it('runs the built bundle on Node.js 24 on ARM64 with active tracing', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      MemorySize: 256,
      Timeout: 60,
      Code: { S3Key: Match.stringLikeRegexp('^[0-9a-f]{64}\\.zip$') },
    });
  });

  it('sets exactly the Rotor environment variables and the log level', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          [RotorEnv.stage]: 'test',
          [RotorEnv.secretNamePrefix]: 'rotor/test/',
          POWERTOOLS_LOG_LEVEL: 'INFO',
        },
      },
    });
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { Environment: { Variables: Record<string, string> } };
    }[];
    expect(Object.keys(fn!.Properties.Environment.Variables).sort()).toEqual(
      ['POWERTOOLS_LOG_LEVEL', RotorEnv.secretNamePrefix, RotorEnv.stage].sort(),
    );
  });

  it('logs to its own retained log group with the configured retention', () => {
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: { RetentionInDays: 7 },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: stack.getLogicalId(rotation.logGroup.node.defaultChild as logs.CfnLogGroup) } },
    });
  });

  it('has its own role for Lambda with no managed policies', () => {
    template.resourceCountIs('AWS::IAM::Role', 1);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
      },
      ManagedPolicyArns: Match.absent(),
      Policies: Match.absent(),
    });
  });

  it('may write its logs, use the key only through Secrets Manager, and rotate only the granted secrets', () => {
    template.resourceCountIs('AWS::IAM::Policy', 2);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RotationRoleDefaultPolicy'),
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [logicalId(rotation.logGroup), 'Arn'] },
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: { 'Fn::GetAtt': [logicalId(key), 'Arn'] },
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
          },
          {
            Effect: 'Allow',
            Action: [
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:PutSecretValue',
              'secretsmanager:UpdateSecretVersionStage',
            ],
            Resource: secrets.map((secret) => ({ Ref: logicalId(secret) })),
          },
        ],
      }),
    });
  });

  it('may send traces, from a policy of its own', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RotationTracingPolicy'),
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' }],
      }),
      Roles: [{ Ref: logicalId(rotation.role) }],
    });
  });

  it('may be invoked only by Secrets Manager acting for this account', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      FunctionName: { 'Fn::GetAtt': [logicalId(rotation.function), 'Arn'] },
    });
  });

  it('is created after its policies, without a DependsOn on the role it already references (cfn-lint W3005)', () => {
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fn!.DependsOn).toEqual([
      expect.stringMatching(/^RotationRoleDefaultPolicy/),
      expect.stringMatching(/^RotationTracingPolicy/),
    ]);
  });

  it('defaults to one month of log retention and takes timeout, memory and log level', () => {
    // GIVEN
    const { stack: other, key: otherKey } = newStack();
    // WHEN
    new RotationFunction(other, 'Rotation', {
      stage: 'test',
      secretNamePrefix: 'rotor/test/',
      encryptionKey: otherKey,
      timeout: Duration.seconds(90),
      memorySize: 512,
      logLevel: 'DEBUG',
    });
    // THEN
    const otherTemplate = Template.fromStack(other);
    otherTemplate.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    otherTemplate.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 90,
      MemorySize: 512,
      Environment: { Variables: Match.objectLike({ POWERTOOLS_LOG_LEVEL: 'DEBUG' }) },
    });
  });

  it('fails when the bundle has not been built', () => {
    const { stack: other, key: otherKey } = newStack();
    const empty = mkdtempSync(join(tmpdir(), 'rotor-no-bundle-'));
    expect(
      () =>
        new RotationFunction(other, 'Rotation', {
          stage: 'test',
          secretNamePrefix: 'rotor/test/',
          encryptionKey: otherKey,
          bundleDirectory: empty,
        }),
    ).toThrow(/index\.js does not exist: run `npm run build` first/);
  });

  it('fails when the secret name prefix does not end with a slash', () => {
    const { stack: other, key: otherKey } = newStack();
    expect(
      () =>
        new RotationFunction(other, 'Rotation', {
          stage: 'test',
          secretNamePrefix: 'rotor/test',
          encryptionKey: otherKey,
        }),
    ).toThrow(/secretNamePrefix must end with "\/", got "rotor\/test"/);
  });

  it('fails to grant a secret whose full ARN is unknown', () => {
    const { stack: other, key: otherKey } = newStack();
    const fn = new RotationFunction(other, 'Rotation', {
      stage: 'test',
      secretNamePrefix: 'rotor/test/',
      encryptionKey: otherKey,
    });
    const byName = secretsmanager.Secret.fromSecretNameV2(other, 'ByName', 'rotor/test/imported');
    expect(() => fn.grantRotation(byName)).toThrow(/only rotate secrets with a known full ARN.*got Test\/ByName/);
  });
});
