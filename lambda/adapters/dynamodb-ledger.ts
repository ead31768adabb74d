import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { fingerprintPrefix } from '../core/ledger/fingerprint';
import type {
  Ledger,
  PauseRequest,
  PendingCredential,
  Promotion,
  Supersession,
  ReauthorizationRequest,
  RestoreRecord,
  ResumeRequest,
  RollbackClaimRequest,
  RollbackRecord,
} from '../core/ledger/ledger';
import type { AuditEvent, CredentialRecord, SecretLedgerState, StoredAuditEvent } from '../core/ledger/ledger-records';
import type { JournalClaim, JournalRecord, SideEffectJournalEntry } from '../core/providers/side-effect-journal';
import { LedgerSchema } from '../shared/rotor-constants';
import {
  AUDIT_SORT_KEY_PREFIX,
  assertFingerprint,
  auditEventPut,
  credentialKey,
  epochSeconds,
  Expressions,
  GRACE_INDEX_PREVIOUS,
  isExpired,
  ItemKind,
  journalEntryKey,
  numberOr,
  secretPartition,
  secretStateKey,
  sequentialId,
  toCredentialRecord,
  toJournalRecord,
  toSecretLedgerState,
  toStoredAuditEvent,
  type LedgerItem,
  type LedgerTable,
  type TransactItem,
} from './dynamodb-ledger-items';
import { promotionOutcome, promotionTransaction } from './dynamodb-ledger-promotion';
import {
  claimUpdate,
  pauseTransaction,
  releaseUpdate,
  restoreTransaction,
  resumeTransaction,
  rollbackTransaction,
} from './dynamodb-ledger-rollback';

/** A journal entry as `rotor repair` shows it: what it records, and whether it spent a single-use credential. */
export interface JournalEntryView extends JournalRecord {
  /** true for a `SPENT#` entry: the action presented a single-use credential (an OAuth refresh token). */
  readonly spendsCredential: boolean;
}

/** Construction of a {@link DynamoDbLedger}. */
export interface DynamoDbLedgerProps {
  /** A plain client is wrapped in a document client; a document client is used as it is. */
  readonly client: DynamoDBClient | DynamoDBDocumentClient;
  readonly tableName: string;
  /** How long audit events are kept (their TTL is the event's time plus this). */
  readonly auditRetentionSeconds: number;
  /**
   * How long a side-effect journal claim is kept; past it, the rotation may claim again.
   * @default 7 days
   */
  readonly journalRetentionSeconds?: number;
  /** The clock of reads that take no `now` (expiry checks) and of journal claims. @default Date.now */
  readonly now?: () => number;
  /**
   * Ids of audit events, of transactions (used as their ClientRequestToken, so at most 36
   * printable characters) and of conditional writes (to recognise one's own write after a lost
   * response). @default a per-process sequence then 64 random bits
   */
  readonly newId?: () => string;
  /** Attempts of a transaction that lost a race before giving up. @default 5 */
  readonly maxTransactionAttempts?: number;
}

/** Thrown when a write kept losing races with other writers of the same items. */
export class LedgerContentionError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LedgerContentionError';
  }
}

const DEFAULT_JOURNAL_RETENTION_SECONDS = 7 * 24 * 3600;
const DEFAULT_MAX_TRANSACTION_ATTEMPTS = 5;
const DEFAULT_AUDIT_READ_LIMIT = 1000;
// Reasons after which the same transaction, rebuilt from fresh reads, may succeed.
const RETRYABLE_CANCELLATION_CODES = new Set(['None', 'ConditionalCheckFailed', 'TransactionConflict']);

type ConditionalWrite = { readonly written: true } | { readonly written: false; readonly old?: LedgerItem };
interface CancellationReason {
  readonly Code?: string;
}

/**
 * The {@link Ledger} on one DynamoDB table (DESIGN section 4; layout in
 * `dynamodb-ledger-items.ts`).
 *
 * - Every state change is a conditional write, so of racing callers exactly one wins.
 * - A caller that must know whether it won ("claims") writes a fresh id with its change and,
 *   when the condition fails, reads the id back from the old item: an SDK retry of a write whose
 *   response was lost then still answers "won" to the caller that won.
 * - Reads are consistent (except the grace index: GSIs cannot be) and treat an item whose TTL
 *   has passed as absent, because DynamoDB deletes expired items only eventually. Writes that
 *   create an item accept an expired one in its place, for the same reason.
 * - Nothing here stores a credential: every fingerprint argument is checked to be one.
 */
export class DynamoDbLedger implements Ledger {
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly table: LedgerTable;
  private readonly journalRetentionSeconds: number;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly maxTransactionAttempts: number;

  constructor(props: DynamoDbLedgerProps) {
    requirePositiveInteger('auditRetentionSeconds', props.auditRetentionSeconds);
    const journalRetentionSeconds = props.journalRetentionSeconds ?? DEFAULT_JOURNAL_RETENTION_SECONDS;
    requirePositiveInteger('journalRetentionSeconds', journalRetentionSeconds);
    const maxTransactionAttempts = props.maxTransactionAttempts ?? DEFAULT_MAX_TRANSACTION_ATTEMPTS;
    requirePositiveInteger('maxTransactionAttempts', maxTransactionAttempts);
    this.client =
      props.client instanceof DynamoDBDocumentClient
        ? props.client
        : DynamoDBDocumentClient.from(props.client, { marshallOptions: { removeUndefinedValues: true } });
    this.tableName = props.tableName;
    this.table = { name: props.tableName, auditRetentionSeconds: props.auditRetentionSeconds };
    this.journalRetentionSeconds = journalRetentionSeconds;
    this.now = props.now ?? Date.now;
    this.newId = props.newId ?? sequentialId;
    this.maxTransactionAttempts = maxTransactionAttempts;
  }

  /**
   * One transaction: the credential (pending, with its TTL), the secret state's pending
   * pointer, and a `created` audit event. The credential's `attribute_not_exists` makes a
   * second run cancel as a whole, so it changes nothing and adds no second event; a run after
   * the version was promoted is cancelled by the state's condition.
   */
  async recordPending(credential: PendingCredential): Promise<void> {
    assertFingerprint(credential.fingerprint);
    const { now } = credential;
    const put = new Expressions();
    const state = new Expressions();
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...credentialKey(credential.fingerprint),
            kind: ItemKind.credential,
            fingerprint: credential.fingerprint,
            secretArn: credential.secretArn,
            secretName: credential.secretName,
            versionId: credential.versionId,
            provider: credential.provider,
            state: 'pending',
            createdAt: now,
            [LedgerSchema.ttlAttribute]: credential.expiresAt,
          },
          ConditionExpression: put.absentOrExpired(now),
          ...put.parameters(),
        },
      },
      {
        Update: {
          TableName: this.tableName,
          Key: secretStateKey(credential.secretArn),
          UpdateExpression:
            `SET ${state.name('kind')} = ${state.value(ItemKind.secretState)}, ` +
            `${state.name('secretArn')} = ${state.value(credential.secretArn)}, ` +
            `${state.name('secretName')} = ${state.value(credential.secretName)}, ` +
            `${state.name('pendingVersionId')} = ${state.value(credential.versionId)}, ` +
            `${state.name('pendingFingerprint')} = ${state.value(credential.fingerprint)}, ` +
            `${state.name('generation')} = if_not_exists(${state.name('generation')}, ${state.value(0)}), ` +
            `${state.name('status')} = if_not_exists(${state.name('status')}, ${state.value('active')}), ` +
            `${state.name('onReuse')} = if_not_exists(${state.name('onReuse')}, ${state.value('revoke-and-rotate')}) ` +
            `ADD ${state.name('revision')} ${state.value(1)}`,
          ConditionExpression:
            `attribute_not_exists(${state.name('currentVersionId')}) OR ` +
            `${state.name('currentVersionId')} <> ${state.value(credential.versionId)}`,
          ...state.parameters(),
        },
      },
      {
        Put: auditEventPut(
          this.table,
          {
            secretArn: credential.secretArn,
            secretName: credential.secretName,
            type: 'created',
            at: now,
            versionId: credential.versionId,
            fingerprintPrefix: fingerprintPrefix(credential.fingerprint),
            detail: { provider: credential.provider },
          },
          this.newId(),
        ),
      },
    ];
    for (let attempt = 1; ; attempt += 1) {
      const reasons = await this.transact(items, this.newId());
      // A failed condition means it is recorded already, or promoted: either way nothing to do.
      if (reasons === undefined || reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) return;
      if (attempt >= this.maxTransactionAttempts) throw this.contention('recordPending', attempt, reasons);
      await backoff(attempt);
    }
  }

  /**
   * Reads the secret state and both credentials (consistently), then writes all four items in
   * one transaction whose every part is conditional on what was read: the state on its
   * `revision` (so the promotion is recorded once, and on a state nobody changed since), each
   * credential on its state. A transaction cancelled because something changed is rebuilt from
   * fresh reads, a bounded number of times. The transaction's id is its ClientRequestToken (so
   * an SDK retry is idempotent on AWS) and is stored as the state's `promotionId` (so a lost
   * response is recognised on the re-read, also where the token is not honoured).
   */
  async recordPromotion(promotion: Promotion): Promise<'recorded' | 'already-recorded'> {
    assertFingerprint(promotion.current.fingerprint, 'current fingerprint');
    if (promotion.previous !== undefined) {
      assertFingerprint(promotion.previous.fingerprint, 'previous fingerprint');
      if (promotion.previous.fingerprint === promotion.current.fingerprint) {
        throw new Error(`promotion of version ${promotion.current.versionId} names the same credential as previous`);
      }
    }
    const ourIds: string[] = [];
    let reasons: readonly CancellationReason[] = [];
    for (let attempt = 1; attempt <= this.maxTransactionAttempts; attempt += 1) {
      if (attempt > 1) await backoff(attempt - 1);
      const [state, current, previous] = await Promise.all([
        this.read(secretStateKey(promotion.secretArn)),
        this.readLive(credentialKey(promotion.current.fingerprint), promotion.now),
        promotion.previous === undefined
          ? Promise.resolve(undefined)
          : this.readLive(credentialKey(promotion.previous.fingerprint), promotion.now),
      ]);
      const outcome = promotionOutcome(state, promotion, ourIds);
      if (outcome !== undefined) return outcome;
      const stale = await this.readStaleCurrent(state, promotion);

      const id = this.newId();
      ourIds.push(id);
      const cancelled = await this.transact(
        promotionTransaction(this.table, promotion, id, { state, current, previous, stale }),
        id,
      );
      if (cancelled === undefined) return 'recorded';
      reasons = cancelled;
    }
    const outcome = promotionOutcome(await this.read(secretStateKey(promotion.secretArn)), promotion, ourIds);
    if (outcome !== undefined) return outcome;
    throw this.contention('recordPromotion', this.maxTransactionAttempts, reasons);
  }

  // The credential the state names current, when the promotion is not replacing it: the ledger
  // missed a promotion (finishSecret failed after moving AWSCURRENT, and nothing healed it yet).
  private async readStaleCurrent(state: LedgerItem | undefined, promotion: Promotion): Promise<LedgerItem | undefined> {
    const fingerprint = state?.currentFingerprint;
    if (typeof fingerprint !== 'string') return undefined;
    if (fingerprint === promotion.current.fingerprint || fingerprint === promotion.previous?.fingerprint)
      return undefined;
    return this.readLive(credentialKey(fingerprint), promotion.now);
  }

  /**
   * Conditional on the credential being current, for this secret and version; a credential that
   * is not (unknown, or already moved on) is left alone.
   */
  async markSupersession(supersession: Supersession): Promise<void> {
    assertFingerprint(supersession.fingerprint);
    const x = new Expressions();
    await this.conditionalUpdate(
      credentialKey(supersession.fingerprint),
      `SET ${x.name('supersessionGraceEndsAt')} = ${x.value(supersession.graceEndsAt)}`,
      `${x.name('state')} = ${x.value('current')} AND ${x.name('secretArn')} = ${x.value(supersession.secretArn)} ` +
        `AND ${x.name('versionId')} = ${x.value(supersession.versionId)} AND ${x.live(supersession.now)}`,
      x,
    );
  }

  async getCredential(fingerprint: string): Promise<CredentialRecord | undefined> {
    assertFingerprint(fingerprint);
    const item = await this.readLive(credentialKey(fingerprint), this.now());
    return item === undefined ? undefined : toCredentialRecord(item);
  }

  async getSecretState(secretArn: string): Promise<SecretLedgerState | undefined> {
    const item = await this.read(secretStateKey(secretArn));
    return item === undefined ? undefined : toSecretLedgerState(item);
  }

  /**
   * Conditional on `state = previous AND graceEndsAt <= now`; it leaves the grace index (the
   * sweep no longer sees it) and keeps its TTL (reuse is still recognised until then). The
   * old item returned by a failed condition tells `not-due` from `not-previous`.
   */
  async retire(fingerprint: string, now: number): Promise<'retired' | 'not-due' | 'not-previous'> {
    assertFingerprint(fingerprint);
    const id = this.newId();
    const x = new Expressions();
    const result = await this.conditionalUpdate(
      credentialKey(fingerprint),
      `SET ${x.name('state')} = ${x.value('retired')}, ${x.name('retiredAt')} = ${x.value(now)}, ` +
        `${x.name('retiredBy')} = ${x.value(id)} REMOVE ${x.name(LedgerSchema.graceIndex.partitionKey)}`,
      `${x.name('state')} = ${x.value('previous')} AND ${x.name('graceEndsAt')} <= ${x.value(now)} AND ${x.live(now)}`,
      x,
    );
    if (result.written) return 'retired';
    const old = result.old;
    if (old === undefined || isExpired(old, now)) return 'not-previous';
    if (old.state === 'retired' && old.retiredBy === id) return 'retired';
    return old.state === 'previous' ? 'not-due' : 'not-previous';
  }

  /**
   * Queries the sparse grace index, oldest grace end first. GSI reads cannot be consistent, so
   * an item may be a moment stale; {@link retire} checks again on the base table.
   */
  async listOverdue(now: number, limit: number): Promise<CredentialRecord[]> {
    requirePositiveInteger('limit', limit);
    const overdue: CredentialRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const x = new Expressions();
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: LedgerSchema.graceIndex.name,
          KeyConditionExpression:
            `${x.name(LedgerSchema.graceIndex.partitionKey)} = ${x.value(GRACE_INDEX_PREVIOUS)} AND ` +
            `${x.name(LedgerSchema.graceIndex.sortKey)} <= ${x.value(now)}`,
          ScanIndexForward: true,
          Limit: limit - overdue.length,
          ExclusiveStartKey: start,
          ...x.parameters(),
        }),
      );
      for (const item of page.Items ?? []) {
        if (item.state === 'previous' && !isExpired(item, now)) overdue.push(toCredentialRecord(item));
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined && overdue.length < limit);
    return overdue;
  }

  /**
   * The claim is an attribute of the credential item itself (`reuseReportedAt`), set only where
   * absent: the claim lives exactly as long as the ledger remembers the credential, with no item
   * or TTL of its own, and a credential the ledger has forgotten has nothing to report.
   */
  async claimReuseReport(secretArn: string, fingerprint: string, now: number): Promise<boolean> {
    assertFingerprint(fingerprint);
    const id = this.newId();
    const x = new Expressions();
    const result = await this.conditionalUpdate(
      credentialKey(fingerprint),
      `SET ${x.name('reuseReportedAt')} = ${x.value(now)}, ${x.name('reuseReportedBy')} = ${x.value(id)}`,
      `${x.live(now)} AND ${x.name('secretArn')} = ${x.value(secretArn)} AND attribute_not_exists(${x.name('reuseReportedAt')})`,
      x,
    );
    return result.written || result.old?.reuseReportedBy === id;
  }

  async releaseReuseReport(secretArn: string, fingerprint: string): Promise<void> {
    assertFingerprint(fingerprint);
    const x = new Expressions();
    await this.conditionalUpdate(
      credentialKey(fingerprint),
      `REMOVE ${x.name('reuseReportedAt')}, ${x.name('reuseReportedBy')}`,
      `${x.name('secretArn')} = ${x.value(secretArn)}`,
      x,
    );
  }

  /**
   * Marks the secret compromised (first, so that an interrupted call still leaves the truth),
   * then revokes each of its pending, current and previous credentials that is live and not
   * yet revoked. Each revocation is conditional on the state it read and extends the TTL to at
   * least `expiresAt`, so the family is remembered for the full reuse memory after the incident.
   * @returns the fingerprints this call revoked (a second call returns none and changes nothing).
   */
  async revokeFamily(secretArn: string, now: number, expiresAt: number): Promise<string[]> {
    const state = await this.read(secretStateKey(secretArn));
    if (state === undefined) return [];
    const x = new Expressions();
    await this.conditionalUpdate(
      secretStateKey(secretArn),
      `SET ${x.name('status')} = ${x.value('compromised')}, ${x.name('compromisedAt')} = ${x.value(now)} ` +
        `ADD ${x.name('revision')} ${x.value(1)}`,
      `attribute_exists(${x.name(LedgerSchema.partitionKey)}) AND ${x.name('status')} <> ${x.value('compromised')}`,
      x,
    );
    // A pending credential is in no one's hands yet (consumers read AWSCURRENT and AWSPREVIOUS):
    // the rotation that made it is the response, and revoking it would promote a dead token.
    const family = [state.currentFingerprint, state.previousFingerprint].filter(
      (candidate, index, all): candidate is string => typeof candidate === 'string' && all.indexOf(candidate) === index,
    );
    const revokedBy = this.newId();
    const revoked = await Promise.all(
      family.map((fingerprint) => this.revokeOne(secretArn, fingerprint, now, expiresAt, revokedBy)),
    );
    return family.filter((_, index) => revoked[index]);
  }

  async markGraceUse(fingerprint: string, now: number): Promise<boolean> {
    assertFingerprint(fingerprint);
    const id = this.newId();
    const x = new Expressions();
    const result = await this.conditionalUpdate(
      credentialKey(fingerprint),
      `SET ${x.name('graceUsedAt')} = ${x.value(now)}, ${x.name('graceUsedBy')} = ${x.value(id)}`,
      `${x.live(now)} AND attribute_not_exists(${x.name('graceUsedAt')})`,
      x,
    );
    return result.written || result.old?.graceUsedBy === id;
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.client.send(new PutCommand(auditEventPut(this.table, event, this.newId())));
  }

  /** Oldest first: the sort key starts with the event's ISO time. Expired events are skipped. */
  async readAudit(secretArn: string, limit = DEFAULT_AUDIT_READ_LIMIT): Promise<StoredAuditEvent[]> {
    requirePositiveInteger('limit', limit);
    return (await this.liveItems(secretArn, AUDIT_SORT_KEY_PREFIX, limit)).map(toStoredAuditEvent);
  }

  /**
   * The secret's live side-effect journal entries (`SPENT#` and `JOURNAL#`), for an operator who
   * must decide whether an unfinished rotation may be cancelled: an entry says a provider may have
   * acted. Read only by `rotor repair`; the rotation path reads entries through {@link claim}.
   */
  async readJournal(secretArn: string): Promise<JournalEntryView[]> {
    const now = this.now();
    const entries: JournalEntryView[] = [];
    for (const prefix of ['SPENT#', 'JOURNAL#']) {
      for (const item of await this.liveItems(secretArn, prefix)) {
        const record = toJournalRecord(item, { secretArn, versionId: '', action: '' }, now);
        entries.push({ ...record, spendsCredential: prefix === 'SPENT#' });
      }
    }
    return entries;
  }

  /**
   * The unexpired items of the secret's partition whose sort key starts with `prefix`, in sort-key
   * order, at most `limit` of them: consistent reads, page after page.
   */
  private async liveItems(secretArn: string, prefix: string, limit?: number): Promise<Record<string, unknown>[]> {
    const now = this.now();
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const x = new Expressions();
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression:
            `${x.name(LedgerSchema.partitionKey)} = ${x.value(secretPartition(secretArn))} AND ` +
            `begins_with(${x.name(LedgerSchema.sortKey)}, ${x.value(prefix)})`,
          ConsistentRead: true,
          ...(limit === undefined ? {} : { Limit: limit - items.length }),
          ExclusiveStartKey: start,
          ...x.parameters(),
        }),
      );
      for (const item of page.Items ?? []) {
        if (!isExpired(item, now)) items.push(item);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined && (limit === undefined || items.length < limit));
    return items;
  }

  /**
   * One conditional PutItem on the journal entry: `SPENT#<fingerprint>` when the action spends a
   * single-use credential, else `JOURNAL#<version id>`. A claimer whose write committed but whose
   * response was lost finds its own claim id in the old item.
   *
   * A `SPENT#` entry lives for the audit retention rather than the journal's: while it is
   * in flight (a lost result) or rejected, AWSCURRENT still holds the spent credential, and the
   * entry is all that keeps a later rotation from presenting it again.
   */
  async claim(entry: SideEffectJournalEntry): Promise<JournalClaim> {
    if (entry.versionId === '') throw new Error('a journal claim needs the rotation version id');
    if (entry.spends !== undefined) assertFingerprint(entry.spends);
    const now = this.now();
    const id = this.newId();
    const x = new Expressions();
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...journalEntryKey(entry),
            kind: ItemKind.journalClaim,
            secretArn: entry.secretArn,
            versionId: entry.versionId,
            action: entry.action,
            outcome: 'in-flight',
            claimedAt: now,
            claimedBy: id,
            [LedgerSchema.ttlAttribute]:
              epochSeconds(now) +
              (entry.spends === undefined ? this.journalRetentionSeconds : this.table.auditRetentionSeconds),
          },
          ConditionExpression: x.absentOrExpired(now),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...x.parameters(),
        }),
      );
      return { outcome: 'claimed', claimId: id };
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
      const old = itemOf(error);
      if (old?.claimedBy === id) return { outcome: 'claimed', claimId: id };
      return { outcome: 'already-claimed', record: toJournalRecord(old, entry, now) };
    }
  }

  /** One conditional DeleteItem: only the claim `claimId` holds is removed. */
  async release(entry: SideEffectJournalEntry, claimId: string): Promise<void> {
    const x = new Expressions();
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: journalEntryKey(entry),
          ConditionExpression: `${x.name('claimedBy')} = ${x.value(claimId)}`,
          ...x.parameters(),
        }),
      );
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
    }
  }

  /** One conditional UpdateItem: `outcome` becomes `rejected` while the claim is still `claimId`'s. */
  async markRejected(entry: SideEffectJournalEntry, claimId: string): Promise<void> {
    const x = new Expressions();
    const result = await this.conditionalUpdate(
      journalEntryKey(entry),
      `SET ${x.name('outcome')} = ${x.value('rejected')}, ${x.name('rejectedAt')} = ${x.value(this.now())}`,
      `${x.name('claimedBy')} = ${x.value(claimId)}`,
      x,
    );
    if (!result.written && result.old?.outcome !== 'rejected') {
      throw new Error(
        `the journal claim of rotation ${entry.versionId} is no longer this attempt's; not marked rejected`,
      );
    }
  }

  /**
   * One conditional UpdateItem: the entry still records the attempt that was read (same rotation,
   * same claim time) and has had no second attempt.
   */
  async claimLostRetry(entry: SideEffectJournalEntry, record: JournalRecord): Promise<string | undefined> {
    const id = this.newId();
    const x = new Expressions();
    const result = await this.conditionalUpdate(
      journalEntryKey(entry),
      // The retrying rotation takes the entry over, so its stored result is the one later rotations follow.
      `SET ${x.name('lostRetryAt')} = ${x.value(this.now())}, ${x.name('claimedBy')} = ${x.value(id)}, ` +
        `${x.name('versionId')} = ${x.value(entry.versionId)}`,
      `attribute_not_exists(${x.name('lostRetryAt')}) AND ${x.name('versionId')} = ${x.value(record.versionId)} AND ` +
        `${x.name('claimedAt')} = ${x.value(record.claimedAt)} AND ${x.name('outcome')} = ${x.value('in-flight')}`,
      x,
    );
    if (result.written || result.old?.claimedBy === id) return id;
    return undefined;
  }

  /**
   * One conditional UpdateItem on the secret state (see `claimUpdate` for the condition). Twin
   * deliveries of an alarm race on this single item, so exactly one claims; a claimer whose write
   * committed but whose response was lost finds its own claim id in the old item.
   */
  async claimRollback(request: RollbackClaimRequest): Promise<'claimed' | 'changed'> {
    const { update, condition, expressions } = claimUpdate(request);
    const result = await this.conditionalUpdate(secretStateKey(request.secretArn), update, condition, expressions);
    if (result.written) return 'claimed';
    const claim = result.old?.rollbackClaim as { claimId?: unknown } | undefined;
    return claim?.claimId === request.claimId ? 'claimed' : 'changed';
  }

  /**
   * Reads the state and both credentials, then writes them and a `rolled-back` event in one
   * transaction (`rollbackTransaction`), rebuilt from fresh reads a bounded number of times when
   * something it rested on changed.
   */
  async recordRollback(rollback: RollbackRecord): Promise<'recorded' | 'already-recorded' | 'claim-lost'> {
    assertFingerprint(rollback.from.fingerprint, 'from fingerprint');
    assertFingerprint(rollback.to.fingerprint, 'to fingerprint');
    let reasons: readonly CancellationReason[] = [];
    for (let attempt = 1; attempt <= this.maxTransactionAttempts; attempt += 1) {
      if (attempt > 1) await backoff(attempt - 1);
      const [state, from, to] = await Promise.all([
        this.read(secretStateKey(rollback.secretArn)),
        this.readLive(credentialKey(rollback.from.fingerprint), rollback.now),
        this.readLive(credentialKey(rollback.to.fingerprint), rollback.now),
      ]);
      const outcome = rollbackOutcome(state, rollback);
      if (outcome !== undefined) return outcome;
      if (to?.state !== 'previous' || to.secretArn !== rollback.secretArn) {
        throw new Error(
          `cannot record the rollback of ${rollback.secretName} to version ${rollback.to.versionId}: its credential is ` +
            `${typeof to?.state === 'string' ? to.state : 'unknown'} in the ledger, no longer previous`,
        );
      }
      // A fresh token per attempt: DynamoDB refuses a token reused with other items (the rebuilt
      // transaction); the audit event's id is the claim's, so it is written once whatever happens.
      const cancelled = await this.transact(
        rollbackTransaction(this.table, rollback, { state, from, to }),
        this.newId(),
      );
      if (cancelled === undefined) return 'recorded';
      reasons = cancelled;
    }
    const outcome = rollbackOutcome(await this.read(secretStateKey(rollback.secretArn)), rollback);
    if (outcome !== undefined) return outcome;
    throw this.contention('recordRollback', this.maxTransactionAttempts, reasons);
  }

  /**
   * Reads the state and the restored credential, then writes the state, a check of that credential
   * and a `rolled-back` event in one transaction (`restoreTransaction`), rebuilt from fresh reads a
   * bounded number of times. A credential no longer current (revoked meanwhile) is an error: the
   * next delivery decides again.
   */
  async recordRestore(restore: RestoreRecord): Promise<'recorded' | 'already-recorded' | 'claim-lost'> {
    assertFingerprint(restore.to.fingerprint, 'to fingerprint');
    let reasons: readonly CancellationReason[] = [];
    for (let attempt = 1; attempt <= this.maxTransactionAttempts; attempt += 1) {
      if (attempt > 1) await backoff(attempt - 1);
      const [state, to] = await Promise.all([
        this.read(secretStateKey(restore.secretArn)),
        this.readLive(credentialKey(restore.to.fingerprint), restore.now),
      ]);
      const outcome = restoreOutcome(state, restore);
      if (outcome !== undefined) return outcome;
      if (to?.state !== 'current' || to.secretArn !== restore.secretArn) {
        throw new Error(
          `cannot record the restore of ${restore.secretName} to version ${restore.to.versionId}: its credential is ` +
            `${typeof to?.state === 'string' ? to.state : 'unknown'} in the ledger, no longer current`,
        );
      }
      const cancelled = await this.transact(restoreTransaction(this.table, restore, state), this.newId());
      if (cancelled === undefined) return 'recorded';
      reasons = cancelled;
    }
    const outcome = restoreOutcome(await this.read(secretStateKey(restore.secretArn)), restore);
    if (outcome !== undefined) return outcome;
    throw this.contention('recordRestore', this.maxTransactionAttempts, reasons);
  }

  async pause(request: PauseRequest): Promise<'paused' | 'already-paused' | 'claim-lost'> {
    let reasons: readonly CancellationReason[] = [];
    for (let attempt = 1; attempt <= this.maxTransactionAttempts; attempt += 1) {
      if (attempt > 1) await backoff(attempt - 1);
      const outcome = pauseOutcome(await this.read(secretStateKey(request.secretArn)), request);
      if (outcome !== undefined) return outcome;
      const id = this.newId();
      const cancelled = await this.transact(pauseTransaction(this.table, request, id), id);
      if (cancelled === undefined) return 'paused';
      reasons = cancelled;
    }
    throw this.contention('pause', this.maxTransactionAttempts, reasons);
  }

  async releaseRollbackClaim(secretArn: string, claimId: string, alarmKey: string): Promise<void> {
    for (let attempt = 1; attempt <= this.maxTransactionAttempts; attempt += 1) {
      const state = await this.read(secretStateKey(secretArn));
      const claim = state?.rollbackClaim as { claimId?: unknown } | undefined;
      if (state === undefined || claim?.claimId !== claimId) return;
      const { update, condition, expressions } = releaseUpdate(state, claimId, alarmKey);
      if ((await this.conditionalUpdate(secretStateKey(secretArn), update, condition, expressions)).written) return;
    }
    throw new LedgerContentionError(
      `releaseRollbackClaim of ${secretArn} lost ${this.maxTransactionAttempts} races in a row`,
    );
  }

  async resume(request: ResumeRequest): Promise<'resumed' | 'not-paused'> {
    let reasons: readonly CancellationReason[] = [];
    for (let attempt = 1; attempt <= this.maxTransactionAttempts; attempt += 1) {
      if (attempt > 1) await backoff(attempt - 1);
      const state = await this.read(secretStateKey(request.secretArn));
      if (state?.status !== 'paused') return 'not-paused';
      const id = this.newId();
      const cancelled = await this.transact(resumeTransaction(this.table, request, state, id), id);
      if (cancelled === undefined) return 'resumed';
      reasons = cancelled;
    }
    throw this.contention('resume', this.maxTransactionAttempts, reasons);
  }

  /**
   * One conditional UpdateItem on the state (only a `compromised` status becomes `active`), then the
   * audit event; running it again only adds another event.
   */
  async recordReauthorization(request: ReauthorizationRequest): Promise<void> {
    const x = new Expressions();
    await this.conditionalUpdate(
      secretStateKey(request.secretArn),
      `SET ${x.name('status')} = ${x.value('active')} REMOVE ${x.name('compromisedAt')} ` +
        `ADD ${x.name('revision')} ${x.value(1)}`,
      `${x.name('status')} = ${x.value('compromised')}`,
      x,
    );
    await this.appendAudit({
      secretArn: request.secretArn,
      secretName: request.secretName,
      type: 'reauthorized',
      at: request.now,
      versionId: request.versionId,
      detail: { by: request.by },
    });
  }

  private async revokeOne(
    secretArn: string,
    fingerprint: string,
    now: number,
    expiresAt: number,
    revokedBy: string,
  ): Promise<boolean> {
    for (let attempt = 1; attempt <= this.maxTransactionAttempts; attempt += 1) {
      const item = await this.readLive(credentialKey(fingerprint), now);
      if (item === undefined || item.secretArn !== secretArn) return false;
      if (item.state === 'revoked') return item.revokedBy === revokedBy;
      const x = new Expressions();
      const result = await this.conditionalUpdate(
        credentialKey(fingerprint),
        `SET ${x.name('state')} = ${x.value('revoked')}, ${x.name('revokedAt')} = ${x.value(now)}, ` +
          `${x.name('revokedBy')} = ${x.value(revokedBy)}, ` +
          `${x.name(LedgerSchema.ttlAttribute)} = ${x.value(Math.max(numberOr(item[LedgerSchema.ttlAttribute], 0), expiresAt))} ` +
          `REMOVE ${x.name(LedgerSchema.graceIndex.partitionKey)}`,
        `${x.name('state')} = ${x.value(item.state)} AND ${x.live(now)}`,
        x,
      );
      if (result.written) return true;
      if (result.old?.state === 'revoked') return result.old.revokedBy === revokedBy;
      // Its state changed since the read (promoted, superseded or retired): read it again.
    }
    throw new LedgerContentionError(
      `revokeFamily could not revoke credential ${fingerprintPrefix(fingerprint)} of ${secretArn} in ` +
        `${this.maxTransactionAttempts} attempts`,
    );
  }

  private async read(key: LedgerItem): Promise<LedgerItem | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }),
    );
    return result.Item;
  }

  private async readLive(key: LedgerItem, now: number): Promise<LedgerItem | undefined> {
    const item = await this.read(key);
    return item === undefined || isExpired(item, now) ? undefined : item;
  }

  private async conditionalUpdate(
    key: LedgerItem,
    update: string,
    condition: string,
    expressions: Expressions,
  ): Promise<ConditionalWrite> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: update,
          ConditionExpression: condition,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          ...expressions.parameters(),
        }),
      );
      return { written: true };
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
      const old = itemOf(error);
      return old === undefined ? { written: false } : { written: false, old };
    }
  }

  /**
   * Runs a transaction; `undefined` when it committed, the cancellation reasons when it was
   * cancelled for a reason a rebuilt transaction may not meet again (a condition or a conflict).
   * @throws any other error, including cancellations for other reasons (validation, capacity).
   */
  private async transact(
    items: TransactItem[],
    clientRequestToken: string,
  ): Promise<readonly CancellationReason[] | undefined> {
    try {
      await this.client.send(
        new TransactWriteCommand({ TransactItems: items, ClientRequestToken: clientRequestToken }),
      );
      return undefined;
    } catch (error) {
      // Same token still being processed: an SDK retry overlapping the first try. Re-read and see.
      if (isAwsError(error, 'TransactionInProgressException')) return [];
      if (!isAwsError(error, 'TransactionCanceledException')) throw error;
      const reasons = cancellationReasons(error);
      if (!reasons.every((reason) => RETRYABLE_CANCELLATION_CODES.has(reason.Code ?? 'None'))) throw error;
      return reasons;
    }
  }

  private contention(operation: string, attempts: number, reasons: readonly CancellationReason[]): Error {
    const codes = reasons.map((reason) => reason.Code ?? 'None').join(', ');
    return new LedgerContentionError(`${operation} was cancelled ${attempts} times; last reasons: [${codes}]`);
  }
}

/** How a rollback stands in the state as read; undefined while it can still be recorded. */
function rollbackOutcome(
  state: LedgerItem | undefined,
  rollback: RollbackRecord,
): 'already-recorded' | 'claim-lost' | undefined {
  const claim = state?.rollbackClaim as { claimId?: unknown } | undefined;
  if (claim?.claimId === rollback.claimId && state?.currentVersionId === rollback.from.versionId) return undefined;
  const handled = Array.isArray(state?.handledAlarms) && state.handledAlarms.includes(rollback.alarmKey);
  return handled && state?.currentVersionId === rollback.to.versionId ? 'already-recorded' : 'claim-lost';
}

/** How an undone out-of-band change stands in the state as read; undefined while this claim can record it. */
function restoreOutcome(
  state: LedgerItem | undefined,
  restore: RestoreRecord,
): 'already-recorded' | 'claim-lost' | undefined {
  const claim = state?.rollbackClaim as { claimId?: unknown } | undefined;
  const stillCurrent = state?.currentVersionId === restore.to.versionId;
  if (claim?.claimId === restore.claimId && stillCurrent) return undefined;
  const handled = Array.isArray(state?.handledAlarms) && state.handledAlarms.includes(restore.alarmKey);
  return handled && stillCurrent ? 'already-recorded' : 'claim-lost';
}

/** How a pause stands in the state as read; undefined while this claim can still pause. */
function pauseOutcome(state: LedgerItem | undefined, pause: PauseRequest): 'already-paused' | 'claim-lost' | undefined {
  if (state?.status === 'paused' && state.pausedBy === pause.alarmKey) return 'already-paused';
  const claim = state?.rollbackClaim as { claimId?: unknown } | undefined;
  return claim?.claimId === pause.claimId && state?.status !== 'paused' ? undefined : 'claim-lost';
}

// Whether the state's condition failed is not enough to classify (it also guards the revision):
// the caller reads the state again instead of trusting the reasons' items.
function cancellationReasons(error: unknown): CancellationReason[] {
  return (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
}

/** The old item a failed condition returned (ReturnValuesOnConditionCheckFailure: ALL_OLD). */
function itemOf(error: unknown): LedgerItem | undefined {
  const item = (error as { Item?: Record<string, unknown> }).Item;
  return item === undefined ? undefined : nativeItem(item);
}

// The document client translates results but not errors: items in errors arrive marshalled.
function nativeItem(item: Record<string, unknown>): LedgerItem {
  const key = item[LedgerSchema.partitionKey];
  return typeof key === 'object' && key !== null ? unmarshall(item as Record<string, AttributeValue>) : item;
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
}

// Spreads the retries of racing writers apart, so that they do not collide again in step.
function backoff(attempt: number): Promise<void> {
  const delayMs = Math.min(200, 10 * 2 ** attempt) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

// By name rather than instanceof: the check must hold whichever copy of the SDK threw.
function isAwsError(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}
