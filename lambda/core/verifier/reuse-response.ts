import { fingerprintPrefix } from '../ledger/fingerprint';
import type { Ledger } from '../ledger/ledger';
import type { CredentialRecord } from '../ledger/ledger-records';

/** What is published when a dead credential is presented (EventBridge `Token Reuse Detected`). */
export interface ReuseIncident {
  readonly secretArn: string;
  readonly secretName: string;
  readonly versionId: string;
  readonly fingerprintPrefix: string;
  /** State of the presented credential: previous after its grace, retired, or revoked. */
  readonly credentialState: string;
  readonly detectedAt: string;
  /**
   * What Rotor did about it. `reauthorization-required`: an issuer refused a single-use credential
   * Rotor had not spent; the secret's credentials were revoked and it needs `rotor bootstrap`.
   */
  readonly response: 'revoke-and-rotate' | 'alert-only' | 'already-revoked' | 'reauthorization-required';
  /** Why this is reuse, when it was not a presentation to the verifier (`possible theft upstream`). */
  readonly reason?: string;
}

/** Sends incidents where people and pipelines see them. */
export interface IncidentPublisher {
  reuseDetected(incident: ReuseIncident): Promise<void>;
}

/** Starts a rotation of a secret now, as RotateSecret does. */
export interface RotationStarter {
  startRotation(secretArn: string): Promise<string>;
}

export interface ReuseResponseDependencies {
  readonly ledger: Ledger;
  readonly incidents: IncidentPublisher;
  readonly rotations: RotationStarter;
  readonly now: () => number;
  readonly reuseMemorySeconds: number;
}

/**
 * Answers a dead credential being presented. Of a burst of presentations of the same
 * credential, only the first opens an incident (a conditional write in the ledger): one
 * audit event, one EventBridge event, and the secret's response, once. `revoke-and-rotate`
 * revokes the credentials consumers may hold and starts a rotation. A revoked credential
 * presented while its secret is still compromised starts the rotation again (idempotent: a
 * rotation already under way is left to finish), so an incident whose rotation failed heals.
 *
 * If any part of the response fails, the claim is released before the error propagates, so
 * the next presentation answers the incident again rather than finding it taken.
 *
 * @returns whether this call opened the incident.
 */
export async function respondToReuse(record: CredentialRecord, deps: ReuseResponseDependencies): Promise<boolean> {
  const { ledger } = deps;
  // A burst after the first report is answered from the read alone: no write per presentation.
  if (record.reuseReportedAt !== undefined) return false;
  if (!(await ledger.claimReuseReport(record.secretArn, record.fingerprint, deps.now()))) return false;
  try {
    await respond(record, deps);
    return true;
  } catch (error) {
    await ledger.releaseReuseReport(record.secretArn, record.fingerprint).catch(() => undefined);
    throw error;
  }
}

async function respond(record: CredentialRecord, deps: ReuseResponseDependencies): Promise<void> {
  const { ledger } = deps;
  const now = deps.now();
  const state = await ledger.getSecretState(record.secretArn);
  const response = record.state === 'revoked' ? 'already-revoked' : (state?.onReuse ?? ('revoke-and-rotate' as const));
  const base = { secretArn: record.secretArn, secretName: record.secretName };
  await ledger.appendAudit({
    ...base,
    type: 'reuse-detected',
    at: now,
    versionId: record.versionId,
    fingerprintPrefix: fingerprintPrefix(record.fingerprint),
    detail: { credentialState: record.state, response },
  });
  await deps.incidents.reuseDetected({
    ...base,
    versionId: record.versionId,
    fingerprintPrefix: fingerprintPrefix(record.fingerprint),
    credentialState: record.state,
    detectedAt: new Date(now).toISOString(),
    response,
  });
  if (response === 'alert-only') return;
  if (response === 'revoke-and-rotate') {
    const revoked = await ledger.revokeFamily(record.secretArn, now, Math.floor(now / 1000) + deps.reuseMemorySeconds);
    await ledger.appendAudit({
      ...base,
      type: 'revoked',
      at: deps.now(),
      detail: { reason: 'reuse-detected', versions: revoked.length },
    });
  } else if (state?.status !== 'compromised') {
    return;
  }
  const versionId = await deps.rotations.startRotation(record.secretArn);
  await ledger.appendAudit({
    ...base,
    type: 'rotation-started',
    at: deps.now(),
    versionId,
    detail: { reason: 'reuse-detected' },
  });
}
