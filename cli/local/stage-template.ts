import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RotorStageConfig } from '../../lib/config/rotor-config';
import { packageRoot } from '../../lib/package-root';
import { LOCAL_ACCOUNT } from './function-policies';
import type { SynthesizedTemplate } from './template-policies';

const ROOT = packageRoot(__dirname);

/**
 * Where synthesized stage templates are kept between runs: outside dist/, which every build
 * wipes, so that `npm run demo` and a test run after a build synthesize only when the stage or
 * Rotor's stack code changed. One directory per user of the machine.
 */
export function stageTemplateCacheDirectory(): string {
  return join(tmpdir(), `rotor-${process.getuid?.() ?? 'user'}`, 'iam-templates');
}

/**
 * Fields of a stage that only its functions' environment and secret documents carry, never a
 * policy: where providers answer. A local IdP or GitLab listens on a new port every run; leaving
 * these out of the digest lets such runs share one synthesis.
 */
const PROVIDER_ENDPOINT_FIELDS = new Set([
  'providerOrigins',
  'tokenEndpoint',
  'introspectionEndpoint',
  'testUrl',
  'origin',
]);

/**
 * Every input the synthesized policies can depend on: the stage (but where its providers answer),
 * the code that synthesizes it (the stack's sources when present, and this module or the CLI
 * bundle that contains it), cdk.json's feature flags and the locked dependency versions. The
 * cached template is read for its policies only (functionPolicies), so a template synthesized
 * for other provider endpoints serves as well.
 */
export function templateDigest(stage: RotorStageConfig): string {
  const hash = createHash('sha256').update(
    JSON.stringify(stage, (key, value: unknown) => (PROVIDER_ENDPOINT_FIELDS.has(key) ? undefined : value)),
  );
  const walk = (directory: string): void => {
    if (!existsSync(directory)) return;
    for (const entry of readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) hash.update(path).update(readFileSync(path));
    }
  };
  walk(join(ROOT, 'lib'));
  walk(join(ROOT, 'lambda', 'shared'));
  hash.update(readFileSync(__filename));
  for (const file of ['cdk.json', 'package-lock.json']) {
    const path = join(ROOT, file);
    if (existsSync(path)) hash.update(readFileSync(path));
  }
  return hash.digest('hex').slice(0, 24);
}

/**
 * The template of `stage`'s stack as `cdk synth` writes it (cdk.json's feature flags), for moto's
 * account and `region`: what the local IAM gate takes every function's policies from. Synthesis
 * takes seconds, so the template is cached under a digest of its inputs; a cached read takes
 * milliseconds. Needs the Lambda bundles built (the stack refers to them).
 */
export async function synthesizedStageTemplate(stage: RotorStageConfig, region: string): Promise<SynthesizedTemplate> {
  const local: RotorStageConfig = { ...stage, account: LOCAL_ACCOUNT, region };
  const directory = stageTemplateCacheDirectory();
  const cached = join(directory, `${templateDigest(local)}.json`);
  if (existsSync(cached)) return JSON.parse(readFileSync(cached, 'utf8')) as SynthesizedTemplate;
  // Loaded only here: aws-cdk-lib and the stack's code cost about a second to load.
  const [{ App }, { Template }, { addRotorStages }] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/assertions'),
    import('../../lib/rotor-stages'),
  ]);
  const { context } = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as { context: object };
  const [stack] = addRotorStages(new App({ context }), { stages: [local] });
  const template = Template.fromStack(stack!).toJSON() as SynthesizedTemplate;
  mkdirSync(directory, { recursive: true });
  // Written aside and renamed, so a concurrent reader never sees half a file.
  const partial = `${cached}.${process.pid}`;
  writeFileSync(partial, JSON.stringify(template));
  renameSync(partial, cached);
  return template;
}
