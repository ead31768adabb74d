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
