import { RotationPausedError } from '../errors';
import type { Ledger } from '../ledger/ledger';
import type { SecretDescription } from './secret-store';

/** Why rotation of a secret may not start now. */
export interface RotationPause {
  /** Epoch milliseconds. */
  readonly pausedAt: number;
  readonly reason: string;
}

/** Says whether a new rotation of a secret may start: the ledger's pause (automatic rollback gave up). */
export interface RotationGate {
  /** @returns the pause, or undefined when rotation may start. */
  pauseOf(secretArn: string): Promise<RotationPause | undefined>;
}

/** The gate on the ledger: a secret whose status is `paused` may not start a rotation. */
export function ledgerRotationGate(ledger: Pick<Ledger, 'getSecretState'>): RotationGate {
  return {
    async pauseOf(secretArn) {
      const state = await ledger.getSecretState(secretArn);
      if (state?.status !== 'paused') return undefined;
      return { pausedAt: state.pause?.pausedAt ?? 0, reason: state.pause?.reason ?? 'no reason recorded' };
    },
  };
}

/**
 * Refuses to start a new rotation of a paused secret, naming the way out.
 * @throws RotationPausedError
 */
export async function assertRotationMayStart(secret: SecretDescription, gate: RotationGate | undefined): Promise<void> {
  const pause = await gate?.pauseOf(secret.arn);
  if (pause === undefined) return;
  throw new RotationPausedError(
    `rotation of secret ${secret.name} is paused since ${new Date(pause.pausedAt).toISOString()}: ${pause.reason}; ` +
      `run \`rotor resume ${secret.name}\` after looking`,
  );
}
