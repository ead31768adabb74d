import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { randomBytes } from 'node:crypto';
import type {
  AuditEvent,
  AuditEventType,
  CredentialRecord,
  CredentialState,
  ReuseResponse,
  RollbackClaim,
  RollbackPlan,
  SecretLedgerState,
  SecretStatus,
  StoredAuditEvent,
} from '../core/ledger/ledger-records';
import type { JournalRecord, SideEffectJournalEntry } from '../core/providers/side-effect-journal';
import { LedgerSchema } from '../shared/rotor-constants';

/**
 * The ledger's item layout (DESIGN section 4): key builders, the attribute names the
 * conditional writes test, and the mapping between items and the core's records. Kept apart
 * from the adapter so that the layout can be read in one place.
 */

/** A DynamoDB item as the document client returns it. */
export type LedgerItem = Record<string, unknown>;

/** One write of a TransactWriteItems. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A put that fits both PutItem and a transaction's Put. */
export interface ItemPut {
  readonly TableName: string;
  readonly Item: LedgerItem;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

/** What item builders need to know about the table. */
export interface LedgerTable {
  readonly name: string;
  readonly auditRetentionSeconds: number;
}

/** Value of `graceIndex` on a previous credential: the sparse GSI's only partition. */
export const GRACE_INDEX_PREVIOUS = 'PREVIOUS';

/** What each item is, so that a scan of the table reads without guessing from key prefixes. */
export const ItemKind = {
  credential: 'credential',
  secretState: 'secret-state',
  auditEvent: 'audit-event',
  journalClaim: 'journal-claim',
} as const;

export const AUDIT_SORT_KEY_PREFIX = 'EVENT#';

export function credentialKey(fingerprint: string): LedgerItem {
  return { [LedgerSchema.partitionKey]: `TOKEN#${fingerprint}`, [LedgerSchema.sortKey]: 'TOKEN' };
}

export function secretStateKey(secretArn: string): LedgerItem {
  return { [LedgerSchema.partitionKey]: secretPartition(secretArn), [LedgerSchema.sortKey]: 'STATE' };
}

/**
 * A journal entry: `SPENT#<fingerprint>` for an action that spends a single-use credential (so no
 * rotation of the secret may spend it again), `JOURNAL#<version id>` for one action per rotation.
 */
export function journalEntryKey(entry: SideEffectJournalEntry): LedgerItem {
  const sortKey = entry.spends === undefined ? `JOURNAL#${entry.versionId}` : `SPENT#${entry.spends}`;
  return { [LedgerSchema.partitionKey]: secretPartition(entry.secretArn), [LedgerSchema.sortKey]: sortKey };
}

/** What an existing journal entry says; an item lost to a race reads as a fresh in-flight claim. */
export function toJournalRecord(
  item: LedgerItem | undefined,
  entry: SideEffectJournalEntry,
  now: number,
): JournalRecord {
  const lostRetryAt = item?.lostRetryAt;
  return {
    versionId: typeof item?.versionId === 'string' ? item.versionId : entry.versionId,
    action: typeof item?.action === 'string' ? item.action : entry.action,
    claimedAt: typeof item?.claimedAt === 'number' ? item.claimedAt : now,
    outcome: item?.outcome === 'rejected' ? 'rejected' : 'in-flight',
    ...(typeof lostRetryAt === 'number' ? { lostRetryAt } : {}),
  };
}

/** Sorts by time (ISO-8601 with milliseconds), then by id: ids are ordered within a process. */
export function auditKey(secretArn: string, at: number, id: string): LedgerItem {
  return {
    [LedgerSchema.partitionKey]: secretPartition(secretArn),
    [LedgerSchema.sortKey]: `${AUDIT_SORT_KEY_PREFIX}${new Date(at).toISOString()}#${id}`,
  };
}

export function secretPartition(secretArn: string): string {
  return `${LedgerSchema.secretPartitionPrefix}${secretArn}`;
}

/** TTL attribute compared in epoch seconds, as DynamoDB's TTL does. */
export function epochSeconds(epochMs: number): number {
  return Math.floor(epochMs / 1000);
}

/** True when the item's TTL has passed: DynamoDB deletes lazily, so reads must check. */
export function isExpired(item: LedgerItem, now: number): boolean {
  const expiresAt = item[LedgerSchema.ttlAttribute];
  return typeof expiresAt === 'number' && expiresAt <= epochSeconds(now);
}

/**
 * Collects the placeholders of one request's expressions as they are used. DynamoDB refuses
 * a request that declares a name or value its expressions do not use, so declaring them at the
 * point of use is what keeps conditional branches of an expression valid. Every attribute goes
 * through `#name`: several (`state`, `status`) are reserved words.
 */
export class Expressions {
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, unknown> = {};

  /** `#attribute`. */
  name(attribute: string): string {
    const placeholder = `#${attribute}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  /** A fresh `:vN` placeholder bound to `value`. */
  value(value: unknown): string {
    const placeholder = `:v${Object.keys(this.values).length}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  /** The item exists and its TTL has not passed at `now`. */
  live(now: number): string {
    const ttl = this.name(LedgerSchema.ttlAttribute);
    return `attribute_exists(${this.name(LedgerSchema.partitionKey)}) AND (attribute_not_exists(${ttl}) OR ${ttl} > ${this.value(epochSeconds(now))})`;
  }

  /** The item is absent, or expired at `now`: the two cases every read treats alike. */
  absentOrExpired(now: number): string {
    return `attribute_not_exists(${this.name(LedgerSchema.partitionKey)}) OR ${this.name(LedgerSchema.ttlAttribute)} <= ${this.value(epochSeconds(now))}`;
  }

  /** The request parameters, leaving out empty maps (which DynamoDB also refuses). */
  parameters(): {
    ExpressionAttributeNames?: Record<string, string>;
    ExpressionAttributeValues?: Record<string, unknown>;
  } {
    return {
      ...(Object.keys(this.names).length === 0 ? {} : { ExpressionAttributeNames: { ...this.names } }),
      ...(Object.keys(this.values).length === 0 ? {} : { ExpressionAttributeValues: { ...this.values } }),
    };
  }
}

let idSequence = 0;

/**
 * Default id: a per-process sequence then random bits. Audit events appended by one process
 * within the same millisecond therefore read back in the order they were appended. At most
 * 36 characters, so it can also serve as a transaction's ClientRequestToken.
 */
export function sequentialId(): string {
  idSequence += 1;
  return idSequence.toString(16).padStart(12, '0') + randomBytes(8).toString('hex');
}

const FINGERPRINT_SHAPE = /^[0-9a-f]{64}$/;
const FINGERPRINT_PREFIX_SHAPE = /^[0-9a-f]{1,12}$/;

/** Thrown when something that should be a fingerprint is not: the ledger refuses to store it. */
export class NotAFingerprintError extends Error {
  constructor(what: string, value: unknown) {
    // Never echo the value: a bug that passes a credential here must not leak it into logs.
    const shape = typeof value === 'string' ? `a string of ${value.length} characters` : typeof value;
    super(`${what} must be a fingerprint (64 lower-case hex characters), got ${shape}`);
    this.name = 'NotAFingerprintError';
  }
}

/** Refuses anything but a fingerprint, so a caller that passes a token by mistake cannot store it. */
export function assertFingerprint(value: unknown, what = 'fingerprint'): asserts value is string {
  if (typeof value !== 'string' || !FINGERPRINT_SHAPE.test(value)) throw new NotAFingerprintError(what, value);
}

/** The audit trail shows at most a fingerprint's first 12 hex digits. */
export function assertFingerprintPrefix(value: unknown): void {
  if (typeof value !== 'string' || !FINGERPRINT_PREFIX_SHAPE.test(value)) {
    throw new NotAFingerprintError('fingerprintPrefix (at most 12 hex characters of a fingerprint)', value);
  }
}

/** Thrown when an item lacks an attribute its kind always has: the table was edited by hand or by a bug. */
export class MalformedLedgerItemError extends Error {
  constructor(item: LedgerItem, attribute: string) {
    super(
      `ledger item ${String(item[LedgerSchema.partitionKey])}/${String(item[LedgerSchema.sortKey])} has no ${attribute}`,
    );
    this.name = 'MalformedLedgerItemError';
  }
}

/**
 * The put of one audit event, with its TTL (the event's time plus the audit retention).
 * @throws NotAFingerprintError when `fingerprintPrefix` is more than a fingerprint's first 12 hex digits.
 */
export function auditEventPut(table: LedgerTable, event: AuditEvent, id: string): ItemPut {
  if (event.fingerprintPrefix !== undefined) assertFingerprintPrefix(event.fingerprintPrefix);
  if (!Number.isFinite(event.at)) throw new Error(`audit event ${event.type} has no valid time`);
  const x = new Expressions();
  return {
    TableName: table.name,
    Item: {
      ...auditKey(event.secretArn, event.at, id),
      kind: ItemKind.auditEvent,
      id,
      secretArn: event.secretArn,
      secretName: event.secretName,
      type: event.type,
      at: event.at,
      ...(event.versionId === undefined ? {} : { versionId: event.versionId }),
      ...(event.fingerprintPrefix === undefined ? {} : { fingerprintPrefix: event.fingerprintPrefix }),
      ...(event.detail === undefined ? {} : { detail: { ...event.detail } }),
      [LedgerSchema.ttlAttribute]: epochSeconds(event.at) + table.auditRetentionSeconds,
    },
    // Ids are unique; the condition makes a collision an error instead of a lost event.
    ConditionExpression: `attribute_not_exists(${x.name(LedgerSchema.partitionKey)})`,
    ...x.parameters(),
  };
}

export function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

export function toCredentialRecord(item: LedgerItem): CredentialRecord {
  return {
    fingerprint: requiredString(item, 'fingerprint'),
    secretArn: requiredString(item, 'secretArn'),
    secretName: requiredString(item, 'secretName'),
    versionId: requiredString(item, 'versionId'),
    provider: requiredString(item, 'provider'),
    state: requiredString(item, 'state') as CredentialState,
    createdAt: requiredNumber(item, 'createdAt'),
    ...optionalNumbers(item, [
      'promotedAt',
      'supersededAt',
      'supersessionGraceEndsAt',
      'graceEndsAt',
      'retiredAt',
      'revokedAt',
      'graceUsedAt',
      'reuseReportedAt',
      LedgerSchema.ttlAttribute,
    ]),
  };
}

export function toSecretLedgerState(item: LedgerItem): SecretLedgerState {
  return {
    secretArn: requiredString(item, 'secretArn'),
    secretName: requiredString(item, 'secretName'),
    generation: requiredNumber(item, 'generation'),
    status: requiredString(item, 'status') as SecretStatus,
    onReuse: requiredString(item, 'onReuse') as ReuseResponse,
    ...optionalStrings(item, [
      'currentVersionId',
      'currentFingerprint',
      'previousVersionId',
      'previousFingerprint',
      'pendingVersionId',
      'pendingFingerprint',
    ]),
    ...optionalNumbers(item, ['previousGraceEndsAt']),
    ...(typeof item.pausedAt === 'number'
      ? {
          pause: {
            pausedAt: item.pausedAt,
            reason: typeof item.pauseReason === 'string' ? item.pauseReason : '',
            pausedBy: typeof item.pausedBy === 'string' ? item.pausedBy : '',
          },
        }
      : {}),
    ...(typeof item.rollbackAttempts === 'number'
      ? {
          rollback: {
            attempts: item.rollbackAttempts,
            startedAt: numberOr(item.rollbackIncidentStartedAt, 0),
            lastAttemptAt: numberOr(item.rollbackLastAttemptAt, 0),
          },
        }
      : {}),
    ...(isPlainRecord(item.rollbackClaim) ? { rollbackClaim: toRollbackClaim(item.rollbackClaim) } : {}),
    ...(Array.isArray(item.handledAlarms)
      ? { handledAlarms: item.handledAlarms.filter((key): key is string => typeof key === 'string') }
      : {}),
  };
}

/**
 * The `rollbackClaim` map of a secret state, flat: `claimId`, `alarmKey`, `alarmName`, `action`,
 * `attempt`, `incidentStartedAt`, `claimedAt`, `leaseUntil`, and the plan's `fromVersionId`,
 * `fromFingerprint`, `toVersionId`, `toFingerprint` (rollback; restore has no `fromFingerprint`) or
 * `reason` (pause).
 */
export function rollbackClaimAttribute(claim: RollbackClaim): LedgerItem {
  const { plan } = claim;
  return {
    claimId: claim.claimId,
    alarmKey: claim.alarmKey,
    alarmName: claim.alarmName,
    action: plan.action,
    attempt: claim.attempt,
    incidentStartedAt: claim.incidentStartedAt,
    claimedAt: claim.claimedAt,
    leaseUntil: claim.leaseUntil,
    ...(plan.action === 'rollback'
      ? {
          fromVersionId: plan.from.versionId,
          fromFingerprint: plan.from.fingerprint,
          toVersionId: plan.to.versionId,
          toFingerprint: plan.to.fingerprint,
        }
      : plan.action === 'restore'
        ? { fromVersionId: plan.from.versionId, toVersionId: plan.to.versionId, toFingerprint: plan.to.fingerprint }
        : { reason: plan.reason }),
  };
}

function toRollbackClaim(item: LedgerItem): RollbackClaim {
  const plan: RollbackPlan =
    item.action === 'rollback'
      ? {
          action: 'rollback',
          from: {
            versionId: requiredString(item, 'fromVersionId'),
            fingerprint: requiredString(item, 'fromFingerprint'),
          },
          to: { versionId: requiredString(item, 'toVersionId'), fingerprint: requiredString(item, 'toFingerprint') },
        }
      : item.action === 'restore'
        ? {
            action: 'restore',
            from: { versionId: requiredString(item, 'fromVersionId') },
            to: { versionId: requiredString(item, 'toVersionId'), fingerprint: requiredString(item, 'toFingerprint') },
          }
        : { action: 'pause', reason: typeof item.reason === 'string' ? item.reason : '' };
  return {
    claimId: requiredString(item, 'claimId'),
    alarmKey: requiredString(item, 'alarmKey'),
    alarmName: typeof item.alarmName === 'string' ? item.alarmName : '',
    plan,
    attempt: requiredNumber(item, 'attempt'),
    incidentStartedAt: requiredNumber(item, 'incidentStartedAt'),
    claimedAt: requiredNumber(item, 'claimedAt'),
    leaseUntil: requiredNumber(item, 'leaseUntil'),
  };
}

export function toStoredAuditEvent(item: LedgerItem): StoredAuditEvent {
  const detail = item.detail;
  return {
    id: requiredString(item, 'id'),
    secretArn: requiredString(item, 'secretArn'),
    secretName: requiredString(item, 'secretName'),
    type: requiredString(item, 'type') as AuditEventType,
    at: requiredNumber(item, 'at'),
    ...optionalStrings(item, ['versionId', 'fingerprintPrefix']),
    ...(isPlainRecord(detail) ? { detail: detail as Record<string, string | number | boolean> } : {}),
  };
}

function requiredString(item: LedgerItem, attribute: string): string {
  const value = item[attribute];
  if (typeof value !== 'string') throw new MalformedLedgerItemError(item, attribute);
  return value;
}

function requiredNumber(item: LedgerItem, attribute: string): number {
  const value = item[attribute];
  if (typeof value !== 'number') throw new MalformedLedgerItemError(item, attribute);
  return value;
}

function optionalStrings(item: LedgerItem, attributes: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    attributes.flatMap((attribute) => {
      const value = item[attribute];
      return typeof value === 'string' ? [[attribute, value]] : [];
    }),
  );
}

function optionalNumbers(item: LedgerItem, attributes: readonly string[]): Record<string, number> {
  return Object.fromEntries(
    attributes.flatMap((attribute) => {
      const value = item[attribute];
      return typeof value === 'number' ? [[attribute, value]] : [];
    }),
  );
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Set);
}

/** A transaction item that only checks a credential's state: the transaction rests on what was read. */
export function credentialStateCheck(table: LedgerTable, fingerprint: string, state: string): TransactItem {
  const x = new Expressions();
  return {
    ConditionCheck: {
      TableName: table.name,
      Key: credentialKey(fingerprint),
      ConditionExpression: `${x.name('state')} = ${x.value(state)}`,
      ...x.parameters(),
    },
  };
}
