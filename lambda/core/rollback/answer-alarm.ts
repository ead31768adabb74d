import { randomUUID } from 'node:crypto';
import { RotorError, VersionLabelMovedError } from '../errors';
import { checkCredentialHealth } from '../health/credential-health';
import type { Ledger } from '../ledger/ledger';
import type { RollbackClaim, RollbackPlan, SecretLedgerState } from '../ledger/ledger-records';
import type { RetirementCanceller } from '../ledger/retirement-scheduler';
import { findVersionWithStage } from '../rotation/rotation-guards';
import { AWSCURRENT, type SecretDescription, type SecretStore } from '../rotation/secret-store';
import { readAlarmStateChange, scopeAlarm } from './alarm-state-change';
import { findRestorableCurrent } from './restorable-current';
import { incidentStanding, type IncidentPolicy } from './rollback-incident';
import type { PauseAlerts, RotationPauseNotice, RotationStatusEvents } from './rotation-pause-notices';
import { findUsablePrevious, type UsablePreviousDependencies } from './usable-previous';

/** Finds a secret by name or ARN (DescribeSecret). */
export interface SecretLookup {
  /** @returns undefined when there is no such secret. */
  find(secretId: string): Promise<SecretDescription | undefined>;
}

/** What the rollback function is built from; the handler wires the real ones, tests fakes. */
export interface RollbackDependencies extends UsablePreviousDependencies {
  readonly store: SecretStore & SecretLookup;
  readonly ledger: Ledger;
  readonly retirements: RetirementCanceller;
  readonly alerts: PauseAlerts;
  readonly events: RotationStatusEvents;
  /** The stage this function answers for: its alarms are `rotor-<name>-...`, its secrets under the prefix. */
  readonly stage: { readonly name: string; readonly secretNamePrefix: string; readonly alarmGroupCount?: number };
  readonly policy: IncidentPolicy;
  /**
   * How long a claimed attempt keeps twin deliveries away; past it, the attempt is presumed dead
   * and the next delivery carries its plan out again. At least the function's timeout.
   */
  readonly leaseMs: number;
  /** How long the revoked credential is remembered (and caught as reuse), in seconds. */
  readonly reuseMemorySeconds: number;
  /** @default randomUUID */
  readonly newClaimId?: () => string;
}

/** What the rollback function did about one event. */
export type AlarmAnswer =
  | {
      readonly outcome: 'ignored';
      readonly reason: string;
      readonly alarmName?: string;
      readonly secretName?: string;
    }
  | {
      readonly outcome: 'rolled-back';
      /**
       * `out-of-band-change`: AWSCURRENT had been moved outside Rotor and went back to the ledger's
       * current credential; absent: AWSCURRENT went back to the previous credential.
       */
      readonly cause?: 'out-of-band-change';
      readonly alarmName: string;
      readonly secretName: string;
      readonly fromVersionId: string;
      readonly toVersionId: string;
      readonly attempt: number;
      readonly maxAttempts: number;
      /** False when another delivery of the same state change recorded it first. */
      readonly recorded: boolean;
    }
  | {
      readonly outcome: 'paused';
      readonly alarmName: string;
      readonly secretName: string;
      readonly reason: string;
      readonly rollbacks: number;
    };

/** Rounds of read-decide-claim before giving up on a state that keeps changing under us. */
const MAX_ROUNDS = 4;

/**
 * Answers a CloudWatch alarm state change (DESIGN section 6):
 *
 * 1. Only `ALARM` of this stage's rotation-failure or health-check alarm of a secret under its
 *    prefix, that Secrets Manager and the ledger know (see `scopeAlarm`). Anything else is
 *    ignored, and nothing is written.
 * 2. If AWSCURRENT passes its test now (the cause is gone, or a twin alarm already rolled back),
 *    nothing is done.
 * 3. Otherwise one attempt is claimed in the ledger with a single conditional write on the
 *    secret's state (so of twin deliveries, one acts) and carried out: with rollbacks left in the
 *    incident and a usable previous credential (`findUsablePrevious`), AWSCURRENT moves back to it,
 *    its retirement is cancelled, and the ledger records the rollback; when AWSCURRENT holds a
 *    version written outside Rotor and the ledger's current credential still holds
 *    (`findRestorableCurrent`), AWSCURRENT moves back to that; otherwise rotation is paused, and
 *    people (SNS) and pipelines (EventBridge) are told.
 *
 * An attempt whose function died is carried out again, under a new claim, by the next delivery
 * after its lease: every step is safe to repeat.
 */
export async function answerAlarm(event: unknown, deps: RollbackDependencies): Promise<AlarmAnswer> {
  const change = readAlarmStateChange(event);
  if (change === undefined) return { outcome: 'ignored', reason: 'not a CloudWatch alarm state change event' };
  const scope = scopeAlarm(change, deps.stage);
  if (scope.kind === 'ignored') return { outcome: 'ignored', reason: scope.reason, alarmName: change.alarmName };
  const about = { alarmName: change.alarmName, secretName: scope.secretName };

  const secret = await deps.store.find(scope.secretName);
  if (secret === undefined || secret.name !== scope.secretName) {
    return { outcome: 'ignored', reason: `Secrets Manager has no secret ${scope.secretName}`, ...about };
  }
  for (let round = 1; round <= MAX_ROUNDS; round += 1) {
    const state = await deps.ledger.getSecretState(secret.arn);
    if (state === undefined) return { outcome: 'ignored', reason: 'the ledger does not know this secret', ...about };
    const now = deps.now();
    const claim = state.rollbackClaim;
    if (claim !== undefined && claim.leaseUntil > now) {
      const reason =
        claim.alarmKey === scope.alarmKey
          ? 'duplicate: another delivery of this alarm state change is answering it'
          : `another rollback attempt on this secret (alarm ${claim.alarmName}) is in progress`;
      return { outcome: 'ignored', reason, ...about };
    }
    if (claim !== undefined) {
      // Its holder died: carry its plan out again under a claim of our own, then see to this alarm.
      const answer = await takeOver(secret, state, claim, deps);
      if (answer !== undefined && claim.alarmKey === scope.alarmKey) return answer;
      continue;
    }
    const decision = await decideUnlessLabelsMoved(secret, state, scope.alarmKey, now, deps);
    if (decision.kind === 'ignore') return { outcome: 'ignored', reason: decision.reason, ...about };

    const ours: RollbackClaim = {
      claimId: (deps.newClaimId ?? randomUUID)(),
      alarmKey: scope.alarmKey,
      alarmName: change.alarmName,
      plan: decision.plan,
      attempt: decision.attempt,
      incidentStartedAt: decision.incidentStartedAt,
      claimedAt: now,
      leaseUntil: now + deps.leaseMs,
    };
    const claimed = await deps.ledger.claimRollback({
      ...ours,
      secretArn: secret.arn,
      expected: {
        status: state.status,
        currentVersionId: state.currentVersionId,
        lastAttemptAt: state.rollback?.lastAttemptAt,
        claimId: undefined,
      },
    });
    if (claimed === 'claimed') return carryOut(secret, ours, deps);
  }
  throw new RotorError(
    `the ledger state of secret ${secret.name} kept changing during ${MAX_ROUNDS} rounds; not acting on alarm ${change.alarmName}`,
  );
}

type Decision =
  | { readonly kind: 'ignore'; readonly reason: string }
  | {
      readonly kind: 'act';
      readonly plan: RollbackPlan;
      readonly attempt: number;
      readonly incidentStartedAt: number;
    };

/**
 * {@link decide}, unless the labels moved while it read the versions. Of two copies of one alarm
 * event delivered at once, the second can read AWSCURRENT or AWSPREVIOUS by the version id it
 * described just before the first moved the labels: that copy has nothing left to do.
 */
async function decideUnlessLabelsMoved(
  secret: SecretDescription,
  state: SecretLedgerState,
  alarmKey: string,
  now: number,
  deps: RollbackDependencies,
): Promise<Decision> {
  try {
    return await decide(secret, state, alarmKey, now, deps);
  } catch (error) {
    if (!(error instanceof VersionLabelMovedError)) throw error;
    return {
      kind: 'ignore',
      reason: `the version labels moved while this delivery read them (${error.message}): another delivery or a rotation acted first`,
    };
  }
}

async function decide(
  secret: SecretDescription,
  state: SecretLedgerState,
  alarmKey: string,
  now: number,
  deps: RollbackDependencies,
): Promise<Decision> {
  if (state.handledAlarms?.includes(alarmKey)) {
    return { kind: 'ignore', reason: 'duplicate: this alarm state change was answered already' };
  }
  if (state.status === 'paused') {
    return {
      kind: 'ignore',
      reason: `rotation is paused since ${iso(state.pause?.pausedAt)}; nothing is rolled back until \`rotor resume\``,
    };
  }
  if (state.status === 'compromised') {
    return {
      kind: 'ignore',
      reason: "the secret is compromised: its credentials are revoked and the reuse response's rotation is the way out",
    };
  }
  const currentVersionId = findVersionWithStage(secret, AWSCURRENT);
  if (currentVersionId === undefined) return { kind: 'ignore', reason: 'the secret has no AWSCURRENT version' };
  const health = await checkCredentialHealth(
    {
      secretArn: secret.arn,
      secretName: secret.name,
      versionId: currentVersionId,
      stage: AWSCURRENT,
      value: await deps.store.readVersion(secret.arn, currentVersionId, AWSCURRENT),
    },
    deps,
  );
  if (health.status !== 'unhealthy') {
    return {
      kind: 'ignore',
      reason:
        health.status === 'healthy'
          ? `AWSCURRENT (version ${currentVersionId}) passes its test: nothing to roll back`
          : `AWSCURRENT (version ${currentVersionId}) holds no credential yet: nothing to roll back`,
    };
  }

  const standing = incidentStanding(state, now, deps.policy);
  const { maxAttempts } = deps.policy;
  const incident = { attempt: standing.attemptsSoFar, incidentStartedAt: standing.startedAt };
  if (standing.exhausted) {
    const reason = `AWSCURRENT still fails after ${standing.attemptsSoFar} rollbacks in this incident (at most ${maxAttempts}): ${health.reason}`;
    return { kind: 'act', plan: { action: 'pause', reason }, ...incident };
  }
  if (currentVersionId !== state.currentVersionId) {
    const restorable = await findRestorableCurrent(secret, state, deps);
    if (!restorable.restorable) {
      const reason = `AWSCURRENT fails (${health.reason}) and no credential Rotor issued is usable: ${restorable.reason}`;
      return { kind: 'act', plan: { action: 'pause', reason }, ...incident };
    }
    return {
      kind: 'act',
      plan: { action: 'restore', from: restorable.from, to: restorable.to },
      attempt: standing.attemptsSoFar + 1,
      incidentStartedAt: standing.startedAt,
    };
  }
  const previous = await findUsablePrevious(secret, state, deps);
  if (!previous.usable) {
    const reason = `AWSCURRENT fails (${health.reason}) and no previous credential is usable: ${previous.reason}`;
    return { kind: 'act', plan: { action: 'pause', reason }, ...incident };
  }
  return {
    kind: 'act',
    plan: { action: 'rollback', from: previous.from, to: previous.to },
    attempt: standing.attemptsSoFar + 1,
    incidentStartedAt: standing.startedAt,
  };
}

/** Claims an attempt whose lease passed (same plan, same alarm) and carries it out. */
async function takeOver(
  secret: SecretDescription,
  state: SecretLedgerState,
  stale: RollbackClaim,
  deps: RollbackDependencies,
): Promise<AlarmAnswer | undefined> {
  const now = deps.now();
  const ours: RollbackClaim = {
    ...stale,
    claimId: (deps.newClaimId ?? randomUUID)(),
    claimedAt: now,
    leaseUntil: now + deps.leaseMs,
  };
  const claimed = await deps.ledger.claimRollback({
    ...ours,
    secretArn: secret.arn,
    expected: {
      status: state.status,
      currentVersionId: state.currentVersionId,
      lastAttemptAt: state.rollback?.lastAttemptAt,
      claimId: stale.claimId,
    },
  });
  return claimed === 'claimed' ? carryOut(secret, ours, deps) : undefined;
}

async function carryOut(
  secret: SecretDescription,
  claim: RollbackClaim,
  deps: RollbackDependencies,
): Promise<AlarmAnswer> {
  switch (claim.plan.action) {
    case 'rollback':
      return rollBack(secret, claim, claim.plan, deps);
    case 'restore':
      return restore(secret, claim, claim.plan, deps);
    case 'pause':
      return pauseRotation(secret, claim, claim.plan.reason, deps);
  }
}

/**
 * Moves AWSCURRENT from `plan.from` to `plan.to`. A move that finds AWSCURRENT already there (a
 * retry) goes on; one that finds it elsewhere gives the attempt up: the claim is released and the
 * answer says why.
 */
async function moveCurrentOrGiveUp(
  secret: SecretDescription,
  claim: RollbackClaim,
  plan: { readonly from: { readonly versionId: string }; readonly to: { readonly versionId: string } },
  deps: RollbackDependencies,
  why: string,
): Promise<AlarmAnswer | undefined> {
  if ((await deps.store.moveCurrent(secret.arn, plan.to.versionId, plan.from.versionId)) !== 'stale') return undefined;
  const holder = findVersionWithStage(await deps.store.describe(secret.arn), AWSCURRENT);
  if (holder === plan.to.versionId) return undefined;
  await deps.ledger.releaseRollbackClaim(secret.arn, claim.claimId, claim.alarmKey);
  return {
    outcome: 'ignored',
    reason: `AWSCURRENT moved to version ${holder ?? '(none)'} ${why}`,
    alarmName: claim.alarmName,
    secretName: secret.name,
  };
}

/**
 * AWSCURRENT back from a version written outside Rotor to the ledger's current credential in one
 * UpdateSecretVersionStage, then the ledger (status, incident, audit; no credential changes).
 * Safe to repeat as {@link rollBack} is; the version written outside Rotor keeps AWSPREVIOUS, so
 * whoever wrote it can still read it, and it is never offered to consumers again.
 */
async function restore(
  secret: SecretDescription,
  claim: RollbackClaim,
  plan: Extract<RollbackPlan, { action: 'restore' }>,
  deps: RollbackDependencies,
): Promise<AlarmAnswer> {
  const about = { alarmName: claim.alarmName, secretName: secret.name };
  const givenUp = await moveCurrentOrGiveUp(secret, claim, plan, deps, 'meanwhile; the restore is given up');
  if (givenUp !== undefined) return givenUp;
  const recorded = await deps.ledger.recordRestore({
    secretArn: secret.arn,
    secretName: secret.name,
    claimId: claim.claimId,
    alarmKey: claim.alarmKey,
    alarmName: claim.alarmName,
    from: plan.from,
    to: plan.to,
    attempt: claim.attempt,
    incidentStartedAt: claim.incidentStartedAt,
    now: deps.now(),
  });
  if (recorded === 'claim-lost') {
    return { outcome: 'ignored', reason: 'another delivery took this restore over', ...about };
  }
  return {
    outcome: 'rolled-back',
    cause: 'out-of-band-change',
    ...about,
    fromVersionId: plan.from.versionId,
    toVersionId: plan.to.versionId,
    attempt: claim.attempt,
    maxAttempts: deps.policy.maxAttempts,
    recorded: recorded === 'recorded',
  };
}

/**
 * AWSCURRENT back to the previous version in one UpdateSecretVersionStage, then the retirement
 * of that version cancelled, then the ledger. Each step is safe to repeat: a move that finds
 * AWSCURRENT already there (a retry) goes on; one that finds it elsewhere (a rotation promoted
 * meanwhile) gives the attempt up.
 */
async function rollBack(
  secret: SecretDescription,
  claim: RollbackClaim,
  plan: Extract<RollbackPlan, { action: 'rollback' }>,
  deps: RollbackDependencies,
): Promise<AlarmAnswer> {
  const about = { alarmName: claim.alarmName, secretName: secret.name };
  const givenUp = await moveCurrentOrGiveUp(
    secret,
    claim,
    plan,
    deps,
    'meanwhile (a rotation?); the rollback is given up',
  );
  if (givenUp !== undefined) return givenUp;
  await deps.retirements.cancel(secret.arn, plan.to.versionId);
  const now = deps.now();
  const recorded = await deps.ledger.recordRollback({
    secretArn: secret.arn,
    secretName: secret.name,
    claimId: claim.claimId,
    alarmKey: claim.alarmKey,
    alarmName: claim.alarmName,
    from: plan.from,
    to: plan.to,
    attempt: claim.attempt,
    incidentStartedAt: claim.incidentStartedAt,
    now,
    revokedExpiresAt: Math.floor(now / 1000) + deps.reuseMemorySeconds,
  });
  if (recorded === 'claim-lost') {
    return { outcome: 'ignored', reason: 'another delivery took this rollback attempt over', ...about };
  }
  return {
    outcome: 'rolled-back',
    ...about,
    fromVersionId: plan.from.versionId,
    toVersionId: plan.to.versionId,
    attempt: claim.attempt,
    maxAttempts: deps.policy.maxAttempts,
    recorded: recorded === 'recorded',
  };
}

/**
 * Pauses rotation in the ledger, then tells people and pipelines, then ends the claim. A retry
 * after a crash finds the pause already made by this alarm and tells them again: a notice may
 * arrive twice, never not at all.
 */
async function pauseRotation(
  secret: SecretDescription,
  claim: RollbackClaim,
  reason: string,
  deps: RollbackDependencies,
): Promise<AlarmAnswer> {
  const about = { alarmName: claim.alarmName, secretName: secret.name };
  const paused = await deps.ledger.pause({
    secretArn: secret.arn,
    secretName: secret.name,
    claimId: claim.claimId,
    alarmKey: claim.alarmKey,
    reason,
    now: deps.now(),
  });
  if (paused === 'claim-lost') {
    return { outcome: 'ignored', reason: 'another delivery took this pause over', ...about };
  }
  const state = await deps.ledger.getSecretState(secret.arn);
  const notice: RotationPauseNotice = {
    secretArn: secret.arn,
    secretName: secret.name,
    reason: state?.pause?.reason ?? reason,
    pausedAt: iso(state?.pause?.pausedAt ?? deps.now()),
    alarmName: claim.alarmName,
    rollbacks: claim.attempt,
    maxRollbacks: deps.policy.maxAttempts,
    action: `look at the secret (rotor status, rotor audit ${secret.name}), fix the cause, then run \`rotor resume ${secret.name}\``,
  };
  await deps.alerts.rotationPaused(notice);
  await deps.events.rotationPaused(notice);
  await deps.ledger.releaseRollbackClaim(secret.arn, claim.claimId, claim.alarmKey);
  return { outcome: 'paused', ...about, reason: notice.reason, rollbacks: claim.attempt };
}

function iso(epochMs: number | undefined): string {
  return epochMs === undefined ? '(unknown)' : new Date(epochMs).toISOString();
}
