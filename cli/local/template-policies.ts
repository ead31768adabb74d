import { createHash } from 'node:crypto';

/**
 * Turns a synthesized template's IAM documents into the concrete policies AWS would evaluate
 * after a deploy: every `Ref`, `Fn::GetAtt` and `Fn::Join` replaced by the ARN or name the
 * resource would have in `account` and `region`. A construct this does not know fails loudly, so
 * a simulation never runs on a half-resolved policy.
 */

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** A synthesized template: what `Template.toJSON()` or the cloud assembly gives. */
export interface SynthesizedTemplate {
  readonly Resources: Record<string, CfnResource>;
}

/** Where the stacks are deployed. */
export interface DeployedEnvironment {
  readonly account: string;
  readonly region: string;
}

/** A policy document with every intrinsic resolved. */
export type PolicyDocument = { Version: string; Statement: Record<string, unknown>[] };

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Resolves the intrinsics of one template (stack `stackName`) in `env`. */
export class TemplateResolver {
  constructor(
    private readonly stackName: string,
    private readonly template: SynthesizedTemplate,
    private readonly env: DeployedEnvironment,
  ) {}

  /** `value` with every intrinsic resolved. */
  resolve(value: unknown): unknown {
    if (typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    if (keys.length === 1 && keys[0] === 'Ref') return this.ref(record.Ref as string);
    if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
      const [logicalId, attribute] = record['Fn::GetAtt'] as [string, string];
      if (attribute !== 'Arn') throw new Error(`cannot resolve Fn::GetAtt ${logicalId}.${attribute}`);
      return this.arn(logicalId);
    }
    if (keys.length === 1 && keys[0] === 'Fn::Join') {
      const [separator, parts] = record['Fn::Join'] as [string, unknown[]];
      return parts.map((part) => this.resolve(part) as string).join(separator);
    }
    if (keys.some((key) => key.startsWith('Fn::'))) throw new Error(`cannot resolve ${JSON.stringify(value)}`);
    return Object.fromEntries(Object.entries(record).map(([key, item]) => [key, this.resolve(item)]));
  }

  /** The identity policies attached to the role `logicalId`, resolved. The role may have no other kind. */
  rolePolicies(roleLogicalId: string): { name: string; policy: PolicyDocument }[] {
    const role = this.resource(roleLogicalId);
    if (role.Properties?.ManagedPolicyArns !== undefined || role.Properties?.Policies !== undefined) {
      throw new Error(`role ${roleLogicalId} has managed or inline policies, which this resolver does not read`);
    }
    return Object.entries(this.template.Resources)
      .filter(
        ([, resource]) =>
          resource.Type === 'AWS::IAM::Policy' &&
          (resource.Properties!.Roles as { Ref: string }[]).some((r) => r.Ref === roleLogicalId),
      )
      .map(([logicalId, resource]) => ({
        name: logicalId,
        policy: this.resolve(resource.Properties!.PolicyDocument) as PolicyDocument,
      }));
  }

  /** The logical id of the role named `roleName`, or of the only role whose id starts with `prefix`. */
  roleId(match: { roleName: string } | { logicalIdPrefix: string }): string {
    const found = Object.entries(this.template.Resources).filter(
      ([logicalId, resource]) =>
        resource.Type === 'AWS::IAM::Role' &&
        ('roleName' in match
          ? resource.Properties?.RoleName === match.roleName
          : logicalId.startsWith(match.logicalIdPrefix) &&
            /^[0-9A-F]{8}$/.test(logicalId.slice(match.logicalIdPrefix.length))),
    );
    if (found.length !== 1)
      throw new Error(`expected one role matching ${JSON.stringify(match)}, found ${found.length}`);
    return found[0]![0];
  }

  /** The ARN of every resource of `type`, resolved. */
  arnsOf(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([logicalId]) => this.arn(logicalId));
  }

  /** The ARN of the secret named `name`. */
  secretArn(name: string): string {
    const found = Object.entries(this.template.Resources).filter(
      ([, resource]) => resource.Type === 'AWS::SecretsManager::Secret' && resource.Properties?.Name === name,
    );
    if (found.length !== 1) throw new Error(`expected one secret named ${name}, found ${found.length}`);
    return this.arn(found[0]![0]);
  }

  /** The ARN of the only Lambda function whose logical id is `logicalIdPrefix` followed by 8 hex digits. */
  functionArn(logicalIdPrefix: string): string {
    const found = Object.entries(this.template.Resources).filter(
      ([logicalId, resource]) =>
        resource.Type === 'AWS::Lambda::Function' &&
        logicalId.startsWith(logicalIdPrefix) &&
        /^[0-9A-F]{8}$/.test(logicalId.slice(logicalIdPrefix.length)),
    );
    if (found.length !== 1) throw new Error(`expected one function ${logicalIdPrefix}, found ${found.length}`);
    return this.arn(found[0]![0]);
  }

  /** The resolved key policy of the only KMS key. */
  keyPolicy(): PolicyDocument {
    const keys = Object.values(this.template.Resources).filter((resource) => resource.Type === 'AWS::KMS::Key');
    if (keys.length !== 1) throw new Error(`expected one KMS key, found ${keys.length}`);
    return this.resolve(keys[0]!.Properties!.KeyPolicy) as PolicyDocument;
  }

  private resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) throw new Error(`no resource ${logicalId} in ${this.stackName}`);
    return resource;
  }

  private ref(name: string): string {
    const { account, region } = this.env;
    switch (name) {
      case 'AWS::AccountId':
        return account;
      case 'AWS::Region':
        return region;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
    }
    const resource = this.resource(name);
    const properties = resource.Properties ?? {};
    switch (resource.Type) {
      // Ref of these is their ARN.
      case 'AWS::SecretsManager::Secret':
      case 'AWS::IAM::OIDCProvider':
        return this.arn(name);
      case 'AWS::IAM::Role':
        return (properties.RoleName as string | undefined) ?? name;
      case 'AWS::DynamoDB::Table':
        return properties.TableName as string;
      case 'AWS::Lambda::Function':
        return (properties.FunctionName as string | undefined) ?? `${this.stackName}-${name}`;
      // Ref of a topic is its ARN.
      case 'AWS::SNS::Topic':
        return this.arn(name);
      default:
        throw new Error(`cannot resolve Ref of ${resource.Type} ${name}`);
    }
  }

  private arn(logicalId: string): string {
    const { account, region } = this.env;
    const resource = this.resource(logicalId);
    const properties = resource.Properties ?? {};
    const id = digest(`${this.stackName}/${logicalId}`);
    switch (resource.Type) {
      case 'AWS::SecretsManager::Secret':
        // Secrets Manager appends six random characters to the name.
        return `arn:aws:secretsmanager:${region}:${account}:secret:${properties.Name as string}-${id.slice(0, 6)}`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${region}:${account}:key/${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20, 32)}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${account}:role/${this.ref(logicalId)}`;
      case 'AWS::IAM::OIDCProvider':
        return `arn:aws:iam::${account}:oidc-provider/${(properties.Url as string).replace(/^https:\/\//, '')}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${region}:${account}:table/${properties.TableName as string}`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${region}:${account}:function:${this.ref(logicalId)}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${region}:${account}:log-group:${this.stackName}-${logicalId}:*`;
      case 'AWS::Scheduler::ScheduleGroup':
        return `arn:aws:scheduler:${region}:${account}:schedule-group/${properties.Name as string}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${account}:${(properties.TopicName as string | undefined) ?? `${this.stackName}-${logicalId}`}`;
      default:
        throw new Error(`cannot resolve the ARN of ${resource.Type} ${logicalId}`);
    }
  }
}
