import { CfnResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { RotorStackOutput } from '../../lambda/shared/rotor-constants';
import { parseRotorConfig } from '../../lib/config/rotor-config';
import { RotorStack } from '../../lib/rotor-stack';
import { addRotorStages } from '../../lib/rotor-stages';
import { maskAssetHashes, newTestApp, testStage } from './infra-test-app';

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

  it('deploys one rotation function for the stage, logging with the stage retention', () => {
    template.resourceCountIs('AWS::Lambda::Function', 1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: { ROTOR_STAGE: 'test', ROTOR_SECRET_NAME_PREFIX: 'rotor/test/', POWERTOOLS_LOG_LEVEL: 'INFO' },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 14 });
  });

  it('creates each configured secret, retained and encrypted with the stage key', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
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

  it('rotates each secret on its configured schedule and window', () => {
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
    const [deployToken, releaseToken] = stack.secrets;
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: id(deployToken!.secret) },
      RotationRules: Match.exact({ ScheduleExpression: 'rate(4 hours)', Duration: '2h' }),
      RotateImmediatelyOnUpdate: true,
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: id(releaseToken!.secret) },
      RotationRules: Match.exact({ ScheduleExpression: 'cron(0 6 ? * MON-FRI *)', Duration: '3h' }),
      RotateImmediatelyOnUpdate: true,
    });
  });

  it("gives the function's role exactly its logs, the key through Secrets Manager and the stage's secrets", () => {
    const role = stack.rotationFunction.role;
    template.hasResourceProperties('AWS::IAM::Role', { ManagedPolicyArns: Match.absent(), Policies: Match.absent() });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: id(role) }],
      PolicyName: Match.stringLikeRegexp('^RotationRoleDefaultPolicy'),
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [id(stack.rotationFunction.logGroup), 'Arn'] },
          },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: { 'Fn::GetAtt': [id(stack.encryptionKey), 'Arn'] },
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
            Resource: stack.secrets.map((secret) => ({ Ref: id(secret.secret) })),
          },
        ],
      }),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: id(role) }],
      PolicyName: Match.stringLikeRegexp('^RotationTracingPolicy'),
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'], Resource: '*' }],
      }),
    });
    template.resourceCountIs('AWS::IAM::Policy', 2);
  });

  it('lets only Secrets Manager in this account invoke the function', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
  });

  it('outputs the function, its log group and the secret names', () => {
    template.hasOutput(RotorStackOutput.rotationFunctionName, { Value: { Ref: id(stack.rotationFunction.function) } });
    template.hasOutput(RotorStackOutput.rotationLogGroupName, { Value: { Ref: id(stack.rotationFunction.logGroup) } });
    template.hasOutput(RotorStackOutput.secretNames, { Value: 'rotor/test/deploy-token,rotor/test/release-token' });
  });

  it('matches the snapshot (asset hashes masked)', () => {
    expect(maskAssetHashes(template.toJSON())).toMatchSnapshot();
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
