import type { RollbackDependencies } from '../../../lambda/core/rollback/answer-alarm';
import type {
  PauseAlerts,
  RotationPauseNotice,
  RotationResumeNotice,
  RotationStatusEvents,
} from '../../../lambda/core/rollback/rotation-pause-notices';
import type { RetirementCanceller } from '../../../lambda/core/ledger/retirement-scheduler';
import { managedTokenProvider } from '../../../lambda/core/providers/managed-token/managed-token-provider';
import { ProviderRegistry } from '../../../lambda/core/providers/provider-registry';
import { AWSCURRENT } from '../../../lambda/core/rotation/secret-store';
import { RotorAlarmKind, rotorAlarmName } from '../../../lambda/shared/rotor-constants';
import { InMemoryLedger } from '../fakes/in-memory-ledger';
import { InMemorySecretStore } from '../fakes/in-memory-secret-store';
import { fingerprinter, LEDGER_SECRET, ManualClock, T0, tokenNumber, type IssuedCredential } from './ledger-harness';

/** The stage of the rollback tests: its secret is LEDGER_SECRET (`rotor/dev/ci-token`). */
export const STAGE = { name: 'dev', secretNamePrefix: 'rotor/dev/' };
/** Grace of a previous credential in these tests: long enough to roll back to within it. */
export const ROLLBACK_GRACE_MS = 10 * 60_000;
export const LEASE_MS = 90_000;
export const WINDOW_MS = 24 * 3600_000;

/** Records cancelled retirements; `log` receives `cancel`. */
export class RecordingRetirements implements RetirementCanceller {
  readonly cancelled: string[] = [];
  constructor(private readonly log: string[]) {}
  async cancel(_secretArn: string, versionId: string): Promise<'cancelled' | 'not-found'> {
    await Promise.resolve();
    this.log.push('cancel');
    const known = !this.cancelled.includes(versionId);
    this.cancelled.push(versionId);
    return known ? 'cancelled' : 'not-found';
  }
}

/** Records pause alerts and status events; `failures` makes the next calls throw. */
export class RecordingNotices implements PauseAlerts, RotationStatusEvents {
  readonly alerts: RotationPauseNotice[] = [];
  readonly paused: RotationPauseNotice[] = [];
  readonly resumed: RotationResumeNotice[] = [];
  alertFailures = 0;
  constructor(private readonly log: string[]) {}

  readonly asAlerts: PauseAlerts = {
    rotationPaused: async (notice) => {
      await Promise.resolve();
      this.log.push('alert');
      if (this.alertFailures > 0) {
        this.alertFailures -= 1;
        throw new Error('SNS is unavailable (injected)');
      }
      this.alerts.push(notice);
    },
  };

  async rotationPaused(notice: RotationPauseNotice): Promise<void> {
    await Promise.resolve();
    this.log.push('event:paused');
    this.paused.push(notice);
  }

  async rotationResumed(notice: RotationResumeNotice): Promise<void> {
    await Promise.resolve();
    this.log.push('event:resumed');
    this.resumed.push(notice);
  }
}

let nextSeed = 10;

/**
 * One secret as both Secrets Manager (InMemorySecretStore) and the ledger (InMemoryLedger) see
 * it, rotated as the rotation function would, plus the rollback function's other collaborators.
 */
export class RollbackWorld {
  readonly log: string[] = [];
  readonly clock = new ManualClock(T0);
  readonly ledger = new InMemoryLedger(this.clock.now, this.log);
  readonly store = new InMemorySecretStore(LEDGER_SECRET.name);
  readonly retirements = new RecordingRetirements(this.log);
  readonly notices = new RecordingNotices(this.log);
  readonly issued: IssuedCredential[] = [];
  private claims = 0;

  /** A rotation: a new version made AWSCURRENT in Secrets Manager, then recorded in the ledger. */
  async rotate(): Promise<IssuedCredential> {
    nextSeed += 1;
    const token = tokenNumber(nextSeed % 250);
    const credential = { token, versionId: `version-${nextSeed}`, fingerprint: fingerprinter.of(token) };
    const current = this.store.versionsWithStage(AWSCURRENT)[0];
    this.store.addVersion(credential.versionId, JSON.stringify({ provider: 'managed-token', schemaVersion: 1, token }));
    if (current === undefined)
      this.store.addVersion(credential.versionId, this.store.valueOf(credential.versionId), [AWSCURRENT]);
    else await this.store.moveCurrent(this.store.arn, credential.versionId, current);
    const previous = this.issued.find((candidate) => candidate.versionId === current);
    const now = this.clock.now();
    const base = { secretArn: LEDGER_SECRET.arn, secretName: LEDGER_SECRET.name, provider: 'managed-token' };
    await this.ledger.recordPending({ ...base, ...credential, now, expiresAt: Math.floor(now / 1000) + 86_400 });
    await this.ledger.recordPromotion({
      ...base,
      current: credential,
      ...(previous === undefined ? {} : { previous }),
      now,
      graceEndsAt: now + ROLLBACK_GRACE_MS,
      previousExpiresAt: Math.floor((now + ROLLBACK_GRACE_MS) / 1000) + 3600,
      onReuse: 'revoke-and-rotate',
    });
    this.issued.push(credential);
    this.log.length = 0;
    this.store.moves.length = 0;
    return credential;
  }

  /** Two rotations, then the second credential invalidated at its issuer (the ledger, for a managed token). */
  async badCurrent(): Promise<{ good: IssuedCredential; bad: IssuedCredential }> {
    const good = await this.rotate();
    const bad = await this.rotate();
    this.ledger.forceState(bad.fingerprint, 'revoked');
    return { good, bad };
  }

  /**
   * What a PutSecretValue outside Rotor does (console, CLI, a script): a new version takes
   * AWSCURRENT, and the version that held it becomes AWSPREVIOUS. Nothing reaches the ledger.
   */
  async overwriteOutOfBand(versionId: string, value: string): Promise<void> {
    const current = this.store.versionsWithStage(AWSCURRENT)[0]!;
    this.store.addVersion(versionId, value);
    await this.store.moveCurrent(this.store.arn, versionId, current);
    this.log.length = 0;
    this.store.moves.length = 0;
  }

  deps(overrides: Partial<RollbackDependencies> = {}): RollbackDependencies {
    return {
      store: this.store,
      providers: new ProviderRegistry([managedTokenProvider]),
      ledger: this.ledger,
      fingerprinter: () => Promise.resolve(fingerprinter),
      retirements: this.retirements,
      alerts: this.notices.asAlerts,
      events: this.notices,
      stage: STAGE,
      policy: { maxAttempts: 3, windowMs: WINDOW_MS },
      leaseMs: LEASE_MS,
      reuseMemorySeconds: 3600,
      now: this.clock.now,
      newClaimId: () => `claim-${(this.claims += 1)}`,
      ...overrides,
    };
  }
}

let changes = 0;

/** A "CloudWatch Alarm State Change" event in its documented shape; a new state change each call. */
export function alarmEvent(
  options: {
    readonly secretName?: string;
    readonly kind?: RotorAlarmKind;
    readonly state?: string;
    readonly alarmName?: string;
    readonly dimensions?: Record<string, string>;
  } = {},
): Record<string, unknown> {
  changes += 1;
  const secretName = options.secretName ?? LEDGER_SECRET.name;
  const alarmName =
    options.alarmName ?? rotorAlarmName(STAGE.name, options.kind ?? RotorAlarmKind.healthCheckFailures, secretName);
  return {
    version: '0',
    id: `event-${changes}`,
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: '2023-11-14T22:13:20Z',
    region: 'eu-west-1',
    resources: [`arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: {
        value: options.state ?? 'ALARM',
        reason: 'Threshold Crossed',
        timestamp: `2023-11-14T22:13:20.${String(changes).padStart(3, '0')}+0000`,
      },
      previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: '2023-11-14T22:00:00.000+0000' },
      configuration: {
        metrics: [
          {
            id: 'm1',
            metricStat: {
              metric: {
                namespace: 'Rotor',
                name: 'HealthCheckFailed',
                dimensions: options.dimensions ?? { SecretName: secretName },
              },
              period: 60,
              stat: 'Sum',
            },
            returnData: true,
          },
        ],
      },
    },
  };
}
