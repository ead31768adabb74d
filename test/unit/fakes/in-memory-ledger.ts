import { fingerprintPrefix } from '../../../lambda/core/ledger/fingerprint';
import type {
  Ledger,
  PauseRequest,
  PendingCredential,
  Promotion,
  ReauthorizationRequest,
  ResumeRequest,
  RollbackClaimRequest,
  RollbackRecord,
  RestoreRecord,
  Supersession,
} from '../../../lambda/core/ledger/ledger';
import {
  MAX_HANDLED_ALARMS,
  type AuditEvent,
  type CredentialRecord,
  type RollbackClaim,
  type SecretLedgerState,
  type StoredAuditEvent,
} from '../../../lambda/core/ledger/ledger-records';
import type {
  JournalClaim,
  JournalRecord,
  SideEffectJournalEntry,
} from '../../../lambda/core/providers/side-effect-journal';
import { InMemorySideEffectJournal } from './in-memory-side-effect-journal';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

interface CredentialItem extends Mutable<CredentialRecord> {
  reuseReportedAt?: number;
  graceUsedAt?: number;
}

/**
 * A {@link Ledger} in memory, following the port's documented semantics (the DynamoDB adapter
 * itself is tested against moto in test/integration):
 * - a credential whose `expiresAt` (epoch seconds) is at or before `now` reads as absent and may
 *   be recorded anew, as TTL deletion is lazy;
 * - every claim (reuse report, grace use, retirement, journal entry) is decided in one step after
 *   the yield: of racing callers the first wins;
 * - recordPromotion records a version once (`already-recorded` after), keeps a retired or revoked
 *   credential dead, turns the replaced credential `previous` when it is `current` (or `pending`:
 *   a promotion the ledger missed), within the grace marked by markSupersession, and demotes a
 *   stale `current` the state still names;
 * - revokeFamily revokes the current and previous credentials, never the pending one, and marks
 *   the secret compromised;
 * - a promotion keeps a paused secret paused (unless the promoted credential is revoked);
 * - rollback claims hold only on the state as the caller read it, and only the claim's holder
 *   records its rollback or pause (see the port).
 *
 * Every method yields before it acts, so concurrent callers interleave as Lambda invocations would.
 */
export class InMemoryLedger implements Ledger {
  private readonly credentials = new Map<string, CredentialItem>();
  private readonly states = new Map<string, Mutable<SecretLedgerState>>();
  private readonly events: StoredAuditEvent[] = [];
  private readonly journal = new InMemorySideEffectJournal();

  /**
   * @param now the clock of reads that take none (getCredential), as in the DynamoDB adapter.
   * @param calls receives each method name in call order (share it to see the order across fakes).
   */
  constructor(
    private readonly now: () => number,
    readonly calls: string[] = [],
  ) {}

  async recordPending(credential: PendingCredential): Promise<void> {
    await this.enter('recordPending');
    const state = this.states.get(credential.secretArn);
    if (this.live(credential.fingerprint, credential.now) !== undefined) return;
    if (state?.currentVersionId === credential.versionId) return;
    this.credentials.set(credential.fingerprint, {
      fingerprint: credential.fingerprint,
      secretArn: credential.secretArn,
      secretName: credential.secretName,
      versionId: credential.versionId,
      provider: credential.provider,
      state: 'pending',
      createdAt: credential.now,
      expiresAt: credential.expiresAt,
    });
    this.states.set(credential.secretArn, {
      ...(state ?? newState(credential.secretArn, credential.secretName)),
      pendingVersionId: credential.versionId,
      pendingFingerprint: credential.fingerprint,
    });
    this.append({
      secretArn: credential.secretArn,
      secretName: credential.secretName,
      type: 'created',
      at: credential.now,
      versionId: credential.versionId,
      fingerprintPrefix: fingerprintPrefix(credential.fingerprint),
      detail: { provider: credential.provider },
    });
  }

  async recordPromotion(promotion: Promotion): Promise<'recorded' | 'already-recorded'> {
    await this.enter('recordPromotion');
    const { secretArn, secretName, now } = promotion;
    const state = this.states.get(secretArn);
    if (state?.currentVersionId === promotion.current.versionId) return 'already-recorded';

    const current = this.live(promotion.current.fingerprint, now);
    if (current === undefined) {
      this.credentials.set(promotion.current.fingerprint, {
        fingerprint: promotion.current.fingerprint,
        versionId: promotion.current.versionId,
        secretArn,
        secretName,
        provider: promotion.provider,
        state: 'current',
        createdAt: now,
        promotedAt: now,
      });
    } else if (current.state !== 'retired' && current.state !== 'revoked') {
      Object.assign(current, { state: 'current', promotedAt: now, versionId: promotion.current.versionId });
      delete current.expiresAt;
      delete current.graceEndsAt;
      delete current.supersededAt;
      delete current.supersessionGraceEndsAt;
    }
    const previous = promotion.previous && this.live(promotion.previous.fingerprint, now);
    if ((previous?.state === 'current' || previous?.state === 'pending') && previous.secretArn === secretArn) {
      demote(previous, now, Math.min(promotion.graceEndsAt, previous.supersessionGraceEndsAt ?? Infinity), promotion);
    }
    const stale = state?.currentFingerprint === undefined ? undefined : this.live(state.currentFingerprint, now);
    if (
      stale?.state === 'current' &&
      stale.secretArn === secretArn &&
      stale.fingerprint !== promotion.current.fingerprint &&
      stale.fingerprint !== promotion.previous?.fingerprint
    ) {
      demote(stale, now, Math.min(now, stale.supersessionGraceEndsAt ?? Infinity), promotion);
    }
    const pendingPromoted = state?.pendingVersionId === promotion.current.versionId;
    const status =
      current?.state === 'revoked' ? 'compromised' : state?.status === 'paused' ? 'paused' : ('active' as const);
    this.states.set(secretArn, {
      ...(state ?? newState(secretArn, secretName)),
      ...(status === 'active' ? { pause: undefined } : {}),
      generation: (state?.generation ?? 0) + 1,
      status,
      onReuse: promotion.onReuse,
      currentVersionId: promotion.current.versionId,
      currentFingerprint: promotion.current.fingerprint,
      previousVersionId: promotion.previous?.versionId,
      previousFingerprint: promotion.previous?.fingerprint,
      previousGraceEndsAt: promotion.previous === undefined ? undefined : promotion.graceEndsAt,
      ...(pendingPromoted ? { pendingVersionId: undefined, pendingFingerprint: undefined } : {}),
    });
    this.append({
      secretArn,
      secretName,
      type: 'promoted',
      at: now,
      versionId: promotion.current.versionId,
      fingerprintPrefix: fingerprintPrefix(promotion.current.fingerprint),
    });
    return 'recorded';
  }

  async markSupersession(supersession: Supersession): Promise<void> {
    await this.enter('markSupersession');
    const item = this.live(supersession.fingerprint, supersession.now);
    if (item?.state !== 'current' || item.secretArn !== supersession.secretArn) return;
    if (item.versionId !== supersession.versionId) return;
    item.supersessionGraceEndsAt = supersession.graceEndsAt;
  }

  async getCredential(fingerprint: string): Promise<CredentialRecord | undefined> {
    await this.enter('getCredential');
    const item = this.live(fingerprint, this.now());
    if (item === undefined) return undefined;
    return { ...item };
  }

  async getSecretState(secretArn: string): Promise<SecretLedgerState | undefined> {
    await this.enter('getSecretState');
    const state = this.states.get(secretArn);
    if (state === undefined) return undefined;
    return Object.fromEntries(
      Object.entries(structuredClone(state)).filter(([, value]) => value !== undefined),
    ) as unknown as SecretLedgerState;
  }

  async retire(fingerprint: string, now: number): Promise<'retired' | 'not-due' | 'not-previous'> {
    await this.enter('retire');
    const item = this.live(fingerprint, now);
    if (item?.state !== 'previous') return 'not-previous';
    if (item.graceEndsAt === undefined || item.graceEndsAt > now) return 'not-due';
    Object.assign(item, { state: 'retired', retiredAt: now });
    return 'retired';
  }

  async listOverdue(now: number, limit: number): Promise<CredentialRecord[]> {
    await this.enter('listOverdue');
    return [...this.credentials.values()]
      .filter((item) => item.state === 'previous' && item.graceEndsAt !== undefined && item.graceEndsAt <= now)
      .filter((item) => this.live(item.fingerprint, now) !== undefined)
      .sort((a, b) => a.graceEndsAt! - b.graceEndsAt!)
      .slice(0, limit)
      .map((item) => ({ ...item }));
  }

  async claimReuseReport(secretArn: string, fingerprint: string, now: number): Promise<boolean> {
    await this.enter('claimReuseReport');
    const item = this.live(fingerprint, now);
    if (item === undefined || item.secretArn !== secretArn || item.reuseReportedAt !== undefined) return false;
    item.reuseReportedAt = now;
    return true;
  }

  async releaseReuseReport(secretArn: string, fingerprint: string): Promise<void> {
    await this.enter('releaseReuseReport');
    const item = this.credentials.get(fingerprint);
    if (item !== undefined && item.secretArn === secretArn) delete item.reuseReportedAt;
  }

  async revokeFamily(secretArn: string, now: number, expiresAt: number): Promise<string[]> {
    await this.enter('revokeFamily');
    const state = this.states.get(secretArn);
    if (state === undefined) return [];
    state.status = 'compromised';
    const family = [...new Set([state.currentFingerprint, state.previousFingerprint])];
    return family.filter((fingerprint): fingerprint is string => {
      const item = fingerprint === undefined ? undefined : this.live(fingerprint, now);
      if (item === undefined || item.secretArn !== secretArn || item.state === 'revoked') return false;
      Object.assign(item, { state: 'revoked', revokedAt: now, expiresAt: Math.max(item.expiresAt ?? 0, expiresAt) });
      return true;
    });
  }

  async markGraceUse(fingerprint: string, now: number): Promise<boolean> {
    await this.enter('markGraceUse');
    const item = this.live(fingerprint, now);
    if (item === undefined || item.graceUsedAt !== undefined) return false;
    item.graceUsedAt = now;
    return true;
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    await this.enter('appendAudit');
    this.append(event);
  }

  async readAudit(secretArn: string, limit = 1000): Promise<StoredAuditEvent[]> {
    await this.enter('readAudit');
    return this.auditOf(secretArn).slice(0, limit);
  }

  async claim(entry: SideEffectJournalEntry): Promise<JournalClaim> {
    await this.enter('claim');
    return this.journal.claim(entry);
  }

  async release(entry: SideEffectJournalEntry, claimId: string): Promise<void> {
    await this.enter('release');
    return this.journal.release(entry, claimId);
  }

  async markRejected(entry: SideEffectJournalEntry, claimId: string): Promise<void> {
    await this.enter('markRejected');
    return this.journal.markRejected(entry, claimId);
  }

  async claimLostRetry(entry: SideEffectJournalEntry, record: JournalRecord): Promise<string | undefined> {
    await this.enter('claimLostRetry');
    return this.journal.claimLostRetry(entry, record);
  }

  async claimRollback(request: RollbackClaimRequest): Promise<'claimed' | 'changed'> {
    await this.enter('claimRollback');
    const state = this.states.get(request.secretArn);
    const { expected } = request;
    if (
      state === undefined ||
      state.status !== expected.status ||
      state.currentVersionId !== expected.currentVersionId ||
      state.rollback?.lastAttemptAt !== expected.lastAttemptAt ||
      state.rollbackClaim?.claimId !== expected.claimId ||
      (state.handledAlarms ?? []).includes(request.alarmKey)
    ) {
      return 'changed';
    }
    const claim: RollbackClaim = {
      claimId: request.claimId,
      alarmKey: request.alarmKey,
      alarmName: request.alarmName,
      plan: request.plan,
      attempt: request.attempt,
      incidentStartedAt: request.incidentStartedAt,
      claimedAt: request.claimedAt,
      leaseUntil: request.leaseUntil,
    };
    state.rollbackClaim = claim;
    if (request.plan.action !== 'pause') state.status = 'rolling-back';
    return 'claimed';
  }

  async recordRollback(rollback: RollbackRecord): Promise<'recorded' | 'already-recorded' | 'claim-lost'> {
    await this.enter('recordRollback');
    const state = this.states.get(rollback.secretArn);
    if (state?.rollbackClaim?.claimId !== rollback.claimId || state.currentVersionId !== rollback.from.versionId) {
      const handled = state?.handledAlarms?.includes(rollback.alarmKey) === true;
      return handled && state?.currentVersionId === rollback.to.versionId ? 'already-recorded' : 'claim-lost';
    }
    const to = this.live(rollback.to.fingerprint, rollback.now);
    if (to?.state !== 'previous' || to.secretArn !== rollback.secretArn) {
      throw new Error(`cannot record the rollback to version ${rollback.to.versionId}: no longer previous`);
    }
    Object.assign(to, { state: 'current', versionId: rollback.to.versionId });
    delete to.expiresAt;
    delete to.graceEndsAt;
    delete to.supersededAt;
    const from = this.live(rollback.from.fingerprint, rollback.now);
    if (from?.state === 'current' && from.secretArn === rollback.secretArn) {
      Object.assign(from, { state: 'revoked', revokedAt: rollback.now, expiresAt: rollback.revokedExpiresAt });
    }
    Object.assign(state, {
      currentVersionId: rollback.to.versionId,
      currentFingerprint: rollback.to.fingerprint,
      previousVersionId: rollback.from.versionId,
      previousFingerprint: rollback.from.fingerprint,
      previousGraceEndsAt: undefined,
      status: 'active',
      rollback: { attempts: rollback.attempt, startedAt: rollback.incidentStartedAt, lastAttemptAt: rollback.now },
      rollbackClaim: undefined,
      handledAlarms: withHandled(state.handledAlarms, rollback.alarmKey),
    });
    this.append({
      secretArn: rollback.secretArn,
      secretName: rollback.secretName,
      type: 'rolled-back',
      at: rollback.now,
      versionId: rollback.to.versionId,
      fingerprintPrefix: fingerprintPrefix(rollback.to.fingerprint),
      detail: { fromVersionId: rollback.from.versionId, alarm: rollback.alarmName, attempt: rollback.attempt },
    });
    return 'recorded';
  }

  async recordRestore(restore: RestoreRecord): Promise<'recorded' | 'already-recorded' | 'claim-lost'> {
    await this.enter('recordRestore');
    const state = this.states.get(restore.secretArn);
    const stillCurrent = state?.currentVersionId === restore.to.versionId;
    if (state?.rollbackClaim?.claimId !== restore.claimId || !stillCurrent) {
      return state?.handledAlarms?.includes(restore.alarmKey) === true && stillCurrent
        ? 'already-recorded'
        : 'claim-lost';
    }
    const to = this.live(restore.to.fingerprint, restore.now);
    if (to?.state !== 'current' || to.secretArn !== restore.secretArn) {
      throw new Error(`cannot record the restore of version ${restore.to.versionId}: no longer current`);
    }
    Object.assign(state, {
      status: 'active',
      rollback: { attempts: restore.attempt, startedAt: restore.incidentStartedAt, lastAttemptAt: restore.now },
      rollbackClaim: undefined,
      handledAlarms: withHandled(state.handledAlarms, restore.alarmKey),
    });
    this.append({
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
    });
    return 'recorded';
  }

  async pause(request: PauseRequest): Promise<'paused' | 'already-paused' | 'claim-lost'> {
    await this.enter('pause');
    const state = this.states.get(request.secretArn);
    if (state?.status === 'paused' && state.pause?.pausedBy === request.alarmKey) return 'already-paused';
    if (state?.rollbackClaim?.claimId !== request.claimId || state.status === 'paused') return 'claim-lost';
    state.status = 'paused';
    state.pause = { pausedAt: request.now, reason: request.reason, pausedBy: request.alarmKey };
    this.append({
      secretArn: request.secretArn,
      secretName: request.secretName,
      type: 'paused',
      at: request.now,
      detail: { reason: request.reason, alarm: request.alarmKey },
    });
    return 'paused';
  }

  async releaseRollbackClaim(secretArn: string, claimId: string, alarmKey: string): Promise<void> {
    await this.enter('releaseRollbackClaim');
    const state = this.states.get(secretArn);
    if (state?.rollbackClaim?.claimId !== claimId) return;
    state.rollbackClaim = undefined;
    state.handledAlarms = withHandled(state.handledAlarms, alarmKey);
    if (state.status === 'rolling-back') state.status = 'active';
  }

  async recordReauthorization(request: ReauthorizationRequest): Promise<void> {
    await this.enter('recordReauthorization');
    const state = this.states.get(request.secretArn);
    if (state?.status === 'compromised') Object.assign(state, { status: 'active' });
    this.append({
      secretArn: request.secretArn,
      secretName: request.secretName,
      type: 'reauthorized',
      at: request.now,
      versionId: request.versionId,
      detail: { by: request.by },
    });
  }

  async resume(request: ResumeRequest): Promise<'resumed' | 'not-paused'> {
    await this.enter('resume');
    const state = this.states.get(request.secretArn);
    if (state?.status !== 'paused') return 'not-paused';
    const { pause } = state;
    Object.assign(state, { status: 'active', pause: undefined, rollback: undefined, rollbackClaim: undefined });
    this.append({
      secretArn: request.secretArn,
      secretName: request.secretName,
      type: 'resumed',
      at: request.now,
      detail: {
        by: request.by,
        ...(pause === undefined ? {} : { pausedAt: new Date(pause.pausedAt).toISOString(), pauseReason: pause.reason }),
      },
    });
    return 'resumed';
  }

  // --- Assess helpers: synchronous, and not counted in `calls`.

  /** The audit trail of a secret, oldest first (stable within the same millisecond). */
  auditOf(secretArn: string): StoredAuditEvent[] {
    return this.events.filter((event) => event.secretArn === secretArn).sort((a, b) => a.at - b.at);
  }

  /** The stored item of a credential, expired or not, with its claim markers. */
  itemOf(fingerprint: string): Readonly<CredentialItem> | undefined {
    return this.credentials.get(fingerprint);
  }

  /** Arrange helper: sets a credential's state as something outside the ledger's methods would (an operator). */
  forceState(fingerprint: string, state: CredentialRecord['state']): void {
    const item = this.credentials.get(fingerprint);
    if (item === undefined) throw new Error('no such credential');
    item.state = state;
  }

  /** Everything the ledger holds, as text: for "never holds a token" checks. */
  dump(): string {
    return JSON.stringify([[...this.credentials], [...this.states], this.events, this.journal.claims.length]);
  }

  private live(fingerprint: string, now: number): CredentialItem | undefined {
    const item = this.credentials.get(fingerprint);
    return item === undefined || (item.expiresAt !== undefined && item.expiresAt <= Math.floor(now / 1000))
      ? undefined
      : item;
  }

  private append(event: AuditEvent): void {
    const { secretArn, secretName, type, at, versionId, fingerprintPrefix, detail } = event;
    this.events.push({
      id: String(this.events.length + 1).padStart(6, '0'),
      secretArn,
      secretName,
      type,
      at,
      ...(versionId === undefined ? {} : { versionId }),
      ...(fingerprintPrefix === undefined ? {} : { fingerprintPrefix }),
      ...(detail === undefined ? {} : { detail }),
    });
  }

  private async enter(method: string): Promise<void> {
    this.calls.push(method);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function withHandled(handled: readonly string[] | undefined, alarmKey: string): string[] {
  return [...(handled ?? []).filter((key) => key !== alarmKey), alarmKey].slice(-MAX_HANDLED_ALARMS);
}

function newState(secretArn: string, secretName: string): Mutable<SecretLedgerState> {
  return { secretArn, secretName, generation: 0, status: 'active', onReuse: 'revoke-and-rotate' };
}

function demote(record: CredentialItem, now: number, graceEndsAt: number, promotion: Promotion): void {
  Object.assign(record, { state: 'previous', supersededAt: now, graceEndsAt, expiresAt: promotion.previousExpiresAt });
  delete record.supersessionGraceEndsAt;
}
