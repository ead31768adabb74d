import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { parseRotorConfig } from '../lib/config/rotor-config';
import { addRotorStages } from '../lib/rotor-stages';
import { fleetStageFile, newValidatingTestApp } from '../test/infra/infra-test-app';

/** One synthesized template: its stack's path, resources, outputs, parameters and size in bytes. */
export interface TemplateFigures {
  readonly stack: string;
  readonly resources: number;
  readonly outputs: number;
  readonly parameters: number;
  readonly bytes: number;
}

/** Synthesizes a stage of `count` secrets; returns the time it took and each template's figures. */
export function synthFleet(count: number, shards?: number): { ms: number; templates: TemplateFigures[] } {
  const started = performance.now();
  const app = newValidatingTestApp();
  addRotorStages(app, parseRotorConfig({ stages: [fleetStageFile(count, shards)] }));
  const assembly = app.synth();
  const ms = performance.now() - started;
  const stacks = app.node.findAll().filter((construct): construct is Stack => Stack.isStack(construct));
  const templates = stacks.map((stack) => {
    const text = readFileSync(join(assembly.directory, stack.templateFile), 'utf8');
    const template = JSON.parse(text) as Record<string, Record<string, unknown> | undefined>;
    return {
      stack: stack.node.path,
      resources: Object.keys(template.Resources ?? {}).length,
      outputs: Object.keys(template.Outputs ?? {}).length,
      parameters: Object.keys(template.Parameters ?? {}).length,
      // CloudFormation counts the template as uploaded: CDK writes it indented, S3 keeps it so.
      bytes: Buffer.byteLength(text, 'utf8'),
    };
  });
  return { ms, templates };
}

/**
 * Secrets per shard the bench aims for: a shard holds 2 resources per secret, so about 320 of a
 * template's 500 resources, with room for the hash's uneven fill; 10,000 secrets need 63 shards,
 * watched by the default 10 alarm groups (30 Metrics Insights alarms in the stage's own stack).
 */
export const BENCH_SECRETS_PER_SHARD = 160;

/** The bench's shard count for a stage of `size` secrets. */
export function benchShards(size: number): number {
  return Math.ceil(size / BENCH_SECRETS_PER_SHARD);
}

/** Stage sizes the bench synthesizes. */
export const FLEET_SIZES = [100, 1000, 10_000] as const;

/**
 * Synth time and the fullest template of stages of 100, 1,000 and 10,000 secrets, each in
 * {@link benchShards} shards. The time of each size is set against the smallest stage's time scaled by the
 * size ratio, so that a ratio near 1 means linear growth.
 */
export function measureFleetSynth(): {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
}[] {
  const runs = FLEET_SIZES.map((size) => ({ size, ...synthFleet(size, benchShards(size)) }));
  const smallest = runs[0]!;
  return runs.flatMap(({ size, ms, templates }) => [
    {
      name: `synth of a ${size.toLocaleString('en-US')}-secret stage (${benchShards(size)} shards)`,
      value: ms,
      unit: 'ms',
      ...(size === smallest.size
        ? {}
        : {
            baseline: {
              name: `${size / smallest.size} × the ${smallest.size}-secret synth`,
              value: (smallest.ms * size) / smallest.size,
            },
          }),
    },
    {
      name: `fullest template of the ${size.toLocaleString('en-US')}-secret stage`,
      value: Math.max(...templates.map((template) => template.resources)),
      unit: 'resources',
      baseline: { name: "CloudFormation's limit", value: 500 },
    },
    {
      name: `largest template of the ${size.toLocaleString('en-US')}-secret stage`,
      value: Math.max(...templates.map((template) => template.bytes)) / 1024,
      unit: 'KiB',
      baseline: { name: "CloudFormation's limit", value: 1024 },
    },
  ]);
}
