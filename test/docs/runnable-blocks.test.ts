import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { MotoServer } from '../../cli/local/moto-server';
import { workerMoto } from '../support/worker-moto';

// The documentation's runnable shell blocks, run in order against one emulator so that they stay
// true. A block is runnable when a `<!-- rotor:run -->` comment precedes its ```sh fence; each
// `expect="..."` in the comment names text its output must contain. Blocks address the emulator
// as http://127.0.0.1:4566 (`rotor local emulator`'s default); the test swaps in its own server.

const REPOSITORY_ROOT = join(__dirname, '..', '..');
const DOCUMENTED_ENDPOINT = 'http://127.0.0.1:4566';
const RUNNABLE_BLOCK = /<!-- rotor:run((?:\s+expect="[^"]*")*)\s*-->\s*\n```sh\n([\s\S]*?)\n```/g;

interface RunnableBlock {
  readonly file: string;
  readonly index: number;
  readonly script: string;
  readonly expected: readonly string[];
}

/** README.md first (its tour provisions the stage), then docs/*.md by name. */
function documentationFiles(): string[] {
  const docs = readdirSync(join(REPOSITORY_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join('docs', name));
  return ['README.md', ...docs];
}

function runnableBlocks(file: string): RunnableBlock[] {
  const text = readFileSync(join(REPOSITORY_ROOT, file), 'utf8');
  return [...text.matchAll(RUNNABLE_BLOCK)].map((match, index) => ({
    file,
    index: index + 1,
    script: match[2]!,
    expected: [...match[1]!.matchAll(/expect="([^"]*)"/g)].map((expect) => expect[1]!),
  }));
}

// `npx rotor` inside the repository runs the package's own bin, dist/cli/rotor.js; calling it
// directly keeps npm (and any registry lookup) out of the test.
const NPX_ROTOR_SHIM = `npx() { if [ "$1" = rotor ]; then shift; node "${join(REPOSITORY_ROOT, 'dist', 'cli', 'rotor.js')}" "$@"; else command npx "$@"; fi; }`;

const blocks = documentationFiles().flatMap(runnableBlocks);
let moto: MotoServer;

beforeAll(async () => {
  moto = await workerMoto();
});

afterAll(async () => {
  await moto?.stop();
});

describe('the documentation', () => {
  it('starts the README with the two commands that work on a fresh machine', () => {
    // Arrange
    const readme = readFileSync(join(REPOSITORY_ROOT, 'README.md'), 'utf8');
    const ci = readFileSync(join(REPOSITORY_ROOT, '.ci', 'run'), 'utf8');

    // Act
    const firstBlock = /```bash\n([\s\S]*?)\n```/.exec(readme)![1]!.split('\n');

    // Assess
    expect(firstBlock.map((line) => line.replace(/\s+#.*$/, ''))).toEqual([
      'bash scripts/setup.sh && npm run demo',
      'bash scripts/setup.sh && npm test',
    ]);
    expect(ci).toMatch(/^bash scripts\/setup\.sh\nnpm test$/m);
  });

  it('has runnable blocks in the README and in docs/', () => {
    expect(blocks.filter((block) => block.file === 'README.md').length).toBeGreaterThan(0);
    expect(blocks.filter((block) => block.file.startsWith('docs/')).length).toBeGreaterThan(0);
  });

  it.each(blocks.map((block) => [`${block.file} block ${block.index}`, block] as const))(
    'runs %s against the emulator',
    async (_name, block) => {
      // Act
      const script = block.script.split(DOCUMENTED_ENDPOINT).join(moto.endpoint);
      const run = await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', `${NPX_ROTOR_SHIM}\n${script}`], {
        cwd: REPOSITORY_ROOT,
        // Nothing from the caller's AWS set-up: a block must never reach a real account.
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      }).catch((error: { code: number; stdout: string; stderr: string }) => error);

      // Assess
      // A failure shows its exit code and stderr in the assertion message.
      expect('code' in run ? `exit ${run.code}: ${run.stderr}` : 'exit 0').toBe('exit 0');
      for (const expected of block.expected) expect(run.stdout).toContain(expected);
    },
  );
});
