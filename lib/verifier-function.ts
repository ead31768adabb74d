import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { LambdaBundle, type RotorLambdaSettings } from '../lambda/shared/rotor-constants';
import type { RetireFunction } from './retire-function';
import type { RotationFunction } from './rotation-function';
import {
  addRotorFunction,
  rotorLambdaSettings,
  type RotorFunctionOptions,
  type RotorStageResources,
} from './rotor-function';

/** Properties of a {@link VerifierFunction}. */
export interface VerifierFunctionProps extends RotorFunctionOptions {
  /** The stage's names, key, ledger, pepper, event bus and durations. */
  readonly resources: RotorStageResources;
  /** The stage's retirement target; the verifier is told about it like every Rotor function. */
  readonly retirement: RetireFunction;
  /**
   * The function that rotates the stage's secrets: revoke-and-rotate starts a rotation with
   * RotateSecret, which requires the caller to be allowed to invoke it.
   */
  readonly rotationFunction: RotationFunction;
}

// What starting a rotation calls (see the rotation starter adapter): DescribeSecret reads the
// secret's rotation function and rules, RotateSecret restates them and rotates at once.
// DescribeSecret also answers whether a version is AWSCURRENT when the ledger may lag Secrets
// Manager (a promotion not recorded yet; see the current-version adapter).
export const START_ROTATION_ACTIONS = ['secretsmanager:DescribeSecret', 'secretsmanager:RotateSecret'];

/**
 * The verifier: answers whether a presented token may pass, from the ledger, and handles reuse of
 * a dead one (an audit event, a `Token Reuse Detected` event, and revoke-and-rotate). Invoked
 * directly with `{"token": "..."}` or as an API Gateway Lambda authorizer
 * ({@link RotorTokenAuthorizer}).
 *
 * Its role: its logs and traces, the ledger's record keeping with the key through DynamoDB, the
 * pepper, `events:PutEvents` on the stage's event bus, `lambda:InvokeFunction` on the rotation
 * function, and DescribeSecret and RotateSecret only on the secrets passed to
 * {@link grantStartRotation}.
 *
 * Defaults: 512 MiB (it is on the request path, and more memory is more CPU), 10 seconds (API
 * Gateway waits no longer for an authorizer). No reserved concurrency, for the same reason.
 */
export class VerifierFunction extends Construct {
  /** The verifier Lambda function. */
  readonly function: lambda.IFunction;
  /** The function's execution role; it has no managed policies. */
  readonly role: iam.IRole;
  /** The function's log group (retained when the stack is deleted). */
  readonly logGroup: logs.ILogGroup;
  /** What the function is told; its environment is `rotorLambdaEnvironment(settings)`. */
  readonly settings: RotorLambdaSettings;

  private startRotationGrant?: iam.Grant;

  constructor(scope: Construct, id: string, props: VerifierFunctionProps) {
    super(scope, id);
    const { resources } = props;
    this.settings = rotorLambdaSettings(resources, props.retirement, props.logLevel);
    const parts = addRotorFunction(this, {
      bundle: LambdaBundle.verifier,
      description: `Rotor ${resources.stage}: verifies presented tokens against the ledger and detects reuse`,
      settings: this.settings,
      encryptionKey: resources.encryptionKey,
      options: props,
      defaultTimeout: Duration.seconds(10),
      defaultMemorySize: 512,
      invocation: { synchronousCaller: 'The caller (an API Gateway authorizer, a service, the CLI)' },
      unreservedConcurrencyReason:
        "The verifier answers on the request path of the services that check tokens: a cap would turn a burst of their requests into throttling errors, so it draws on the account's unreserved pool unless the stage sets reservedConcurrency.verifier to guarantee it capacity.",
    });
    this.function = parts.function;
    this.role = parts.role;
    this.logGroup = parts.logGroup;

    resources.ledger.grantRecordKeeping(this.role);
    resources.pepper.grantRead(this.role);
    resources.eventBus.grantPutEventsTo(this.role);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [props.rotationFunction.function.functionArn],
      }),
    );
  }

  /**
   * Lets the verifier start a rotation of `secret` when one of its tokens is reused:
   * DescribeSecret and RotateSecret on exactly this secret's ARN. All secrets share one statement.
   *
   * @throws Error if the secret's full ARN is unknown (an imported secret referenced by name).
   */
  grantStartRotation(secret: secretsmanager.ISecret): iam.Grant {
    if (secret.secretFullArn === undefined) {
      throw new Error(
        `VerifierFunction can only rotate secrets with a known full ARN (a partial ARN would need a wildcard), got ${secret.node.path}`,
      );
    }
    const existing = this.startRotationGrant?.principalStatements[0];
    if (this.startRotationGrant && existing) {
      existing.addResources(secret.secretFullArn);
      return this.startRotationGrant;
    }
    this.startRotationGrant = iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: START_ROTATION_ACTIONS,
      resourceArns: [secret.secretFullArn],
    });
    return this.startRotationGrant;
  }

  /**
   * Lets `grantee` verify tokens by invoking the function directly with `{"token": "..."}`:
   * lambda:InvokeFunction on exactly this function (not its versions or aliases).
   */
  grantVerify(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['lambda:InvokeFunction'],
      resourceArns: [this.function.functionArn],
    });
  }
}
