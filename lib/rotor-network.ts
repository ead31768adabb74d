import { CfnResource, Fn, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { RotorVpcConfig } from './config/vpc-config';
import { acknowledgeInlinePolicies } from './inline-policies';
import type { RotorFunctionNetwork } from './rotor-function';

/** Properties of a {@link RotorNetwork}. */
export interface RotorNetworkProps {
  /** Deployment stage; named in the security groups' descriptions. */
  readonly stage: string;
  /** An existing VPC's subnets, or the range of a VPC Rotor makes. */
  readonly vpc: RotorVpcConfig;
  /** The stage's key: it encrypts the flow log of a VPC Rotor makes. */
  readonly encryptionKey: kms.IKey;
  /**
   * How long CloudWatch Logs keeps the flow log of a VPC Rotor makes.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The AWS services the functions call from inside an isolated VPC, each reached through an
 * interface endpoint with private DNS (so the SDK's usual host names resolve to it): Secrets
 * Manager (every function), EventBridge (Rotor's events), EventBridge Scheduler (retirement
 * schedules), SNS (the rollback function's alerts) and X-Ray (active tracing). DynamoDB has a
 * gateway endpoint. KMS, CloudWatch Logs, SQS and STS are not called by the functions: the key is
 * used by Secrets Manager, DynamoDB and SNS on their behalf, and Lambda itself writes the logs,
 * delivers dead letters and provides the credentials.
 */
export const ISOLATED_VPC_INTERFACE_ENDPOINTS: Readonly<Record<string, ec2.InterfaceVpcEndpointAwsService>> = {
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  EventBridge: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
  Scheduler: new ec2.InterfaceVpcEndpointAwsService('scheduler'),
  Sns: ec2.InterfaceVpcEndpointAwsService.SNS,
  XRay: ec2.InterfaceVpcEndpointAwsService.XRAY,
};

const HTTPS = ec2.Port.tcp(443);

/**
 * Where the stage's functions run when the stage sets `vpc`: a security group of their own that
 * lets them open HTTPS connections and accepts none, in either
 * - the subnets of an existing VPC, which must reach AWS and the providers itself (Rotor adds no
 *   endpoint there: a VPC allows one endpoint with private DNS per service, and the team's may
 *   already exist), or
 * - a VPC Rotor makes: isolated subnets in two Availability Zones, no internet gateway or NAT, the
 *   endpoints of {@link ISOLATED_VPC_INTERFACE_ENDPOINTS} (which accept HTTPS from the functions
 *   only) and DynamoDB's gateway endpoint, a flow log of every connection, encrypted with the
 *   stage's key, and the default security group stripped of its rules.
 */
export class RotorNetwork extends Construct implements RotorFunctionNetwork {
  readonly subnetIds: readonly string[];
  readonly securityGroup: ec2.SecurityGroup;
  /** The VPC Rotor made; undefined for an existing one. */
  readonly vpc?: ec2.Vpc;

  constructor(scope: Construct, id: string, props: RotorNetworkProps) {
    super(scope, id);
    const { stage, vpc: config } = props;
    const vpc = config.kind === 'existing' ? this.existingVpc(config.vpcId) : this.isolatedVpc(config.cidr, props);

    this.securityGroup = new ec2.SecurityGroup(this, 'FunctionsSecurityGroup', {
      vpc,
      description: `Rotor ${stage}: the functions, which open HTTPS connections only`,
      allowAllOutbound: false,
    });
    this.securityGroup.addEgressRule(
      ec2.Peer.anyIpv4(),
      HTTPS,
      config.kind === 'existing'
        ? 'HTTPS to AWS services and the providers'
        : 'HTTPS to the endpoints (no other route exists)',
    );

    if (config.kind === 'existing') {
      this.subnetIds = config.subnetIds;
      return;
    }
    this.vpc = vpc as ec2.Vpc;
    this.subnetIds = this.vpc.isolatedSubnets.map((subnet) => subnet.subnetId);
    const endpointsSecurityGroup = new ec2.SecurityGroup(this, 'EndpointsSecurityGroup', {
      vpc,
      description: `Rotor ${stage}: the interface endpoints, reached by the functions only`,
      allowAllOutbound: false,
    });
    endpointsSecurityGroup.addIngressRule(this.securityGroup, HTTPS, 'HTTPS from the functions');
    for (const [name, service] of Object.entries(ISOLATED_VPC_INTERFACE_ENDPOINTS)) {
      this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
        service,
        privateDnsEnabled: true,
        securityGroups: [endpointsSecurityGroup],
        open: false,
      });
    }
    this.vpc.addGatewayEndpoint('DynamoDbEndpoint', { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB });
  }

  /** The existing VPC, of which only the id is used (by the security group): the functions get the subnets by id. */
  private existingVpc(vpcId: string): ec2.IVpc {
    const vpc = ec2.Vpc.fromVpcAttributes(this, 'ExistingVpc', { vpcId, availabilityZones: Fn.getAzs() });
    Validations.of(vpc).acknowledge({
      id: 'Annotation::@aws-cdk/aws-ec2:vpcAttributeIsListTokenavailabilityZones',
      reason: "No construct selects the existing VPC's subnets: the functions are given them by id.",
    });
    return vpc;
  }

  /** A VPC with isolated subnets in two Availability Zones, and its flow log. */
  private isolatedVpc(cidr: string, props: RotorNetworkProps): ec2.Vpc {
    const flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      encryptionKey: props.encryptionKey,
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Functions', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      // Nothing uses the default security group: its rules are removed.
      restrictDefaultSecurityGroup: true,
      flowLogs: {
        FlowLog: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup) },
      },
    });
    dropRedundantProviderDependency(Stack.of(this));
    const flowLogRole = vpc.node.findChild('FlowLog').node.tryFindChild('IAMRole');
    if (flowLogRole !== undefined) acknowledgeInlinePolicies(flowLogRole);
    return vpc;
  }
}

/**
 * The custom resource that strips the default security group runs a handler that CDK makes depend
 * on its role, which its `Role: GetAtt` already orders: cfn-lint reports the extra DependsOn as
 * W3005 (as for the functions, aws/aws-cdk#24578).
 */
function dropRedundantProviderDependency(stack: Stack): void {
  const provider = stack.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
  const handler = provider?.node.tryFindChild('Handler');
  const role = provider?.node.tryFindChild('Role');
  if (CfnResource.isCfnResource(handler) && CfnResource.isCfnResource(role)) handler.removeResourceDependency(role);
}
