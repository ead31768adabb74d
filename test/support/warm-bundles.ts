import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EnvironmentError } from '../../cli/commands/cli-errors';
import type { LambdaBundle } from '../../lambda/shared/rotor-constants';
import { functionAccessKeyId } from '../../cli/local/function-identity';
import {
  CAPTURED_OUTPUT,
  DIST_LAMBDA_DIR,
  type BundleInvocation,
  type InvokeBundleOptions,
} from '../../cli/local/invoke-bundle';

// A warm Lambda container: loads the bundle once, then runs each event that arrives on stdin (one
// JSON document a line) to its end before the next, and writes each outcome with the log lines
// the handler wrote meanwhile as one line on file descriptor 3. It exits when stdin closes, so it
// never outlives the process that started it.
const WARM_RUNNER = `
const fs = require('node:fs');
const readline = require('node:readline');
const { handler } = require(process.argv[1]);
${CAPTURED_OUTPUT}const input = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
input.on('line', (line) => {
  queue = queue.then(async () => {
    lines = [];
    const context = { functionName: 'rotor-local', awsRequestId: require('node:crypto').randomUUID(), getRemainingTimeInMillis: () => 60000 };
    let outcome;
    try {
      const result = await handler(JSON.parse(line), context);
      outcome = { ok: true, result: result === undefined ? null : result, logs: lines };
    } catch (e) {
      outcome = { ok: false, error: { errorType: (e && e.name) || 'Error', errorMessage: (e && e.message) || String(e) }, logs: lines };
    }
    fs.writeSync(3, JSON.stringify(outcome) + '\\n');
  });
});
input.on('close', () => queue.finally(() => process.exit(0)));
`;

interface Pending {
  readonly resolve: (invocation: BundleInvocation) => void;
  readonly reject: (error: Error) => void;
}

/** One warm container: a process running {@link WARM_RUNNER}, its invocations answered in order. */
class WarmContainer {
  private readonly child: ChildProcess;
  private readonly pending: Pending[] = [];
  private buffered = '';
  private stderr: string[] = [];

  constructor(
    private readonly name: LambdaBundle,
    bundle: string,
    options: InvokeBundleOptions,
  ) {
    this.child = spawn(process.execPath, ['-e', WARM_RUNNER, bundle], {
      env: { PATH: process.env.PATH ?? '', ...options.env, AWS_ACCESS_KEY_ID: functionAccessKeyId(name) },
      stdio: ['pipe', 'ignore', 'pipe', 'pipe'],
    });
    // A container must never keep its owner running: it ends on its own when the owner's end of
    // stdin closes, so neither the process nor its pipes hold the owner's event loop.
    this.child.unref();
    for (const stream of this.child.stdio) (stream as { unref?: () => void } | null)?.unref?.();
    // Only what escapes the runner's capture (a crash while loading the bundle) arrives here.
    this.child.stderr?.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString()));
    (this.child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => this.receive(chunk.toString()));
    this.child.on('close', (code, signal) => {
      const error = new Error(
        `bundle ${this.name} ended (exit ${code ?? signal}) with ${this.pending.length} invocation(s) unanswered: ${this.stderr.join('')}`,
      );
      for (const waiting of this.pending.splice(0)) waiting.reject(error);
    });
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  invoke(event: unknown, timeoutMs: number): Promise<BundleInvocation> {
    return new Promise((resolve, reject) => {
      // A handler that hangs takes its container down, as Lambda's timeout does.
      const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
      this.pending.push({
        resolve: (invocation) => {
          clearTimeout(timer);
          resolve(invocation);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.stdin?.write(`${JSON.stringify(event)}\n`);
    });
  }

  stop(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('close', () => resolve());
      this.child.stdin?.end();
    });
  }

  private receive(text: string): void {
    this.buffered += text;
    let newline = this.buffered.indexOf('\n');
    while (newline >= 0) {
      const line = this.buffered.slice(0, newline);
      this.buffered = this.buffered.slice(newline + 1);
      this.pending.shift()?.resolve(JSON.parse(line) as BundleInvocation);
      newline = this.buffered.indexOf('\n');
    }
  }
}

/**
 * Warm containers of the Lambda bundles, one per bundle and environment, as Lambda keeps a
 * function's container between invocations: the second invocation of a function skips starting
 * Node, loading the bundle and building its SDK clients, and sees what the first left in memory
 * (its caches), as on AWS. An invocation with another environment gets a container of its own.
 * `stop()` ends every container.
 */
export class WarmBundles {
  private readonly containers = new Map<string, WarmContainer>();

  constructor(private readonly distDir: string = DIST_LAMBDA_DIR) {}

  /** Invokes bundle `name` once in its warm container: `event` in, result or Lambda's error shape out, logs captured. */
  invoke(name: LambdaBundle, event: unknown, options: InvokeBundleOptions): Promise<BundleInvocation> {
    const bundle = join(options.distDir ?? this.distDir, name, 'index.js');
    if (!existsSync(bundle)) {
      const shown = relative(process.cwd(), bundle) || bundle;
      return Promise.reject(
        new EnvironmentError(`the Lambda bundles are not built (${shown} is missing): run \`npm run build\``),
      );
    }
    const key = JSON.stringify([bundle, options.env]);
    let container = this.containers.get(key);
    if (container === undefined || !container.alive) {
      container = new WarmContainer(name, bundle, options);
      this.containers.set(key, container);
    }
    return container.invoke(event, options.timeoutMs ?? 60_000);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.containers.values()].map((container) => container.stop()));
    this.containers.clear();
  }
}
