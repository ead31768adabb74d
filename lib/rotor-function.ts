import { Aws, CfnResource, type Duration, Lazy, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct, IDependable } from 'constructs';
import { rotorLambdaEnvironment, type LambdaBundle, type RotorLambdaSettings } from '../lambda/shared/rotor-constants';
import type { DeadLetterQueue } from './dead-letter-queue';
import type { FingerprintPepper } from './fingerprint-pepper';
import { acknowledgeInlinePolicies } from './inline-policies';
import { LAMBDA_BUNDLE_HANDLER, lambdaBundleCode, lambdaBundleDirectory } from './lambda-bundle';
import type { LedgerTable } from './ledger-table';

/** Log levels the Powertools logger in the Lambdas understands. */
export type RotorLogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** Durations every Rotor Lambda of a stage is told, in seconds so that tests can run them in real time. */
export interface RotorDurations {
  /**
   * How long a rotated-out credential stays valid, unless its secret document sets `graceSeconds`.
   *
   * @default DEFAULT_DURATIONS.graceSeconds (15 minutes)
   */
  readonly defaultGraceSeconds?: number;
  /**
   * How long after its grace ended a dead credential is still recognised as reuse.
   *
   * @default DEFAULT_DURATIONS.reuseMemorySeconds (30 days)
   */
  readonly reuseMemorySeconds?: number;
  /**
   * How long audit events are kept.
   *
   * @default DEFAULT_DURATIONS.auditRetentionSeconds (400 days)
   */
  readonly auditRetentionSeconds?: number;
}

/** How the health check and the rollback function behave; each setting reaches every function of the stage. */
export interface HealthAndRollbackSettings {
  /**
   * Rollback attempts per incident before rotation of the secret is paused
   * (`ROTOR_MAX_ROLLBACK_ATTEMPTS`).
   *
   * @default - not set: the functions use HEALTH_AND_ROLLBACK_DEFAULTS.maxRollbackAttempts (3)
   */
  readonly maxRollbackAttempts?: number;
  /**
   * Seconds without a rollback attempt after which the next alarm of a secret opens a new incident
   * (`ROTOR_ROLLBACK_INCIDENT_WINDOW_SECONDS`).
   *
   * @default - not set: the functions use HEALTH_AND_ROLLBACK_DEFAULTS.rollbackIncidentWindowSeconds (1 day)
   */
  readonly rollbackIncidentWindowSeconds?: number;
  /**
   * How many secrets the health check tests at once (`ROTOR_HEALTH_CHECK_CONCURRENCY`).
   *
   * @default - not set: the functions use HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckConcurrency (8)
   */
  readonly healthCheckConcurrency?: number;
  /**
   * The health check's time budget per run, in seconds (`ROTOR_HEALTH_CHECK_BUDGET_SECONDS`); the
   * health check function's timeout must be longer.
   *
   * @default - not set: the functions use HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckBudgetSeconds (40)
   */
  readonly healthCheckBudgetSeconds?: number;
  /**
   * Seconds a secret is tested at every health-check run after Secrets Manager reports a change to
   * it, or after its last failure (`ROTOR_HEALTH_CHECK_WATCH_SECONDS`); the rotation-events
   * function marks changed secrets for this long.
   *
   * @default - not set: the functions use HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckWatchSeconds (15 minutes)
   */
  readonly healthCheckWatchSeconds?: number;
  /**
   * Seconds between two tests of a secret nothing happened to (`ROTOR_HEALTH_CHECK_IDLE_SECONDS`);
   * the health check function raises it to its schedule's period.
   *
   * @default - not set: the functions use HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckIdleSeconds (1 hour)
   */
  readonly healthCheckIdleSeconds?: number;
}

/** What the Lambdas of one stage share: its names, its key, the ledger, the pepper, the event bus and the durations. */
export interface RotorStageResources {
  /** Deployment stage, e.g. `development`; every log line carries it (`ROTOR_STAGE`). */
  readonly stage: string;
  /**
   * The functions refuse any secret whose name does not start with this, whatever IAM allows
   * (`ROTOR_SECRET_NAME_PREFIX`). Ends with `/`.
   */
  readonly secretNamePrefix: string;
  /** The stage's key: it encrypts the secrets, the pepper and the ledger. */
  readonly encryptionKey: kms.IKey;
  /** The ledger of every credential version. */
  readonly ledger: LedgerTable;
  /** The secret that keys the ledger's fingerprints. */
  readonly pepper: FingerprintPepper;
  /** Where Rotor's events (`source: rotor`) go. */
  readonly eventBus: events.IEventBus;
  /**
   * Grace, reuse memory and audit retention.
   *
   * @default - DEFAULT_DURATIONS for each
   */
  readonly durations?: RotorDurations;
  /**
   * The stage's alert topic (`ROTOR_ALERT_TOPIC_ARN`): the rollback function tells it when it
   * pauses rotation of a secret.
   *
   * @default - none: the functions are not told of a topic
   */
  readonly alertTopic?: sns.ITopic;
  /**
   * Rollback attempts, and the health check's concurrency and time budget.
   *
   * @default - none set: the functions use HEALTH_AND_ROLLBACK_DEFAULTS
   */
  readonly healthAndRollback?: HealthAndRollbackSettings;
  /**
   * The origins provider calls may reach (`ROTOR_PROVIDER_ORIGINS`): a secret document naming any
   * other is refused before anything is sent.
   *
   * @default - none: every provider call is refused
   */
  readonly providerOrigins?: readonly string[];
  /**
   * The stage's number of alarm groups (`ROTOR_ALARM_GROUP_COUNT`): the functions add each
   * secret's alarm group to its metrics as an `AlarmGroup` dimension, which the groups' Metrics
   * Insights alarms select on.
   *
   * @default - not sharded
   */
  readonly alarmGroupCount?: number;
}

/** Where previous credentials are sent at the end of their grace: the retire function and its schedules. */
export interface RetirementTarget {
  /** ARN of the retire function (`ROTOR_RETIRE_FUNCTION_ARN`). */
  readonly retireFunctionArn: string;
  /** Role EventBridge Scheduler assumes to invoke it (`ROTOR_SCHEDULER_ROLE_ARN`). */
  readonly schedulerRole: iam.IRole;
  /** Schedule group of the retirement schedules (`ROTOR_SCHEDULE_GROUP`). */
  readonly scheduleGroupName: string;
}

/** Settings every Rotor function construct takes; each has its own defaults for timeout and memory. */
export interface RotorFunctionOptions {
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
  readonly logLevel?: RotorLogLevel;

  /**
   * Longest a single invocation may run.
   *
   * @default - set by each function construct
   */
  readonly timeout?: Duration;

  /**
   * Memory of the function in MiB; CPU grows with it, which shortens the SDK's cold start.
   *
   * @default - set by each function construct
   */
  readonly memorySize?: number;

  /**
   * Directory holding the built `index.js`.
   *
   * @default - `dist/lambda/<bundle>` in this repository, written by `npm run build`
   */
  readonly bundleDirectory?: string;

  /**
   * Concurrent executions reserved for the function: at most this many run at once, and the
   * account's other functions cannot take them. AWS refuses a reservation that leaves the
   * account's unreserved pool below its minimum.
   *
   * @default - set by each function construct (none reserved, except for the health check)
   */
  readonly reservedConcurrentExecutions?: number;

  /**
   * The subnets and security group the function runs in.
   *
   * @default - not in a VPC: the function reaches AWS and the providers through Lambda's own network
   */
  readonly network?: RotorFunctionNetwork;
}

/** Where a Rotor function runs inside a VPC; see RotorNetwork. */
export interface RotorFunctionNetwork {
  /** The subnets the function's network interfaces are placed in. */
  readonly subnetIds: readonly string[];
  /** The security group of every Rotor function of the stage. */
  readonly securityGroup: ec2.ISecurityGroup;
}

/** How a Rotor function is invoked, which decides whether a dead-letter queue can catch its failures. */
export type RotorFunctionInvocation =
  | {
      /** Invoked asynchronously (EventBridge, Scheduler): failed events go to this queue. */
      readonly deadLetterQueue: DeadLetterQueue;
    }
  | {
      /**
       * Invoked synchronously: the caller sees the error and a dead-letter queue would never
       * receive anything. Says who calls it, e.g. `Secrets Manager`.
       */
      readonly synchronousCaller: string;
    };

/** The settings of every Rotor Lambda of a stage; `rotorLambdaEnvironment` turns them into its environment. */
export function rotorLambdaSettings(
  resources: RotorStageResources,
  retirement: RetirementTarget,
  logLevel: RotorLogLevel = 'INFO',
): RotorLambdaSettings {
  const durations = resources.durations ?? {};
  return {
    stage: resources.stage,
    secretNamePrefix: resources.secretNamePrefix,
    ledgerTableName: resources.ledger.table.tableName,
    pepperSecretArn: resources.pepper.secret.secretArn,
    retireFunctionArn: retirement.retireFunctionArn,
    schedulerRoleArn: retirement.schedulerRole.roleArn,
    scheduleGroupName: retirement.scheduleGroupName,
    eventBusName: resources.eventBus.eventBusName,
    ...(durations.defaultGraceSeconds === undefined ? {} : { defaultGraceSeconds: durations.defaultGraceSeconds }),
    ...(durations.reuseMemorySeconds === undefined ? {} : { reuseMemorySeconds: durations.reuseMemorySeconds }),
    ...(durations.auditRetentionSeconds === undefined
      ? {}
      : { auditRetentionSeconds: durations.auditRetentionSeconds }),
    logLevel,
    ...(resources.alertTopic === undefined ? {} : { alertTopicArn: resources.alertTopic.topicArn }),
    ...definedOnly(resources.healthAndRollback ?? {}),
    ...(resources.providerOrigins === undefined ? {} : { providerOrigins: resources.providerOrigins }),
    ...(resources.alarmGroupCount === undefined ? {} : { alarmGroupCount: resources.alarmGroupCount }),
  };
}

/** `settings` without its undefined members, so that only what is set reaches the environment. */
function definedOnly(settings: HealthAndRollbackSettings): HealthAndRollbackSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/** What {@link addRotorFunction} builds. */
export interface RotorFunctionParts {
  readonly function: lambda.Function;
  /** The function's own role: no managed policies; its statements are in its default policy. */
  readonly role: iam.Role;
  /** The function's log group, retained when the stack is deleted. */
  readonly logGroup: logs.LogGroup;
}

/** What differs between Rotor's functions; everything else is the same for all of them. */
export interface RotorFunctionDefinition {
  readonly bundle: LambdaBundle;
  /** `Rotor <stage>: <what>` on the function; the role says `Rotor <stage>: <bundle> function`. */
  readonly description: string;
  /** Its whole environment is `rotorLambdaEnvironment(settings)`. */
  readonly settings: RotorLambdaSettings;
  readonly options: RotorFunctionOptions;
  readonly defaultTimeout: Duration;
  readonly defaultMemorySize: number;
  /** @default - generated by CloudFormation */
  readonly functionName?: string;
  /** The stage's key: it encrypts the function's log group. */
  readonly encryptionKey: kms.IKey;
  /** Who invokes the function, and its dead-letter queue if it is invoked asynchronously. */
  readonly invocation: RotorFunctionInvocation;
  /**
   * Why running the function without reserved concurrency is right when `options` reserves none:
   * the acknowledged reason of the NIST 800-53 finding.
   */
  readonly unreservedConcurrencyReason: string;
}

/**
 * Adds a Rotor Lambda function to `scope` (children `LogGroup`, `Role`, `TracingPolicy`,
 * `Function`) with the defaults all of them share: the built bundle on Node.js 24 and ARM64, an
 * explicit retained log group, X-Ray tracing, its own role that may write only its own logs, and
 * exactly the environment `rotorLambdaEnvironment` gives the settings. The caller grants the rest
 * to `role`.
 *
 * @throws Error when the settings' secret name prefix does not end with `/`, or the bundle is missing.
 */
export function addRotorFunction(scope: Construct, definition: RotorFunctionDefinition): RotorFunctionParts {
  const { settings, options } = definition;
  if (!settings.secretNamePrefix.endsWith('/')) {
    throw new Error(`${scope.constructor.name} secretNamePrefix must end with "/", got "${settings.secretNamePrefix}"`);
  }

  allowLogGroupEncryption(definition.encryptionKey);
  const logGroup = new logs.LogGroup(scope, 'LogGroup', {
    // Log lines name secrets, versions and providers (never values): encrypted with the stage's key
    // like everything else the stage stores.
    encryptionKey: definition.encryptionKey,
    retention: options.logRetention ?? logs.RetentionDays.ONE_MONTH,
    // The log lines are the record of every rotation, verification and retirement; they outlive the stack.
    removalPolicy: RemovalPolicy.RETAIN,
  });

  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Rotor ${settings.stage}: ${definition.bundle} function`,
  });

  // The function's own permissions go to the role's default policy, which carries no cdk-nag
  // acknowledgement, so a wildcard added to it later is reported.
  const logsPolicy = role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );

  // X-Ray accepts no resource but `*`, so its statement sits in a policy of its own and the
  // acknowledgement below covers only that policy.
  const tracingPolicy = new iam.Policy(scope, 'TracingPolicy', {
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

  const fn = new lambda.Function(scope, 'Function', {
    description: definition.description,
    ...(definition.functionName === undefined ? {} : { functionName: definition.functionName }),
    code: lambdaBundleCode(options.bundleDirectory ?? lambdaBundleDirectory(definition.bundle)),
    handler: LAMBDA_BUNDLE_HANDLER,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: options.memorySize ?? definition.defaultMemorySize,
    timeout: options.timeout ?? definition.defaultTimeout,
    role,
    logGroup,
    // The same variables `rotor local up` prints for local runs.
    environment: rotorLambdaEnvironment(settings),
    ...(options.reservedConcurrentExecutions === undefined
      ? {}
      : { reservedConcurrentExecutions: options.reservedConcurrentExecutions }),
  });
  const cfnFunction = fn.node.defaultChild as lambda.CfnFunction;
  if (options.reservedConcurrentExecutions === undefined) {
    Validations.of(cfnFunction).acknowledge({
      id: 'NIST.800.53.R5-LambdaConcurrency',
      reason: definition.unreservedConcurrencyReason,
    });
  }
  acknowledgeInlinePolicies(role);
  acknowledgeInlinePolicies(tracingPolicy);

  const { invocation } = definition;
  if ('deadLetterQueue' in invocation) {
    // Set on the L1 with the queue's name-built ARN: the L2 prop would add a second SendMessage
    // statement, without the key.
    cfnFunction.deadLetterConfig = { targetArn: invocation.deadLetterQueue.queueArn };
    invocation.deadLetterQueue.grantSend(role);
    fn.node.addDependency(invocation.deadLetterQueue.queue);
  } else {
    Validations.of(cfnFunction).acknowledge({
      id: 'NIST.800.53.R5-LambdaDLQ',
      reason: `${invocation.synchronousCaller} invokes the function synchronously and receives its error itself, so a dead-letter queue would never receive an event.`,
    });
  }

  const dependencies: IDependable[] = [logsPolicy.policyDependable ?? role, tracingPolicy];
  if (options.network === undefined) {
    Validations.of(cfnFunction).acknowledge({
      id: 'NIST.800.53.R5-LambdaInsideVPC',
      reason:
        "The stage sets no vpc: the function calls AWS APIs over TLS with its role's credentials and reaches its providers over the internet, which a VPC would only route through a NAT; a stage that requires a VPC sets vpc in rotor.config.json.",
    });
  } else {
    cfnFunction.vpcConfig = {
      subnetIds: [...options.network.subnetIds],
      securityGroupIds: [options.network.securityGroup.securityGroupId],
    };
    dependencies.push(allowNetworkInterfaces(scope, role));
  }
  // Tracing is set on the L1: the L2 `tracing` prop would add the X-Ray statement to the
  // role's default policy instead of the separate policy above.
  cfnFunction.tracingConfig = { mode: lambda.Tracing.ACTIVE };
  // The first invocation may come during the deployment: it must find its permissions in place.
  // Lambda also checks, when it creates the function, that the role may send to the dead-letter
  // queue and manage the network interfaces.
  fn.node.addDependency(...dependencies);
  dropDependsOnRole(fn, role);
  return { function: fn, role, logGroup };
}

/**
 * Lets Lambda, with the function's role, create and delete the function's network interfaces in
 * the stage's subnets: the permissions of AWS's AWSLambdaVPCAccessExecutionRole, in a policy of
 * the function's own (`NetworkInterfacePolicy`).
 */
function allowNetworkInterfaces(scope: Construct, role: iam.Role): iam.Policy {
  const policy = new iam.Policy(scope, 'NetworkInterfacePolicy', {
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    ],
  });
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      "Lambda creates the function's network interfaces with the function's role, under ids it picks at run time, and EC2's Describe actions support no resource-level permissions, so the resource must be *; the role may do nothing else in EC2.",
  });
  acknowledgeInlinePolicies(policy);
  return policy;
}

/** The keys whose policy already lets CloudWatch Logs encrypt the stage's log groups. */
const keysAllowingLogGroups = new WeakSet<kms.IKey>();

/**
 * Lets CloudWatch Logs use the stage's key for the log groups of the stage's stack, and no others.
 * The log groups' names are generated by CloudFormation from the stack's name; naming each log
 * group's ARN instead would make the key depend on the log groups that depend on it. Added once
 * per key, whichever function comes first.
 */
function allowLogGroupEncryption(encryptionKey: kms.IKey): void {
  if (keysAllowingLogGroups.has(encryptionKey)) return;
  keysAllowingLogGroups.add(encryptionKey);
  const stack = Stack.of(encryptionKey);
  encryptionKey.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsForTheStageLogGroups',
      principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${stack.stackName}-*`,
        },
      },
    }),
  );
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
