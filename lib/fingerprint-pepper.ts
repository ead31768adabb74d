import { Aws, DefaultStackSynthesizer, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RotorResourceName } from '../lambda/shared/rotor-constants';

/** Properties of a {@link FingerprintPepper}. */
export interface FingerprintPepperProps {
  /** Deployment stage; names the secret. */
  readonly stage: string;
  /** The stage's secret name prefix: the pepper's name must not start with it. */
  readonly secretNamePrefix: string;
  /** Customer-managed key that encrypts the pepper. */
  readonly encryptionKey: kms.IKey;
  /**
   * Full Secrets Manager name.
   *
   * @default - `rotor-internal/<stage>/fingerprint-pepper`
   */
  readonly secretName?: string;
  /**
   * ARN of the role CloudFormation deploys the stack with: the only principal that may change the
   * pepper besides a call made through CloudFormation (`aws:CalledVia`).
   *
   * @default - the CloudFormation execution role of the stack's `DefaultStackSynthesizer`
   * (`cdk-<qualifier>-cfn-exec-role-<account>-<region>`, made by `cdk bootstrap`); with another
   * synthesizer, none: only calls made through CloudFormation.
   */
  readonly deploymentRoleArn?: string;
}

/**
 * Every Secrets Manager action that changes the pepper's value, labels, key, rotation,
 * replication, tags or resource policy, or deletes it.
 */
export const PEPPER_WRITE_ACTIONS = [
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecret',
  'secretsmanager:UpdateSecretVersionStage',
  'secretsmanager:DeleteSecret',
  'secretsmanager:RotateSecret',
  'secretsmanager:CancelRotateSecret',
  'secretsmanager:ReplicateSecretToRegions',
  'secretsmanager:RemoveRegionsFromReplication',
  'secretsmanager:StopReplicationToReplica',
  'secretsmanager:TagResource',
  'secretsmanager:UntagResource',
  'secretsmanager:PutResourcePolicy',
  'secretsmanager:DeleteResourcePolicy',
] as const;

/**
 * The pepper of the ledger's fingerprints (HMAC-SHA256 of each token under it): a 64-character
 * value the stack generates, encrypted with the stage's key, retained, and never rotated. It is
 * outside the stage's secret name prefix and carries no `rotor:stage` tag, so the rotation
 * function refuses to rotate it.
 *
 * A new value would make every token the ledger knows `unknown` at once (an outage), so its
 * resource policy denies every write ({@link PEPPER_WRITE_ACTIONS}) to every principal except the
 * stack's deployment role and calls made through CloudFormation. The policy's own changes are
 * among them, so removing the guard takes a deployment too; a lost deployment role is restored
 * by running `cdk bootstrap` again (the trust names the role's ARN, which the bootstrap recreates).
 */
export class FingerprintPepper extends Construct {
  /** The pepper's secret. */
  readonly secret: secretsmanager.ISecret;
  /** The key that encrypts it. */
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: FingerprintPepperProps) {
    super(scope, id);
    const secretName = props.secretName ?? RotorResourceName.fingerprintPepper(props.stage);
    if (secretName.startsWith(props.secretNamePrefix)) {
      throw new Error(
        `FingerprintPepper secretName must not start with the stage's secret name prefix "${props.secretNamePrefix}" ` +
          `(the rotation function would accept it), got "${secretName}"`,
      );
    }
    this.encryptionKey = props.encryptionKey;
    const secret = new secretsmanager.Secret(this, 'Secret', {
      secretName,
      description: `Rotor ${props.stage}: pepper of the ledger's token fingerprints; never rotate it`,
      encryptionKey: props.encryptionKey,
      generateSecretString: { passwordLength: 64, excludePunctuation: true, includeSpace: false },
      // Without the pepper the ledger's fingerprints match nothing: it lives as long as the ledger.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const neverRotated =
      'Rotating the pepper would change every fingerprint and blind reuse detection for every credential the ledger remembers, so it is never rotated.';
    Validations.of(secret).acknowledge(
      { id: 'AwsSolutions-SMG4', reason: neverRotated },
      { id: 'NIST.800.53.R5-SecretsManagerRotationEnabled', reason: neverRotated },
    );
    this.secret = secret;

    const deploymentRoleArn = props.deploymentRoleArn ?? synthesizerDeploymentRoleArn(Stack.of(this));
    secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheStackWritesThePepper',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...PEPPER_WRITE_ACTIONS],
        resources: ['*'],
        conditions: {
          // Deny unless CloudFormation made the call on the deployer's behalf...
          'ForAllValues:StringNotEquals': { 'aws:CalledVia': 'cloudformation.amazonaws.com' },
          // ...or the caller is the role CloudFormation deploys the stack with (cdk deploy's default).
          ...(deploymentRoleArn === undefined ? {} : { ArnNotEquals: { 'aws:PrincipalArn': deploymentRoleArn } }),
        },
      }),
    );
  }

  /**
   * Lets `grantee` read the pepper: GetSecretValue on exactly this secret, and kms:Decrypt on its
   * key only through Secrets Manager.
   */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [this.secret.secretArn],
    }).combine(
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['kms:Decrypt'],
        resourceArns: [this.encryptionKey.keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
        },
      }),
    );
  }
}

/** The CloudFormation execution role of a `DefaultStackSynthesizer`, as a deploy-time ARN. */
function synthesizerDeploymentRoleArn(stack: Stack): string | undefined {
  const synthesizer = stack.synthesizer;
  if (!(synthesizer instanceof DefaultStackSynthesizer)) return undefined;
  // Pseudo parameters rather than Fn::Sub, so the ARN reads like every other ARN of the template.
  return synthesizer.cloudFormationExecutionRole
    ?.replaceAll('${AWS::Partition}', Aws.PARTITION)
    .replaceAll('${AWS::AccountId}', Aws.ACCOUNT_ID)
    .replaceAll('${AWS::Region}', Aws.REGION);
}
