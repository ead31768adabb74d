import type { CredentialRecord, ReuseResponse } from '../../../../lambda/core/ledger/ledger-records';
import { respondToReuse, type ReuseResponseDependencies } from '../../../../lambda/core/verifier/reuse-response';
import { InMemoryLedger } from '../../fakes/in-memory-ledger';
import {
  LEDGER_SECRET,
  ManualClock,
  RecordingIncidents,
  RecordingRotations,
  REUSE_MEMORY_SECONDS,
  secretWithHistory,
  T0,
  type SecretHistory,
} from '../../helpers/ledger-harness';

describe('Function: respondToReuse', () => {
  let log: string[];
  let clock: ManualClock;
  let ledger: InMemoryLedger;
  let incidents: RecordingIncidents;
  let rotations: RecordingRotations;
  let deps: ReuseResponseDependencies;
  let history: SecretHistory;

  /** A secret whose previous credential's grace is over, and that credential as the verifier read it. */
  async function deadPrevious(onReuse: ReuseResponse = 'revoke-and-rotate'): Promise<CredentialRecord> {
    history = await secretWithHistory(ledger, onReuse);
    clock.current = history.graceEndsAt + 5000;
    const record = await ledger.getCredential(history.previous.fingerprint);
    log.length = 0;
    return record!;
  }

  const stateOf = async (fingerprint: string) => (await ledger.getCredential(fingerprint))?.state;

  beforeEach(() => {
    log = [];
    clock = new ManualClock(T0);
    ledger = new InMemoryLedger(clock.now, log);
    incidents = new RecordingIncidents(log);
    rotations = new RecordingRotations(log);
    deps = { ledger, incidents, rotations, now: clock.now, reuseMemorySeconds: REUSE_MEMORY_SECONDS };
  });

  it('revoke-and-rotate: reports, publishes, revokes the family, then starts a rotation, in that order', async () => {
    // Prepare
    const record = await deadPrevious();

    // Act
    const opened = await respondToReuse(record, deps);

    // Assess
    expect(opened).toBe(true);
    expect(log).toEqual([
      'claimReuseReport',
      'getSecretState',
      'appendAudit',
      'publish',
      'revokeFamily',
      'appendAudit',
      'rotate',
      'appendAudit',
    ]);
    const audit = ledger.auditOf(LEDGER_SECRET.arn).slice(-3);
    expect(audit).toEqual([
      expect.objectContaining({
        type: 'reuse-detected',
        at: clock.current,
        versionId: history.previous.versionId,
        fingerprintPrefix: history.previous.fingerprint.slice(0, 12),
        detail: { credentialState: 'previous', response: 'revoke-and-rotate' },
      }),
      expect.objectContaining({ type: 'revoked', detail: { reason: 'reuse-detected', versions: 2 } }),
      expect.objectContaining({
        type: 'rotation-started',
        versionId: 'rotation-1',
        detail: { reason: 'reuse-detected' },
      }),
    ]);
    expect(rotations.started).toEqual([LEDGER_SECRET.arn]);
    expect(await stateOf(history.previous.fingerprint)).toBe('revoked');
    expect(await stateOf(history.current.fingerprint)).toBe('revoked');
    expect(await stateOf(history.pending.fingerprint)).toBe('pending');
  });

  it('remembers the revoked family for the reuse memory from the incident', async () => {
    // Prepare
    const record = await deadPrevious();

    // Act
    await respondToReuse(record, deps);

    // Assess
    const expiresAt = Math.floor(clock.current / 1000) + REUSE_MEMORY_SECONDS;
    expect(ledger.itemOf(history.current.fingerprint)?.expiresAt).toBe(expiresAt);
  });

  it('alert-only: reports and publishes, and revokes and starts nothing', async () => {
    // Prepare
    const record = await deadPrevious('alert-only');

    // Act
    const opened = await respondToReuse(record, deps);

    // Assess
    expect(opened).toBe(true);
    expect(log).toEqual(['claimReuseReport', 'getSecretState', 'appendAudit', 'publish']);
    expect(incidents.published).toEqual([expect.objectContaining({ response: 'alert-only' })]);
    expect(ledger.auditOf(LEDGER_SECRET.arn).at(-1)).toMatchObject({
      type: 'reuse-detected',
      detail: { credentialState: 'previous', response: 'alert-only' },
    });
    expect(await stateOf(history.current.fingerprint)).toBe('current');
    expect((await ledger.getSecretState(LEDGER_SECRET.arn))?.status).toBe('active');
    expect(rotations.started).toEqual([]);
  });

  it('reports an already revoked credential and starts the rotation again while the secret is still compromised', async () => {
    // Prepare: an earlier incident revoked the family and its rotation has not finished
    await deadPrevious();
    await ledger.revokeFamily(LEDGER_SECRET.arn, clock.current, Math.floor(clock.current / 1000) + 60);
    const revoked = (await ledger.getCredential(history.current.fingerprint))!;
    log.length = 0;

    // Act
    const opened = await respondToReuse(revoked, deps);

    // Assess
    expect(opened).toBe(true);
    expect(log).toEqual(['claimReuseReport', 'getSecretState', 'appendAudit', 'publish', 'rotate', 'appendAudit']);
    expect(incidents.published).toEqual([
      expect.objectContaining({ credentialState: 'revoked', response: 'already-revoked' }),
    ]);
    expect(rotations.started).toEqual([LEDGER_SECRET.arn]);
  });

  it('starts nothing for a revoked credential once a rotation has ended the incident', async () => {
    // Prepare: the incident's rotation promoted a new credential, so the secret is active again
    await deadPrevious();
    await ledger.revokeFamily(LEDGER_SECRET.arn, clock.current, Math.floor(clock.current / 1000) + 60);
    await ledger.recordPromotion({
      secretArn: LEDGER_SECRET.arn,
      secretName: LEDGER_SECRET.name,
      provider: 'managed-token',
      current: { versionId: 'after-incident', fingerprint: 'f'.repeat(64) },
      previous: { versionId: history.current.versionId, fingerprint: history.current.fingerprint },
      now: clock.current,
      graceEndsAt: clock.current,
      previousExpiresAt: Math.floor(clock.current / 1000) + 60,
      onReuse: 'revoke-and-rotate',
    });
    const revoked = (await ledger.getCredential(history.current.fingerprint))!;
    log.length = 0;

    // Act
    const opened = await respondToReuse(revoked, deps);

    // Assess
    expect(opened).toBe(true);
    expect(log).toEqual(['claimReuseReport', 'getSecretState', 'appendAudit', 'publish']);
    expect(rotations.started).toEqual([]);
    expect((await ledger.getSecretState(LEDGER_SECRET.arn))?.status).toBe('active');
  });

  it('releases the claim when the response fails, so the next presentation answers the incident', async () => {
    // Prepare: EventBridge refuses the first publication
    const record = await deadPrevious();
    incidents.failure = new Error('ThrottlingException');

    // Act
    const failed = await respondToReuse(record, deps).catch((error: unknown) => error);
    incidents.failure = undefined;
    const retried = await respondToReuse(record, deps);
    const afterwards = await respondToReuse(record, deps);

    // Assess
    expect(failed).toEqual(new Error('ThrottlingException'));
    expect([retried, afterwards]).toEqual([true, false]);
    expect(incidents.published).toHaveLength(1);
    expect(rotations.started).toEqual([LEDGER_SECRET.arn]);
  });

  it('does nothing but the claim for a presentation whose incident is already open', async () => {
    // Prepare
    const record = await deadPrevious('alert-only');
    await respondToReuse(record, deps);
    log.length = 0;

    // Act
    const opened = await respondToReuse(record, deps);

    // Assess
    expect(opened).toBe(false);
    expect(log).toEqual(['claimReuseReport']);
    expect(incidents.published).toHaveLength(1);
  });

  it('opens one incident, revokes once and starts one rotation for 20 concurrent callers', async () => {
    // Prepare
    const record = await deadPrevious();

    // Act
    const opened = await Promise.all(Array.from({ length: 20 }, () => respondToReuse(record, deps)));

    // Assess
    expect(opened.filter(Boolean)).toHaveLength(1);
    expect(incidents.published).toHaveLength(1);
    expect(rotations.started).toHaveLength(1);
    expect(log.filter((entry) => entry === 'revokeFamily')).toHaveLength(1);
  });

  it('publishes the secret, version and a fingerprint prefix, never the token or the full fingerprint', async () => {
    // Prepare
    const record = await deadPrevious();

    // Act
    await respondToReuse(record, deps);

    // Assess
    expect(incidents.published).toEqual([
      {
        secretArn: LEDGER_SECRET.arn,
        secretName: LEDGER_SECRET.name,
        versionId: history.previous.versionId,
        fingerprintPrefix: history.previous.fingerprint.slice(0, 12),
        credentialState: 'previous',
        detectedAt: new Date(clock.current).toISOString(),
        response: 'revoke-and-rotate',
      },
    ]);
    const published = JSON.stringify(incidents.published);
    expect(published).not.toContain(history.previous.token);
    expect(published).not.toContain(history.previous.fingerprint);
  });

  it('falls back to revoke-and-rotate when the ledger holds no state for the secret', async () => {
    // Prepare
    const record = await deadPrevious('alert-only');
    jest.spyOn(ledger, 'getSecretState').mockResolvedValue(undefined);

    // Act
    await respondToReuse(record, deps);

    // Assess
    expect(incidents.published).toEqual([expect.objectContaining({ response: 'revoke-and-rotate' })]);
    expect(rotations.started).toEqual([LEDGER_SECRET.arn]);
  });
});
