import { fingerprintPrefix } from '../core/ledger/fingerprint';
import type {
  PauseRequest,
  RestoreRecord,
  ResumeRequest,
  RollbackClaimRequest,
  RollbackRecord,
} from '../core/ledger/ledger';
import { MAX_HANDLED_ALARMS } from '../core/ledger/ledger-records';
import { LedgerSchema } from '../shared/rotor-constants';
import {
  auditEventPut,
  credentialKey,
  Expressions,
  rollbackClaimAttribute,
  secretStateKey,
  type LedgerItem,
  type LedgerTable,
  type TransactItem,
  credentialStateCheck,
} from './dynamodb-ledger-items';

/**
 * The writes of automatic rollback on the ledger (issue 5), kept apart from the adapter so the
 * conditions can be read in one place. Every one of them is conditional on the secret state's
 * `rollbackClaim`: only the holder of a rollback attempt changes what the attempt decided.
 *
 * Secret state attributes: `rollbackClaim` (map, see `rollbackClaimAttribute`), the incident's
 * `rollbackAttempts`, `rollbackIncidentStartedAt` and `rollbackLastAttemptAt`, `handledAlarms`
 * (list of answered alarm state changes, newest last), `pausedAt`, `pauseReason`, `pausedBy`,
 * `resumedAt`, `resumedBy`. Each write also adds 1 to `revision`, so that a promotion racing it
 * (which is conditional on the revision it read) reads again instead of overwriting it.
 */

/** `handledAlarms` with `alarmKey` added last, the oldest dropped beyond {@link MAX_HANDLED_ALARMS}. */
export function withHandledAlarm(state: LedgerItem | undefined, alarmKey: string): string[] {
  const handled = Array.isArray(state?.handledAlarms)
    ? state.handledAlarms.filter((key): key is string => typeof key === 'string' && key !== alarmKey)
    : [];
  return [...handled, alarmKey].slice(-MAX_HANDLED_ALARMS);
}

/** The claim's one conditional update (see `DynamoDbLedger.claimRollback`). */
export function claimUpdate(request: RollbackClaimRequest): {
  update: string;
  condition: string;
  expressions: Expressions;
} {
  const x = new Expressions();
  const { expected } = request;
  const set = [`${x.name('rollbackClaim')} = ${x.value(rollbackClaimAttribute(request))}`];
  if (request.plan.action !== 'pause') set.push(`${x.name('status')} = ${x.value('rolling-back')}`);
  const equalOrAbsent = (attribute: string, value: unknown) =>
    value === undefined ? `attribute_not_exists(${x.name(attribute)})` : `${x.name(attribute)} = ${x.value(value)}`;
  const claim = x.name('rollbackClaim');
  const conditions = [
    `attribute_exists(${x.name(LedgerSchema.partitionKey)})`,
    `${x.name('status')} = ${x.value(expected.status)}`,
    equalOrAbsent('currentVersionId', expected.currentVersionId),
    equalOrAbsent('rollbackLastAttemptAt', expected.lastAttemptAt),
    expected.claimId === undefined
      ? `attribute_not_exists(${claim})`
      : `${claim}.${x.name('claimId')} = ${x.value(expected.claimId)}`,
    `(attribute_not_exists(${x.name('handledAlarms')}) OR NOT contains(${x.name('handledAlarms')}, ${x.value(request.alarmKey)}))`,
  ];
  return {
    update: `SET ${set.join(', ')} ADD ${x.name('revision')} ${x.value(1)}`,
    condition: conditions.join(' AND '),
    expressions: x,
  };
}

/** What `recordRollback` read (consistently; expired credentials as undefined) before writing. */
export interface RollbackReads {
  readonly state: LedgerItem | undefined;
  readonly from: LedgerItem | undefined;
  readonly to: LedgerItem | undefined;
}

/**
 * The one transaction of a performed rollback, each part conditional on what was read:
 *
 * 1. the state, on the claim and on its current version being `from`: `to` current, `from`
 *    previous (revoked, with no grace), status `active`, the incident's count, the claim removed
 *    and the alarm answered;
 * 2. `to`, only while previous: current again, off the grace index, with no grace end and no TTL
 *    (a current credential is accepted for as long as it is current);
 * 3. `from`, if current: revoked, kept until `revokedExpiresAt`; if it is already dead (the reason
 *    it failed its health check, perhaps), a ConditionCheck on that;
 * 4. a `rolled-back` audit event whose id is the claim's.
 */
export function rollbackTransaction(
  table: LedgerTable,
  rollback: RollbackRecord,
  reads: RollbackReads,
): TransactItem[] {
  const items: TransactItem[] = [rollbackStateUpdate(table, rollback, reads.state), restoreUpdate(table, rollback)];
  const fromState = reads.from?.secretArn === rollback.secretArn ? reads.from.state : undefined;
  if (fromState === 'current') items.push(revokeUpdate(table, rollback));
  else if (typeof fromState === 'string') items.push(credentialStateCheck(table, rollback.from.fingerprint, fromState));
  items.push({
    Put: auditEventPut(
      table,
      {
        secretArn: rollback.secretArn,
        secretName: rollback.secretName,
        type: 'rolled-back',
        at: rollback.now,
        versionId: rollback.to.versionId,
        fingerprintPrefix: fingerprintPrefix(rollback.to.fingerprint),
        detail: {
          fromVersionId: rollback.from.versionId,
          fromFingerprintPrefix: fingerprintPrefix(rollback.from.fingerprint),
          ...(typeof fromState === 'string' ? { fromState } : {}),
          alarm: rollback.alarmName,
          attempt: rollback.attempt,
        },
      },
      rollback.claimId,
    ),
  });
  return items;
}

function rollbackStateUpdate(
  table: LedgerTable,
  rollback: RollbackRecord,
  state: LedgerItem | undefined,
): TransactItem {
  const x = new Expressions();
  const set = [
    `${x.name('currentVersionId')} = ${x.value(rollback.to.versionId)}`,
    `${x.name('currentFingerprint')} = ${x.value(rollback.to.fingerprint)}`,
    `${x.name('previousVersionId')} = ${x.value(rollback.from.versionId)}`,
    `${x.name('previousFingerprint')} = ${x.value(rollback.from.fingerprint)}`,
    `${x.name('status')} = ${x.value('active')}`,
    `${x.name('rollbackAttempts')} = ${x.value(rollback.attempt)}`,
    `${x.name('rollbackIncidentStartedAt')} = ${x.value(rollback.incidentStartedAt)}`,
    `${x.name('rollbackLastAttemptAt')} = ${x.value(rollback.now)}`,
    `${x.name('handledAlarms')} = ${x.value(withHandledAlarm(state, rollback.alarmKey))}`,
  ];
  return {
    Update: {
      TableName: table.name,
      Key: secretStateKey(rollback.secretArn),
      UpdateExpression:
        `SET ${set.join(', ')} REMOVE ${x.name('rollbackClaim')}, ${x.name('previousGraceEndsAt')} ` +
        `ADD ${x.name('revision')} ${x.value(1)}`,
      ConditionExpression:
        `${x.name('rollbackClaim')}.${x.name('claimId')} = ${x.value(rollback.claimId)} AND ` +
        `${x.name('currentVersionId')} = ${x.value(rollback.from.versionId)}`,
      ...x.parameters(),
    },
  };
}

// The restored credential keeps its promotedAt (when it was first issued as current).
function restoreUpdate(table: LedgerTable, rollback: RollbackRecord): TransactItem {
  const x = new Expressions();
  return {
    Update: {
      TableName: table.name,
      Key: credentialKey(rollback.to.fingerprint),
      UpdateExpression:
        `SET ${x.name('state')} = ${x.value('current')}, ${x.name('restoredAt')} = ${x.value(rollback.now)}, ` +
        `${x.name('versionId')} = ${x.value(rollback.to.versionId)} ` +
        `REMOVE ${x.name(LedgerSchema.ttlAttribute)}, ${x.name(LedgerSchema.graceIndex.partitionKey)}, ` +
        `${x.name('graceEndsAt')}, ${x.name('supersededAt')}`,
      ConditionExpression:
        `${x.name('state')} = ${x.value('previous')} AND ${x.name('secretArn')} = ${x.value(rollback.secretArn)} ` +
        `AND ${x.live(rollback.now)}`,
      ...x.parameters(),
    },
  };
}

function revokeUpdate(table: LedgerTable, rollback: RollbackRecord): TransactItem {
  const x = new Expressions();
  return {
    Update: {
      TableName: table.name,
      Key: credentialKey(rollback.from.fingerprint),
      UpdateExpression:
        `SET ${x.name('state')} = ${x.value('revoked')}, ${x.name('revokedAt')} = ${x.value(rollback.now)}, ` +
        `${x.name('revokedBy')} = ${x.value(rollback.claimId)}, ${x.name('revokedReason')} = ${x.value('rolled-back')}, ` +
        `${x.name(LedgerSchema.ttlAttribute)} = ${x.value(rollback.revokedExpiresAt)} ` +
        `REMOVE ${x.name(LedgerSchema.graceIndex.partitionKey)}`,
      ConditionExpression: `${x.name('state')} = ${x.value('current')} AND ${x.live(rollback.now)}`,
      ...x.parameters(),
    },
  };
}

/**
 * The one transaction of an undone out-of-band change (`DynamoDbLedger.recordRestore`): the
 * credentials stay as they are (the ledger never knew the version written outside Rotor), so
 *
 * 1. the state, on the claim and on its current version still being `to`: status `active`, the
 *    incident's count, the claim removed and the alarm answered;
 * 2. a ConditionCheck that `to` is still this secret's live `current` credential;
 * 3. a `rolled-back` audit event with `cause: 'out-of-band-change'`, whose id is the claim's.
 */
export function restoreTransaction(
  table: LedgerTable,
  restore: RestoreRecord,
  state: LedgerItem | undefined,
): TransactItem[] {
  const x = new Expressions();
  const set = [
    `${x.name('status')} = ${x.value('active')}`,
    `${x.name('rollbackAttempts')} = ${x.value(restore.attempt)}`,
    `${x.name('rollbackIncidentStartedAt')} = ${x.value(restore.incidentStartedAt)}`,
    `${x.name('rollbackLastAttemptAt')} = ${x.value(restore.now)}`,
    `${x.name('handledAlarms')} = ${x.value(withHandledAlarm(state, restore.alarmKey))}`,
  ];
  const y = new Expressions();
  return [
    {
      Update: {
        TableName: table.name,
        Key: secretStateKey(restore.secretArn),
        UpdateExpression: `SET ${set.join(', ')} REMOVE ${x.name('rollbackClaim')} ADD ${x.name('revision')} ${x.value(1)}`,
        ConditionExpression:
          `${x.name('rollbackClaim')}.${x.name('claimId')} = ${x.value(restore.claimId)} AND ` +
          `${x.name('currentVersionId')} = ${x.value(restore.to.versionId)} AND ` +
          `${x.name('currentFingerprint')} = ${x.value(restore.to.fingerprint)}`,
        ...x.parameters(),
      },
    },
    {
      ConditionCheck: {
        TableName: table.name,
        Key: credentialKey(restore.to.fingerprint),
        ConditionExpression:
          `${y.name('state')} = ${y.value('current')} AND ${y.name('secretArn')} = ${y.value(restore.secretArn)} ` +
          `AND ${y.live(restore.now)}`,
        ...y.parameters(),
      },
    },
    {
      Put: auditEventPut(
        table,
        {
          secretArn: restore.secretArn,
          secretName: restore.secretName,
          type: 'rolled-back',
          at: restore.now,
          versionId: restore.to.versionId,
          fingerprintPrefix: fingerprintPrefix(restore.to.fingerprint),
          detail: {
            cause: 'out-of-band-change',
            fromVersionId: restore.from.versionId,
            alarm: restore.alarmName,
            attempt: restore.attempt,
          },
        },
        restore.claimId,
      ),
    },
  ];
}

/** The pause: status `paused` under the claim, and a `paused` audit event. */
export function pauseTransaction(table: LedgerTable, pause: PauseRequest, auditId: string): TransactItem[] {
  const x = new Expressions();
  return [
    {
      Update: {
        TableName: table.name,
        Key: secretStateKey(pause.secretArn),
        UpdateExpression:
          `SET ${x.name('status')} = ${x.value('paused')}, ${x.name('pausedAt')} = ${x.value(pause.now)}, ` +
          `${x.name('pauseReason')} = ${x.value(pause.reason)}, ${x.name('pausedBy')} = ${x.value(pause.alarmKey)} ` +
          `ADD ${x.name('revision')} ${x.value(1)}`,
        ConditionExpression:
          `${x.name('rollbackClaim')}.${x.name('claimId')} = ${x.value(pause.claimId)} AND ` +
          `${x.name('status')} <> ${x.value('paused')}`,
        ...x.parameters(),
      },
    },
    {
      Put: auditEventPut(
        table,
        {
          secretArn: pause.secretArn,
          secretName: pause.secretName,
          type: 'paused',
          at: pause.now,
          detail: { reason: pause.reason, alarm: pause.alarmKey },
        },
        auditId,
      ),
    },
  ];
}

/**
 * The claim's end: removed, its alarm answered, and a `rolling-back` status back to `active`;
 * conditional on the claim and on the status as read.
 */
export function releaseUpdate(
  state: LedgerItem,
  claimId: string,
  alarmKey: string,
): { update: string; condition: string; expressions: Expressions } {
  const x = new Expressions();
  const set = [`${x.name('handledAlarms')} = ${x.value(withHandledAlarm(state, alarmKey))}`];
  if (state.status === 'rolling-back') set.push(`${x.name('status')} = ${x.value('active')}`);
  return {
    update: `SET ${set.join(', ')} REMOVE ${x.name('rollbackClaim')} ADD ${x.name('revision')} ${x.value(1)}`,
    condition:
      `${x.name('rollbackClaim')}.${x.name('claimId')} = ${x.value(claimId)} AND ` +
      `${x.name('status')} = ${x.value(state.status)}`,
    expressions: x,
  };
}

/** Lifting a pause: status `active`, the incident and any claim gone, and a `resumed` audit event. */
export function resumeTransaction(
  table: LedgerTable,
  resume: ResumeRequest,
  state: LedgerItem,
  auditId: string,
): TransactItem[] {
  const x = new Expressions();
  const remove = [
    'pausedAt',
    'pauseReason',
    'pausedBy',
    'rollbackAttempts',
    'rollbackIncidentStartedAt',
    'rollbackLastAttemptAt',
    'rollbackClaim',
  ].map((attribute) => x.name(attribute));
  return [
    {
      Update: {
        TableName: table.name,
        Key: secretStateKey(resume.secretArn),
        UpdateExpression:
          `SET ${x.name('status')} = ${x.value('active')}, ${x.name('resumedAt')} = ${x.value(resume.now)}, ` +
          `${x.name('resumedBy')} = ${x.value(resume.by)} REMOVE ${remove.join(', ')} ` +
          `ADD ${x.name('revision')} ${x.value(1)}`,
        ConditionExpression: `${x.name('status')} = ${x.value('paused')}`,
        ...x.parameters(),
      },
    },
    {
      Put: auditEventPut(
        table,
        {
          secretArn: resume.secretArn,
          secretName: resume.secretName,
          type: 'resumed',
          at: resume.now,
          detail: {
            by: resume.by,
            ...(typeof state.pausedAt === 'number' ? { pausedAt: new Date(state.pausedAt).toISOString() } : {}),
            ...(typeof state.pauseReason === 'string' ? { pauseReason: state.pauseReason } : {}),
          },
        },
        auditId,
      ),
    },
  ];
}
