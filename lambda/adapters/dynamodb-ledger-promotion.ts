import { fingerprintPrefix } from '../core/ledger/fingerprint';
import type { Promotion } from '../core/ledger/ledger';
import type { SecretStatus } from '../core/ledger/ledger-records';
import { LedgerSchema } from '../shared/rotor-constants';
import {
  auditEventPut,
  credentialKey,
  Expressions,
  GRACE_INDEX_PREVIOUS,
  ItemKind,
  numberOr,
  secretStateKey,
  type LedgerItem,
  type LedgerTable,
  type TransactItem,
  credentialStateCheck,
} from './dynamodb-ledger-items';

/** What `recordPromotion` read (consistently; expired credentials as undefined) before writing. */
export interface PromotionReads {
  readonly state: LedgerItem | undefined;
  readonly current: LedgerItem | undefined;
  readonly previous: LedgerItem | undefined;
  /**
   * The credential the state still names current when it is neither the promoted one nor the
   * replaced one: the ledger missed an earlier promotion. Read only then.
   */
  readonly stale?: LedgerItem | undefined;
}

/**
 * The one transaction that records a promotion, each write conditional on what was read:
 *
 * 1. the secret state, on its `revision` (absent: on its absence), so that the promotion is
 *    recorded once and every field is decided on the state as it is;
 * 2. the new credential: created current if unknown, made current if pending (or current,
 *    previous: a rollback), left as it is if retired or revoked (a dead credential never comes
 *    back) with a ConditionCheck so that the transaction still rests on what was read;
 * 3. the replaced credential, only if current (or pending: the ledger missed its promotion):
 *    previous, with its grace end (never later than the one finishSecret marked before moving
 *    AWSCURRENT), the grace index and the TTL of its reuse memory. A revoked one stays revoked;
 *    an unknown one stays unknown;
 * 4. a credential the state still names current although it is neither of these (a promotion
 *    the ledger missed): previous with the grace it was marked with, or none left, so that a
 *    rotated-out credential is never current in the ledger after the next promotion;
 * 5. a `promoted` audit event whose id is the transaction's.
 */
export function promotionTransaction(
  table: LedgerTable,
  promotion: Promotion,
  id: string,
  reads: PromotionReads,
): TransactItem[] {
  const { current } = reads;
  const deadState = current?.state === 'revoked' || current?.state === 'retired' ? current.state : undefined;
  const generation = numberOr(reads.state?.generation, 0) + 1;
  const items: TransactItem[] = [
    stateUpdate(table, promotion, id, reads.state, promotedStatus(reads.state, deadState)),
    deadState !== undefined
      ? credentialStateCheck(table, promotion.current.fingerprint, deadState)
      : current === undefined
        ? newCurrentPut(table, promotion)
        : currentUpdate(table, promotion, current.state),
  ];
  const { previous } = reads;
  if (
    promotion.previous !== undefined &&
    (previous?.state === 'current' || previous?.state === 'pending') &&
    previous.secretArn === promotion.secretArn
  ) {
    items.push(
      previousUpdate(table, promotion, promotion.previous.fingerprint, previous.state, {
        graceEndsAt: earliest(promotion.graceEndsAt, previous.supersessionGraceEndsAt),
        expiresAt: promotion.previousExpiresAt,
      }),
    );
  }
  const { stale } = reads;
  if (
    stale?.state === 'current' &&
    stale.secretArn === promotion.secretArn &&
    stale.fingerprint !== promotion.current.fingerprint &&
    stale.fingerprint !== promotion.previous?.fingerprint
  ) {
    const graceEndsAt = earliest(promotion.now, stale.supersessionGraceEndsAt);
    items.push(
      previousUpdate(table, promotion, String(stale.fingerprint), 'current', {
        graceEndsAt,
        expiresAt: promotion.previousExpiresAt,
      }),
    );
  }
  items.push({
    Put: auditEventPut(
      table,
      {
        secretArn: promotion.secretArn,
        secretName: promotion.secretName,
        type: 'promoted',
        at: promotion.now,
        versionId: promotion.current.versionId,
        fingerprintPrefix: fingerprintPrefix(promotion.current.fingerprint),
        detail: {
          generation,
          ...(promotion.previous === undefined
            ? {}
            : {
                previousVersionId: promotion.previous.versionId,
                graceEndsAt: new Date(promotion.graceEndsAt).toISOString(),
              }),
          ...(deadState === undefined ? {} : { currentState: deadState }),
        },
      },
      id,
    ),
  });
  return items;
}

/**
 * `recorded` / `already-recorded` once the state names the promoted version current; undefined
 * before. `ourIds` are the ids of this caller's transactions: one of them on the state means our
 * own transaction committed and only its response was lost.
 */
export function promotionOutcome(
  state: LedgerItem | undefined,
  promotion: Promotion,
  ourIds: readonly string[],
): 'recorded' | 'already-recorded' | undefined {
  if (state?.currentVersionId !== promotion.current.versionId) return undefined;
  return typeof state.promotionId === 'string' && ourIds.includes(state.promotionId) ? 'recorded' : 'already-recorded';
}

/**
 * A promoted revoked credential makes the secret compromised (its rotation is the way out, so this
 * wins over a pause); otherwise a paused secret stays paused: a rotation that was past createSecret
 * when rollback paused it may finish, but that lifts no pause. Anything else becomes active.
 */
function promotedStatus(state: LedgerItem | undefined, deadState: 'revoked' | 'retired' | undefined): SecretStatus {
  if (deadState === 'revoked') return 'compromised';
  return state?.status === 'paused' ? 'paused' : 'active';
}

function stateUpdate(
  table: LedgerTable,
  promotion: Promotion,
  id: string,
  state: LedgerItem | undefined,
  status: SecretStatus,
): TransactItem {
  const x = new Expressions();
  const set = [
    `${x.name('kind')} = ${x.value(ItemKind.secretState)}`,
    `${x.name('secretArn')} = ${x.value(promotion.secretArn)}`,
    `${x.name('secretName')} = ${x.value(promotion.secretName)}`,
    `${x.name('currentVersionId')} = ${x.value(promotion.current.versionId)}`,
    `${x.name('currentFingerprint')} = ${x.value(promotion.current.fingerprint)}`,
    `${x.name('generation')} = ${x.value(numberOr(state?.generation, 0) + 1)}`,
    `${x.name('status')} = ${x.value(status)}`,
    `${x.name('onReuse')} = ${x.value(promotion.onReuse)}`,
    `${x.name('promotionId')} = ${x.value(id)}`,
  ];
  const remove: string[] = [];
  if (promotion.previous === undefined) {
    remove.push(x.name('previousVersionId'), x.name('previousFingerprint'), x.name('previousGraceEndsAt'));
  } else {
    set.push(
      `${x.name('previousVersionId')} = ${x.value(promotion.previous.versionId)}`,
      `${x.name('previousFingerprint')} = ${x.value(promotion.previous.fingerprint)}`,
      `${x.name('previousGraceEndsAt')} = ${x.value(promotion.graceEndsAt)}`,
    );
  }
  if (state?.pendingVersionId === promotion.current.versionId) {
    remove.push(x.name('pendingVersionId'), x.name('pendingFingerprint'));
  }
  if (status === 'active') {
    remove.push(x.name('compromisedAt'), x.name('pausedAt'), x.name('pauseReason'), x.name('pausedBy'));
  }
  const condition =
    state === undefined
      ? `attribute_not_exists(${x.name(LedgerSchema.partitionKey)})`
      : typeof state.revision === 'number'
        ? `${x.name('revision')} = ${x.value(state.revision)}`
        : `attribute_exists(${x.name(LedgerSchema.partitionKey)}) AND attribute_not_exists(${x.name('revision')})`;
  return {
    Update: {
      TableName: table.name,
      Key: secretStateKey(promotion.secretArn),
      UpdateExpression:
        `SET ${set.join(', ')}` +
        (remove.length === 0 ? '' : ` REMOVE ${remove.join(', ')}`) +
        ` ADD ${x.name('revision')} ${x.value(1)}`,
      ConditionExpression: condition,
      ...x.parameters(),
    },
  };
}

// recordPending never ran, or its item expired: the credential is created current.
function newCurrentPut(table: LedgerTable, promotion: Promotion): TransactItem {
  const x = new Expressions();
  return {
    Put: {
      TableName: table.name,
      Item: {
        ...credentialKey(promotion.current.fingerprint),
        kind: ItemKind.credential,
        fingerprint: promotion.current.fingerprint,
        secretArn: promotion.secretArn,
        secretName: promotion.secretName,
        versionId: promotion.current.versionId,
        provider: promotion.provider,
        state: 'current',
        createdAt: promotion.now,
        promotedAt: promotion.now,
      },
      ConditionExpression: x.absentOrExpired(promotion.now),
      ...x.parameters(),
    },
  };
}

// A current credential is accepted for as long as it is current: no TTL, no grace.
function currentUpdate(table: LedgerTable, promotion: Promotion, readState: unknown): TransactItem {
  const x = new Expressions();
  return {
    Update: {
      TableName: table.name,
      Key: credentialKey(promotion.current.fingerprint),
      UpdateExpression:
        `SET ${x.name('state')} = ${x.value('current')}, ${x.name('promotedAt')} = ${x.value(promotion.now)}, ` +
        `${x.name('versionId')} = ${x.value(promotion.current.versionId)} ` +
        `REMOVE ${x.name(LedgerSchema.ttlAttribute)}, ${x.name(LedgerSchema.graceIndex.partitionKey)}, ` +
        `${x.name('graceEndsAt')}, ${x.name('supersededAt')}, ${x.name('supersessionGraceEndsAt')}`,
      ConditionExpression: `${x.name('state')} = ${x.value(readState)} AND ${x.live(promotion.now)}`,
      ...x.parameters(),
    },
  };
}

function previousUpdate(
  table: LedgerTable,
  promotion: Promotion,
  fingerprint: string,
  readState: 'current' | 'pending',
  grace: { readonly graceEndsAt: number; readonly expiresAt: number },
): TransactItem {
  const x = new Expressions();
  return {
    Update: {
      TableName: table.name,
      Key: credentialKey(fingerprint),
      UpdateExpression:
        `SET ${x.name('state')} = ${x.value('previous')}, ${x.name('supersededAt')} = ${x.value(promotion.now)}, ` +
        `${x.name('graceEndsAt')} = ${x.value(grace.graceEndsAt)}, ` +
        `${x.name(LedgerSchema.graceIndex.partitionKey)} = ${x.value(GRACE_INDEX_PREVIOUS)}, ` +
        `${x.name(LedgerSchema.ttlAttribute)} = ${x.value(grace.expiresAt)} ` +
        `REMOVE ${x.name('supersessionGraceEndsAt')}`,
      ConditionExpression: `${x.name('state')} = ${x.value(readState)} AND ${x.live(promotion.now)}`,
      ...x.parameters(),
    },
  };
}

// The grace marked before AWSCURRENT moved bounds the grace recorded after: a promotion recorded
// late (by a retry or a healer) never lengthens the life of the credential it replaced.
function earliest(graceEndsAt: number, marked: unknown): number {
  return typeof marked === 'number' && marked < graceEndsAt ? marked : graceEndsAt;
}
