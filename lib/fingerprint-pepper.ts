import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
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
}

/**
 * The pepper of the ledger's fingerprints (HMAC-SHA256 of each token under it): a 64-character
 * value the stack generates, encrypted with the stage's key, retained, and never rotated. It is
 * outside the stage's secret name prefix and carries no `rotor:stage` tag, so the rotation
 * function refuses to rotate it.
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
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Rotating the pepper would change every fingerprint and blind reuse detection for every credential the ledger remembers, so it is never rotated.',
    });
    this.secret = secret;
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
