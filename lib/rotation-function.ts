import { CfnResource, Duration, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IDependable } from 'constructs';
import { LambdaBundle, rotationFunctionEnvironment } from '../lambda/shared/rotor-constants';
import { LAMBDA_BUNDLE_HANDLER, lambdaBundleCode, lambdaBundleDirectory } from './lambda-bundle';

/** Log levels the Powertools logger in the Lambda understands. */
export type RotationLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Properties of a {@link RotationFunction}. */
export interface RotationFunctionProps {
  /** Deployment stage, e.g. `development`; every log line carries it (`ROTOR_STAGE`). */
  readonly stage: string;

  /**
   * The function refuses any secret whose name does not start with this, whatever IAM allows
   * (`ROTOR_SECRET_NAME_PREFIX`). Ends with `/`.
   */
  readonly secretNamePrefix: string;

  /** Key that encrypts the secrets this function rotates; it may use it only through Secrets Manager. */
  readonly encryptionKey: kms.IKey;

  /**
   * How long CloudWatch Logs keeps the function's logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Level of the Powertools logger (`POWERTOOLS_LOG_LEVEL`); `DEBUG` adds detail for an incident
   * but never secret values, which Rotor does not log at any level.
   *
   * @default 'INFO'
   */
  readonly logLevel?: RotationLogLevel;

  /**
   * Longest a single rotation step may run. testSecret polls the target with bounded backoff,
   * so this must cover the provider's propagation delay.
   *
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;

  /**
   * Memory of the function in MiB; CPU grows with it, which shortens the SDK's cold start.
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * Directory holding the built `index.js`.
   *
   * @default - `dist/lambda/rotation` in this repository, written by `npm run build`
   */
  readonly bundleDirectory?: string;
}

// The only Secrets Manager actions the four rotation steps call (see the Secrets Manager
// adapter): DescribeSecret and GetSecretValue in every step, PutSecretValue in createSecret,
// UpdateSecretVersionStage in finishSecret.
const ROTATION_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];

/**
 * The Lambda function Secrets Manager invokes to rotate a stage's secrets, with its own
 * least-privilege role: it can write its own logs and traces, use the stage's key only through
 * Secrets Manager, and read and write only the secrets passed to {@link grantRotation}.
 */
export class RotationFunction extends Construct {
  /** The rotation Lambda function. */
  readonly function: lambda.IFunction;
  /** The function's execution role; it has no managed policies. */
  readonly role: iam.IRole;
  /** The function's log group (retained when the stack is deleted). */
  readonly logGroup: logs.ILogGroup;
  /** Permission for Secrets Manager in this account to invoke the function; schedules depend on it. */
  readonly invokePermission: IDependable;
  /** Deployment stage the function serves. */
  readonly stage: string;
  /** Prefix of every secret the function will rotate. */
  readonly secretNamePrefix: string;

  private rotationGrant?: iam.Grant;

  constructor(scope: Construct, id: string, props: RotationFunctionProps) {
    super(scope, id);
    if (!props.secretNamePrefix.endsWith('/')) {
      throw new Error(`RotationFunction secretNamePrefix must end with "/", got "${props.secretNamePrefix}"`);
    }
    this.stage = props.stage;
    this.secretNamePrefix = props.secretNamePrefix;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      // The log lines are the audit trail of every rotation; they outlive the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Rotor ${props.stage}: rotation function`,
    });
    this.role = role;

    // The function's own permissions go to the role's default policy, which carries no cdk-nag
    // acknowledgement, so a wildcard added to it later is reported. grantRotation adds the secrets.
    const logsPolicy = role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [props.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );

    // X-Ray accepts no resource but `*`, so its statement sits in a policy of its own and the
    // acknowledgement below covers only that policy.
    const tracingPolicy = new iam.Policy(this, 'TracingPolicy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({ actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], resources: ['*'] }),
      ],
    });
    Validations.of(tracingPolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions, so the resource must be *.',
    });

    const fn = new lambda.Function(this, 'Function', {
      description: `Rotor ${props.stage}: Secrets Manager rotation (createSecret, setSecret, testSecret, finishSecret)`,
      code: lambdaBundleCode(props.bundleDirectory ?? lambdaBundleDirectory(LambdaBundle.rotation)),
      handler: LAMBDA_BUNDLE_HANDLER,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.minutes(1),
      role,
      logGroup: this.logGroup,
      // The same variables `rotor local up` prints for local runs.
      environment: rotationFunctionEnvironment({
        stage: props.stage,
        secretNamePrefix: props.secretNamePrefix,
        logLevel: props.logLevel ?? 'INFO',
      }),
    });
    // Tracing is set on the L1: the L2 `tracing` prop would add the X-Ray statement to the
    // role's default policy instead of the separate policy above.
    (fn.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: lambda.Tracing.ACTIVE };
    // The first invocation (at deploy, see RotatedSecret) must find its permissions in place.
    fn.node.addDependency(logsPolicy.policyDependable ?? role, tracingPolicy);
    dropDependsOnRole(fn, role);
    this.function = fn;

    const invokeId = 'InvokedBySecretsManager';
    fn.addPermission(invokeId, {
      principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
      action: 'lambda:InvokeFunction',
      // Only Secrets Manager acting for this account may invoke it (confused-deputy protection).
      sourceAccount: Stack.of(this).account,
    });
    this.invokePermission = fn.node.findChild(invokeId);
  }

  /**
   * Lets this function rotate `secret`: the four Secrets Manager actions the rotation steps call,
   * on exactly this secret's ARN. All secrets share one policy statement.
   *
   * @returns the grant; apply it before anything that makes Secrets Manager invoke the function.
   * @throws Error if the secret's full ARN is unknown (an imported secret referenced by name).
   */
  grantRotation(secret: secretsmanager.ISecret): iam.Grant {
    if (secret.secretFullArn === undefined) {
      throw new Error(
        `RotationFunction can only rotate secrets with a known full ARN (a partial ARN would need a wildcard), got ${secret.node.path}`,
      );
    }
    const existing = this.rotationGrant?.principalStatements[0];
    if (this.rotationGrant && existing) {
      existing.addResources(secret.secretFullArn);
      return this.rotationGrant;
    }
    this.rotationGrant = iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ROTATION_ACTIONS,
      resourceArns: [secret.secretFullArn],
    });
    return this.rotationGrant;
  }
}

/**
 * The Lambda L2 makes the function depend on its role, which its `Role: GetAtt` already orders:
 * cfn-lint reports the extra DependsOn as W3005 (aws/aws-cdk#24578). Render DependsOn without
 * the role, keeping every other dependency, present or added later.
 */
function dropDependsOnRole(fn: lambda.Function, role: iam.Role): void {
  const cfnFunction = fn.node.defaultChild as lambda.CfnFunction;
  const cfnRole = role.node.defaultChild as iam.CfnRole;
  const stack = Stack.of(fn);
  cfnFunction.addOverride(
    'DependsOn',
    Lazy.list({
      produce: () =>
        cfnFunction
          .obtainDependencies()
          .filter(
            (dependency): dependency is CfnResource =>
              CfnResource.isCfnResource(dependency) && dependency !== cfnRole && Stack.of(dependency) === stack,
          )
          // As CDK renders DependsOn: sorted by construct path.
          .sort((a, b) => a.node.path.localeCompare(b.node.path))
          .map((dependency) => dependency.logicalId),
    }),
  );
}
