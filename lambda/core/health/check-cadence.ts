import { createHash } from 'node:crypto';
import type { HealthWatch } from './health-watch';

/** How often the health check runs and how often it tests each secret. All in seconds. */
export interface CheckCadence {
  /** Time between two runs of the health check (its schedule's rate). */
  readonly runSeconds: number;
  /** How long a secret is checked at every run after a change or after its last failure. */
  readonly watchSeconds: number;
  /** How often a secret nothing happened to is checked. */
  readonly idleSeconds: number;
}

/** Why a secret is checked in this run. */
export type DueReason = 'failing' | 'changed' | 'recovered' | 'expiring' | 'idle';

/**
 * Whether the secret `secretName` is tested in the run at `nowMs`, and why; undefined when it is
 * not. A secret is tested every run while its last check failed, while Secrets Manager reported a
 * change to it less than `watchSeconds` ago (or it recovered less than that ago), and from the last
 * run before its credential expires on its own; otherwise once per `idleSeconds`, in the run whose
 * interval holds its idle slot ({@link idleOffsetSeconds}).
 */
export function dueReason(
  secretName: string,
  watch: HealthWatch | undefined,
  nowMs: number,
  cadence: CheckCadence,
): DueReason | undefined {
  const now = nowMs / 1000;
  if (watch?.failing === true) return 'failing';
  if (watch?.changedUntil !== undefined && now < watch.changedUntil) return 'changed';
  if (watch?.recoveredUntil !== undefined && now < watch.recoveredUntil) return 'recovered';
  if (watch?.credentialExpiresAt !== undefined && watch.credentialExpiresAt - now <= cadence.runSeconds) {
    return 'expiring';
  }
  return idleSlotInRun(secretName, now, cadence) ? 'idle' : undefined;
}

/**
 * The secret's idle slot within each `idleSeconds`: a stable hash of its name, so that the stage's
 * secrets spread evenly over the interval and each run tests about `secrets × runSeconds /
 * idleSeconds` of them, and a secret keeps its slot when others are added or removed.
 */
export function idleOffsetSeconds(secretName: string, idleSeconds: number): number {
  const hash = createHash('sha256').update(secretName).digest().readUInt32BE(0);
  return hash % Math.max(1, Math.floor(idleSeconds));
}

// The run at `now` covers the `runSeconds` before it: a slot in (now - runSeconds, now] is its.
function idleSlotInRun(secretName: string, now: number, cadence: CheckCadence): boolean {
  if (cadence.idleSeconds <= cadence.runSeconds) return true;
  const shifted = now - idleOffsetSeconds(secretName, cadence.idleSeconds);
  return Math.floor(shifted / cadence.idleSeconds) !== Math.floor((shifted - cadence.runSeconds) / cadence.idleSeconds);
}

/** What is wrong with `cadence`, or undefined when nothing is. */
export function checkCadenceProblem(cadence: CheckCadence): string | undefined {
  for (const [name, value] of Object.entries(cadence)) {
    if (!Number.isInteger(value) || value < 1)
      return `${name} must be a whole number of seconds of at least 1, got ${value}`;
  }
  if (cadence.idleSeconds < cadence.runSeconds) {
    return `idleSeconds (${cadence.idleSeconds}) must be at least the run period (${cadence.runSeconds})`;
  }
  return undefined;
}
