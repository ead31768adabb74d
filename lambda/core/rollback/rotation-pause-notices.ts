/** What people and pipelines are told when rotation of a secret is paused. Never holds a credential. */
export interface RotationPauseNotice {
  readonly secretArn: string;
  readonly secretName: string;
  readonly reason: string;
  /** ISO-8601. */
  readonly pausedAt: string;
  /** The alarm whose state change led to the pause. */
  readonly alarmName: string;
  /** Rollbacks performed in the incident, and the most it may have. */
  readonly rollbacks: number;
  readonly maxRollbacks: number;
  /** What to do. */
  readonly action: string;
}

/** What pipelines are told when an operator lifts a pause. */
export interface RotationResumeNotice {
  readonly secretArn: string;
  readonly secretName: string;
  /** ISO-8601. */
  readonly resumedAt: string;
  readonly resumedBy: string;
  /** ISO-8601, when known. */
  readonly pausedAt?: string;
  readonly pauseReason?: string;
}

/** Tells people (an SNS topic). */
export interface PauseAlerts {
  rotationPaused(notice: RotationPauseNotice): Promise<void>;
}

/** Tells pipelines (EventBridge `Rotation Paused` / `Rotation Resumed`), so CI can hold deploys. */
export interface RotationStatusEvents {
  rotationPaused(notice: RotationPauseNotice): Promise<void>;
  rotationResumed(notice: RotationResumeNotice): Promise<void>;
}
