import { CfnResource, type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { IConstruct } from 'constructs';
import { RotationFunction } from '../../lib/rotation-function';
import { VerifierFunction } from '../../lib/verifier-function';
import { newStageFixture, type StageFixture, fixtureEnvironment } from './infra-test-app';

function newVerifier(fixture: StageFixture): { rotation: RotationFunction; verifier: VerifierFunction } {
  const { stack, resources, retirement } = fixture;
  const rotation = new RotationFunction(stack, 'Rotation', { resources, retirement });
  const verifier = new VerifierFunction(stack, 'Verifier', { resources, retirement, rotationFunction: rotation });
  return { rotation, verifier };
}

describe('VerifierFunction', () => {
  // GIVEN the verifier of stage `test`, allowed to start rotations of two secrets, and a caller granted to verify
  let fixture: StageFixture;
  let stack: Stack;
  let template: Template;
  let rotation: RotationFunction;
  let verifier: VerifierFunction;
  let secrets: secretsmanager.Secret[];
  let caller: iam.Role;
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);
  const functionOf = (): { Properties: Record<string, unknown>; DependsOn?: unknown } =>
    template.findResources('AWS::Lambda::Function')[id(verifier.function)] as never;

  beforeAll(() => {
    fixture = newStageFixture();
    stack = fixture.stack;
    ({ rotation, verifier } = newVerifier(fixture));
    secrets = ['one', 'two'].map(
      (name) => new secretsmanager.Secret(stack, name, { secretName: `rotor/test/${name}` }),
    );
    caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    for (const secret of secrets) verifier.grantStartRotation(secret);
    verifier.grantVerify(caller);
    template = Template.fromStack(stack);
  });

  it('runs the built bundle on Node.js 24 on ARM64 with 512 MiB and 10 seconds, traced, without reserved concurrency', () => {
    expect(functionOf()).toMatchObject({
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        MemorySize: 512,
        Timeout: 10,
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: { LogGroup: { Ref: id(verifier.logGroup) } },
      },
      DependsOn: [expect.stringMatching(/^VerifierRoleDefaultPolicy/), expect.stringMatching(/^VerifierTracingPolicy/)],
    });
    expect(functionOf().Properties).not.toHaveProperty('ReservedConcurrentExecutions');
  });

  it("has exactly the stage's Rotor environment: rotorLambdaEnvironment of its settings", () => {
    expect(functionOf().Properties.Environment).toEqual({
      Variables: fixtureEnvironment(fixture),
    });
    // The same environment as the rotation function's, one set of settings per stage, but for the
    // journal-claim lease, which only the rotation function uses.
    const rotationFunction = template.findResources('AWS::Lambda::Function')[id(rotation.function)]!;
    const { Variables: rotationVariables } = (rotationFunction.Properties as { Environment: { Variables: object } })
      .Environment;
    const { ROTOR_SIDE_EFFECT_LEASE_SECONDS: lease, ...shared } = rotationVariables as Record<string, unknown>;
    expect(lease).toBe('70');
    expect(functionOf().Properties.Environment).toEqual({ Variables: shared });
  });

  it('may keep the ledger, read the pepper, put events on the bus, invoke the rotation function and start rotations of the granted secrets only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^VerifierRoleDefaultPolicy'),
      Roles: [{ Ref: id(verifier.role) }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
            Resource: { 'Fn::GetAtt': [id(verifier.logGroup), 'Arn'] },
          },
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
          { Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: id(fixture.pepper.secret) } },
          {
            Effect: 'Allow',
            Action: 'kms:Decrypt',
            Resource: { 'Fn::GetAtt': [id(fixture.key), 'Arn'] },
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
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
            Action: 'lambda:InvokeFunction',
            Resource: { 'Fn::GetAtt': [id(rotation.function), 'Arn'] },
          },
          {
            Effect: 'Allow',
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:RotateSecret'],
            Resource: secrets.map((secret) => ({ Ref: id(secret) })),
          },
        ],
      }),
    });
  });

  it('lets a granted caller invoke exactly the verifier, not its versions or aliases', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: id(caller) }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: { 'Fn::GetAtt': [id(verifier.function), 'Arn'] },
          },
        ],
      }),
    });
  });

  it('adds no invoke permission of its own: API Gateway gets one when an authorizer is attached', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::Permission',
      { FunctionName: { 'Fn::GetAtt': [id(verifier.function), 'Arn'] } },
      0,
    );
  });

  it("publishes on the stage's event bus when it is not the default one", () => {
    // GIVEN a stage whose events go to the bus `ci-events`
    const custom = newStageFixture({ eventBusName: 'ci-events' });
    // WHEN
    const { verifier: customVerifier } = newVerifier(custom);
    // THEN
    const customTemplate = Template.fromStack(custom.stack);
    const fn =
      customTemplate.findResources('AWS::Lambda::Function')[
        custom.stack.getLogicalId(customVerifier.function.node.defaultChild as CfnResource)
      ]!;
    expect(fn.Properties).toMatchObject({ Environment: { Variables: { ROTOR_EVENT_BUS_NAME: 'ci-events' } } });
    customTemplate.hasResourceProperties('AWS::IAM::Policy', {
      PolicyName: Match.stringLikeRegexp('^VerifierRoleDefaultPolicy'),
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'events:PutEvents',
            Resource: { 'Fn::Join': ['', Match.arrayWith([':event-bus/ci-events'])] },
          }),
        ]),
      },
    });
  });

  it('fails to grant a secret whose full ARN is unknown', () => {
    const other = newStageFixture();
    const { verifier: otherVerifier } = newVerifier(other);
    const byName = secretsmanager.Secret.fromSecretNameV2(other.stack, 'ByName', 'rotor/test/imported');
    expect(() => otherVerifier.grantStartRotation(byName)).toThrow(
      /VerifierFunction can only rotate secrets with a known full ARN.*got Test\/ByName/,
    );
  });
});
