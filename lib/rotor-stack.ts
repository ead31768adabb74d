import { CfnOutput, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { RotorStackOutput } from '../lambda/shared/rotor-constants';
import { CiConsumers, CONSUMER_ROLE_ARNS_OUTPUT } from './ci-consumers';
import { fullSecretName, type RotorStageConfig } from './config/rotor-config';
import { FingerprintPepper } from './fingerprint-pepper';
import { LedgerTable } from './ledger-table';
import { RetireFunction } from './retire-function';
import { RotatedSecret } from './rotated-secret';
import { RotationFunction } from './rotation-function';
import type { RotorStageResources } from './rotor-function';
import { VerifierFunction } from './verifier-function';

/** Properties of a {@link RotorStack}. */
export interface RotorStackProps extends StackProps {
  /** The validated config of the stage this stack deploys. */
  readonly stage: RotorStageConfig;
}

/**
 * One Rotor stage: a customer-managed key, the ledger and its fingerprint pepper, the rotation,
 * verifier and retire functions (with the retirement schedules), one rotated secret per
 * configured secret, and the CI consumers' OIDC providers and roles.
 */
export class RotorStack extends Stack {
  /** Encrypts the stage's secrets, its pepper and its ledger; rotated yearly by KMS. */
  readonly encryptionKey: kms.IKey;
  /** The ledger of every credential version. */
  readonly ledger: LedgerTable;
  /** The pepper of the ledger's fingerprints. */
  readonly pepper: FingerprintPepper;
  /** Retires previous credentials at the end of their grace. */
  readonly retireFunction: RetireFunction;
  /** Rotates the stage's secrets. */
  readonly rotationFunction: RotationFunction;
  /** Verifies presented tokens; also an API Gateway authorizer (see RotorTokenAuthorizer). */
  readonly verifierFunction: VerifierFunction;
  /** The stage's secrets, in config order. */
  readonly secrets: readonly RotatedSecret[];
  /** The CI consumers' OIDC providers and roles; none when the stage has no consumers. */
  readonly consumers: CiConsumers;

  constructor(scope: Construct, id: string, { stage, ...stackProps }: RotorStackProps) {
    super(scope, id, { description: `Rotor ${stage.name}: short-lived, rotating CI/CD credentials`, ...stackProps });

    this.encryptionKey = new kms.Key(this, 'Key', {
      description: `Rotor ${stage.name}: encrypts the stage's rotated secrets, fingerprint pepper and ledger`,
      alias: `alias/rotor/${stage.name}`,
      enableKeyRotation: true,
      // Retained secrets and the retained ledger stay readable only while their key exists.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.ledger = new LedgerTable(this, 'Ledger', { stage: stage.name, encryptionKey: this.encryptionKey });
    this.pepper = new FingerprintPepper(this, 'Pepper', {
      stage: stage.name,
      secretNamePrefix: stage.secretNamePrefix,
      encryptionKey: this.encryptionKey,
    });
    const resources: RotorStageResources = {
      stage: stage.name,
      secretNamePrefix: stage.secretNamePrefix,
      encryptionKey: this.encryptionKey,
      ledger: this.ledger,
      pepper: this.pepper,
      eventBus: events.EventBus.fromEventBusName(this, 'EventBus', stage.eventBusName),
      durations: {
        defaultGraceSeconds: stage.graceSeconds,
        reuseMemorySeconds: stage.reuseMemorySeconds,
        auditRetentionSeconds: stage.auditRetentionSeconds,
      },
    };
    const logRetention = stage.logRetentionDays;

    this.retireFunction = new RetireFunction(this, 'Retire', {
      resources,
      sweepSchedule: stage.sweepSchedule,
      logRetention,
    });
    this.rotationFunction = new RotationFunction(this, 'Rotation', {
      resources,
      retirement: this.retireFunction,
      logRetention,
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

    this.verifierFunction = new VerifierFunction(this, 'Verifier', {
      resources,
      retirement: this.retireFunction,
      rotationFunction: this.rotationFunction,
      logRetention,
    });
    for (const secret of this.secrets) this.verifierFunction.grantStartRotation(secret.secret);

    this.consumers = new CiConsumers(this, 'Consumers', {
      stage: stage.name,
      consumers: stage.consumers,
      oidcProviders: stage.oidcProviders,
      secrets: new Map(stage.secrets.map((secret, index) => [secret.name, this.secrets[index]!])),
    });

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
    new CfnOutput(this, RotorStackOutput.ledgerTableName, {
      description: "DynamoDB table of the stage's ledger: credential versions, rotation state, audit trail",
      value: this.ledger.table.tableName,
    });
    new CfnOutput(this, RotorStackOutput.verifierFunctionName, {
      description: 'Lambda function that verifies a presented token: invoke it with {"token": "..."}',
      value: this.verifierFunction.function.functionName,
    });
    new CfnOutput(this, RotorStackOutput.verifierFunctionArn, {
      description: 'ARN of the verifier function, for a Lambda authorizer (RotorTokenAuthorizer) in another stack',
      value: this.verifierFunction.function.functionArn,
    });
    new CfnOutput(this, RotorStackOutput.pepperSecretArn, {
      description: "Secret holding the pepper of the ledger's fingerprints; never rotate it",
      value: this.pepper.secret.secretArn,
    });
    if (this.consumers.roles.size > 0) {
      new CfnOutput(this, CONSUMER_ROLE_ARNS_OUTPUT, {
        description: 'Comma-separated <consumer>=<role ARN> of the roles CI jobs assume with their OIDC token',
        value: [...this.consumers.roles].map(([name, consumer]) => `${name}=${consumer.role.roleArn}`).join(','),
      });
    }
  }
}
