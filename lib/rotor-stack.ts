import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { RotorStackOutput } from '../lambda/shared/rotor-constants';
import { fullSecretName, type RotorStageConfig } from './config/rotor-config';
import { RotatedSecret } from './rotated-secret';
import { RotationFunction } from './rotation-function';

/** Properties of a {@link RotorStack}. */
export interface RotorStackProps extends StackProps {
  /** The validated config of the stage this stack deploys. */
  readonly stage: RotorStageConfig;
}

/**
 * One Rotor stage: a customer-managed key, the rotation function, and one rotated secret per
 * configured secret.
 */
export class RotorStack extends Stack {
  /** Encrypts the stage's secrets; rotated yearly by KMS. */
  readonly encryptionKey: kms.IKey;
  /** Rotates the stage's secrets. */
  readonly rotationFunction: RotationFunction;
  /** The stage's secrets, in config order. */
  readonly secrets: readonly RotatedSecret[];

  constructor(scope: Construct, id: string, { stage, ...stackProps }: RotorStackProps) {
    super(scope, id, { description: `Rotor ${stage.name}: short-lived, rotating CI/CD credentials`, ...stackProps });

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: `Rotor ${stage.name}: encrypts the stage's rotated secrets`,
      alias: `alias/rotor/${stage.name}`,
      enableKeyRotation: true,
      // Retained secrets stay readable only while their key exists.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.rotationFunction = new RotationFunction(this, 'Rotation', {
      stage: stage.name,
      secretNamePrefix: stage.secretNamePrefix,
      encryptionKey: this.encryptionKey,
      logRetention: stage.logRetentionDays,
    });

    this.secrets = stage.secrets.map(
      (secret) =>
        new RotatedSecret(this, `Secret-${secret.name}`, {
          rotationFunction: this.rotationFunction,
          encryptionKey: this.encryptionKey,
          secretName: fullSecretName(stage, secret),
          provider: secret.provider,
          schedule: secret.schedule,
          window: secret.window,
          ...(secret.description === undefined ? {} : { description: secret.description }),
        }),
    );

    new CfnOutput(this, RotorStackOutput.rotationFunctionName, {
      description: "Lambda function that Secrets Manager invokes to rotate this stage's secrets",
      value: this.rotationFunction.function.functionName,
    });
    new CfnOutput(this, RotorStackOutput.rotationLogGroupName, {
      description: 'CloudWatch log group of the rotation function',
      value: this.rotationFunction.logGroup.logGroupName,
    });
    new CfnOutput(this, RotorStackOutput.secretNames, {
      description: "Comma-separated full names of this stage's rotated secrets",
      value: stage.secrets.map((secret) => fullSecretName(stage, secret)).join(','),
    });
  }
}
