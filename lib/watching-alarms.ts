import { RotorAlarmKind, rotorAlarmName, rotorShardAlarmName } from '../lambda/shared/rotor-constants';
import { ALARM_KIND_KEYS, type AlarmThresholds } from './alarm-thresholds';
import type { RotorStageConfig } from './config/rotor-config';
import { shardOf } from './shard-assignment';

/** One alarm that watches a secret: the secret's own, or its shard's Metrics Insights alarm. */
export interface WatchingAlarm {
  readonly kind: RotorAlarmKind;
  readonly alarmName: string;
  /**
   * The shard whose alarm this is: the secret is one of its contributors (one per SecretName),
   * and the alarm is in ALARM when any contributor is.
   *
   * @default - the secret's own alarm
   */
  readonly shard?: number;
}

/**
 * Whether a secret has alarms of its own: always in a stage that is not sharded; in a sharded
 * stage (`stageThresholds` given) only when its thresholds differ from the stage's, since its
 * shard's alarms watch every secret at the stage's thresholds.
 */
export function ownsAlarms(secretThresholds: AlarmThresholds, stageThresholds: AlarmThresholds | undefined): boolean {
  return stageThresholds === undefined || !deepEqual(secretThresholds, stageThresholds);
}

/**
 * The three alarms that watch the secret named `nameInStage` (its name after the stage's prefix)
 * with `thresholds` (default: the stage's, as for a secret the config does not list), as the
 * stack creates them (StageSecrets, SecretAlarms, ShardAlarms).
 */
export function watchingAlarms(
  stage: Pick<RotorStageConfig, 'name' | 'secretNamePrefix' | 'shards' | 'alarms'>,
  nameInStage: string,
  thresholds: AlarmThresholds = stage.alarms,
): WatchingAlarm[] {
  const kinds = ALARM_KIND_KEYS.map((key) => RotorAlarmKind[key]);
  if (stage.shards === undefined || ownsAlarms(thresholds, stage.alarms)) {
    return kinds.map((kind) => ({
      kind,
      alarmName: rotorAlarmName(stage.name, kind, stage.secretNamePrefix + nameInStage),
    }));
  }
  const shard = shardOf(nameInStage, stage.shards);
  return kinds.map((kind) => ({ kind, alarmName: rotorShardAlarmName(stage.name, kind, shard), shard }));
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((key) => deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]));
}
