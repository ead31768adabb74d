import { CfnResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { CONSUMER_ROLE_ARNS_OUTPUT } from '../../lib/ci-consumers';
import type { RotorStack } from '../../lib/rotor-stack';
import { addRotorStages } from '../../lib/rotor-stages';
import { twoStageConfig } from './consumer-fixtures';
import { newTestApp } from './infra-test-app';

const ref = (stack: RotorStack, construct: IConstruct): string =>
  stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);

/** Every AWS::IAM::Role's trust statements, by role name. */
function trustByRoleName(template: Template): Record<string, unknown> {
  return Object.fromEntries(
    Object.values(template.findResources('AWS::IAM::Role'))
      .map((role) => role.Properties as { RoleName?: string; AssumeRolePolicyDocument: { Statement: unknown } })
      .filter((properties) => properties.RoleName !== undefined)
      .map((properties): [string, unknown] => [properties.RoleName!, properties.AssumeRolePolicyDocument.Statement]),
  );
}

/** The statements of every policy attached to the role with logical id `roleId`. */
function statementsOf(template: Template, roleId: string): unknown[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .map((policy) => policy.Properties as { Roles: { Ref: string }[]; PolicyDocument: { Statement: unknown[] } })
    .filter((properties) => properties.Roles.some((role) => role.Ref === roleId))
    .flatMap((properties) => properties.PolicyDocument.Statement);
}

describe('CiConsumers in two stages of one account', () => {
  // GIVEN development (GitHub and a self-managed GitLab) and production (GitHub, imported provider)
  let development: RotorStack;
  let production: RotorStack;
  let dev: Template;
  let prod: Template;

  beforeAll(() => {
    // WHEN
    [development, production] = addRotorStages(newTestApp(), twoStageConfig()) as [RotorStack, RotorStack];
    dev = Template.fromStack(development);
    prod = Template.fromStack(production);
  });

  describe('OIDC providers', () => {
    it('creates one provider per platform the stage uses, each accepting only the STS audience', () => {
      dev.resourceCountIs('AWS::IAM::OIDCProvider', 2);
      dev.hasResourceProperties(
        'AWS::IAM::OIDCProvider',
        Match.exact({ Url: 'https://token.actions.githubusercontent.com', ClientIdList: ['sts.amazonaws.com'] }),
      );
      dev.hasResourceProperties(
        'AWS::IAM::OIDCProvider',
        Match.exact({ Url: 'https://gitlab.example.com', ClientIdList: ['sts.amazonaws.com'] }),
      );
    });

    it("imports the account's existing provider when the config says existing: true", () => {
      prod.resourceCountIs('AWS::IAM::OIDCProvider', 0);
      // The ARN IAM gives the provider of an issuer: the stage's account and the issuer's host.
      expect(production.resolve(production.consumers.oidcProviders.get('github-actions')!.oidcProviderArn)).toBe(
        'arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com',
      );
    });
  });

  describe('trust policies', () => {
    it('GitHub Actions: the exact aud and the exact sub of each configured ref and environment, nothing else', () => {
      const provider = { Ref: ref(development, development.consumers.oidcProviders.get('github-actions')!) };
      expect(trustByRoleName(dev)['rotor-development-app-deploy']).toEqual([
        {
          Effect: 'Allow',
          Action: 'sts:AssumeRoleWithWebIdentity',
          Principal: { Federated: provider },
          Condition: {
            StringEquals: {
              'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
              'token.actions.githubusercontent.com:sub': [
                'repo:example-org/app:ref:refs/heads/main',
                'repo:example-org/app:environment:development',
              ],
            },
          },
        },
      ]);
    });

    it("GitLab CI: the issuer's own keys, exact subjects per ref, and the pattern in a StringLike statement of its own", () => {
      const provider = { Ref: ref(development, development.consumers.oidcProviders.get('gitlab-ci')!) };
      const trust = (condition: object): unknown => ({
        Effect: 'Allow',
        Action: 'sts:AssumeRoleWithWebIdentity',
        Principal: { Federated: provider },
        Condition: condition,
      });
      expect(trustByRoleName(dev)['rotor-development-packager']).toEqual([
        trust({
          StringEquals: {
            'gitlab.example.com:aud': 'sts.amazonaws.com',
            'gitlab.example.com:sub': [
              'project_path:example-group/packager:ref_type:branch:ref:main',
              'project_path:example-group/packager:ref_type:tag:ref:v1.0.0',
            ],
          },
        }),
        trust({
          StringEquals: { 'gitlab.example.com:aud': 'sts.amazonaws.com' },
          StringLike: { 'gitlab.example.com:sub': ['project_path:example-group/packager:ref_type:tag:ref:release-*'] },
        }),
      ]);
    });

    it('production: an environment subject and a tag pattern, trusting the imported provider', () => {
      const provider: unknown = production.resolve(
        production.consumers.oidcProviders.get('github-actions')!.oidcProviderArn,
      );
      expect(trustByRoleName(prod)).toEqual({
        'rotor-production-app-deploy': [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRoleWithWebIdentity',
            Principal: { Federated: provider },
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': ['repo:example-org/app:environment:production'],
              },
            },
          },
        ],
        'rotor-production-app-release': [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRoleWithWebIdentity',
            Principal: { Federated: provider },
            Condition: {
              StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
              StringLike: { 'token.actions.githubusercontent.com:sub': ['repo:example-org/app:ref:refs/tags/v*'] },
            },
          },
        ],
      });
    });

    it('limits every consumer session to one hour, with no managed or inline policy', () => {
      for (const template of [dev, prod]) {
        const consumers = template.findResources('AWS::IAM::Role', {
          Properties: { RoleName: Match.stringLikeRegexp('^rotor-') },
        });
        expect(Object.keys(consumers)).toHaveLength(2);
        for (const role of Object.values(consumers)) {
          expect(role.Properties).toMatchObject({ MaxSessionDuration: 3600 });
          expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
          expect(role.Properties).not.toHaveProperty('Policies');
        }
      }
    });
  });

  describe('read permissions', () => {
    it('gives a consumer role exactly GetSecretValue on its own secret at AWSCURRENT or AWSPREVIOUS, and Decrypt through Secrets Manager', () => {
      const [deployToken, packageToken] = development.secrets;
      const keyArn = { 'Fn::GetAtt': [ref(development, development.encryptionKey), 'Arn'] };
      const read = (secret: IConstruct): unknown[] => [
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: { Ref: ref(development, secret) },
          Condition: { StringEquals: { 'secretsmanager:VersionStage': ['AWSCURRENT', 'AWSPREVIOUS'] } },
        },
        {
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: keyArn,
          Condition: { StringEquals: { 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com' } },
        },
      ];
      const roleId = (name: string): string => ref(development, development.consumers.roles.get(name)!.role);
      expect(statementsOf(dev, roleId('app-deploy'))).toEqual(read(deployToken!.secret));
      expect(statementsOf(dev, roleId('packager'))).toEqual(read(packageToken!.secret));
    });

    it('outputs each consumer role ARN by consumer name', () => {
      const arn = (name: string): unknown => ({
        'Fn::GetAtt': [ref(production, production.consumers.roles.get(name)!.role), 'Arn'],
      });
      prod.hasOutput(CONSUMER_ROLE_ARNS_OUTPUT, {
        Value: { 'Fn::Join': ['', ['app-deploy=', arn('app-deploy'), ',app-release=', arn('app-release')]] },
      });
    });
  });

  describe('stages', () => {
    /** Physical names a stage's resources take, by resource type. */
    function physicalNames(template: Template): string[] {
      const named: [string, string][] = [
        ['AWS::SecretsManager::Secret', 'Name'],
        ['AWS::DynamoDB::Table', 'TableName'],
        ['AWS::KMS::Alias', 'AliasName'],
        ['AWS::IAM::Role', 'RoleName'],
        ['AWS::Scheduler::ScheduleGroup', 'Name'],
        ['AWS::Lambda::Function', 'FunctionName'],
      ];
      return named.flatMap(([type, property]) =>
        Object.values(template.findResources(type))
          .map((resource) => (resource.Properties as Record<string, unknown>)[property])
          .filter((name): name is string => typeof name === 'string'),
      );
    }

    it('have disjoint resources: own key, ledger, pepper, secrets, schedule group and roles, and no reference to each other', () => {
      const devNames = physicalNames(dev);
      const prodNames = physicalNames(prod);
      expect(devNames).toEqual(
        expect.arrayContaining([
          'alias/rotor/development',
          'rotor-development-ledger',
          'rotor-internal/development/fingerprint-pepper',
          'rotor/development/deploy-token',
          'rotor/development/package-token',
          'rotor-development',
          'rotor-development-app-deploy',
          'rotor-development-packager',
        ]),
      );
      expect(prodNames).toEqual(
        expect.arrayContaining([
          'alias/rotor/production',
          'rotor-production-ledger',
          'rotor-internal/production/fingerprint-pepper',
          'rotor/production/deploy-token',
          'rotor/production/release-token',
          'rotor-production',
          'rotor-production-app-deploy',
          'rotor-production-app-release',
        ]),
      );
      expect(devNames.filter((name) => prodNames.includes(name))).toEqual([]);
      // Each template names only its own stage, and neither imports from the other.
      const devJson = JSON.stringify(dev.toJSON());
      const prodJson = JSON.stringify(prod.toJSON());
      expect(devJson).not.toMatch(/production/);
      expect(prodJson).not.toMatch(/development/);
      expect(devJson + prodJson).not.toContain('Fn::ImportValue');
    });
  });
});
