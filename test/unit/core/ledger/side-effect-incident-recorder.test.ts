import {
  SideEffectIncidentRecorder,
  type SideEffectIncidentPublisher,
  type SideEffectOutcomeIncident,
} from '../../../../lambda/core/ledger/side-effect-incident-recorder';
import type { SecretDescription } from '../../../../lambda/core/rotation/secret-store';
import type { ReuseIncident } from '../../../../lambda/core/verifier/reuse-response';
import { MetricName } from '../../../../lambda/shared/rotor-constants';
import { InMemoryLedger } from '../../fakes/in-memory-ledger';
import { fingerprinter, LEDGER_SECRET, ManualClock, T0 } from '../../helpers/ledger-harness';

const SECRET: SecretDescription = {
  arn: LEDGER_SECRET.arn,
  name: LEDGER_SECRET.name,
  rotationEnabled: true,
  versionStages: { 'current-version': ['AWSCURRENT'], 'pending-version': ['AWSPENDING'] },
};
const SPENT = fingerprinter.of('a-refresh-token-rotor-spent');
const ACCESS = fingerprinter.of('the-access-token-consumers-hold');

class RecordingPublisher implements SideEffectIncidentPublisher {
  readonly reuse: ReuseIncident[] = [];
  readonly outcomes: SideEffectOutcomeIncident[] = [];
  reuseDetected(incident: ReuseIncident): Promise<void> {
    this.reuse.push(incident);
    return Promise.resolve();
  }
  sideEffectOutcomeUnknown(incident: SideEffectOutcomeIncident): Promise<void> {
    this.outcomes.push(incident);
    return Promise.resolve();
  }
}

describe('SideEffectIncidentRecorder', () => {
  let clock: ManualClock;
  let ledger: InMemoryLedger;
  let publisher: RecordingPublisher;
  let metrics: [string, string][];
  let recorder: SideEffectIncidentRecorder;

  beforeEach(async () => {
    clock = new ManualClock();
    ledger = new InMemoryLedger(clock.now);
    publisher = new RecordingPublisher();
    metrics = [];
    recorder = new SideEffectIncidentRecorder({
      ledger,
      incidents: publisher,
      now: clock.now,
      reuseMemorySeconds: 3600,
      countMetric: (secretName, metric) => metrics.push([secretName, metric]),
    });
    await ledger.recordPromotion({
      secretArn: SECRET.arn,
      secretName: SECRET.name,
      provider: 'oauth2-refresh-token',
      current: { versionId: 'current-version', fingerprint: ACCESS },
      now: T0,
      graceEndsAt: T0,
      previousExpiresAt: Math.floor(T0 / 1000) + 60,
      onReuse: 'revoke-and-rotate',
    });
  });

  it('answers possible theft upstream as a reuse incident: revoked, compromised, audited, published, counted', async () => {
    // Act
    await recorder.upstreamReuseSuspected({
      secret: SECRET,
      versionId: 'pending-version',
      refusedVersionId: 'current-version',
      provider: 'oauth2-refresh-token',
      spentFingerprint: SPENT,
    });

    // Assess
    expect((await ledger.getCredential(ACCESS))?.state).toBe('revoked');
    expect((await ledger.getSecretState(SECRET.arn))?.status).toBe('compromised');
    expect(ledger.auditOf(SECRET.arn).filter((event) => event.type === 'reuse-detected')).toEqual([
      expect.objectContaining({
        versionId: 'current-version',
        fingerprintPrefix: SPENT.slice(0, 12),
        detail: {
          reason: 'possible theft upstream',
          provider: 'oauth2-refresh-token',
          response: 'reauthorization-required',
          rotation: 'pending-version',
          revoked: 1,
        },
      }),
    ]);
    expect(publisher.reuse).toEqual([
      {
        secretArn: SECRET.arn,
        secretName: SECRET.name,
        versionId: 'current-version',
        fingerprintPrefix: SPENT.slice(0, 12),
        credentialState: 'current',
        detectedAt: new Date(T0).toISOString(),
        response: 'reauthorization-required',
        reason: 'possible theft upstream',
      },
    ]);
    expect(metrics).toEqual([[SECRET.name, MetricName.ReuseDetected]]);
  });

  it('reports a lost result: audited, published and counted, with the rotation that spent the credential', async () => {
    // Act
    await recorder.sideEffectOutcomeUnknown({
      secret: SECRET,
      versionId: 'pending-version',
      provider: 'oauth2-refresh-token',
      spentBy: 'earlier-version',
      spentAt: T0 - 120_000,
      spentFingerprint: SPENT,
      retrying: false,
    });

    // Assess
    expect(ledger.auditOf(SECRET.arn).filter((event) => event.type === 'outcome-unknown')).toEqual([
      expect.objectContaining({
        versionId: 'pending-version',
        detail: {
          provider: 'oauth2-refresh-token',
          spentBy: 'earlier-version',
          spentAt: new Date(T0 - 120_000).toISOString(),
          retrying: false,
        },
      }),
    ]);
    expect(publisher.outcomes).toEqual([
      expect.objectContaining({ spentBy: 'earlier-version', retrying: false, fingerprintPrefix: SPENT.slice(0, 12) }),
    ]);
    expect(metrics).toEqual([[SECRET.name, MetricName.SideEffectOutcomeUnknown]]);
    expect((await ledger.getSecretState(SECRET.arn))?.status).toBe('active');
  });
});
