/** A previous credential to retire when its grace period ends. */
export interface Retirement {
  readonly secretArn: string;
  readonly versionId: string;
  readonly fingerprint: string;
  /** Epoch milliseconds. */
  readonly at: number;
}

/** Arranges for a previous credential to be retired at the end of its grace (EventBridge Scheduler). */
export interface RetirementScheduler {
  /** Idempotent: scheduling the same retirement twice leaves one schedule. */
  schedule(retirement: Retirement): Promise<void>;
}

/**
 * Cancels a scheduled retirement: a rollback made the version current again. Kept apart from
 * {@link RetirementScheduler} because the rotation only schedules and the rollback only cancels;
 * the Scheduler adapter does both.
 */
export interface RetirementCanceller {
  /**
   * Idempotent: `not-found` when there is no such schedule (it never existed, ran, or was cancelled).
   */
  cancel(secretArn: string, versionId: string): Promise<'cancelled' | 'not-found'>;
}
