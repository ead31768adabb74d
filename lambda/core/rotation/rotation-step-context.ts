import type { ProviderContext } from '../providers/credential-provider';
import type { ProviderRegistry } from '../providers/provider-registry';
import type { SideEffectJournal } from '../providers/side-effect-journal';
import type { RotationEvent } from './rotation-event';
import type { RotationGate } from './rotation-gate';
import type { RotationObserver } from './rotation-observer';
import type { SecretDescription, SecretStore } from './secret-store';

/** What the rotation engine is built from; the handler wires the real ones, tests fakes. */
export interface RotationDependencies {
  readonly store: SecretStore;
  readonly providers: ProviderRegistry;
  /** Required as soon as a registered provider has external side effects. */
  readonly journal?: SideEffectJournal;
  readonly now: () => Date;
  /** Secrets whose name does not start with this are refused. */
  readonly secretNamePrefix?: string;
  /** Told about stored pending versions and promotions (the ledger). @default none */
  readonly observers?: readonly RotationObserver[];
  /** Asked before createSecret makes a new credential: a paused secret starts no rotation. @default none */
  readonly gate?: RotationGate;
  /**
   * Fingerprints a single-use credential for the journal (HMAC under the ledger's pepper).
   * Required as soon as a registered provider spends single-use credentials.
   */
  readonly fingerprint?: (credential: string) => Promise<string>;
  /** How createSecret treats journal claims and the write of AWSPENDING after a provider acted. */
  readonly sideEffects?: SideEffectTiming;
}

/** Timings of createSecret for providers that act outside AWS. */
export interface SideEffectTiming {
  /**
   * A journal claim younger than this may still be acting (its invocation still running): a twin
   * waits for its result instead of calling it lost. Longer than the function's timeout.
   * @default 70 000 ms
   */
  readonly claimLeaseMs?: number;
  /** How long a twin waits for the holder's result before giving up with SideEffectInProgressError. @default 20 000 ms */
  readonly twinWaitMs?: number;
  /** Attempts at storing AWSPENDING once the provider has acted (the result exists nowhere else). @default 5 */
  readonly pendingWriteAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** One step of one rotation, after the guards passed. */
export interface RotationStepContext {
  readonly event: RotationEvent;
  readonly secret: SecretDescription;
  readonly currentVersionId: string;
  readonly provider: ProviderContext;
  readonly deps: RotationDependencies;
}

/** What a step did, for the log line and metrics. */
export type StepOutcome =
  | 'already-current'
  | 'created'
  | 'already-created'
  | 'set'
  | 'nothing-to-set'
  | 'tested'
  | 'promoted'
  | 'already-promoted';

export interface StepReport {
  readonly outcome: StepOutcome;
  /** Provider of the document the step worked on, when it read one. */
  readonly provider?: string;
}
