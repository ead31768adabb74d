import { MetricName } from '../../shared/rotor-constants';
import type { RotationObserver, SideEffectOutcomeUnknown, UpstreamReuseSuspected } from '../rotation/rotation-observer';
import type { IncidentPublisher } from '../verifier/reuse-response';
import { fingerprintPrefix } from './fingerprint';
import type { Ledger } from './ledger';

/** A provider action whose result was lost (EventBridge `Credential Outcome Unknown`). */
export interface SideEffectOutcomeIncident {
  readonly secretArn: string;
  readonly secretName: string;
  /** The rotation that found the lost result. */
  readonly versionId: string;
  readonly provider: string;
  /** The rotation whose attempt spent the credential, and when (ISO-8601). */
  readonly spentBy: string;
  readonly spentAt: string;
  /** The first 12 hex digits of the spent credential's fingerprint, when it had one. */
  readonly fingerprintPrefix?: string;
  /** Whether Rotor presents the spent credential once more within the issuer's reuse interval. */
  readonly retrying: boolean;
  readonly detectedAt: string;
}

/** Sends what createSecret learns at a provider where people and pipelines see it. */
export interface SideEffectIncidentPublisher extends IncidentPublisher {
  sideEffectOutcomeUnknown(incident: SideEffectOutcomeIncident): Promise<void>;
}

export interface SideEffectIncidentDependencies {
  readonly ledger: Pick<Ledger, 'revokeFamily' | 'appendAudit'>;
  readonly incidents: SideEffectIncidentPublisher;
  readonly now: () => number;
  /** How long revoked credentials are remembered, so that presenting one is still caught. */
  readonly reuseMemorySeconds: number;
  /** Publishes one metric for the secret (EMF in the handler). */
  readonly countMetric: (secretName: string, metric: MetricName) => void;
}

/**
 * Answers what createSecret learns at a provider that spends single-use credentials:
 *
 * - possible theft upstream (the issuer refused a credential Rotor had not spent): a reuse
 *   incident, as the verifier opens one (DESIGN section 5): every credential consumers may hold is
 *   revoked and the secret marked compromised, one `reuse-detected` audit event, one `Token Reuse
 *   Detected` event and the ReuseDetected metric, so the reuse alarm fires. No rotation is started:
 *   without a credential the issuer accepts, only re-authorization (`rotor bootstrap`) helps.
 * - a lost result: one `outcome-unknown` audit event, one `Credential Outcome Unknown` event and
 *   the SideEffectOutcomeUnknown metric.
 *
 * Nothing here carries a credential: only fingerprint prefixes and version ids.
 */
export class SideEffectIncidentRecorder implements RotationObserver {
  constructor(private readonly deps: SideEffectIncidentDependencies) {}

  async upstreamReuseSuspected(event: UpstreamReuseSuspected): Promise<void> {
    const { ledger, incidents, now: clock } = this.deps;
    const now = clock();
    const revoked = await ledger.revokeFamily(
      event.secret.arn,
      now,
      Math.floor(now / 1000) + this.deps.reuseMemorySeconds,
    );
    const prefix = event.spentFingerprint === undefined ? undefined : fingerprintPrefix(event.spentFingerprint);
    await ledger.appendAudit({
      secretArn: event.secret.arn,
      secretName: event.secret.name,
      type: 'reuse-detected',
      at: now,
      versionId: event.refusedVersionId,
      ...(prefix === undefined ? {} : { fingerprintPrefix: prefix }),
      detail: {
        reason: 'possible theft upstream',
        provider: event.provider,
        response: 'reauthorization-required',
        rotation: event.versionId,
        revoked: revoked.length,
      },
    });
    await incidents.reuseDetected({
      secretArn: event.secret.arn,
      secretName: event.secret.name,
      versionId: event.refusedVersionId,
      fingerprintPrefix: prefix ?? '',
      credentialState: 'current',
      detectedAt: new Date(now).toISOString(),
      response: 'reauthorization-required',
      reason: 'possible theft upstream',
    });
    this.deps.countMetric(event.secret.name, MetricName.ReuseDetected);
  }

  async sideEffectOutcomeUnknown(event: SideEffectOutcomeUnknown): Promise<void> {
    const { ledger, incidents, now: clock } = this.deps;
    const now = clock();
    const prefix = event.spentFingerprint === undefined ? undefined : fingerprintPrefix(event.spentFingerprint);
    await ledger.appendAudit({
      secretArn: event.secret.arn,
      secretName: event.secret.name,
      type: 'outcome-unknown',
      at: now,
      versionId: event.versionId,
      ...(prefix === undefined ? {} : { fingerprintPrefix: prefix }),
      detail: {
        provider: event.provider,
        spentBy: event.spentBy,
        spentAt: new Date(event.spentAt).toISOString(),
        retrying: event.retrying,
      },
    });
    await incidents.sideEffectOutcomeUnknown({
      secretArn: event.secret.arn,
      secretName: event.secret.name,
      versionId: event.versionId,
      provider: event.provider,
      spentBy: event.spentBy,
      spentAt: new Date(event.spentAt).toISOString(),
      ...(prefix === undefined ? {} : { fingerprintPrefix: prefix }),
      retrying: event.retrying,
      detectedAt: new Date(now).toISOString(),
    });
    this.deps.countMetric(event.secret.name, MetricName.SideEffectOutcomeUnknown);
  }
}
