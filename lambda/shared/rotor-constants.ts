/**
 * Names that the Lambda code and the CDK constructs must agree on. This module has no
 * dependencies so that `lib/` can import it without pulling in handler code: an alarm and
 * the code that emits its metric cannot drift apart.
 */

/** CloudWatch namespace of every metric Rotor emits (EMF). */
export const METRICS_NAMESPACE = 'Rotor';

/** The one dimension on Rotor's per-secret metrics. */
export const SECRET_NAME_DIMENSION = 'SecretName';

/**
 * The one dimension on Rotor's per-stage metrics: what happens to every secret while nothing is
 * wrong is counted per stage, so that it costs one custom metric per stage, not one per secret.
 */
export const STAGE_DIMENSION = 'Stage';

/**
 * The second dimension on the per-secret metrics of a sharded stage: the secret's alarm group (see
 * alarmGroupOf), so that each group's Metrics Insights alarms query only its own secrets.
 */
export const ALARM_GROUP_DIMENSION = 'AlarmGroup';

/** Metric names, shared by the emitting handlers and the alarms. */
export const MetricName = {
  /**
   * Per stage (dimension Stage): rotations that finished (finishSecret promoted the new version).
   * A routine success has nothing to say per secret; a failure does (RotationFailed).
   */
  RotationSucceeded: 'RotationSucceeded',
  /** Per secret: a rotation step that failed, or Secrets Manager's own RotationFailed event. */
  RotationFailed: 'RotationFailed',
  /** Per stage (dimension Stage): how long each rotation step that succeeded took, in milliseconds. */
  RotationStepLatency: 'RotationStepLatency',
  /**
   * Per stage (dimension Stage): rotation steps that Secrets Manager or DynamoDB kept throttling
   * after the SDK backed off. Not a failure (never RotationFailed, never a rollback): Secrets
   * Manager runs the rotation again.
   */
  RotationThrottled: 'RotationThrottled',
  /** A rotated-out credential was presented after its grace period (or after retirement). */
  ReuseDetected: 'ReuseDetected',
  /** The previous credential was presented within its grace period: a job that started before a rotation. */
  GraceUse: 'GraceUse',
  /** A well-formed token the ledger has never seen. */
  UnknownToken: 'UnknownToken',
  /** A previous credential reached the end of its grace period and was retired. */
  CredentialRetired: 'CredentialRetired',
  /** finishSecret could not schedule the previous credential's retirement; the sweep will. */
  RetirementScheduleFailed: 'RetirementScheduleFailed',
  /** The health check tested the secret's AWSCURRENT credential and it failed. */
  HealthCheckFailed: 'HealthCheckFailed',
  /**
   * Per stage (dimension Stage), once per health-check run: how many secrets' AWSCURRENT
   * credentials were tested and work. A healthy secret has nothing to say on its own.
   */
  HealthChecksSucceeded: 'HealthChecksSucceeded',
  /** AWSCURRENT was moved back to the previous credential after an alarm. */
  RollbackPerformed: 'RollbackPerformed',
  /**
   * An earlier attempt spent a single-use credential (an OAuth refresh token) at its provider and
   * its result never reached AWSPENDING: the credential may be lost.
   */
  SideEffectOutcomeUnknown: 'SideEffectOutcomeUnknown',
  /**
   * Retirement could not revoke a previous credential at its issuer (a GitLab token); the ledger
   * keeps it previous, so the sweep tries again.
   */
  RevocationFailed: 'RevocationFailed',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

/** Environment variables the Lambdas read; the stack and `rotor local up` set exactly these. */
export const RotorEnv = {
  /** Name of the deployment stage (for example `development`), added to every log line. */
  stage: 'ROTOR_STAGE',
  /** Secrets whose name does not start with this prefix are refused, whatever IAM allows. */
  secretNamePrefix: 'ROTOR_SECRET_NAME_PREFIX',
  /** The ledger's DynamoDB table. */
  ledgerTable: 'ROTOR_LEDGER_TABLE',
  /** ARN of the secret holding the fingerprint pepper. */
  pepperSecretArn: 'ROTOR_PEPPER_SECRET_ARN',
  /** Grace period of a previous credential unless its secret says otherwise (`graceSeconds`). */
  defaultGraceSeconds: 'ROTOR_DEFAULT_GRACE_SECONDS',
  /** How long the ledger remembers a dead credential, so that presenting it is still caught as reuse. */
  reuseMemorySeconds: 'ROTOR_REUSE_MEMORY_SECONDS',
  /** How long audit events are kept. */
  auditRetentionSeconds: 'ROTOR_AUDIT_RETENTION_SECONDS',
  /** The retire function, target of the one-time retirement schedules. */
  retireFunctionArn: 'ROTOR_RETIRE_FUNCTION_ARN',
  /** Role EventBridge Scheduler assumes to invoke the retire function. */
  schedulerRoleArn: 'ROTOR_SCHEDULER_ROLE_ARN',
  /** Schedule group of the retirement schedules. */
  scheduleGroup: 'ROTOR_SCHEDULE_GROUP',
  /** Event bus for Rotor's events (`source: rotor`). */
  eventBusName: 'ROTOR_EVENT_BUS_NAME',
  /**
   * Optional: seconds a provider call's journal claim counts as still in flight (its invocation may
   * still be running); longer than the rotation function's timeout. Default 70.
   */
  sideEffectLeaseSeconds: 'ROTOR_SIDE_EFFECT_LEASE_SECONDS',
  /**
   * Comma-separated https origins (`https://idp.example.com`, `https://git.example.com:8443`) that
   * provider calls may go to: the origins of the stage's provider configuration. Unset or empty:
   * none, so a provider call is refused.
   */
  providerOrigins: 'ROTOR_PROVIDER_ORIGINS',
  /**
   * `true` lets provider calls reach loopback, link-local and private addresses (local runs, whose
   * test IdPs listen on 127.0.0.1). Unset or `false`: refused.
   */
  allowPrivateEndpoints: 'ROTOR_ALLOW_PRIVATE_ENDPOINTS',
  /**
   * Set only in a sharded stage: its number of alarm groups. The functions then add an
   * `AlarmGroup` dimension to each secret's metrics and the rollback checks that a contributor's
   * alarm is its secret's group's.
   */
  alarmGroupCount: 'ROTOR_ALARM_GROUP_COUNT',
} as const;

/** Default of {@link RotorEnv.sideEffectLeaseSeconds}: the rotation function's 60 s timeout plus a margin. */
export const DEFAULT_SIDE_EFFECT_LEASE_SECONDS = 70;

/** Durations the operator may set; all in seconds so tests can run them in real time. */
export const DEFAULT_DURATIONS = {
  /** DESIGN: old and new credentials both valid for 15 minutes. */
  graceSeconds: 15 * 60,
  /** A dead credential is recognised as reuse for 30 days after its grace ended. */
  reuseMemorySeconds: 30 * 24 * 3600,
  /** Audit events live 400 days. */
  auditRetentionSeconds: 400 * 24 * 3600,
} as const;

/** What every Rotor Lambda is told about its stage. */
export interface RotorLambdaSettings {
  readonly stage: string;
  readonly secretNamePrefix: string;
  readonly ledgerTableName: string;
  readonly pepperSecretArn: string;
  readonly retireFunctionArn: string;
  readonly schedulerRoleArn: string;
  readonly scheduleGroupName: string;
  readonly eventBusName: string;
  /** @default DEFAULT_DURATIONS.graceSeconds */
  readonly defaultGraceSeconds?: number;
  /** @default DEFAULT_DURATIONS.reuseMemorySeconds */
  readonly reuseMemorySeconds?: number;
  /** @default DEFAULT_DURATIONS.auditRetentionSeconds */
  readonly auditRetentionSeconds?: number;
  /** Powertools logger level. @default 'INFO' */
  readonly logLevel?: string;
  /** SNS topic told when rotation of a secret is paused (`ROTOR_ALERT_TOPIC_ARN`). @default - not set */
  readonly alertTopicArn?: string;
  /** Rollback attempts per incident before rotation is paused. @default - not set: HEALTH_AND_ROLLBACK_DEFAULTS */
  readonly maxRollbackAttempts?: number;
  /** Seconds without a rollback attempt after which the next alarm opens a new incident. @default - not set: HEALTH_AND_ROLLBACK_DEFAULTS */
  readonly rollbackIncidentWindowSeconds?: number;
  /** How many secrets the health check tests at once. @default - not set: HEALTH_AND_ROLLBACK_DEFAULTS */
  readonly healthCheckConcurrency?: number;
  /** The health check's time budget per run, in seconds. @default - not set: HEALTH_AND_ROLLBACK_DEFAULTS */
  readonly healthCheckBudgetSeconds?: number;
  /** Seconds between two health-check runs. @default - not set: HEALTH_AND_ROLLBACK_DEFAULTS */
  readonly healthCheckRunSeconds?: number;
  /** Seconds a changed or failing secret is checked at every run. @default - not set: HEALTH_AND_ROLLBACK_DEFAULTS */
  readonly healthCheckWatchSeconds?: number;
  /** Seconds between two checks of an idle secret. @default - not set: HEALTH_AND_ROLLBACK_DEFAULTS */
  readonly healthCheckIdleSeconds?: number;
  /**
   * The rotation function's journal-claim lease (`ROTOR_SIDE_EFFECT_LEASE_SECONDS`): its timeout
   * plus a margin. @default - not set: DEFAULT_SIDE_EFFECT_LEASE_SECONDS
   */
  readonly sideEffectLeaseSeconds?: number;
  /** Origins provider calls may go to (`ROTOR_PROVIDER_ORIGINS`). @default - not set: none */
  readonly providerOrigins?: readonly string[];
  /** Whether provider calls may reach non-public addresses (`ROTOR_ALLOW_PRIVATE_ENDPOINTS`). @default false */
  readonly allowPrivateEndpoints?: boolean;
  /** The stage's number of alarm groups (`ROTOR_ALARM_GROUP_COUNT`). @default - not set: the stage is not sharded */
  readonly alarmGroupCount?: number;
}

/**
 * The environment of every Rotor Lambda: the stack sets exactly this, and `rotor local up`
 * prints it (plus the emulator endpoint) for local runs.
 */
export function rotorLambdaEnvironment(settings: RotorLambdaSettings): Record<string, string> {
  return {
    [RotorEnv.stage]: settings.stage,
    [RotorEnv.secretNamePrefix]: settings.secretNamePrefix,
    [RotorEnv.ledgerTable]: settings.ledgerTableName,
    [RotorEnv.pepperSecretArn]: settings.pepperSecretArn,
    [RotorEnv.retireFunctionArn]: settings.retireFunctionArn,
    [RotorEnv.schedulerRoleArn]: settings.schedulerRoleArn,
    [RotorEnv.scheduleGroup]: settings.scheduleGroupName,
    [RotorEnv.eventBusName]: settings.eventBusName,
    [RotorEnv.defaultGraceSeconds]: String(settings.defaultGraceSeconds ?? DEFAULT_DURATIONS.graceSeconds),
    [RotorEnv.reuseMemorySeconds]: String(settings.reuseMemorySeconds ?? DEFAULT_DURATIONS.reuseMemorySeconds),
    [RotorEnv.auditRetentionSeconds]: String(settings.auditRetentionSeconds ?? DEFAULT_DURATIONS.auditRetentionSeconds),
    POWERTOOLS_LOG_LEVEL: settings.logLevel ?? 'INFO',
    // Issue 5's settings are written only when given, so that the environment of a caller that
    // does not know them stays as it was; the functions fall back to HEALTH_AND_ROLLBACK_DEFAULTS.
    ...optionalSetting(HealthAndRollbackEnv.alertTopicArn, settings.alertTopicArn),
    ...optionalSetting(HealthAndRollbackEnv.maxRollbackAttempts, settings.maxRollbackAttempts),
    ...optionalSetting(HealthAndRollbackEnv.rollbackIncidentWindowSeconds, settings.rollbackIncidentWindowSeconds),
    ...optionalSetting(HealthAndRollbackEnv.healthCheckConcurrency, settings.healthCheckConcurrency),
    ...optionalSetting(HealthAndRollbackEnv.healthCheckBudgetSeconds, settings.healthCheckBudgetSeconds),
    ...optionalSetting(HealthAndRollbackEnv.healthCheckRunSeconds, settings.healthCheckRunSeconds),
    ...optionalSetting(HealthAndRollbackEnv.healthCheckWatchSeconds, settings.healthCheckWatchSeconds),
    ...optionalSetting(HealthAndRollbackEnv.healthCheckIdleSeconds, settings.healthCheckIdleSeconds),
    ...optionalSetting(RotorEnv.sideEffectLeaseSeconds, settings.sideEffectLeaseSeconds),
    ...optionalSetting(
      RotorEnv.providerOrigins,
      settings.providerOrigins === undefined || settings.providerOrigins.length === 0
        ? undefined
        : settings.providerOrigins.join(','),
    ),
    ...optionalSetting(RotorEnv.allowPrivateEndpoints, settings.allowPrivateEndpoints === true ? 'true' : undefined),
    ...optionalSetting(RotorEnv.alarmGroupCount, settings.alarmGroupCount),
  };
}

function optionalSetting(name: string, value: string | number | undefined): Record<string, string> {
  return value === undefined ? {} : { [name]: String(value) };
}

/** The Lambda bundles that `npm run build` writes to `dist/lambda/<name>/index.js`. */
export const LambdaBundle = {
  rotation: 'rotation',
  /** Answers "may this token pass?" from the ledger; also a Lambda authorizer. */
  verifier: 'verifier',
  /** Retires previous credentials at grace end (one-time schedules) and sweeps overdue ones. */
  retire: 'retire',
  /** Tests every managed secret's AWSCURRENT credential on a schedule. */
  healthCheck: 'health-check',
  /** Moves AWSCURRENT back to the previous credential when a Rotor alarm enters ALARM; pauses rotation when it cannot. */
  rollback: 'rollback',
  /** Counts Secrets Manager's own RotationFailed / RotationAbandoned events (CloudTrail) as rotation failures. */
  rotationEvents: 'rotation-events',
} as const;
export type LambdaBundle = (typeof LambdaBundle)[keyof typeof LambdaBundle];

/** The ledger table's key schema, shared by the table construct and the DynamoDB adapter. */
export const LedgerSchema = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /**
   * Partition key prefix of a secret's items (`SECRET#<arn>`: state, audit events, journal
   * entries); the rotation role's DeleteItem is limited to these partitions by it.
   */
  secretPartitionPrefix: 'SECRET#',
  /**
   * Partition of the health check's watch list (`<secret name>#change | #failing | #expiry`
   * items): the one partition the health check queries each run, and the only one the health
   * check and the rotation-events function may write (`dynamodb:LeadingKeys`).
   */
  healthWatchPartition: 'HEALTH#WATCH',
  /** Epoch seconds; DynamoDB deletes expired items lazily, so reads check it themselves. */
  ttlAttribute: 'expiresAt',
  /** Sparse index of previous credentials by grace end, for the retirement sweep. */
  graceIndex: { name: 'previous-by-grace-end', partitionKey: 'graceIndex', sortKey: 'graceEndsAt' },
} as const;

/** Rotor's EventBridge events. */
export const RotorEvents = {
  source: 'rotor',
  reuseDetected: 'Token Reuse Detected',
  /** Rollback gave up (attempts exhausted, or no usable previous credential): CI pipelines may hold deploys. */
  rotationPaused: 'Rotation Paused',
  /** An operator lifted a pause (`rotor resume`). */
  rotationResumed: 'Rotation Resumed',
  /** A provider call spent a single-use credential and its result was lost (see MetricName.SideEffectOutcomeUnknown). */
  sideEffectOutcomeUnknown: 'Credential Outcome Unknown',
} as const;

/**
 * Rotor's CloudWatch alarms per secret are named `rotor-<stage>-<kind>-<secret name with / as ->`;
 * the rollback function acts only on alarms whose name starts with `rotor-<stage>-` and whose
 * kind rolls back, and finds the secret from the alarm's SecretName dimension.
 */
export const RotorAlarmKind = {
  rotationFailures: 'rotation-failures',
  healthCheckFailures: 'health-check-failures',
  reuseDetected: 'reuse-detected',
} as const;
export type RotorAlarmKind = (typeof RotorAlarmKind)[keyof typeof RotorAlarmKind];

/** The alarm kinds whose ALARM state triggers a rollback (reuse is answered by the verifier). */
export const ROLLBACK_ALARM_KINDS: readonly RotorAlarmKind[] = [
  RotorAlarmKind.rotationFailures,
  RotorAlarmKind.healthCheckFailures,
];

/** The name of a Rotor alarm: shared by the construct that creates it and the function that reads it. */
export function rotorAlarmName(stage: string, kind: RotorAlarmKind, secretName: string): string {
  return `rotor-${stage}-${kind}-${secretName.replace(/\//g, '-')}`;
}

/**
 * The name of the Metrics Insights alarm of one kind over every secret of alarm group `group` that
 * has its stage's thresholds: `rotor-<stage>-<kind>.group-007`. The `.` after the kind cannot follow
 * it in a per-secret alarm's name (always `-`), so no secret's alarm can be named like it.
 */
export function rotorAlarmGroupAlarmName(stage: string, kind: RotorAlarmKind, group: number): string {
  return `${rotorAlarmGroupAlarmNamePrefix(stage, kind)}${String(group).padStart(3, '0')}`;
}

/** What every name of a stage's alarm-group alarms of `kind` starts with: `rotor-<stage>-<kind>.group-`. */
export function rotorAlarmGroupAlarmNamePrefix(stage: string, kind: RotorAlarmKind): string {
  return `rotor-${stage}-${kind}.group-`;
}

/** Settings of issue 5's functions, read from the environment (all optional, with these defaults). */
export const HealthAndRollbackEnv = {
  /** SNS topic told when rotation of a secret is paused. */
  alertTopicArn: 'ROTOR_ALERT_TOPIC_ARN',
  /** Rollback attempts per incident before rotation is paused. */
  maxRollbackAttempts: 'ROTOR_MAX_ROLLBACK_ATTEMPTS',
  /**
   * An incident is the run of a secret's rollback attempts with less than this many seconds from
   * one to the next; after this long without one, the next alarm opens a new incident.
   */
  rollbackIncidentWindowSeconds: 'ROTOR_ROLLBACK_INCIDENT_WINDOW_SECONDS',
  /** How many secrets the health check tests at once. */
  healthCheckConcurrency: 'ROTOR_HEALTH_CHECK_CONCURRENCY',
  /** The health check's time budget per run, in seconds. */
  healthCheckBudgetSeconds: 'ROTOR_HEALTH_CHECK_BUDGET_SECONDS',
  /** Seconds between two runs of the health check (the rate of its schedule). */
  healthCheckRunSeconds: 'ROTOR_HEALTH_CHECK_RUN_SECONDS',
  /** Seconds a secret is checked at every run after a change to it or after its last failure. */
  healthCheckWatchSeconds: 'ROTOR_HEALTH_CHECK_WATCH_SECONDS',
  /** Seconds between two checks of a secret nothing happened to. */
  healthCheckIdleSeconds: 'ROTOR_HEALTH_CHECK_IDLE_SECONDS',
} as const;

export const HEALTH_AND_ROLLBACK_DEFAULTS = {
  maxRollbackAttempts: 3,
  rollbackIncidentWindowSeconds: 24 * 3600,
  healthCheckConcurrency: 8,
  healthCheckBudgetSeconds: 40,
  healthCheckRunSeconds: 60,
  /** A rotation's or a change's failure shows within minutes: watch 15 minutes (the default grace). */
  healthCheckWatchSeconds: 15 * 60,
  healthCheckIdleSeconds: 60 * 60,
} as const;

/**
 * Secrets Manager API calls that can change what a secret's AWSCURRENT holds or where it points:
 * a new value, a moved label, a rotation started, cancelled or restored. CloudTrail records each
 * and EventBridge delivers it on the default bus as `AWS API Call via CloudTrail` (this needs a
 * trail logging the Region's management events).
 */
export const SECRET_CHANGE_API_CALLS = [
  'PutSecretValue',
  'UpdateSecret',
  'UpdateSecretVersionStage',
  'RotateSecret',
  'CancelRotateSecret',
  'RestoreSecret',
] as const;

/** Tag that marks a secret as managed by Rotor, with the stage as its value. */
export const MANAGED_BY_TAG = 'rotor:stage';

/**
 * Credential providers a secret's config may name. The rotation function registers a provider
 * under each of these names; the CDK config refuses any other name at synth.
 */
export const RotorProviderName = {
  /** Tokens Rotor issues itself. */
  managedToken: 'managed-token',
  /** OAuth 2.0 refresh-token grants at an IdP that rotates refresh tokens. */
  oauth2RefreshToken: 'oauth2-refresh-token',
  /** GitLab personal, project and group access tokens. */
  gitlabAccessToken: 'gitlab-access-token',
} as const;
export const ROTOR_PROVIDERS = [
  RotorProviderName.managedToken,
  RotorProviderName.oauth2RefreshToken,
  RotorProviderName.gitlabAccessToken,
] as const;
export type RotorProvider = (typeof ROTOR_PROVIDERS)[number];

/**
 * Layout version of the JSON document in every Rotor secret. The stack writes it into each new
 * secret's first value; it must equal `SECRET_DOCUMENT_SCHEMA_VERSION` in lambda/core (a test
 * in test/infra pins the two together).
 */
export const SECRET_DOCUMENT_SCHEMA_VERSION = 1;

/** Names of the outputs each `Rotor-<stage>` stack exports, for the CLI and operators. */
export const RotorStackOutput = {
  /** Name of the Lambda function Secrets Manager invokes to rotate the stage's secrets. */
  rotationFunctionName: 'RotationFunctionName',
  /** CloudWatch log group of the rotation function. */
  rotationLogGroupName: 'RotationLogGroupName',
  /** Comma-separated full names of the stage's rotated secrets (a stage that is not sharded). */
  secretNames: 'SecretNames',
  /** The prefix of every secret of a sharded stage, whose names are too many to list. */
  secretNamePrefix: 'SecretNamePrefix',
  /** The ledger's DynamoDB table (`rotor audit` reads it). */
  ledgerTableName: 'LedgerTableName',
  /** Name of the verifier function: invoke it with `{"token": "..."}`. */
  verifierFunctionName: 'VerifierFunctionName',
  /** ARN of the verifier function, for a Lambda authorizer in another stack or app. */
  verifierFunctionArn: 'VerifierFunctionArn',
  /** ARN of the secret holding the fingerprint pepper (never rotated). */
  pepperSecretArn: 'PepperSecretArn',
  /** ARN of the stage's alert topic: alarms and paused rotations notify it; subscribe to it. */
  alertTopicArn: 'AlertTopicArn',
  /** Name of the stage's CloudWatch dashboard, `rotor-<stage>`. */
  dashboardName: 'DashboardName',
} as const;

/**
 * Physical names of a stage's resources that other resources must know before they exist (the
 * retire function's own ARN is in its environment) or that operators look up by name. The stack
 * and `rotor local up` use the same names.
 */
export const RotorResourceName = {
  /** The ledger's DynamoDB table. */
  ledgerTable: (stage: string): string => `rotor-${stage}-ledger`,
  /** The retire function, target of every retirement schedule. */
  retireFunction: (stage: string): string => `rotor-${stage}-retire`,
  /** EventBridge Scheduler group of the sweep and the one-time retirement schedules. */
  scheduleGroup: (stage: string): string => `rotor-${stage}`,
  /**
   * EventBridge Scheduler group of the health-check schedule alone. A `.` cannot occur in a stage
   * name, so no stage's groups can be named like another's.
   */
  healthCheckScheduleGroup: (stage: string): string => `rotor-${stage}.health-check`,
  /** EventBridge Scheduler group of the access-token refresh schedules alone. */
  accessTokenRefreshScheduleGroup: (stage: string): string => `rotor-${stage}.access-token-refresh`,
  /** The secret holding the fingerprint pepper: under {@link ROTOR_INTERNAL_SECRET_PREFIX}, outside every stage's prefix. */
  fingerprintPepper: (stage: string): string => `${ROTOR_INTERNAL_SECRET_PREFIX}${stage}/fingerprint-pepper`,
} as const;

/**
 * Secrets named under this prefix are Rotor's own (the fingerprint pepper) and are never rotated;
 * no stage's `secretNamePrefix` may start with it, so the rotation function refuses them.
 */
export const ROTOR_INTERNAL_SECRET_PREFIX = 'rotor-internal/';

/** The input of the recurring sweep schedule: the retire function retires every overdue previous credential. */
export const RETIRE_SWEEP_REQUEST = { sweep: true } as const;

/**
 * Every one-time retirement schedule is named `<this prefix><hash>`: the rollback function may
 * delete only schedules so named in the stage's group (never the sweep or the health check).
 */
export const RETIREMENT_SCHEDULE_NAME_PREFIX = 'retire-';

/**
 * Every access-token refresh schedule (one per `oauth2-refresh-token` secret, in the stage's
 * refresh schedule group; target: Secrets Manager RotateSecret of that secret) is named
 * `<this prefix><secret name within the stage>`, with `/` and other characters Scheduler refuses
 * replaced and a hash added when needed. Never `retire-`, so the rollback function cannot delete them.
 */
export const ACCESS_TOKEN_REFRESH_SCHEDULE_NAME_PREFIX = 'refresh-';
