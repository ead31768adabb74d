import { Fingerprinter } from '../../../lambda/core/ledger/fingerprint';
import type { ReuseResponse } from '../../../lambda/core/ledger/ledger-records';
import { generateManagedToken } from '../../../lambda/core/providers/managed-token/managed-token-format';
import type { IncidentPublisher, ReuseIncident, RotationStarter } from '../../../lambda/core/verifier/reuse-response';
import type { InMemoryLedger } from '../fakes/in-memory-ledger';

/** A fingerprint pepper of the minimum strength, and the fingerprinter it makes. */
export const PEPPER = Buffer.from('p'.repeat(64), 'utf8');
export const fingerprinter = new Fingerprinter(PEPPER);

/** The secret of the ledger tests: the ARN InMemorySecretStore gives `rotor/dev/ci-token`. */
export const LEDGER_SECRET = {
  arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123',
  name: 'rotor/dev/ci-token',
};

export const T0 = 1_700_000_000_000;
export const GRACE_MS = 60_000;
export const REUSE_MEMORY_SECONDS = 3600;

/** A well-formed managed token, different for each `seed` and the same every run. */
export function tokenNumber(seed: number): string {
  return generateManagedToken(() => Buffer.alloc(32, seed));
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(public current = T0) {}
  readonly now = (): number => this.current;
}

/** An {@link IncidentPublisher} that keeps what it was told and writes `publish` into `log`. */
export class RecordingIncidents implements IncidentPublisher {
  readonly published: ReuseIncident[] = [];
  failure: Error | undefined;

  constructor(private readonly log: string[] = []) {}

  async reuseDetected(incident: ReuseIncident): Promise<void> {
    await Promise.resolve();
    this.log.push('publish');
    if (this.failure !== undefined) throw this.failure;
    this.published.push(incident);
  }
}

/** A {@link RotationStarter} that records each start and answers a new version id. */
export class RecordingRotations implements RotationStarter {
  readonly started: string[] = [];
  failure: Error | undefined;

  constructor(private readonly log: string[] = []) {}

  async startRotation(secretArn: string): Promise<string> {
    await Promise.resolve();
    this.log.push('rotate');
    if (this.failure !== undefined) throw this.failure;
    this.started.push(secretArn);
    return `rotation-${this.started.length}`;
  }
}

export interface IssuedCredential {
  readonly token: string;
  readonly versionId: string;
  readonly fingerprint: string;
}

export interface SecretHistory {
  /** Rotated out at T0 + 1 s: `previous` until `graceEndsAt`. */
  readonly previous: IssuedCredential;
  readonly current: IssuedCredential;
  /** Stored by a rotation in progress (T0 + 2 s), not promoted. */
  readonly pending: IssuedCredential;
  readonly graceEndsAt: number;
}

function issued(seed: number): IssuedCredential {
  const token = tokenNumber(seed);
  return { token, versionId: `version-${seed}`, fingerprint: fingerprinter.of(token) };
}

/** Records two rotations and a third one in progress, as the rotation function would. */
export async function secretWithHistory(
  ledger: InMemoryLedger,
  onReuse: ReuseResponse = 'revoke-and-rotate',
): Promise<SecretHistory> {
  const [previous, current, pending] = [issued(1), issued(2), issued(3)];
  const base = { secretArn: LEDGER_SECRET.arn, secretName: LEDGER_SECRET.name, provider: 'managed-token', onReuse };
  await ledger.recordPromotion({
    ...base,
    current: previous,
    now: T0,
    graceEndsAt: T0 + GRACE_MS,
    previousExpiresAt: 0,
  });
  const graceEndsAt = T0 + 1000 + GRACE_MS;
  await ledger.recordPromotion({
    ...base,
    current,
    previous,
    now: T0 + 1000,
    graceEndsAt,
    previousExpiresAt: Math.floor(graceEndsAt / 1000) + REUSE_MEMORY_SECONDS,
  });
  await ledger.recordPending({
    ...base,
    ...pending,
    now: T0 + 2000,
    expiresAt: Math.floor(T0 / 1000) + 86_400,
  });
  return { previous, current, pending, graceEndsAt };
}
