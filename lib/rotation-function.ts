import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct, type IDependable } from 'constructs';
import { LambdaBundle, type RotorLambdaSettings } from '../lambda/shared/rotor-constants';
import { ClientCertificateAccess } from './client-certificate-access';
import type { RetireFunction } from './retire-function';
import {
  addRotorFunction,
  rotorLambdaSettings,
  type RotorFunctionOptions,
  type RotorLogLevel,
  type RotorStageResources,
} from './rotor-function';
import { acknowledgeInlinePolicies } from './inline-policies';

/** Log levels the Powertools logger in the Lambda understands. */
export type RotationLogLevel = RotorLogLevel;

/** Properties of a {@link RotationFunction}. */
export interface RotationFunctionProps extends RotorFunctionOptions {
  /**
   * The stage's names, key, ledger, pepper, event bus and durations. The function refuses any
   * secret whose name does not start with `resources.secretNamePrefix`, whatever IAM allows.
   */
  readonly resources: RotorStageResources;

  /**
   * Where finishSecret schedules the rotated-out credential's retirement at the end of its grace.
   */
  readonly retirement: RetireFunction;
}

// The only Secrets Manager actions the four rotation steps call (see the Secrets Manager
// adapter): DescribeSecret and GetSecretValue in every step, PutSecretValue in createSecret,
// UpdateSecretVersionStage in finishSecret.
/** Added to the function's timeout for the journal-claim lease (`ROTOR_SIDE_EFFECT_LEASE_SECONDS`). */
const SIDE_EFFECT_LEASE_MARGIN_SECONDS = 10;

export const ROTATION_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];

/**
 * The Lambda function Secrets Manager invokes to rotate a stage's secrets, with its own
 * least-privilege role: it can write its own logs and traces, use the stage's key only through
 * Secrets Manager and DynamoDB, read the pepper, record versions in the ledger, schedule
 * retirements in the stage's schedule group (passing only the scheduler role), and read and write
 * only the secrets passed to {@link grantRotation}. For OAuth 2.0 secrets it may also publish
 * Rotor's events on the stage's bus ({@link grantPublishEvents}) and read the current version of
 * their client certificate secrets ({@link grantReadClientCertificate}).
 *
 * Defaults: 256 MiB, 1 minute (testSecret polls the target with bounded backoff, so the timeout
 * must cover the provider's propagation delay).
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
  /** What the function is told; its environment is `rotorLambdaEnvironment(settings)`. */
  readonly settings: RotorLambdaSettings;

  private rotationGrant?: iam.Grant;
  private publishGrant?: iam.Grant;
  private clientCertificates?: ClientCertificateAccess;
  private readonly eventBus: events.IEventBus;

  constructor(scope: Construct, id: string, props: RotationFunctionProps) {
    super(scope, id);
    const { resources, retirement } = props;
    this.stage = resources.stage;
    this.secretNamePrefix = resources.secretNamePrefix;
    const timeout = props.timeout ?? Duration.minutes(1);
    this.settings = {
      ...rotorLambdaSettings(resources, retirement, props.logLevel),
      // A provider call's journal claim counts as in flight while its invocation may still run.
      sideEffectLeaseSeconds: timeout.toSeconds() + SIDE_EFFECT_LEASE_MARGIN_SECONDS,
    };
    this.eventBus = resources.eventBus;

    const parts = addRotorFunction(this, {
      bundle: LambdaBundle.rotation,
      description: `Rotor ${resources.stage}: Secrets Manager rotation (createSecret, setSecret, testSecret, finishSecret)`,
      settings: this.settings,
      encryptionKey: resources.encryptionKey,
      options: { ...props, timeout },
      defaultTimeout: timeout,
      defaultMemorySize: 256,
      invocation: { synchronousCaller: 'Secrets Manager' },
      unreservedConcurrencyReason:
        "Secrets Manager fails a rotation step that Lambda throttles, so a cap would fail rotations when many secrets rotate in the same window; the function draws on the account's unreserved pool unless the stage sets reservedConcurrency.rotation to guarantee it capacity.",
    });
    const { function: fn, role } = parts;
    this.function = fn;
    this.role = role;
    this.logGroup = parts.logGroup;

    // grantRotation adds the secrets to the default policy; the key only through Secrets Manager.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [resources.encryptionKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
      }),
    );
    resources.ledger.grantRecordKeeping(role);
    // Releasing a journal claim deletes its entry.
    resources.ledger.grantJournalRelease(role, resources.secretNamePrefix);
    resources.pepper.grantRead(role);
    // finishSecret hands the scheduler role to each retirement schedule it creates.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [retirement.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );

    // Retirement schedules are named at run time, so CreateSchedule needs a wildcard: it sits in a
    // policy of its own, and the acknowledgement names exactly that resource.
    const schedulingPolicy = new iam.Policy(this, 'RetirementSchedulingPolicy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          actions: ['scheduler:CreateSchedule'],
          resources: [retirement.retirementSchedulesArn],
        }),
      ],
    });
    Validations.of(schedulingPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${retirement.scheduleGroupName}/*]`,
      reason:
        "One-time retirement schedules are named at run time, one per rotated-out version, so CreateSchedule is allowed on any schedule in the stage's own group and nowhere else.",
    });
    // CreateSchedule fails in a group that does not exist yet.
    acknowledgeInlinePolicies(schedulingPolicy);
    schedulingPolicy.node.addDependency(retirement.scheduleGroup);
    fn.node.addDependency(schedulingPolicy);

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

  /**
   * Lets this function publish Rotor's events (`Token Reuse Detected` for a refresh token spent
   * upstream, `Credential Outcome Unknown`) with `events:PutEvents` on the stage's event bus, the
   * one in its environment (`ROTOR_EVENT_BUS_NAME`). Only providers that spend credentials at an
   * outside issuer publish, so a stage without such a secret does not grant it. Granting twice
   * adds nothing.
   */
  grantPublishEvents(): iam.Grant {
    this.publishGrant ??= this.eventBus.grantPutEventsTo(this.role);
    return this.publishGrant;
  }

  /**
   * Lets this function read the current version of the secret named `secretName`, the client
   * certificate and key an OAuth 2.0 secret presents for mutual TLS (see {@link ClientCertificateAccess}).
   *
   * @returns the grant; apply it before anything that makes Secrets Manager invoke the function.
   * @throws Error if the name is not under the function's secret name prefix, or has a wildcard.
   */
  grantReadClientCertificate(secretName: string): iam.Grant {
    this.clientCertificates ??= new ClientCertificateAccess(this.role, this.secretNamePrefix, 'RotationFunction');
    return this.clientCertificates.grantRead(secretName);
  }
}
