import { MAX_SHARDS, shardOf } from './secret-shard-of';

/** Most alarm groups a stage may have: no more than its shards (the stack checks its alarm quota). */
export const MAX_ALARM_GROUPS = MAX_SHARDS;

/**
 * Alarm groups of a sharded stage that does not set `alarmGroups`: its shard count, up to 10. Ten
 * groups of a 10,000-secret stage hold about 1,000 secrets each, and since a secret's metrics carry
 * data only when something goes wrong, a group's queries stay far under the 500 time series a
 * Metrics Insights query analyses.
 */
export const DEFAULT_MAX_ALARM_GROUPS = 10;

/**
 * The alarm group, from 0 to `alarmGroupCount - 1`, of the secret named `nameInStage` (its name
 * after the stage's prefix): the same hash of the name as its shard (shardOf), over the group count.
 * The groups partition a sharded stage's Metrics Insights alarms independently of its nested
 * stacks, so that the count of alarms stays the same however many shards the stage needs. Like the
 * shard, it depends on nothing but the name and the count: the stack builds each group's alarms with
 * it and the functions tag each secret's metrics with it, so both must use this one implementation.
 */
export function alarmGroupOf(nameInStage: string, alarmGroupCount: number): number {
  if (!Number.isInteger(alarmGroupCount) || alarmGroupCount < 1 || alarmGroupCount > MAX_ALARM_GROUPS) {
    throw new Error(`alarmGroupCount must be a whole number from 1 to ${MAX_ALARM_GROUPS}, got ${alarmGroupCount}`);
  }
  return shardOf(nameInStage, alarmGroupCount);
}

/**
 * The value of the `AlarmGroup` dimension on the metrics of the secret whose full name is
 * `secretName` in a stage of `alarmGroupCount` alarm groups whose names start with
 * `secretNamePrefix`: its group as a decimal string (`"7"`). Undefined when the stage is not sharded
 * or the name is outside the stage, so that such metrics keep `SecretName` as their only dimension.
 */
export function alarmGroupDimensionValue(
  secretName: string,
  secretNamePrefix: string | undefined,
  alarmGroupCount: number | undefined,
): string | undefined {
  if (alarmGroupCount === undefined || secretNamePrefix === undefined || !secretName.startsWith(secretNamePrefix)) {
    return undefined;
  }
  return String(alarmGroupOf(secretName.slice(secretNamePrefix.length), alarmGroupCount));
}
