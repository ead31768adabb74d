import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { parseRotorConfig } from '../lib/config/rotor-config';
import { addRotorStages } from '../lib/rotor-stages';
import { fleetStageFile, newTestApp } from '../test/infra/infra-test-app';

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
  const app = newTestApp();
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
