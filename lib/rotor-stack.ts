import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import {
  HEALTH_AND_ROLLBACK_DEFAULTS,
  METRICS_NAMESPACE,
  MetricName,
  RotorStackOutput,
  STAGE_DIMENSION,
} from '../lambda/shared/rotor-constants';
import { accessTokenRefreshScheduleGroup, type AccessTokenRefreshSchedule } from './access-token-refresh-schedule';
import { AlarmGroupAlarms } from './alarm-group-alarms';
import { alarmGroupId, assignAlarmGroups } from './alarm-group-assignment';
import { AlertTopic } from './alert-topic';
import { CiConsumers, CONSUMER_ROLE_ARNS_OUTPUT } from './ci-consumers';
import { stageAlarmGroups } from './config/alarm-groups-config';
import { fullSecretName, type RotorStageConfig } from './config/rotor-config';
import type { ReservableFunction } from './config/reserved-concurrency-config';
import { stageProviderOrigins } from './config/provider-origins';
import { FingerprintPepper } from './fingerprint-pepper';
import { HealthCheckFunction } from './health-check-function';
import { LedgerTable } from './ledger-table';
import { oncePerGrantKey } from './once-per-grant-key';
import { RetireFunction } from './retire-function';
import { RollbackFunction } from './rollback-function';
import type { RotatedSecret } from './rotated-secret';
import { RotationEventsFunction } from './rotation-events-function';
import { RotationFunction } from './rotation-function';
import type { RotorFunctionOptions, RotorStageResources } from './rotor-function';
import { RotorNetwork } from './rotor-network';
import { RotorDashboard } from './rotor-dashboard';
import type { SecretAlarms } from './secret-alarms';
import { SecretShard } from './secret-shard';
import { assignShards, shardId } from './shard-assignment';
import { StageSecretAccess } from './stage-secret-access';
import { addStageSecrets, type StageSecrets } from './stage-secrets';
import { VerifierFunction } from './verifier-function';
import { ownsAlarms } from './watching-alarms';

/** Properties of a {@link RotorStack}. */
export interface RotorStackProps extends StackProps {
  /** The validated config of the stage this stack deploys. */
  readonly stage: RotorStageConfig;
}

/**
 * One Rotor stage: a customer-managed key, the ledger and its fingerprint pepper, the rotation,
 * verifier and retire functions (with the retirement schedules), one rotated secret per
 * configured secret, and the CI consumers' OIDC providers and roles; and to watch them (issue 5):
 * the health check and its schedule, three alarms per secret, the rollback function and the rule
 * that sends it the alarms, the function that counts Secrets Manager's own rotation failures, the
 * alert topic and the dashboard; and for each OAuth 2.0 secret (issue 4) the schedule that
 * refreshes its access token.
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
  /**
   * The access-token refresh schedule of each `oauth2-refresh-token` secret, by the secret's name
   * within the stage; empty when the stage has none.
   */
  readonly accessTokenRefreshSchedules: ReadonlyMap<string, AccessTokenRefreshSchedule>;
  /** The CI consumers' OIDC providers and roles; none when the stage has no consumers. */
  readonly consumers: CiConsumers;
  /** The stage's alert topic: alarms entering ALARM and paused rotations notify it. */
  readonly alertTopic: AlertTopic;
  /** Tests every secret's current credential on a schedule. */
  readonly healthCheckFunction: HealthCheckFunction;
  /** Moves AWSCURRENT back when a rotation or health-check alarm fires, or pauses rotation. */
  readonly rollbackFunction: RollbackFunction;
  /** Counts Secrets Manager's own RotationFailed and RotationAbandoned events. */
  readonly rotationEventsFunction: RotationEventsFunction;
  /**
   * The alarms of each secret, in the order of {@link secrets}; undefined for a secret of a sharded
   * stage that has the stage's thresholds, which its alarm group's alarms watch ({@link alarmGroups}).
   */
  readonly secretAlarms: readonly (SecretAlarms | undefined)[];
  /**
   * The Metrics Insights alarms of a sharded stage, one set of three per alarm group in group order
   * (`stage.alarmGroups` of them, whatever the shards); empty when the stage is not sharded.
   */
  readonly alarmGroups: readonly AlarmGroupAlarms[];
  /**
   * The nested stacks that hold the secrets of a sharded stage, in shard order, each holding at
   * least one secret; empty when the stage is not sharded.
   */
  readonly shards: readonly SecretShard[];
  /** Where the functions run when the stage sets `vpc`; undefined otherwise. */
  readonly network?: RotorNetwork;
  /** The stage's dashboard, `rotor-<stage>`. */
  readonly dashboard: RotorDashboard;

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
    this.alertTopic = new AlertTopic(this, 'Alerts', {
      stage: stage.name,
      encryptionKey: this.encryptionKey,
      emails: stage.alertEmails,
      httpsEndpoints: stage.alertHttpsEndpoints,
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
      alertTopic: this.alertTopic.topic,
      // Every function is told all of them, so that the environment shows what the stage runs with.
      healthAndRollback: {
        maxRollbackAttempts: stage.maxRollbackAttempts,
        rollbackIncidentWindowSeconds: HEALTH_AND_ROLLBACK_DEFAULTS.rollbackIncidentWindowSeconds,
        healthCheckConcurrency: HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckConcurrency,
        healthCheckBudgetSeconds: HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckBudgetSeconds,
        healthCheckWatchSeconds: stage.healthCheckWatchSeconds,
        healthCheckIdleSeconds: stage.healthCheckIdleSeconds,
      },
      // Fixed at deploy: a secret's document may name no other endpoint.
      providerOrigins: stageProviderOrigins(stage),
      ...(stage.shards === undefined ? {} : { alarmGroupCount: stageAlarmGroups(stage)! }),
    };
    const logRetention = stage.logRetentionDays;
    if (stage.vpc !== undefined) {
      this.network = new RotorNetwork(this, 'Network', {
        stage: stage.name,
        vpc: stage.vpc,
        encryptionKey: this.encryptionKey,
        logRetention,
      });
    }
    // What every function is given: its log retention, the stage's network, its own reservation.
    const functionOptions = (key: ReservableFunction): RotorFunctionOptions => ({
      logRetention,
      ...(this.network === undefined ? {} : { network: this.network }),
      ...(stage.reservedConcurrency[key] === undefined
        ? {}
        : { reservedConcurrentExecutions: stage.reservedConcurrency[key] }),
    });

    this.retireFunction = new RetireFunction(this, 'Retire', {
      resources,
      sweepSchedule: stage.sweepSchedule,
      ...functionOptions('retire'),
    });
    this.rotationFunction = new RotationFunction(this, 'Rotation', {
      resources,
      retirement: this.retireFunction,
      ...functionOptions('rotation'),
    });

    this.verifierFunction = new VerifierFunction(this, 'Verifier', {
      resources,
      retirement: this.retireFunction,
      rotationFunction: this.rotationFunction,
      ...functionOptions('verifier'),
    });

    this.healthCheckFunction = new HealthCheckFunction(this, 'HealthCheck', {
      resources,
      retirement: this.retireFunction,
      schedule: stage.healthCheckSchedule,
      ...functionOptions('healthCheck'),
    });
    this.rollbackFunction = new RollbackFunction(this, 'Rollback', {
      resources,
      retirement: this.retireFunction,
      alertTopic: this.alertTopic,
      ...functionOptions('rollback'),
    });
    this.rotationEventsFunction = new RotationEventsFunction(this, 'RotationEvents', {
      resources,
      retirement: this.retireFunction,
      ...functionOptions('rotationEvents'),
    });
    // Both test access tokens with the secret's TLS settings, its client certificate included.
    for (const secret of stage.secrets) {
      const certificate = secret.oauth2?.tls?.clientCertificateSecretName;
      if (certificate === undefined) continue;
      this.healthCheckFunction.grantReadClientCertificate(certificate);
      this.rollbackFunction.grantReadClientCertificate(certificate);
    }

    const notify = new cloudwatchActions.SnsAction(this.alertTopic.topic);
    const secretsProps = {
      stage,
      rotationFunction: this.rotationFunction,
      encryptionKey: oncePerGrantKey(this.encryptionKey),
      // The refresh schedules' own group, made only for a stage that has OAuth 2.0 secrets (with
      // none, no schedule goes into the group passed here).
      scheduleGroup: stage.secrets.some((secret) => secret.oauth2 !== undefined)
        ? accessTokenRefreshScheduleGroup(this, stage.name)
        : this.retireFunction.scheduleGroup,
      alarmAction: notify,
    };
    let contents: StageSecrets[];
    if (stage.shards === undefined) {
      // One stack: each function's role names every secret's ARN.
      contents = [addStageSecrets(this, { ...secretsProps, secrets: stage.secrets })];
      this.shards = [];
      this.alarmGroups = [];
      for (const secret of contents[0]!.secrets) {
        this.verifierFunction.grantStartRotation(secret.secret);
        this.healthCheckFunction.grantHealthCheck(secret.secret);
        this.rollbackFunction.grantRollback(secret.secret);
      }
    } else {
      // Nested stacks, each secret in the shard its name hashes to; the functions reach the
      // secrets by prefix and tag, so that the stage's own template does not grow with them.
      const access = new StageSecretAccess(this, 'SecretAccess', {
        stage: stage.name,
        secretNamePrefix: stage.secretNamePrefix,
        rotation: this.rotationFunction.role,
        healthCheck: this.healthCheckFunction.role,
        rollback: this.rollbackFunction.role,
        verifier: this.verifierFunction.role,
      });
      const shardCount = stage.shards;
      const alarmGroupCount = stageAlarmGroups(stage)!;
      // A shard that no secret hashes to is left out: CloudFormation refuses a template without
      // resources. The first secret that hashes to it creates it.
      this.shards = assignShards(stage.secrets, shardCount, (secret) => secret.name).flatMap((secrets, index) =>
        secrets.length === 0
          ? []
          : [
              new SecretShard(this, shardId(index), {
                ...secretsProps,
                secrets,
                index,
                shardCount,
                rotationAccess: access.rotationPolicy,
                alarmGroups: { count: alarmGroupCount, stageThresholds: stage.alarms },
              }),
            ],
      );
      contents = this.shards.map((shard) => shard.contents);
      // In the stage's own stack, apart from the shards: a stage needs more shards as it grows, but
      // no more alarms. Adding a secret at the stage's thresholds changes no alarm.
      const groups = assignAlarmGroups(stage.secrets, alarmGroupCount, (secret) => secret.name);
      this.alarmGroups = groups.map(
        (secrets, group) =>
          new AlarmGroupAlarms(this, alarmGroupId(group), {
            stage: stage.name,
            group,
            thresholds: stage.alarms,
            excludedSecretNames: secrets
              .filter((secret) => ownsAlarms(secret.alarms, stage.alarms))
              .map((secret) => fullSecretName(stage, secret)),
            alarmAction: notify,
          }),
      );
    }
    // In config order, whichever shard holds each secret.
    const byName = new Map(
      contents.flatMap(({ secrets, alarms }) =>
        secrets.map((secret, index) => [secret.secretName, { secret, alarms: alarms[index]! }] as const),
      ),
    );
    const ordered = stage.secrets.map((secret) => byName.get(fullSecretName(stage, secret))!);
    this.secrets = ordered.map(({ secret }) => secret);
    this.secretAlarms = ordered.map(({ alarms }) => alarms);
    // Overlap-mode GitLab tokens are revoked at GitLab when their grace ends, with the manager's token.
    const secretsByName = new Map(
      stage.secrets.map((secret, index) => [fullSecretName(stage, secret), this.secrets[index]!]),
    );
    // Every GitLab secret's retired versions are read at retirement, self-mode ones included: the
    // document says whether there is anything left to revoke.
    stage.secrets.forEach((secret, index) => {
      if (secret.gitlab === undefined) return;
      const manager =
        secret.gitlab.managerSecret === undefined ? undefined : secretsByName.get(secret.gitlab.managerSecret);
      if (manager === undefined) {
        this.retireFunction.grantReadRetiredVersions(this.secrets[index]!.secret, this.encryptionKey);
      } else {
        this.retireFunction.grantRevokeAtIssuer(this.secrets[index]!.secret, manager.secret, this.encryptionKey);
      }
    });
    if (stage.secrets.some((secret) => secret.gitlab?.managerSecret !== undefined)) {
      // A token Rotor failed to revoke at GitLab stays valid there: the sweep retries, people are told.
      new cloudwatch.Alarm(this, 'RevocationFailedAlarm', {
        alarmName: `rotor-${stage.name}-revocation-failed`,
        alarmDescription: `Rotor ${stage.name}: a rotated-out token could not be revoked at its issuer (the retire sweep retries every 5 minutes; see the retire function's log)`,
        metric: new cloudwatch.Metric({
          namespace: METRICS_NAMESPACE,
          metricName: MetricName.RevocationFailed,
          dimensionsMap: { [STAGE_DIMENSION]: stage.name },
          statistic: cloudwatch.Stats.SUM,
          period: Duration.minutes(5),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(notify);
    }
    const schedules = new Map(contents.flatMap(({ accessTokenRefreshSchedules }) => [...accessTokenRefreshSchedules]));
    this.accessTokenRefreshSchedules = new Map(
      stage.secrets.flatMap((secret) => {
        const schedule = schedules.get(secret.name);
        return schedule === undefined ? [] : [[secret.name, schedule] as const];
      }),
    );

    this.consumers = new CiConsumers(this, 'Consumers', {
      stage: stage.name,
      consumers: stage.consumers,
      oidcProviders: stage.oidcProviders,
      secrets: new Map(stage.secrets.map((secret, index) => [secret.name, this.secrets[index]!])),
    });

    this.dashboard = new RotorDashboard(this, 'Dashboard', {
      stage: stage.name,
      // A sharded stage is shown as a fleet: a row per secret would not fit, and would tie the
      // stage's template to every secret's alarms.
      secrets:
        stage.shards === undefined
          ? this.secrets.map((secret, index) => ({ secret, alarms: this.secretAlarms[index]! }))
          : [],
      ...(stage.shards === undefined ? {} : { fleetSecretNamePrefix: stage.secretNamePrefix }),
      functions: {
        rotation: this.rotationFunction.function,
        verifier: this.verifierFunction.function,
        retire: this.retireFunction.function,
        'health-check': this.healthCheckFunction.function,
        rollback: this.rollbackFunction.function,
        'rotation-events': this.rotationEventsFunction.function,
      },
    });

    new CfnOutput(this, RotorStackOutput.rotationFunctionName, {
      description: "Lambda function that Secrets Manager invokes to rotate this stage's secrets",
      value: this.rotationFunction.function.functionName,
    });
    new CfnOutput(this, RotorStackOutput.rotationLogGroupName, {
      description: 'CloudWatch log group of the rotation function',
      value: this.rotationFunction.logGroup.logGroupName,
    });
    if (stage.shards === undefined) {
      new CfnOutput(this, RotorStackOutput.secretNames, {
        description: "Comma-separated full names of this stage's rotated secrets",
        value: stage.secrets.map((secret) => fullSecretName(stage, secret)).join(','),
      });
    } else {
      // Thousands of names would not fit an output, and would change the stage's template with
      // every secret added to a shard.
      new CfnOutput(this, RotorStackOutput.secretNamePrefix, {
        description: 'Prefix of the names of every rotated secret of this sharded stage, each tagged rotor:stage',
        value: stage.secretNamePrefix,
      });
    }
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
    new CfnOutput(this, RotorStackOutput.alertTopicArn, {
      description: 'SNS topic that Rotor alarms and paused rotations notify; subscribe to it',
      value: this.alertTopic.topic.topicArn,
    });
    new CfnOutput(this, RotorStackOutput.dashboardName, {
      description: "CloudWatch dashboard of this stage's rotations, health checks, reuse, rollbacks and alarms",
      value: this.dashboard.dashboard.dashboardName,
    });
    if (this.consumers.roles.size > 0) {
      new CfnOutput(this, CONSUMER_ROLE_ARNS_OUTPUT, {
        description: 'Comma-separated <consumer>=<role ARN> of the roles CI jobs assume with their OIDC token',
        value: [...this.consumers.roles].map(([name, consumer]) => `${name}=${consumer.role.roleArn}`).join(','),
      });
    }
  }
}
