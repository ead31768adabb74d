import type { SecretLedgerState } from '../ledger/ledger-records';

/**
 * How many rollbacks a secret may have per incident. An incident is the run of a secret's
 * rollback attempts with less than `windowMs` from one to the next: after that long without a
 * rollback, the next alarm opens a new incident and the count starts again. `rotor resume` also
 * ends the incident. A rotation does not: a secret whose every new credential fails would
 * otherwise be rolled back forever.
 */
export interface IncidentPolicy {
  readonly maxAttempts: number;
  readonly windowMs: number;
}

export interface IncidentStanding {
  /** Rollbacks already performed in the open incident (0 when none is open). */
  readonly attemptsSoFar: number;
  /** When the open incident started, or `now` for a new one. */
  readonly startedAt: number;
  /** No rollback attempt is left: the next answer is a pause. */
  readonly exhausted: boolean;
}

/** Where the secret's incident stands at `now`. */
export function incidentStanding(state: SecretLedgerState, now: number, policy: IncidentPolicy): IncidentStanding {
  const incident = state.rollback;
  const open = incident !== undefined && now - incident.lastAttemptAt < policy.windowMs;
  const attemptsSoFar = open ? incident.attempts : 0;
  return { attemptsSoFar, startedAt: open ? incident.startedAt : now, exhausted: attemptsSoFar >= policy.maxAttempts };
}
