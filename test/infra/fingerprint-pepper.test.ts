import { CfnResource, CliCredentialsStackSynthesizer, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { MANAGED_BY_TAG, ROTOR_INTERNAL_SECRET_PREFIX } from '../../lambda/shared/rotor-constants';
import { FingerprintPepper, PEPPER_WRITE_ACTIONS } from '../../lib/fingerprint-pepper';
import { newTestApp } from './infra-test-app';

describe('FingerprintPepper', () => {
  // GIVEN the pepper of stage `test` (prefix `rotor/test/`), readable by one role
  let stack: Stack;
  let template: Template;
  let key: kms.Key;
  let pepper: FingerprintPepper;
  let reader: iam.Role;
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);

  beforeAll(() => {
    stack = new Stack(newTestApp(), 'Test');
    key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    pepper = new FingerprintPepper(stack, 'Pepper', {
      stage: 'test',
      secretNamePrefix: 'rotor/test/',
      encryptionKey: key,
    });
    reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    pepper.grantRead(reader);
    template = Template.fromStack(stack);
  });

  it('is a generated 64-character value without punctuation, encrypted with the key, retained, untagged', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      Properties: Match.objectEquals({
        Name: 'rotor-internal/test/fingerprint-pepper',
        Description: "Rotor test: pepper of the ledger's token fingerprints; never rotate it",
        GenerateSecretString: { PasswordLength: 64, ExcludePunctuation: true, IncludeSpace: false },
        KmsKeyId: { 'Fn::GetAtt': [id(key), 'Arn'] },
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(JSON.stringify(template.toJSON())).not.toContain(MANAGED_BY_TAG);
  });

  it('is never rotated', () => {
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
  });

  it("is named outside every stage's prefix: under rotor-internal/, which the config refuses as a prefix", () => {
    const [secret] = Object.values(template.findResources('AWS::SecretsManager::Secret'));
    const name = (secret!.Properties as { Name: string }).Name;
    expect(name.startsWith('rotor/test/')).toBe(false);
    expect(name.startsWith(ROTOR_INTERNAL_SECRET_PREFIX)).toBe(true);
  });

  it('grants GetSecretValue on exactly this secret, and decryption only through Secrets Manager', () => {
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policy!.Properties).toEqual({
      PolicyName: expect.stringMatching(/^ReaderDefaultPolicy/) as unknown,
      Roles: [{ Ref: id(reader) }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: id(pepper.secret) } },
          {
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: { 'Fn::GetAtt': [id(key), 'Arn'] },
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
          },
        ],
      },
    });
  });

  it("denies every write to every principal but cdk deploy's CloudFormation execution role and calls through CloudFormation", () => {
    const execRole = {
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':iam::',
          { Ref: 'AWS::AccountId' },
          ':role/cdk-hnb659fds-cfn-exec-role-',
          { Ref: 'AWS::AccountId' },
          '-',
          { Ref: 'AWS::Region' },
        ],
      ],
    };
    expect(Object.values(template.findResources('AWS::SecretsManager::ResourcePolicy'))).toEqual([
      {
        Type: 'AWS::SecretsManager::ResourcePolicy',
        Properties: {
          SecretId: { Ref: id(pepper.secret) },
          ResourcePolicy: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'OnlyTheStackWritesThePepper',
                Effect: 'Deny',
                Principal: { AWS: '*' },
                Action: [...PEPPER_WRITE_ACTIONS].sort(),
                Resource: '*',
                Condition: {
                  'ForAllValues:StringNotEquals': { 'aws:CalledVia': 'cloudformation.amazonaws.com' },
                  ArnNotEquals: { 'aws:PrincipalArn': execRole },
                },
              },
            ],
          },
        },
      },
    ]);
    expect(PEPPER_WRITE_ACTIONS).toEqual(
      expect.arrayContaining([
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecret',
        'secretsmanager:UpdateSecretVersionStage',
        'secretsmanager:DeleteSecret',
        'secretsmanager:RotateSecret',
        'secretsmanager:PutResourcePolicy',
        'secretsmanager:DeleteResourcePolicy',
      ]),
    );
  });

  it('takes the deployment role, and without one (another synthesizer) allows writes through CloudFormation only', () => {
    // GIVEN
    const named = new Stack(newTestApp(), 'Named');
    const cli = new Stack(newTestApp(), 'Cli', { synthesizer: new CliCredentialsStackSynthesizer() });
    // WHEN
    for (const [scope, deploymentRoleArn] of [
      [named, 'arn:aws:iam::111111111111:role/deployer'],
      [cli, undefined],
    ] as const) {
      new FingerprintPepper(scope, 'Pepper', {
        stage: 'test',
        secretNamePrefix: 'rotor/test/',
        encryptionKey: new kms.Key(scope, 'Key', { enableKeyRotation: true }),
        ...(deploymentRoleArn === undefined ? {} : { deploymentRoleArn }),
      });
    }
    // THEN
    const condition = (scope: Stack): unknown =>
      (
        Object.values(Template.fromStack(scope).findResources('AWS::SecretsManager::ResourcePolicy'))[0]!
          .Properties as { ResourcePolicy: { Statement: { Condition: unknown }[] } }
      ).ResourcePolicy.Statement[0]!.Condition;
    expect(condition(named)).toEqual({
      'ForAllValues:StringNotEquals': { 'aws:CalledVia': 'cloudformation.amazonaws.com' },
      ArnNotEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111111111111:role/deployer' },
    });
    expect(condition(cli)).toEqual({
      'ForAllValues:StringNotEquals': { 'aws:CalledVia': 'cloudformation.amazonaws.com' },
    });
  });

  it("fails when its name would start with the stage's secret name prefix", () => {
    const other = new Stack(newTestApp(), 'Other');
    const otherKey = new kms.Key(other, 'Key', { enableKeyRotation: true });
    expect(
      () =>
        new FingerprintPepper(other, 'Pepper', {
          stage: 'test',
          secretNamePrefix: 'rotor/test/',
          encryptionKey: otherKey,
          secretName: 'rotor/test/pepper',
        }),
    ).toThrow(
      /FingerprintPepper secretName must not start with the stage's secret name prefix "rotor\/test\/" \(the rotation function would accept it\), got "rotor\/test\/pepper"/,
    );
  });
});
