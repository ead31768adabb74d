import { CfnResource, type App } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { RotorConfigError, type RotorConfig, type RotorStageConfig } from './config/rotor-config';
import { RotorStack } from './rotor-stack';
import { ALARM_KIND_KEYS } from './alarm-thresholds';
import { MAX_SHARDS } from './shard-assignment';
import { MAX_TEMPLATE_RESOURCES, overfullTemplates } from './template-limits';
import { planWriteQuotas, writeQuotaProblem } from './write-quota-plan';

/** Name of the stack that deploys `stage`: `Rotor-<stage>`, e.g. `Rotor-development`. */
export function rotorStackName(stage: string): string {
  return `Rotor-${stage}`;
}

/**
 * Resources Rotor aims for in one shard when it suggests a shard count: half of CloudFormation's
 * limit, so that a stage can double, and a shard that the hash fills more than the average still fits.
 */
export const SHARD_RESOURCES_TARGET = MAX_TEMPLATE_RESOURCES / 2;

/**
 * Adds one {@link RotorStack} per configured stage. A stage with an account or region is
 * deployed there; without them its stack is environment-agnostic.
 *
 * @throws RotorConfigError with one line saying what to change when a stage's stack or one of its
 *   shards would hold more resources than CloudFormation allows in a template, or when its shards
 *   need more Metrics Insights alarms than its `metricsInsightsAlarmQuota`, or when the simulated
 *   peak of the stages' Secrets Manager writes (or RotateSecret calls) in one account and region
 *   exceeds 80% of its quota (see write-quota-plan.ts).
 */
export function addRotorStages(app: App, config: RotorConfig): RotorStack[] {
  // From the config alone, before any stack is built: the fleet's schedules must fit the quotas.
  for (const plan of planWriteQuotas(config.stages)) {
    const problem = writeQuotaProblem(plan);
    if (problem) throw new RotorConfigError(problem, [problem]);
  }
  return config.stages.map((stage, index) => {
    const env = {
      ...(stage.account === undefined ? {} : { account: stage.account }),
      ...(stage.region === undefined ? {} : { region: stage.region }),
    };
    const stack = new RotorStack(app, rotorStackName(stage.name), {
      stage,
      ...(Object.keys(env).length === 0 ? {} : { env }),
    });
    const problem = templateLimitProblem(stack, stage, index) ?? alarmQuotaProblem(stack, stage, index);
    if (problem) throw new RotorConfigError(problem, [problem]);
    return stack;
  });
}

/**
 * Why the alarm-group alarms of `stack` would not fit the stage's Metrics Insights alarm quota (3
 * per group), in one line that says what to change, or undefined.
 */
function alarmQuotaProblem(stack: RotorStack, stage: RotorStageConfig, index: number): string | undefined {
  const groups = stack.alarmGroups.length;
  const alarms = groups * ALARM_KIND_KEYS.length;
  if (alarms <= stage.metricsInsightsAlarmQuota) return undefined;
  const fitting = Math.floor(stage.metricsInsightsAlarmQuota / ALARM_KIND_KEYS.length);
  return (
    `stages[${index}] ("${stage.name}"): its ${groups} alarm groups need ${alarms} Metrics Insights alarms (3 per group), ` +
    `more than "metricsInsightsAlarmQuota" allows (${stage.metricsInsightsAlarmQuota}, CloudWatch's default per account and region is 200); ` +
    `lower "alarmGroups" to at most ${fitting}, or raise the quota in Service Quotas and then "metricsInsightsAlarmQuota"`
  );
}

/** Why `stack` cannot be deployed as configured, in one line that says what to change, or undefined. */
function templateLimitProblem(stack: RotorStack, stage: RotorStageConfig, index: number): string | undefined {
  const overfull = overfullTemplates(stack);
  if (overfull.length === 0) return undefined;
  const where = `stages[${index}] ("${stage.name}")`;
  const own = overfull.find((template) => template.stack === stack);
  if (own !== undefined && stage.shards !== undefined) {
    // A sharded stage's own stack holds what the stage shares and the consumers, not the secrets.
    return `${where}: stack ${stack.stackName} needs ${own.resources} resources, more than CloudFormation's ${MAX_TEMPLATE_RESOURCES} per template; move consumers to another stage or lower "shards" (now ${stage.shards})`;
  }
  const secretResources = countResources([
    ...stack.secrets,
    ...stack.secretAlarms.filter((alarms) => alarms !== undefined),
    ...stack.accessTokenRefreshSchedules.values(),
  ]);
  const suggested = Math.ceil(secretResources / SHARD_RESOURCES_TARGET);
  const largest = overfull.reduce((a, b) => (b.resources > a.resources ? b : a));
  const found =
    stage.shards === undefined
      ? `stack ${stack.stackName} needs ${largest.resources} resources`
      : `shard ${largest.stack.node.id} needs ${largest.resources} resources`;
  if (suggested > MAX_SHARDS) {
    return `${where}: ${found}, more than CloudFormation's ${MAX_TEMPLATE_RESOURCES} per template, and its ${stage.secrets.length} secrets need more than ${MAX_SHARDS} shards; split them into several stages`;
  }
  const change =
    stage.shards === undefined
      ? `set "shards": ${suggested} on the stage`
      : `raise "shards" from ${stage.shards} to ${Math.max(suggested, stage.shards + 1)} (each secret then moves to the shard its name hashes to)`;
  return `${where}: ${found}, more than CloudFormation's ${MAX_TEMPLATE_RESOURCES} per template; ${change}`;
}

function countResources(constructs: readonly IConstruct[]): number {
  return constructs.reduce(
    (sum, construct) => sum + construct.node.findAll().filter((child) => CfnResource.isCfnResource(child)).length,
    0,
  );
}
