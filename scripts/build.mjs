// Builds what Rotor ships: one esbuild bundle per Lambda handler, which the tests run and
// `cdk deploy` deploys (dist/lambda/<name>/index.js, exporting `handler`), and the `rotor` CLI.
import { build } from 'esbuild';
import { chmod, readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const handlersDir = join(root, 'lambda', 'handlers');
const handlers = (await readdir(handlersDir))
  .filter((file) => file.endsWith('.ts'))
  .map((file) => basename(file, '.ts'));

await rm(join(root, 'dist'), { recursive: true, force: true });

await Promise.all(
  handlers.map((name) =>
    build({
      entryPoints: [join(handlersDir, `${name}.ts`)],
      outfile: join(root, 'dist', 'lambda', name, 'index.js'),
      bundle: true,
      platform: 'node',
      // Lambda runs Node 22 or newer; the SDK is bundled so the deployed version is the tested one.
      target: 'node22',
      format: 'cjs',
      // The SDK's ES module build tree-shakes; its CommonJS build (esbuild's default on
      // platform node) drags in every command and costs ~10 ms more at cold start.
      mainFields: ['module', 'main'],
      // Identifiers stay: error classes report their own name (errorType), and esbuild's
      // keepNames wrappers would cost more at load than the shorter names save.
      minifySyntax: true,
      minifyWhitespace: true,
      legalComments: 'none',
      logLevel: 'warning',
    }),
  ),
);

const cli = join(root, 'dist', 'cli', 'rotor.js');
await build({
  entryPoints: [join(root, 'cli', 'rotor.ts')],
  outfile: cli,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // The CLI runs from the installed package, next to its node_modules.
  packages: 'external',
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
await chmod(cli, 0o755);

console.log(`built ${handlers.map((name) => `dist/lambda/${name}/index.js`).join(', ')} and dist/cli/rotor.js`);
