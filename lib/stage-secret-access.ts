import { ArnFormat, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { MANAGED_BY_TAG } from '../lambda/shared/rotor-constants';
import { ROLLBACK_ACTIONS } from './rollback-function';
import { ROTATION_ACTIONS } from './rotation-function';
import { START_ROTATION_ACTIONS } from './verifier-function';
import { acknowledgeInlinePolicies } from './inline-policies';

/** Properties of {@link StageSecretAccess}. */
export interface StageSecretAccessProps {
  /** Deployment stage: the value of the secrets' `rotor:stage` tag. */
  readonly stage: string;
  /** Every secret of the stage is named under this prefix; ends with `/`. */
  readonly secretNamePrefix: string;
  /** Role of the rotation function: the four rotation actions. */
  readonly rotation: iam.IRole;
  /** Role of the health check: DescribeSecret, and GetSecretValue of AWSCURRENT only. */
  readonly healthCheck: iam.IRole;
  /** Role of the rollback function: DescribeSecret, GetSecretValue, UpdateSecretVersionStage. */
  readonly rollback: iam.IRole;
  /** Role of the verifier: DescribeSecret and RotateSecret, to answer reuse. */
  readonly verifier: iam.IRole;
}

/**
 * Access of a sharded stage's functions to the stage's secrets, by name prefix and tag instead of
 * one ARN per secret. A role's inline policies hold at most 10,240 characters, about a hundred
 * secret ARNs; a stage of thousands of secrets cannot list them, and a list in the stage's own
 * template would change it whenever a shard gains a secret. Each statement allows its actions on
 * `secret:<prefix>*` only for a secret tagged `rotor:stage` = the stage, which Rotor's secrets are
 * and the pepper (under Rotor's internal prefix) is not; the functions themselves refuse any secret
 * outside the prefix. Each role gets a policy of its own, so that the acknowledged wildcard covers
 * exactly that statement.
 */
export class StageSecretAccess extends Construct {
  /** The policy of each role; a secret's rotation schedule waits for the rotation function's. */
  readonly rotationPolicy: iam.Policy;
  readonly healthCheckPolicy: iam.Policy;
  readonly rollbackPolicy: iam.Policy;
  readonly verifierPolicy: iam.Policy;

  constructor(scope: Construct, id: string, props: StageSecretAccessProps) {
    super(scope, id);
    const { stage, secretNamePrefix } = props;
    if (!secretNamePrefix.endsWith('/')) {
      throw new Error(`StageSecretAccess secretNamePrefix must end with "/", got "${secretNamePrefix}"`);
    }
    const stack = Stack.of(this);
    const secretsArn = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${secretNamePrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const taggedWithStage = { [`aws:ResourceTag/${MANAGED_BY_TAG}`]: stage };
    const finding = `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:${secretNamePrefix}*]`;

    const policy = (policyId: string, role: iam.IRole, statements: iam.PolicyStatement[], why: string): iam.Policy => {
      const created = new iam.Policy(this, policyId, { roles: [role], statements });
      Validations.of(created).acknowledge({
        id: finding,
        reason: `A sharded stage holds more secrets than a role's policy can list by ARN, so ${why} on every secret under the stage's prefix that carries the stage's ${MANAGED_BY_TAG} tag, and on nothing else.`,
      });
      acknowledgeInlinePolicies(created);
      return created;
    };
    const statement = (actions: readonly string[], extra: Record<string, Record<string, string>> = {}) =>
      new iam.PolicyStatement({
        actions: [...actions],
        resources: [secretsArn],
        conditions: { StringEquals: { ...taggedWithStage, ...extra.StringEquals } },
      });

    this.rotationPolicy = policy(
      'Rotation',
      props.rotation,
      [statement(ROTATION_ACTIONS)],
      'the rotation function may run the four rotation steps',
    );
    this.healthCheckPolicy = policy(
      'HealthCheck',
      props.healthCheck,
      [
        statement(['secretsmanager:DescribeSecret']),
        statement(['secretsmanager:GetSecretValue'], { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } }),
      ],
      'the health check may describe a secret and read its AWSCURRENT version',
    );
    this.rollbackPolicy = policy(
      'Rollback',
      props.rollback,
      [statement(ROLLBACK_ACTIONS)],
      'the rollback function may move AWSCURRENT back to the previous version',
    );
    this.verifierPolicy = policy(
      'Verifier',
      props.verifier,
      [statement(START_ROTATION_ACTIONS)],
      'the verifier may start a rotation after reuse is detected',
    );
  }
}
