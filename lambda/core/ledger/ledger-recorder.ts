import type { ParsedSecretDocument } from '../secret-document';
import type { CurrentObserved, Promoted, PendingStored, RotationObserver } from '../rotation/rotation-observer';
import { fingerprintPrefix, type Fingerprinter } from './fingerprint';
import { PENDING_LIFETIME_SECONDS, type CredentialVersionRef, type Ledger, type LedgerDurations } from './ledger';
import type { RetirementScheduler } from './retirement-scheduler';

export interface LedgerRecorderDependencies {
  readonly ledger: Ledger;
  readonly fingerprinter: () => Promise<Fingerprinter>;
  readonly retirements: RetirementScheduler;
  readonly durations: LedgerDurations;
  readonly now: () => number;
  /** Told when the retirement could not be scheduled; the retire function's sweep will catch it. */
  readonly onRetirementScheduleFailed?: (secretName: string, error: unknown) => void;
}

/**
 * Keeps the ledger in step with the rotation: the pending credential when createSecret stores
 * it, the grace the current one will get just before finishSecret moves AWSCURRENT, then current
 * and previous (with its grace end) once it moved, and a one-time schedule that retires the
 * previous credential at the end of its grace. Before a step writes, it checks that it can do its
 * part and records a promotion an earlier step failed to record.
 */
export class LedgerRecorder implements RotationObserver {
  constructor(private readonly deps: LedgerRecorderDependencies) {}

  /**
   * Loads the pepper and reads the secret's state (the table is there and readable) before the
   * step writes anything. If Secrets Manager's AWSCURRENT is a credential the ledger still holds
   * as pending for that version, an earlier finishSecret moved the label and failed before the
   * ledger heard of it: its promotion is recorded now, and the credential it replaced (still
   * `current` in the ledger) becomes previous within the grace marked before the move.
   */
  async prepare(event: CurrentObserved): Promise<void> {
    const fingerprinter = await this.deps.fingerprinter();
    const state = await this.deps.ledger.getSecretState(event.secret.arn);
    if (state?.currentVersionId === event.versionId) return;
    const current = await event.readCurrent();
    const credential = current?.provider.credentialOf(current.document);
    if (current === undefined || credential === undefined) return;
    const record = await this.deps.ledger.getCredential(fingerprinter.of(credential));
    // Only a credential Rotor issued for this very version is promoted: anything else written to
    // AWSCURRENT outside Rotor stays unknown to the ledger (and the health check reports it).
    if (record?.state !== 'pending' || record.secretArn !== event.secret.arn || record.versionId !== event.versionId) {
      return;
    }
    await this.promoted({
      secret: event.secret,
      versionId: event.versionId,
      current,
      ...(event.previousVersionId === undefined ? {} : { previousVersionId: event.previousVersionId }),
      readPrevious: () => event.readPrevious(),
    });
  }

  /**
   * Marks the credential AWSCURRENT is about to leave with the end of the grace it will get, so
   * that the ledger's `current` is never trusted beyond it should the promotion go unrecorded.
   */
  async promoting(event: Promoted): Promise<void> {
    const fingerprinter = await this.deps.fingerprinter();
    const state = await this.deps.ledger.getSecretState(event.secret.arn);
    const previous = await this.previousVersion(
      event,
      state?.currentVersionId,
      state?.currentFingerprint,
      fingerprinter,
    );
    if (previous === undefined) return;
    const now = this.deps.now();
    await this.deps.ledger.markSupersession({
      secretArn: event.secret.arn,
      ...previous,
      graceEndsAt: now + this.graceSecondsOf(event) * 1000,
      now,
    });
  }

  async pendingStored({ secret, versionId, pending }: PendingStored): Promise<void> {
    const credential = pending.provider.credentialOf(pending.document);
    if (credential === undefined) return;
    const now = this.deps.now();
    await this.deps.ledger.recordPending({
      secretArn: secret.arn,
      secretName: secret.name,
      provider: pending.provider.name,
      versionId,
      fingerprint: (await this.deps.fingerprinter()).of(credential),
      now,
      expiresAt: Math.floor(now / 1000) + PENDING_LIFETIME_SECONDS,
    });
  }

  async promoted(event: Promoted): Promise<void> {
    const { ledger } = this.deps;
    const state = await ledger.getSecretState(event.secret.arn);
    if (state?.currentVersionId === event.versionId) return;

    const credential = event.current.provider.credentialOf(event.current.document);
    if (credential === undefined) return;
    const fingerprinter = await this.deps.fingerprinter();
    const previous = await this.previousVersion(
      event,
      state?.currentVersionId,
      state?.currentFingerprint,
      fingerprinter,
    );
    const now = this.deps.now();
    const graceEndsAt = now + this.graceSecondsOf(event) * 1000;
    const outcome = await ledger.recordPromotion({
      secretArn: event.secret.arn,
      secretName: event.secret.name,
      provider: event.current.provider.name,
      current: { versionId: event.versionId, fingerprint: fingerprinter.of(credential) },
      ...(previous === undefined ? {} : { previous }),
      now,
      graceEndsAt,
      previousExpiresAt: Math.floor(graceEndsAt / 1000) + this.deps.durations.reuseMemorySeconds,
      onReuse: event.current.policy.onReuse ?? 'revoke-and-rotate',
    });
    if (outcome === 'recorded' && previous !== undefined) {
      await this.scheduleRetirement(event, previous, graceEndsAt);
    }
  }

  private graceSecondsOf(event: Promoted): number {
    return event.current.policy.graceSeconds ?? this.deps.durations.defaultGraceSeconds;
  }

  // The ledger usually knows the replaced credential's fingerprint; read the version only when not.
  private async previousVersion(
    event: Promoted,
    knownVersionId: string | undefined,
    knownFingerprint: string | undefined,
    fingerprinter: Fingerprinter,
  ): Promise<CredentialVersionRef | undefined> {
    if (event.previousVersionId === undefined) return undefined;
    if (knownVersionId === event.previousVersionId && knownFingerprint !== undefined) {
      return { versionId: knownVersionId, fingerprint: knownFingerprint };
    }
    const document: ParsedSecretDocument | undefined = await event.readPrevious();
    const credential = document?.provider.credentialOf(document.document);
    return credential === undefined
      ? undefined
      : { versionId: event.previousVersionId, fingerprint: fingerprinter.of(credential) };
  }

  // A retirement that cannot be scheduled must not fail the rotation: the sweep catches it.
  private async scheduleRetirement(event: Promoted, previous: CredentialVersionRef, at: number): Promise<void> {
    try {
      await this.deps.retirements.schedule({ secretArn: event.secret.arn, ...previous, at });
    } catch (error) {
      this.deps.onRetirementScheduleFailed?.(event.secret.name, error);
      await this.deps.ledger.appendAudit({
        secretArn: event.secret.arn,
        secretName: event.secret.name,
        type: 'retirement-schedule-failed',
        at: this.deps.now(),
        versionId: previous.versionId,
        fingerprintPrefix: fingerprintPrefix(previous.fingerprint),
        detail: { error: error instanceof Error ? error.name : 'Error' },
      });
    }
  }
}
