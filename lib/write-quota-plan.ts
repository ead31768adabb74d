import { fullSecretName, type RotorStageConfig } from './config/rotor-config';
import { parseRotationSchedule } from './rotation-schedule';
import { spreadHash, spreadRefreshSchedule, spreadRotationSchedule } from './schedule-spread';

/**
 * Secrets Manager's request quotas per account and region that a fleet's schedules load, as the
 * Secrets Manager User Guide lists them ("AWS Secrets Manager quotas"); neither is adjustable.
 */
export const SECRETS_MANAGER_QUOTAS = {
  /** Combined rate of PutSecretValue, UpdateSecret, UpdateSecretVersionStage and the replication calls. */
  writesPerSecond: 50,
  /** Combined rate of RotateSecret and CancelRotateSecret. */
  rotateSecretPerSecond: 50,
} as const;

/** Synth refuses a fleet whose simulated peak exceeds this share of a quota: room for bursts, retries and other callers. */
export const QUOTA_SHARE_LIMIT = 0.8;

/**
 * Secrets Manager write calls of one rotation, counted from the rotation function: createSecret
 * stores the new credential (PutSecretValue), finishSecret moves AWSCURRENT
 * (UpdateSecretVersionStage). setSecret and testSecret only read; Secrets Manager starts a
 * scheduled rotation itself, with no RotateSecret call of the account.
 */
export const WRITES_PER_ROTATION = 2;

/**
 * RotateSecret calls of one access-token refresh: the refresh schedule calls RotateSecret, which
 * then runs a rotation ({@link WRITES_PER_ROTATION} writes).
 */
export const ROTATE_SECRET_PER_REFRESH = 1;

const DAY_SECONDS = 86_400;

/** One second of the simulated day at its busiest, and what it holds. */
export interface SimulatedPeak {
  /** Calls in that second. */
  readonly perSecond: number;
  /** The second, as `HH:MM:SS` UTC. */
  readonly at: string;
  /** Of those calls, how many came from scheduled rotations and how many from access-token refreshes. */
  readonly fromRotations: number;
  readonly fromRefreshes: number;
}

/** The simulated load of the secrets deployed to one account and region. */
export interface RegionWritePlan {
  /** `<account>/<region>`, either `(any)` for a stage that does not set it. */
  readonly region: string;
  /** The stages deployed there. */
  readonly stages: readonly string[];
  readonly secrets: number;
  readonly rotationsPerDay: number;
  readonly refreshesPerDay: number;
  readonly writes: SimulatedPeak;
  readonly rotateSecret: SimulatedPeak;
}

/**
 * The simulated peak Secrets Manager write and RotateSecret rates per account and region of
 * `stages`, from each secret's schedule as deployed (spread by schedule-spread.ts), window and
 * refresh schedule. The model, over one UTC day in one-second steps:
 *
 * - every scheduled rotation window of a day is taken to open on every day (a cron() that runs on
 *   some days only, or a `rate(N days)`, is counted as daily: an upper bound);
 * - Secrets Manager rotates a secret at some time within its window: the simulation puts each
 *   rotation at a second of its window picked by a hash of the secret's name and the window, and
 *   counts its {@link WRITES_PER_ROTATION} writes in that second (steps run seconds apart; counting
 *   them together is an upper bound);
 * - EventBridge Scheduler runs a refresh within the minute it is due: the simulation puts it at a
 *   hashed second of that minute, with {@link ROTATE_SECRET_PER_REFRESH} RotateSecret and
 *   {@link WRITES_PER_ROTATION} writes.
 *
 * Rollbacks, retirements and operators' own calls are incidents, not schedules, and are left to
 * the margin of {@link QUOTA_SHARE_LIMIT}.
 */
export function planWriteQuotas(stages: readonly RotorStageConfig[]): RegionWritePlan[] {
  const regions = new Map<string, RotorStageConfig[]>();
  for (const stage of stages) {
    const key = `${stage.account ?? '(any)'}/${stage.region ?? '(any)'}`;
    regions.set(key, [...(regions.get(key) ?? []), stage]);
  }
  return [...regions].map(([region, members]) => simulateRegion(region, members));
}

function simulateRegion(region: string, stages: readonly RotorStageConfig[]): RegionWritePlan {
  const rotationWrites = new Uint32Array(DAY_SECONDS);
  const refreshWrites = new Uint32Array(DAY_SECONDS);
  const rotateSecret = new Uint32Array(DAY_SECONDS);
  let secrets = 0;
  let rotationsPerDay = 0;
  let refreshesPerDay = 0;
  for (const stage of stages) {
    for (const secret of stage.secrets) {
      secrets += 1;
      const name = fullSecretName(stage, secret);
      const windowHours = secret.window.toHours({ integral: false });
      const parsed = parseRotationSchedule(spreadRotationSchedule(name, secret.schedule, windowHours));
      // The config refuses a schedule Secrets Manager would; nothing to count for one here.
      if (!parsed.ok) continue;
      const windowSeconds = windowHours * 3600;
      const rotationAt = spreadHash('rotation-at', name);
      for (const hour of parsed.schedule.windowOpensAt) {
        const second = hour * 3600 + (mix(rotationAt, hour) % windowSeconds);
        rotationWrites[second % DAY_SECONDS]! += WRITES_PER_ROTATION;
        rotationsPerDay += 1;
      }
      if (secret.oauth2 === undefined) continue;
      const refresh = spreadRefreshSchedule(name, secret.oauth2.refreshIntervalSeconds);
      const refreshAt = spreadHash('refresh-at', name);
      for (
        let minute = refresh.firstMinuteOfDay % refresh.intervalMinutes;
        minute < 1440;
        minute += refresh.intervalMinutes
      ) {
        const second = minute * 60 + (mix(refreshAt, minute) % 60);
        refreshWrites[second]! += WRITES_PER_ROTATION;
        rotateSecret[second]! += ROTATE_SECRET_PER_REFRESH;
        refreshesPerDay += 1;
      }
    }
  }
  return {
    region,
    stages: stages.map((stage) => stage.name),
    secrets,
    rotationsPerDay,
    refreshesPerDay,
    writes: busiest((second) => rotationWrites[second]! + refreshWrites[second]!, rotationWrites, refreshWrites),
    rotateSecret: busiest((second) => rotateSecret[second]!, new Uint32Array(DAY_SECONDS), rotateSecret),
  };
}

/** A well-spread number from a secret's hash and a window or minute: one SHA-256 per secret, not per event. */
function mix(hash: number, step: number): number {
  let value = (hash ^ Math.imul(step + 1, 0x9e3779b1)) >>> 0;
  value = Math.imul(value ^ (value >>> 16), 0x85ebca6b) >>> 0;
  value = Math.imul(value ^ (value >>> 13), 0xc2b2ae35) >>> 0;
  return (value ^ (value >>> 16)) >>> 0;
}

function busiest(
  load: (second: number) => number,
  fromRotations: Uint32Array,
  fromRefreshes: Uint32Array,
): SimulatedPeak {
  let peak = 0;
  for (let second = 1; second < DAY_SECONDS; second += 1) if (load(second) > load(peak)) peak = second;
  return {
    perSecond: load(peak),
    at: clock(peak),
    fromRotations: fromRotations[peak]!,
    fromRefreshes: fromRefreshes[peak]!,
  };
}

function clock(second: number): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(Math.floor(second / 3600))}:${pad(Math.floor(second / 60) % 60)}:${pad(second % 60)}`;
}

/**
 * Why the fleet's simulated peak in `plan`'s region exceeds {@link QUOTA_SHARE_LIMIT} of a Secrets
 * Manager quota, in one line that says what to change, or undefined.
 */
export function writeQuotaProblem(plan: RegionWritePlan): string | undefined {
  const where = `stages ${plan.stages.map((stage) => `"${stage}"`).join(', ')} (account/region ${plan.region})`;
  const writeLimit = SECRETS_MANAGER_QUOTAS.writesPerSecond * QUOTA_SHARE_LIMIT;
  const rotateLimit = SECRETS_MANAGER_QUOTAS.rotateSecretPerSecond * QUOTA_SHARE_LIMIT;
  const share = `${QUOTA_SHARE_LIMIT * 100}%`;
  if (plan.writes.perSecond > writeLimit) {
    const change =
      plan.writes.fromRefreshes >= plan.writes.fromRotations
        ? 'lengthen "refreshIntervalSeconds" of the oauth2 secrets'
        : 'widen the rotation "window" of the secrets, or give them rate() schedules that Rotor spreads over the day';
    return (
      `${where}: simulated peak of ${plan.writes.perSecond} Secrets Manager write calls per second at ${plan.writes.at} UTC ` +
      `is over ${share} of the ${SECRETS_MANAGER_QUOTAS.writesPerSecond}-per-second quota (${writeLimit}); ${change}, or move secrets to another region (see \`rotor plan\`)`
    );
  }
  if (plan.rotateSecret.perSecond > rotateLimit) {
    return (
      `${where}: simulated peak of ${plan.rotateSecret.perSecond} RotateSecret calls per second at ${plan.rotateSecret.at} UTC ` +
      `is over ${share} of the ${SECRETS_MANAGER_QUOTAS.rotateSecretPerSecond}-per-second quota (${rotateLimit}); ` +
      'lengthen "refreshIntervalSeconds" of the oauth2 secrets, or move secrets to another region (see `rotor plan`)'
    );
  }
  return undefined;
}
