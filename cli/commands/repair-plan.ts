import type { JournalEntryView } from '../../lambda/adapters/dynamodb-ledger';
import type { SecretLedgerState } from '../../lambda/core/ledger/ledger-records';
import { RotorProviderName } from '../../lambda/shared/rotor-constants';

/** What `rotor repair` found about a secret. */
export interface RepairFindings {
  readonly secretName: string;
  readonly currentVersionId?: string;
  readonly pendingVersionId?: string;
  /** Whether the AWSPENDING version holds a value; undefined without AWSPENDING. */
  readonly pendingHasValue?: boolean;
  /** The `provider` the pending value names, `unreadable` when it is not a JSON document with one. */
  readonly pendingProvider?: string;
  readonly ledger?: SecretLedgerState;
  readonly journal: readonly JournalEntryView[];
  /** Epoch milliseconds. */
  readonly now: number;
  /** How long a journal claim may be held by a rotation that is still acting (the rotation function's lease). */
  readonly claimLeaseMs: number;
}

/** One thing repair does. */
export type RepairAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'wait'; readonly seconds: number }
  | { readonly kind: 'remove-pending-label'; readonly versionId: string }
  | { readonly kind: 'finish'; readonly versionId: string };

export interface RepairPlan {
  /** What is wrong, in a sentence. */
  readonly diagnosis: string;
  readonly action: RepairAction;
  /** What the action does, in a sentence, and what a person may still have to do. */
  readonly explanation: string;
  /** Advice beyond the action (a pause to lift, a re-authorization). */
  readonly notes: readonly string[];
}

/**
 * Decides how to end a stuck rotation without losing a credential that may be in use:
 *
 * - no AWSPENDING apart from the current version: nothing is stuck;
 * - AWSPENDING left on the current version by a finished rotation: remove the label;
 * - AWSPENDING without a value: createSecret stored nothing, so nothing can be lost by removing
 *   it, unless a provider call for it is in flight right now (wait for it);
 * - AWSPENDING with a value that a provider outside AWS issued (the journal recorded the action,
 *   e.g. an OAuth refresh token was spent to get it), or whose provider acts outside AWS: that
 *   value may be the only valid credential, so the rotation is finished, never cancelled;
 * - AWSPENDING with a managed token (made by Rotor, never accepted by the verifier while pending)
 *   or with an unreadable value: cancel it by removing the label.
 */
export function planRepair(findings: RepairFindings): RepairPlan {
  const notes = pauseNotes(findings);
  const pending = findings.pendingVersionId;
  if (pending === undefined) {
    return {
      diagnosis: 'no rotation is in progress: no version is AWSPENDING',
      action: { kind: 'none' },
      explanation: 'nothing to repair',
      notes,
    };
  }
  if (pending === findings.currentVersionId) {
    return {
      diagnosis:
        'a finished rotation left AWSPENDING on the current version (a valid end state that blocks nothing on AWS)',
      action: { kind: 'remove-pending-label', versionId: pending },
      explanation: 'remove AWSPENDING from the current version; its value stays AWSCURRENT',
      notes,
    };
  }
  const claims = findings.journal.filter((entry) => entry.versionId === pending);
  if (findings.pendingHasValue !== true) {
    const live = claims.find(
      (entry) =>
        entry.outcome === 'in-flight' &&
        findings.now - Math.max(entry.claimedAt, entry.lostRetryAt ?? 0) < findings.claimLeaseMs,
    );
    if (live !== undefined) {
      const heldSince = Math.max(live.claimedAt, live.lostRetryAt ?? 0);
      const seconds = Math.ceil((heldSince + findings.claimLeaseMs - findings.now) / 1000);
      return {
        diagnosis: `rotation ${pending} has no value yet and its call to the provider (${live.action}) started ${iso(heldSince)}: it may still be acting`,
        action: { kind: 'wait', seconds },
        explanation: `change nothing now: its result would be stored under AWSPENDING; run repair again in ${seconds} s`,
        notes,
      };
    }
    const lost = claims.find((entry) => entry.spendsCredential && entry.outcome === 'in-flight');
    return {
      diagnosis: `rotation ${pending} is stuck with an AWSPENDING that holds no value (createSecret refused or failed before storing one)`,
      action: { kind: 'remove-pending-label', versionId: pending },
      explanation:
        'remove AWSPENDING from that empty version (as cancelling a rotation does); AWSCURRENT stays as it is',
      notes:
        lost === undefined
          ? notes
          : [
              ...notes,
              `the journal says rotation ${pending} spent the current refresh token (${lost.action}) and its result was never stored; ` +
                'the journal keeps the token from being presented again, so if the next rotation reports ReauthorizationRequiredError, ' +
                `run \`rotor bootstrap ${findings.secretName}\``,
            ],
    };
  }
  const spent = claims.find((entry) => entry.spendsCredential || entry.outcome === 'in-flight');
  const actsOutsideAws =
    findings.pendingProvider !== undefined &&
    findings.pendingProvider !== 'unreadable' &&
    findings.pendingProvider !== RotorProviderName.managedToken;
  if (spent !== undefined || actsOutsideAws) {
    return {
      diagnosis:
        spent !== undefined
          ? `rotation ${pending} holds a credential the provider issued (the journal recorded ${spent.action}${spent.spendsCredential ? ', spending the previous refresh token' : ''}): it may be the only valid one`
          : `rotation ${pending} holds a credential issued by ${findings.pendingProvider}, which acts outside AWS`,
      action: { kind: 'finish', versionId: pending },
      explanation:
        'finish the rotation (setSecret, testSecret, finishSecret with that version), never cancel it: cancelling could lose a credential in use',
      notes,
    };
  }
  return {
    diagnosis:
      findings.pendingProvider === 'unreadable'
        ? `rotation ${pending} holds a value that is not a Rotor document`
        : `rotation ${pending} holds a managed token that was never promoted (the verifier denies a pending token, so nobody uses it)`,
    action: { kind: 'remove-pending-label', versionId: pending },
    explanation: 'cancel the rotation: remove AWSPENDING from that version; AWSCURRENT stays as it is',
    notes,
  };
}

function pauseNotes(findings: RepairFindings): string[] {
  const state = findings.ledger;
  if (state?.status === 'paused') {
    return [
      `rotation is paused since ${iso(state.pause?.pausedAt)}: ${state.pause?.reason ?? '(no reason recorded)'}; ` +
        `after looking: \`rotor resume ${findings.secretName}\``,
    ];
  }
  if (state?.status === 'compromised') {
    return [`the secret is marked compromised: re-authorize it with \`rotor bootstrap ${findings.secretName}\``];
  }
  return [];
}

function iso(epochMs: number | undefined): string {
  return epochMs === undefined ? '(unknown)' : new Date(epochMs).toISOString();
}
