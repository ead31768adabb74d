import { alarmGroupOf } from '../lambda/shared/alarm-group-of';

/** Construct id of alarm group `group`, zero-padded so that the groups sort in order: `AlarmGroup007`. */
export function alarmGroupId(group: number): string {
  return `AlarmGroup${String(group).padStart(3, '0')}`;
}

/**
 * `items` grouped by the alarm group of `nameOf(item)` (its name within the stage), one list per
 * group (empty lists included, since a group's alarms exist before its first secret), each in input order.
 */
export function assignAlarmGroups<T>(items: readonly T[], groupCount: number, nameOf: (item: T) => string): T[][] {
  const groups: T[][] = Array.from({ length: groupCount }, () => []);
  for (const item of items) groups[alarmGroupOf(nameOf(item), groupCount)]!.push(item);
  return groups;
}
