import type { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { RotorConfigError } from '../../lib/config/rotor-config';
import { parseRotorConfig } from '../../lib/config/rotor-config';
import type { RotorStack } from '../../lib/rotor-stack';
import { addRotorStages } from '../../lib/rotor-stages';
import { newTestApp, oauth2TestStageFile } from './infra-test-app';

const MANAGED_SECRET = { name: 'deploy-token', provider: 'managed-token', schedule: 'rate(4 hours)', window: '1h' };
const EXISTING = {
  vpcId: 'vpc-0123456789abcdef0',
  subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
};

/** The one-line problems of a stage file, or [] when it is valid. */
function problems(stage: Record<string, unknown>): readonly string[] {
  try {
    parseRotorConfig({ stages: [stage] });
    return [];
  } catch (error) {
    return (error as RotorConfigError).issues;
  }
}

describe('the vpc and reservedConcurrency stage settings', () => {
  // GIVEN a stage in a VPC Rotor makes, one in existing subnets with reservations, one with neither
  let app: App;
  let isolated: RotorStack;
  let existing: RotorStack;
  let plain: RotorStack;
  const templateOf = (stack: RotorStack): Template => Template.fromStack(stack);
  // Rotor's functions, not the handler of the custom resource that strips the default security group.
  const functions = (stack: RotorStack) =>
    Object.values(templateOf(stack).findResources('AWS::Lambda::Function'))
      .map((fn) => fn.Properties as Record<string, unknown>)
      .filter((fn) => fn.Environment !== undefined);

  beforeAll(() => {
    app = newTestApp();
    // WHEN
    [isolated, existing, plain] = addRotorStages(
      app,
      parseRotorConfig({
        stages: [
          {
            name: 'isolated',
            secretNamePrefix: 'rotor/isolated/',
            logRetentionDays: 14,
            vpc: { isolated: {} },
            secrets: [MANAGED_SECRET],
          },
          {
            ...oauth2TestStageFile(),
            vpc: { existing: EXISTING },
            reservedConcurrency: { rotation: 10, verifier: 50, healthCheck: false },
          },
          { name: 'plain', secretNamePrefix: 'rotor/plain/', logRetentionDays: 14, secrets: [MANAGED_SECRET] },
        ],
      }),
    ) as [RotorStack, RotorStack, RotorStack];
  });

  it('places every function of an existing-VPC stage in the given subnets, with a security group that only opens HTTPS', () => {
    const template = templateOf(existing);
    const securityGroupId = {
      'Fn::GetAtt': [existing.getLogicalId(existing.network!.securityGroup.node.defaultChild as never), 'GroupId'],
    };
    expect(functions(existing).map((fn) => fn.VpcConfig)).toEqual(
      Array(6).fill({ SubnetIds: EXISTING.subnetIds, SecurityGroupIds: [securityGroupId] }),
    );
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      VpcId: EXISTING.vpcId,
      SecurityGroupEgress: [
        { CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: Match.anyValue() },
      ],
      SecurityGroupIngress: Match.absent(),
    });
    // No VPC, endpoint or flow log of Rotor's in a VPC the team runs.
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  it("lets each function's role manage its network interfaces from a policy of its own, on which the function waits", () => {
    const template = templateOf(existing);
    const policies = template.findResources('AWS::IAM::Policy', {
      Properties: { PolicyName: Match.stringLikeRegexp('NetworkInterfacePolicy') },
    });
    expect(Object.keys(policies)).toHaveLength(6);
    for (const policy of Object.values(policies)) {
      expect((policy.Properties as { PolicyDocument: { Statement: unknown } }).PolicyDocument.Statement).toEqual([
        {
          Effect: 'Allow',
          Action: [
            'ec2:AssignPrivateIpAddresses',
            'ec2:CreateNetworkInterface',
            'ec2:DeleteNetworkInterface',
            'ec2:DescribeNetworkInterfaces',
            'ec2:DescribeSubnets',
            'ec2:UnassignPrivateIpAddresses',
          ],
          Resource: '*',
        },
      ]);
    }
    const dependsOn = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (fn) => fn.DependsOn as string[],
    );
    for (const dependencies of dependsOn)
      expect(dependencies.some((id) => /NetworkInterfacePolicy/.test(id))).toBe(true);
  });

  it('makes an isolated VPC with endpoints for every service the functions call, reachable only from the functions, and a flow log', () => {
    const template = templateOf(isolated);
    template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.0.0.0/24' });
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map(
      (endpoint) =>
        endpoint.Properties as { ServiceName: unknown; VpcEndpointType?: string; PrivateDnsEnabled?: boolean },
    );
    expect(
      endpoints.map(
        (endpoint) =>
          JSON.stringify(endpoint.ServiceName).match(/\.(secretsmanager|events|scheduler|sns|xray|dynamodb)"/)?.[1],
      ),
    ).toEqual(['secretsmanager', 'events', 'scheduler', 'sns', 'xray', 'dynamodb']);
    expect(endpoints.filter((endpoint) => endpoint.PrivateDnsEnabled === true)).toHaveLength(5);
    const functionsGroup = isolated.getLogicalId(isolated.network!.securityGroup.node.defaultChild as never);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 443,
      ToPort: 443,
      SourceSecurityGroupId: { 'Fn::GetAtt': [functionsGroup, 'GroupId'] },
    });
    template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    template.hasResource('Custom::VpcRestrictDefaultSG', {});
    for (const fn of functions(isolated)) {
      expect((fn.VpcConfig as { SubnetIds: unknown[] }).SubnetIds).toHaveLength(2);
    }
  });

  it('runs no function in a VPC, and reserves no concurrency, when the stage sets neither', () => {
    expect(plain.network).toBeUndefined();
    expect(functions(plain).map((fn) => [fn.VpcConfig, fn.ReservedConcurrentExecutions])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
    ]);
  });

  it('reserves what the stage sets, and none for a function set to false', () => {
    const reserved = (fn: { function: { node: { defaultChild?: unknown } } }) =>
      (
        templateOf(existing).findResources('AWS::Lambda::Function')[
          existing.getLogicalId(fn.function.node.defaultChild as never)
        ]!.Properties as { ReservedConcurrentExecutions?: number }
      ).ReservedConcurrentExecutions;
    expect(
      [
        existing.rotationFunction,
        existing.verifierFunction,
        existing.healthCheckFunction,
        existing.rollbackFunction,
      ].map(reserved),
    ).toEqual([10, 50, undefined, undefined]);
  });

  it('fails on a vpc or reservation that breaks a rule, in one line each, naming the value', () => {
    const stage = { name: 'test', secretNamePrefix: 'rotor/test/', logRetentionDays: 14, secrets: [MANAGED_SECRET] };
    expect(problems({ ...stage, vpc: {} })).toEqual([
      'stages[0].vpc: must give exactly one of "existing" and "isolated", got {}',
    ]);
    expect(problems({ ...stage, vpc: { isolated: {}, existing: EXISTING } })).toHaveLength(1);
    expect(problems({ ...stage, vpc: { existing: { vpcId: 'vpc-1', subnetIds: [] } } })).toEqual([
      'stages[0].vpc.existing.vpcId: must be a VPC id such as "vpc-0123456789abcdef0", got "vpc-1"',
      'stages[0].vpc.existing.subnetIds: must list at least one subnet (two in different Availability Zones), got []',
    ]);
    expect(problems({ ...stage, vpc: { isolated: { cidr: '10.0.0.1/24' } } })).toEqual([
      'stages[0].vpc.isolated.cidr: must be an IPv4 range from /16 to /24 with no host bits set, such as "10.0.0.0/24", got "10.0.0.1/24"',
    ]);
    expect(problems({ ...oauth2TestStageFile(), vpc: { isolated: {} } })).toEqual([
      'stages[0].vpc.isolated: has no route to the internet, but secret "idp-token" (oauth2-refresh-token) calls its provider there; use "existing" with subnets that reach it (a NAT gateway or private connectivity)',
    ]);
    const reservationProblems = problems({
      ...stage,
      reservedConcurrency: { healthCheck: 0, verifier: 'many', rollbak: 1 },
    });
    expect(reservationProblems).toHaveLength(3);
    expect(reservationProblems).toEqual(
      expect.arrayContaining([
        'stages[0].reservedConcurrency: has unknown field "rollbak"; check the spelling',
        'stages[0].reservedConcurrency.verifier: must be a whole number of executions from 1 to 1000, or false for none, got "many"',
        'stages[0].reservedConcurrency.healthCheck: must be a whole number of executions from 1 to 1000, or false for none, got 0',
      ]),
    );
  });
});
