import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoDbLedger } from '../adapters/dynamodb-ledger';
import { EventBridgeRotationStatus } from '../adapters/eventbridge-rotation-status';
import { pepperedFingerprinter } from '../adapters/pepper-source';
import { rotorProviderRegistry } from '../adapters/rotor-provider-registry';
import { endpointPolicyFromEnvironment } from '../core/providers/endpoint-policy';
import { SchedulerRetirements } from '../adapters/scheduler-retirements';
import { SecretsManagerStore } from '../adapters/secrets-manager-store';
import { SnsPauseAlerts } from '../adapters/sns-pause-alerts';
import { answerAlarm, type AlarmAnswer, type RollbackDependencies } from '../core/rollback/answer-alarm';
import { HealthAndRollbackEnv, MetricName, RotorEnv } from '../shared/rotor-constants';
import { durationSettings, healthAndRollbackSettings, requiredSetting } from '../shared/rotor-settings';
import { MAX_ALARM_GROUPS } from '../shared/alarm-group-of';
import { createLogger, SecretMetrics } from '../shared/telemetry';

const logger = createLogger('rotor-rollback');
const metrics = new SecretMetrics('rotor-rollback');

// A claimed attempt keeps twin deliveries away for the function's remaining time plus this: past
// it, the attempt is presumed dead and a redelivery carries it out again.
const LEASE_MARGIN_MS = 30_000;
const DEFAULT_REMAINING_MS = 60_000;

type Settled = Omit<RollbackDependencies, 'leaseMs'>;

function buildDependencies(): Settled {
  const secretsManager = new SecretsManagerClient({});
  const durations = durationSettings();
  const settings = healthAndRollbackSettings();
  return {
    store: new SecretsManagerStore(secretsManager),
    providers: rotorProviderRegistry(
      secretsManager,
      requiredSetting(RotorEnv.secretNamePrefix),
      endpointPolicyFromEnvironment(),
    ),
    ledger: new DynamoDbLedger({
      client: new DynamoDBClient({}),
      tableName: requiredSetting(RotorEnv.ledgerTable),
      auditRetentionSeconds: durations.auditRetentionSeconds,
    }),
    fingerprinter: pepperedFingerprinter(secretsManager, requiredSetting(RotorEnv.pepperSecretArn)),
    retirements: new SchedulerRetirements(new SchedulerClient({}), {
      groupName: requiredSetting(RotorEnv.scheduleGroup),
      retireFunctionArn: requiredSetting(RotorEnv.retireFunctionArn),
      roleArn: requiredSetting(RotorEnv.schedulerRoleArn),
    }),
    // A pause nobody hears of is worse than no rollback: without the topic, the function refuses to start.
    alerts: new SnsPauseAlerts(new SNSClient({}), requiredSetting(HealthAndRollbackEnv.alertTopicArn)),
    events: new EventBridgeRotationStatus(new EventBridgeClient({}), requiredSetting(RotorEnv.eventBusName)),
    stage: {
      name: requiredSetting(RotorEnv.stage),
      secretNamePrefix: requiredSetting(RotorEnv.secretNamePrefix),
      ...alarmGroupCountSetting(),
    },
    policy: {
      maxAttempts: settings.maxRollbackAttempts,
      windowMs: settings.rollbackIncidentWindowSeconds * 1000,
    },
    reuseMemorySeconds: durations.reuseMemorySeconds,
    now: Date.now,
  };
}

/** `ROTOR_ALARM_GROUP_COUNT` when the stage is sharded; a value that is not a group count stops the function. */
function alarmGroupCountSetting(): { alarmGroupCount?: number } {
  const value = process.env[RotorEnv.alarmGroupCount];
  if (value === undefined || value === '') return {};
  const alarmGroupCount = Number(value);
  if (!Number.isInteger(alarmGroupCount) || alarmGroupCount < 1 || alarmGroupCount > MAX_ALARM_GROUPS) {
    throw new Error(`${RotorEnv.alarmGroupCount} must be a whole number from 1 to ${MAX_ALARM_GROUPS}, got "${value}"`);
  }
  return { alarmGroupCount };
}

let dependencies: Settled | undefined;

/**
 * Invoked by the EventBridge rule on "CloudWatch Alarm State Change" of the stage's rotation and
 * health-check alarms (and, in a sharded stage, on "CloudWatch Alarm Contributor State Change" of
 * its alarm groups' alarms of those kinds): moves AWSCURRENT back to the previous credential when it is still usable,
 * or pauses rotation (see `answerAlarm`). One log line per event; anything that is not this
 * stage's alarm going into ALARM is ignored with its reason and changes nothing.
 */
export const handler = async (
  event: unknown,
  context?: { getRemainingTimeInMillis?: () => number },
): Promise<AlarmAnswer> => {
  let answer: AlarmAnswer;
  try {
    dependencies ??= buildDependencies();
    const leaseMs = (context?.getRemainingTimeInMillis?.() ?? DEFAULT_REMAINING_MS) + LEASE_MARGIN_MS;
    answer = await answerAlarm(event, { ...dependencies, leaseMs });
  } catch (error) {
    logger.error('rollback failed', error as Error);
    throw error;
  }
  switch (answer.outcome) {
    case 'ignored':
      logger.info('alarm ignored', { ...answer });
      break;
    case 'rolled-back':
      if (answer.recorded) metrics.publish(answer.secretName, { [MetricName.RollbackPerformed]: 1 });
      logger.warn('rolled back', { ...answer });
      break;
    case 'paused':
      logger.error('rotation paused', { ...answer });
      break;
  }
  return answer;
};
