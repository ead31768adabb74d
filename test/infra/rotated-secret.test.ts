import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CfnResource, Duration, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { rotorProviderRegistry } from '../../lambda/adapters/rotor-provider-registry';
import {
  parseSecretDocument,
  SECRET_DOCUMENT_SCHEMA_VERSION as CORE_SCHEMA_VERSION,
} from '../../lambda/core/secret-document';
import {
  MANAGED_BY_TAG,
  ROTOR_PROVIDERS,
  SECRET_DOCUMENT_SCHEMA_VERSION,
  type RotorProvider,
} from '../../lambda/shared/rotor-constants';
import { RotatedSecret, type RotatedSecretProps } from '../../lib/rotated-secret';
import { RotationFunction } from '../../lib/rotation-function';
import { secretFirstDocument } from '../../lib/secret-first-document';
import { newStageFixture, oauth2TestStage } from './infra-test-app';

function newFixture(): { stack: Stack; key: kms.Key; rotationFunction: RotationFunction } {
  const { stack, key, resources, retirement } = newStageFixture();
  const rotationFunction = new RotationFunction(stack, 'Rotation', { resources, retirement });
  return { stack, key, rotationFunction };
}

function props(
  fixture: ReturnType<typeof newFixture>,
  overrides: Partial<RotatedSecretProps> = {},
): RotatedSecretProps {
  return {
    rotationFunction: fixture.rotationFunction,
    encryptionKey: fixture.key,
    secretName: 'rotor/test/deploy-token',
    provider: 'managed-token',
    schedule: 'rate(4 hours)',
    window: Duration.hours(3),
    ...overrides,
  };
}

describe('RotatedSecret', () => {
  // GIVEN a rotated secret with a description, and one that is not rotated at deploy
  let stack: Stack;
  let template: Template;
  let deployToken: RotatedSecret;
  let quietToken: RotatedSecret;
  let fixture: ReturnType<typeof newFixture>;
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);

  beforeAll(() => {
    fixture = newFixture();
    stack = fixture.stack;
    // WHEN
    deployToken = new RotatedSecret(stack, 'DeployToken', props(fixture, { description: 'CI deploy token' }));
    quietToken = new RotatedSecret(
      stack,
      'QuietToken',
      props(fixture, {
        secretName: 'rotor/test/quiet-token',
        schedule: 'cron(0 6 ? * MON-FRI *)',
        window: Duration.hours(18),
        rotateImmediatelyOnUpdate: false,
      }),
    );
    template = Template.fromStack(stack);
  });

  it('creates a retained secret encrypted with the key, tagged with the stage', () => {
    template.hasResource('AWS::SecretsManager::Secret', {
      Properties: {
        Name: 'rotor/test/deploy-token',
        Description: 'CI deploy token',
        KmsKeyId: { 'Fn::GetAtt': [id(fixture.key), 'Arn'] },
        Tags: [{ Key: MANAGED_BY_TAG, Value: 'test' }],
      },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('starts with a Rotor document that holds no credential', () => {
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'rotor/test/deploy-token',
      SecretString: '{"provider":"managed-token","schemaVersion":1}',
      GenerateSecretString: Match.absent(),
    });
  });

  it('rotates on the schedule and window, at once when created', () => {
    template.hasResource('AWS::SecretsManager::RotationSchedule', {
      Properties: {
        SecretId: { Ref: id(deployToken.secret) },
        RotationLambdaARN: { 'Fn::GetAtt': [id(fixture.rotationFunction.function), 'Arn'] },
        RotationRules: Match.exact({ ScheduleExpression: 'rate(4 hours)', Duration: '3h' }),
        RotateImmediatelyOnUpdate: true,
        HostedRotationLambda: Match.absent(),
      },
    });
    // Secrets Manager invokes the function as soon as the schedule exists.
    const schedule = template.findResources('AWS::SecretsManager::RotationSchedule')[id(deployToken.rotationSchedule)];
    expect(schedule!.DependsOn).toEqual([
      expect.stringMatching(/^RotationFunctionInvokedBySecretsManager/),
      expect.stringMatching(/^RotationRoleDefaultPolicy/),
    ]);
  });

  it('passes a cron() schedule and rotateImmediatelyOnUpdate through', () => {
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: id(quietToken.secret) },
      RotationRules: Match.exact({ ScheduleExpression: 'cron(0 6 ? * MON-FRI *)', Duration: '18h' }),
      RotateImmediatelyOnUpdate: false,
    });
  });

  it('grants the rotation function exactly these secrets, in one statement', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RotationRoleDefaultPolicy'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.exact({
            Effect: 'Allow',
            Action: [
              'secretsmanager:DescribeSecret',
              'secretsmanager:GetSecretValue',
              'secretsmanager:PutSecretValue',
              'secretsmanager:UpdateSecretVersionStage',
            ],
            Resource: [{ Ref: id(deployToken.secret) }, { Ref: id(quietToken.secret) }],
          }),
        ]),
      },
    });
  });

  it('grantRead: GetSecretValue on exactly these secrets at AWSCURRENT or AWSPREVIOUS, Decrypt only through Secrets Manager', () => {
    // GIVEN a principal of the account
    const other = newFixture();
    const first = new RotatedSecret(other.stack, 'First', props(other, { secretName: 'rotor/test/first' }));
    const second = new RotatedSecret(other.stack, 'Second', props(other, { secretName: 'rotor/test/second' }));
    const reader = new iam.Role(other.stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    const otherId = (construct: IConstruct): string =>
      other.stack.getLogicalId(
        (CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource,
      );
    // WHEN
    first.grantRead(reader);
    second.grantRead(reader);
    // THEN one statement of each kind
    const [policy] = Object.values(
      Template.fromStack(other.stack).findResources('AWS::IAM::Policy', {
        Properties: { Roles: [{ Ref: otherId(reader) }] },
      }),
    );
    expect((policy!.Properties as { PolicyDocument: unknown }).PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: [{ Ref: otherId(first.secret) }, { Ref: otherId(second.secret) }],
          Condition: { StringEquals: { 'secretsmanager:VersionStage': ['AWSCURRENT', 'AWSPREVIOUS'] } },
        },
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: { 'Fn::GetAtt': [otherId(other.key), 'Arn'] },
          Condition: {
            StringEquals: {
              'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
            },
          },
        },
      ],
    });
  });

  it('adds neither GetRandomPassword nor a second invoke permission (as the L2 rotation schedule would)', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('GetRandomPassword');
    template.resourceCountIs('AWS::Lambda::Permission', 1);
  });

  it('fails when the window is not whole hours', () => {
    const other = newFixture();
    expect(() => new RotatedSecret(other.stack, 'S', props(other, { window: Duration.minutes(90) }))).toThrow(
      /window must be whole hours from "1h" to "24h", got 1\.5h/,
    );
  });

  it('fails when the window is longer than 24 hours', () => {
    const other = newFixture();
    expect(() => new RotatedSecret(other.stack, 'S', props(other, { window: Duration.hours(25) }))).toThrow(
      /window must be whole hours from "1h" to "24h", got 25h/,
    );
  });

  it('fails when the window is as long as the interval between rotations', () => {
    const other = newFixture();
    expect(() => new RotatedSecret(other.stack, 'S', props(other, { window: Duration.hours(4) }))).toThrow(
      /window must be shorter than the 4 hours between two windows of "rate\(4 hours\)", got 4h/,
    );
  });

  it('fails when Secrets Manager would refuse the schedule', () => {
    const other = newFixture();
    expect(() => new RotatedSecret(other.stack, 'S', props(other, { schedule: 'rate(2 hours)' }))).toThrow(
      /schedule Secrets Manager rotates at most every 4 hours, got "rate\(2 hours\)"/,
    );
  });

  it("fails when the name is outside the rotation function's prefix", () => {
    const other = newFixture();
    expect(() => new RotatedSecret(other.stack, 'S', props(other, { secretName: 'other/deploy-token' }))).toThrow(
      /secretName must start with the rotation function's prefix "rotor\/test\/", got "other\/deploy-token"/,
    );
  });
});

describe('an OAuth 2.0 RotatedSecret', () => {
  // GIVEN an oauth2-refresh-token secret with every optional setting and a client certificate
  let fixture: ReturnType<typeof newFixture>;
  let template: Template;
  let idpToken: RotatedSecret;
  const oauth2 = oauth2TestStage().secrets[1]!.oauth2!;

  beforeAll(() => {
    fixture = newFixture();
    // WHEN
    idpToken = new RotatedSecret(
      fixture.stack,
      'IdpToken',
      props(fixture, {
        secretName: 'rotor/test/idp-token',
        provider: 'oauth2-refresh-token',
        oauth2,
        schedule: 'rate(1 day)',
        window: Duration.hours(1),
      }),
    );
    template = Template.fromStack(fixture.stack);
  });
  const id = (construct: IConstruct): string =>
    fixture.stack.getLogicalId(
      (CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource,
    );

  it("starts with the provider's non-secret settings and no token", () => {
    const [secret] = Object.values(
      template.findResources('AWS::SecretsManager::Secret', { Properties: { Name: 'rotor/test/idp-token' } }),
    ) as { Properties: { SecretString: string } }[];
    expect(JSON.parse(secret!.Properties.SecretString)).toEqual({
      provider: 'oauth2-refresh-token',
      schemaVersion: 1,
      tokenEndpoint: 'https://idp.example.com/oauth2/token',
      clientId: 'rotor-ci',
      clientAuthentication: 'client_secret_basic',
      scope: 'deploy:write artifacts:read',
      introspectionEndpoint: 'https://idp.example.com/oauth2/introspect',
      refreshTokenReuseIntervalSeconds: 60,
      tls: { minVersion: 'TLSv1.3', clientCertificateSecretId: 'rotor/test/idp-client-certificate' },
    });
    expect(idpToken.provider).toBe('oauth2-refresh-token');
    expect(idpToken.oauth2).toBe(oauth2);
  });

  it('writes only the settings that are set', () => {
    expect(
      secretFirstDocument('oauth2-refresh-token', {
        tokenEndpoint: 'https://idp.example.com/token',
        clientId: 'rotor',
        clientAuthentication: 'none',
        testUrl: 'https://api.example.com/me',
        accessTokenLifetimeSeconds: 900,
        refreshTokenLifetimeSeconds: 3600,
        refreshIntervalSeconds: 600,
        tls: {},
      }),
    ).toEqual({
      provider: 'oauth2-refresh-token',
      schemaVersion: 1,
      tokenEndpoint: 'https://idp.example.com/token',
      clientId: 'rotor',
      clientAuthentication: 'none',
      testUrl: 'https://api.example.com/me',
    });
  });

  it('does not rotate at deploy: it has no refresh token before `rotor bootstrap`', () => {
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: { Ref: id(idpToken.secret) },
      RotationRules: Match.exact({ ScheduleExpression: 'rate(1 day)', Duration: '1h' }),
      RotateImmediatelyOnUpdate: false,
    });
  });

  it('lets the rotation function publish to the stage bus and read the current client certificate, before the schedule exists', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^RotationRoleDefaultPolicy'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.exact({
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
          }),
          Match.exact({
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
          }),
        ]),
      },
    });
    const schedule = template.findResources('AWS::SecretsManager::RotationSchedule')[id(idpToken.rotationSchedule)];
    expect(schedule!.DependsOn).toEqual([
      expect.stringMatching(/^RotationFunctionInvokedBySecretsManager/),
      expect.stringMatching(/^RotationRoleDefaultPolicy/),
    ]);
  });

  it('fails without oauth2 settings, with them on another provider, and when asked to rotate at deploy', () => {
    const other = newFixture();
    expect(() => new RotatedSecret(other.stack, 'A', props(other, { provider: 'oauth2-refresh-token' }))).toThrow(
      /RotatedSecret provider "oauth2-refresh-token" needs oauth2 settings, got none for "rotor\/test\/deploy-token"/,
    );
    expect(() => new RotatedSecret(other.stack, 'B', props(other, { oauth2 }))).toThrow(
      /RotatedSecret oauth2 settings are only for provider "oauth2-refresh-token", got "managed-token"/,
    );
    expect(
      () =>
        new RotatedSecret(
          other.stack,
          'C',
          props(other, { provider: 'oauth2-refresh-token', oauth2, rotateImmediatelyOnUpdate: true }),
        ),
    ).toThrow(/rotateImmediatelyOnUpdate must be false for provider "oauth2-refresh-token": .*`rotor bootstrap`/);
  });

  it("fails when the client certificate is outside the rotation function's prefix", () => {
    const other = newFixture();
    const outside = { ...oauth2, tls: { clientCertificateSecretName: 'rotor/other/cert' } };
    expect(
      () => new RotatedSecret(other.stack, 'S', props(other, { provider: 'oauth2-refresh-token', oauth2: outside })),
    ).toThrow(/client certificate secret must be named under the prefix "rotor\/test\/", got "rotor\/other\/cert"/);
  });
});

describe('the first secret value', () => {
  it('is a document the rotation engine accepts, for every provider it registers', () => {
    // GIVEN the providers the rotation handler registers: every provider the config may name
    const registry = rotorProviderRegistry(new SecretsManagerClient({ region: 'us-east-1' }), 'rotor/test/', {
      origins: new Set(),
      allowPrivateAddresses: false,
    });
    expect(registry.names()).toEqual([...ROTOR_PROVIDERS]);
    for (const provider of registry.names() as RotorProvider[]) {
      expect(ROTOR_PROVIDERS).toContain(provider);
      const { stack, key, rotationFunction } = newFixture();
      // WHEN
      new RotatedSecret(stack, 'S', {
        rotationFunction,
        encryptionKey: key,
        secretName: 'rotor/test/token',
        provider,
        ...(provider === 'oauth2-refresh-token' ? { oauth2: oauth2TestStage().secrets[1]!.oauth2! } : {}),
        ...(provider === 'gitlab-access-token'
          ? {
              gitlab: {
                origin: 'https://gitlab.example.com',
                type: 'personal' as const,
                scopes: ['api'],
                mode: 'self' as const,
                expiryHorizonSeconds: 90_000,
                expiryMarginSeconds: 86_400,
              },
            }
          : {}),
        schedule: 'rate(1 day)',
        window: Duration.hours(1),
      });
      const [secret] = Object.values(
        Template.fromStack(stack).findResources('AWS::SecretsManager::Secret', {
          Properties: { Name: 'rotor/test/token' },
        }),
      ) as {
        Properties: { SecretString: string };
      }[];
      // THEN
      const parsed = parseSecretDocument(secret!.Properties.SecretString, registry, 'first value');
      expect(parsed.provider.name).toBe(provider);
      expect(parsed.provider.credentialOf(parsed.document)).toBeUndefined();
    }
  });

  it('is unchanged for managed-token', () => {
    expect(secretFirstDocument('managed-token')).toEqual({ provider: 'managed-token', schemaVersion: 1 });
  });

  it('carries the schema version the rotation engine writes', () => {
    expect(SECRET_DOCUMENT_SCHEMA_VERSION).toBe(CORE_SCHEMA_VERSION);
  });
});
