import type * as z from 'zod';
import { DEFAULT_MAX_ALARM_GROUPS, MAX_ALARM_GROUPS } from '../../lambda/shared/alarm-group-of';

export { MAX_ALARM_GROUPS };

/** A sharded stage's alarm groups when the file does not set `alarmGroups`: its shards, up to 10. */
export function defaultAlarmGroups(shards: number): number {
  return Math.min(shards, DEFAULT_MAX_ALARM_GROUPS);
}

/**
 * A stage's alarm groups: its `alarmGroups`, or the default for its shards; undefined when it is
 * not sharded. (A config read from a file always has them; a stage built in code may leave them out.)
 */
export function stageAlarmGroups(stage: {
  readonly shards?: number | undefined;
  readonly alarmGroups?: number | undefined;
}): number | undefined {
  if (stage.shards === undefined) return undefined;
  return stage.alarmGroups ?? defaultAlarmGroups(stage.shards);
}

/**
 * `alarmGroups` partitions a sharded stage's Metrics Insights alarms: without `shards` there are
 * none to partition (every secret has alarms of its own), and more groups than shards would only
 * add alarms, so both are refused with what to change.
 */
export function checkStageAlarmGroups(
  stage: { readonly shards?: number | undefined; readonly alarmGroups?: number | undefined },
  ctx: z.RefinementCtx,
): void {
  if (stage.alarmGroups === undefined) return;
  if (stage.shards === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['alarmGroups'],
      message: `applies only to a sharded stage (set "shards"); a stage without shards has alarms per secret, got ${stage.alarmGroups}`,
    });
  } else if (stage.alarmGroups > stage.shards) {
    ctx.addIssue({
      code: 'custom',
      path: ['alarmGroups'],
      message: `must be at most "shards" (${stage.shards}), got ${stage.alarmGroups}`,
    });
  }
}
