import {
  ROLLBACK_ALARM_KINDS,
  RotorAlarmKind,
  rotorAlarmName,
  rotorAlarmGroupAlarmName,
  SECRET_NAME_DIMENSION,
} from '../../shared/rotor-constants';
import { alarmGroupOf } from '../../shared/alarm-group-of';

/**
 * The parts of an EventBridge "CloudWatch Alarm State Change" event the rollback reads:
 *
 * ```json
 * { "id": "...", "detail-type": "CloudWatch Alarm State Change", "source": "aws.cloudwatch",
 *   "time": "2030-01-01T12:00:00Z", "resources": ["arn:aws:cloudwatch:...:alarm:NAME"],
 *   "detail": { "alarmName": "NAME",
 *     "state": { "value": "ALARM", "timestamp": "2030-01-01T12:00:00.123+0000", "reason": "..." },
 *     "previousState": { "value": "OK", ... },
 *     "configuration": { "metrics": [{ "id": "...", "metricStat": { "metric": {
 *       "namespace": "Rotor", "name": "HealthCheckFailed", "dimensions": { "SecretName": "..." } },
 *       "period": 60, "stat": "Sum" }, "returnData": true }] } } }
 * ```
 *
 * or a "CloudWatch Alarm Contributor State Change" event of a Metrics Insights alarm over many
 * time series (an alarm group's alarm), one per secret that changes state, with no `previousState`:
 *
 * ```json
 * { "id": "...", "detail-type": "CloudWatch Alarm Contributor State Change", "source": "aws.cloudwatch",
 *   "time": "2030-01-01T12:00:00Z", "resources": ["arn:aws:cloudwatch:...:alarm:NAME"],
 *   "detail": { "alarmName": "NAME",
 *     "alarmContributor": { "id": "6d442278dba546f6", "attributes": { "SecretName": "..." } },
 *     "state": { "value": "ALARM", "timestamp": "2030-01-01T12:00:00.123+0000", "reason": "..." },
 *     "configuration": { "metrics": [{ "id": "...", "expression": "SELECT SUM(...) ... GROUP BY SecretName",
 *       "period": 60, "returnData": true }] } } }
 * ```
 */
export interface AlarmStateChange {
  /** EventBridge's event id: the same for every delivery of one event. */
  readonly eventId: string;
  readonly time: string;
  readonly alarmName: string;
  readonly alarmArn?: string;
  readonly state: string;
  /** When the alarm changed state: the same for every event about this one change. */
  readonly stateTimestamp?: string;
  readonly previousState?: string;
  /**
   * The distinct values of the `SecretName` dimension on the alarm's metrics, or of the
   * contributor's `SecretName` attribute.
   */
  readonly secretNames: readonly string[];
  /** The contributor's id, for a contributor state change: one per time series (secret) of the alarm. */
  readonly contributorId?: string;
}

/** Whether an alarm state change is this stage's to roll back, and of which secret. */
export type AlarmScope =
  | {
      readonly kind: 'ours';
      readonly secretName: string;
      readonly alarmKind: RotorAlarmKind;
      /** Identity of the state change (`<alarm name>@<state timestamp>`): the dedupe key. */
      readonly alarmKey: string;
    }
  | { readonly kind: 'ignored'; readonly reason: string };

const DETAIL_TYPE = 'CloudWatch Alarm State Change';
const CONTRIBUTOR_DETAIL_TYPE = 'CloudWatch Alarm Contributor State Change';

/** The alarm or contributor state change in `event`, or undefined when `event` is neither. */
export function readAlarmStateChange(event: unknown): AlarmStateChange | undefined {
  if (!isRecord(event) || !isRecord(event.detail)) return undefined;
  if (event['detail-type'] === CONTRIBUTOR_DETAIL_TYPE) return readContributorStateChange(event, event.detail);
  if (event['detail-type'] !== DETAIL_TYPE) return undefined;
  const { detail } = event;
  const state = isRecord(detail.state) ? detail.state : {};
  if (typeof detail.alarmName !== 'string' || typeof state.value !== 'string') return undefined;
  const previous = isRecord(detail.previousState) ? detail.previousState.value : undefined;
  const alarmArn = Array.isArray(event.resources) ? event.resources.find((r) => typeof r === 'string') : undefined;
  return {
    eventId: typeof event.id === 'string' ? event.id : '',
    time: typeof event.time === 'string' ? event.time : '',
    alarmName: detail.alarmName,
    state: state.value,
    ...(typeof state.timestamp === 'string' ? { stateTimestamp: state.timestamp } : {}),
    ...(typeof previous === 'string' ? { previousState: previous } : {}),
    ...(typeof alarmArn === 'string' ? { alarmArn } : {}),
    secretNames: secretNamesOf(detail.configuration),
  };
}

function readContributorStateChange(
  event: Record<string, unknown>,
  detail: Record<string, unknown>,
): AlarmStateChange | undefined {
  const state = isRecord(detail.state) ? detail.state : {};
  const contributor = isRecord(detail.alarmContributor) ? detail.alarmContributor : undefined;
  if (typeof detail.alarmName !== 'string' || typeof state.value !== 'string' || contributor === undefined) {
    return undefined;
  }
  if (typeof contributor.id !== 'string' || contributor.id === '') return undefined;
  const attributes = isRecord(contributor.attributes) ? contributor.attributes : {};
  const secretName = attributes[SECRET_NAME_DIMENSION];
  const alarmArn = Array.isArray(event.resources) ? event.resources.find((r) => typeof r === 'string') : undefined;
  return {
    eventId: typeof event.id === 'string' ? event.id : '',
    time: typeof event.time === 'string' ? event.time : '',
    alarmName: detail.alarmName,
    state: state.value,
    ...(typeof state.timestamp === 'string' ? { stateTimestamp: state.timestamp } : {}),
    ...(typeof alarmArn === 'string' ? { alarmArn } : {}),
    secretNames: typeof secretName === 'string' && secretName !== '' ? [secretName] : [],
    contributorId: contributor.id,
  };
}

/**
 * Decides whether the rollback acts on a state change: only into `ALARM`, only for an alarm named
 * `rotor-<stage>-<kind>-<secret>` of a kind that rolls back, whose name matches its `SecretName`
 * dimension exactly (so no other alarm can point the rollback at a secret), for a secret under the
 * stage's prefix. Anything else is ignored, with the reason.
 */
export function scopeAlarm(
  change: AlarmStateChange,
  stage: { readonly name: string; readonly secretNamePrefix: string; readonly alarmGroupCount?: number },
): AlarmScope {
  if (change.state !== 'ALARM') return ignored(`alarm ${change.alarmName} went to ${change.state}, not ALARM`);
  if (!change.alarmName.startsWith(`rotor-${stage.name}-`)) {
    return ignored(`alarm ${change.alarmName} is not one of stage ${stage.name}'s alarms`);
  }
  if (change.secretNames.length !== 1) {
    const what =
      change.contributorId === undefined ? 'SecretName dimension' : 'contributor with a SecretName attribute';
    return ignored(`alarm ${change.alarmName} has ${change.secretNames.length === 0 ? 'no' : 'more than one'} ${what}`);
  }
  const secretName = change.secretNames[0]!;
  if (change.contributorId !== undefined) return scopeContributor(change, secretName, stage);
  const alarmKind = ROLLBACK_ALARM_KINDS.find(
    (kind) => rotorAlarmName(stage.name, kind, secretName) === change.alarmName,
  );
  if (alarmKind === undefined) {
    return ignored(
      rotorAlarmName(stage.name, RotorAlarmKind.reuseDetected, secretName) === change.alarmName
        ? `alarm ${change.alarmName} is a reuse alarm: the verifier answers reuse, not the rollback`
        : `alarm ${change.alarmName} is not the rotation or health-check alarm of its SecretName ${secretName}`,
    );
  }
  if (!secretName.startsWith(stage.secretNamePrefix)) {
    return ignored(
      `secret ${secretName} is outside stage ${stage.name} (names start with '${stage.secretNamePrefix}')`,
    );
  }
  return { kind: 'ours', secretName, alarmKind, alarmKey: alarmKeyOf(change) };
}

/**
 * A contributor (one secret) of an alarm group's Metrics Insights alarm entered ALARM: ours only
 * when the stage is sharded, the secret is under its prefix, and the alarm is the rotation or
 * health-check alarm of the group the secret's name hashes to (so no other alarm can point the
 * rollback at it).
 */
function scopeContributor(
  change: AlarmStateChange,
  secretName: string,
  stage: { readonly name: string; readonly secretNamePrefix: string; readonly alarmGroupCount?: number },
): AlarmScope {
  if (stage.alarmGroupCount === undefined) {
    return ignored(`alarm ${change.alarmName} is an alarm group's alarm, but stage ${stage.name} is not sharded`);
  }
  if (!secretName.startsWith(stage.secretNamePrefix)) {
    return ignored(
      `secret ${secretName} is outside stage ${stage.name} (names start with '${stage.secretNamePrefix}')`,
    );
  }
  const group = alarmGroupOf(secretName.slice(stage.secretNamePrefix.length), stage.alarmGroupCount);
  const alarmKind = ROLLBACK_ALARM_KINDS.find(
    (kind) => rotorAlarmGroupAlarmName(stage.name, kind, group) === change.alarmName,
  );
  if (alarmKind === undefined) {
    return ignored(
      rotorAlarmGroupAlarmName(stage.name, RotorAlarmKind.reuseDetected, group) === change.alarmName
        ? `alarm ${change.alarmName} is a reuse alarm: the verifier answers reuse, not the rollback`
        : `alarm ${change.alarmName} is not the rotation or health-check alarm of alarm group ${group}, which holds ${secretName}`,
    );
  }
  return { kind: 'ours', secretName, alarmKind, alarmKey: alarmKeyOf(change) };
}

/** `<alarm name>@<state timestamp>`: the same for every delivery of one change; the ledger keeps it per secret. */
function alarmKeyOf(change: AlarmStateChange): string {
  const when = change.stateTimestamp ?? change.time;
  return when === '' ? `${change.alarmName}#${change.eventId}` : `${change.alarmName}@${when}`;
}

function secretNamesOf(configuration: unknown): string[] {
  const metrics = isRecord(configuration) && Array.isArray(configuration.metrics) ? configuration.metrics : [];
  const names = new Set<string>();
  for (const query of metrics) {
    const metric = isRecord(query) && isRecord(query.metricStat) ? query.metricStat.metric : undefined;
    const dimensions = isRecord(metric) ? metric.dimensions : undefined;
    const name = isRecord(dimensions) ? dimensions.SecretName : undefined;
    if (typeof name === 'string' && name !== '') names.add(name);
  }
  return [...names];
}

function ignored(reason: string): AlarmScope {
  return { kind: 'ignored', reason };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
