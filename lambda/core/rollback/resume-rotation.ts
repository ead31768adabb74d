import type { Ledger } from '../ledger/ledger';
import type { SecretStatus } from '../ledger/ledger-records';
import type { RotationResumeNotice, RotationStatusEvents } from './rotation-pause-notices';

export interface ResumeDependencies {
  readonly ledger: Pick<Ledger, 'getSecretState' | 'resume'>;
  readonly events: Pick<RotationStatusEvents, 'rotationResumed'>;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

export type ResumeOutcome =
  | { readonly outcome: 'resumed'; readonly notice: RotationResumeNotice }
  /** Nothing was changed: the secret is not paused (or the ledger does not know it). */
  | { readonly outcome: 'not-paused'; readonly status: SecretStatus | 'unknown' };

/**
 * Lifts a pause after a person has looked (`rotor resume`): status `active`, the rollback
 * incident's count reset (the next alarm starts a new incident), a `resumed` audit event, and an
 * EventBridge `Rotation Resumed` event so pipelines holding deploys may go on. The next scheduled
 * rotation runs as usual; start one now with `rotor rotate` if the credential should be replaced.
 */
export async function resumeRotation(
  secret: { readonly arn: string; readonly name: string },
  by: string,
  deps: ResumeDependencies,
): Promise<ResumeOutcome> {
  const before = await deps.ledger.getSecretState(secret.arn);
  if (before?.status !== 'paused') return { outcome: 'not-paused', status: before?.status ?? 'unknown' };
  const now = deps.now();
  const resumed = await deps.ledger.resume({ secretArn: secret.arn, secretName: secret.name, now, by });
  if (resumed === 'not-paused') {
    const after = await deps.ledger.getSecretState(secret.arn);
    return { outcome: 'not-paused', status: after?.status ?? 'unknown' };
  }
  const notice: RotationResumeNotice = {
    secretArn: secret.arn,
    secretName: secret.name,
    resumedAt: new Date(now).toISOString(),
    resumedBy: by,
    ...(before.pause === undefined
      ? {}
      : { pausedAt: new Date(before.pause.pausedAt).toISOString(), pauseReason: before.pause.reason }),
  };
  await deps.events.rotationResumed(notice);
  return { outcome: 'resumed', notice };
}
