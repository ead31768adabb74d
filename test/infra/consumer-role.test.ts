import { Duration, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ConsumerRole, type ConsumerRoleProps } from '../../lib/consumer-role';
import { RotatedSecret } from '../../lib/rotated-secret';
import { RotationFunction } from '../../lib/rotation-function';
import { newStageFixture } from './infra-test-app';

/** A stage `test` with one rotated secret and a GitHub OIDC provider. */
function newFixture(): { stack: Stack; secret: RotatedSecret; provider: iam.OidcProviderNative } {
  const { stack, key, resources, retirement } = newStageFixture();
  const rotationFunction = new RotationFunction(stack, 'Rotation', { resources, retirement });
  const secret = new RotatedSecret(stack, 'DeployToken', {
    rotationFunction,
    encryptionKey: key,
    secretName: 'rotor/test/deploy-token',
    provider: 'managed-token',
    schedule: 'rate(4 hours)',
    window: Duration.hours(1),
  });
  const provider = new iam.OidcProviderNative(stack, 'GitHub', {
    url: 'https://token.actions.githubusercontent.com',
    clientIds: ['sts.amazonaws.com'],
  });
  return { stack, secret, provider };
}

function props(fixture: ReturnType<typeof newFixture>, overrides: Partial<ConsumerRoleProps> = {}): ConsumerRoleProps {
  return {
    oidcProvider: fixture.provider,
    issuerHost: 'token.actions.githubusercontent.com',
    audience: 'sts.amazonaws.com',
    repositorySubjectPrefix: 'repo:example-org/app:',
    subjects: ['repo:example-org/app:ref:refs/heads/main'],
    secrets: [fixture.secret],
    ...overrides,
  };
}

describe('ConsumerRole', () => {
  it('trusts only the exact audience and subjects, for at most an hour, with a pattern in a second statement', () => {
    // GIVEN
    const fixture = newFixture();
    // WHEN
    new ConsumerRole(
      fixture.stack,
      'Consumer',
      props(fixture, { roleName: 'ci-app', subjectPatterns: ['repo:example-org/app:ref:refs/tags/v*'] }),
    );
    // THEN
    const provider = { Ref: fixture.stack.getLogicalId(fixture.provider.node.defaultChild as iam.CfnOIDCProvider) };
    Template.fromStack(fixture.stack).hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'ci-app',
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'sts:AssumeRoleWithWebIdentity',
            Principal: { Federated: provider },
            Condition: {
              StringEquals: {
                'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
                'token.actions.githubusercontent.com:sub': ['repo:example-org/app:ref:refs/heads/main'],
              },
            },
          },
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
      },
    });
  });

  it.each([
    [
      'a wildcard in an exact subject',
      { subjects: ['repo:example-org/app:ref:refs/heads/*'] },
      /ConsumerRole subject must not contain a wildcard \(\* or \?\): it is compared exactly, got "repo:example-org\/app:ref:refs\/heads\/\*"/,
    ],
    [
      'a subject of another repository',
      { subjects: ['repo:example-org/other:ref:refs/heads/main'] },
      /ConsumerRole subject must start with "repo:example-org\/app:" .*, got "repo:example-org\/other:ref:refs\/heads\/main"/,
    ],
    [
      'a pattern that could reach another repository',
      { subjects: [], subjectPatterns: ['repo:example-org/*'] },
      /ConsumerRole subject pattern must start with "repo:example-org\/app:" .*, got "repo:example-org\/\*"/,
    ],
    [
      'a pattern that matches every ref of the repository',
      { subjectPatterns: ['repo:example-org/app:*'] },
      /ConsumerRole subject pattern must keep "repo:example-org\/app:" and the start of a ref literal before its first wildcard, so that it cannot match every ref or reach another repository, got "repo:example-org\/app:\*"/,
    ],
    [
      'a pattern that names only the repository',
      { subjectPatterns: ['repo:example-org/app:'] },
      /ConsumerRole subject pattern must start with "repo:example-org\/app:" and name a ref or an environment after it, got "repo:example-org\/app:"/,
    ],
    [
      'a pattern without a wildcard',
      { subjectPatterns: ['repo:example-org/app:ref:refs/tags/v1'] },
      /ConsumerRole subject pattern is a pattern without a wildcard: trust it as an exact subject, got "repo:example-org\/app:ref:refs\/tags\/v1"/,
    ],
    ['no subject at all', { subjects: [] }, /ConsumerRole must trust at least one subject, got none/],
    [
      'a wildcard audience',
      { audience: 'sts.*' },
      /ConsumerRole audience must be exact \(no \* or \?\), got "sts\.\*"/,
    ],
    ['no secret to read', { secrets: [] }, /ConsumerRole must read at least one secret, got none/],
  ] as const)('fails on %s', (_case, overrides, message) => {
    const fixture = newFixture();
    expect(() => new ConsumerRole(fixture.stack, 'Consumer', props(fixture, overrides))).toThrow(message);
  });
});
