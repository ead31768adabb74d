import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { EnvironmentError } from '../commands/cli-errors';
import type { LambdaBundle } from '../../lambda/shared/rotor-constants';
import { functionAccessKeyId } from './function-identity';

/** Where `npm run build` writes the Lambda bundles. */
export const DIST_LAMBDA_DIR = join(__dirname, '..', '..', 'dist', 'lambda');

export interface BundleInvocation {
  /** true when the handler returned; false when it threw. */
  readonly ok: boolean;
  readonly result?: unknown;
  /** Lambda's error shape: the error's name and message. */
  readonly error?: { readonly errorType: string; readonly errorMessage: string };
  /** The lines the function wrote to stdout and stderr (its CloudWatch log stream, on AWS). */
  readonly logs: readonly string[];
}

export interface InvokeBundleOptions {
  /**
   * The function's whole environment (plus PATH): nothing else leaks in from the caller. The
   * access key id is replaced by the function's own (see {@link functionAccessKeyId}).
   */
  readonly env: Readonly<Record<string, string>>;
  /** @default 60 seconds */
  readonly timeoutMs?: number;
  /** @default dist/lambda */
  readonly distDir?: string;
}

// Runs in a fresh Node process, as a cold Lambda container would: loads the bundle, calls its
// handler once, and reports the outcome on file descriptor 3 so logs on stdout stay apart.
const RUNNER = `
const fs = require('node:fs');
const report = (outcome) => fs.writeSync(3, JSON.stringify(outcome));
let event;
try { event = JSON.parse(fs.readFileSync(0, 'utf8')); } catch (e) { report({ ok: false, error: { errorType: 'Runtime.InvalidEvent', errorMessage: String(e) } }); process.exit(0); }
const context = { functionName: 'rotor-local', awsRequestId: require('node:crypto').randomUUID(), getRemainingTimeInMillis: () => 60000 };
Promise.resolve()
  .then(() => require(process.argv[1]).handler(event, context))
  .then((result) => report({ ok: true, result: result === undefined ? null : result }),
        (e) => report({ ok: false, error: { errorType: (e && e.name) || 'Error', errorMessage: (e && e.message) || String(e) } }))
  .finally(() => process.exit(0));
`;

/**
 * Invokes a bundle from `dist/lambda/<name>/index.js` once, in its own process, the way the
 * Lambda runtime would: `event` in, result or `{errorType, errorMessage}` out, logs captured.
 */
export async function invokeBundle(
  name: LambdaBundle,
  event: unknown,
  options: InvokeBundleOptions,
): Promise<BundleInvocation> {
  const { outcome, logs } = await runInProcess(RUNNER, name, event, options, 60_000);
  return { ...(JSON.parse(outcome) as Omit<BundleInvocation, 'logs'>), logs };
}

// Loads the bundle once and runs every event at the same time: one warm container serving
// concurrent requests, so the ledger's conditional writes meet real races.
const CONCURRENT_RUNNER = `
const fs = require('node:fs');
const events = JSON.parse(fs.readFileSync(0, 'utf8'));
const { handler } = require(process.argv[1]);
const context = { functionName: 'rotor-local', getRemainingTimeInMillis: () => 60000 };
Promise.all(events.map((event) => Promise.resolve().then(() => handler(event, context)).then(
  (result) => ({ ok: true, result: result === undefined ? null : result }),
  (e) => ({ ok: false, error: { errorType: (e && e.name) || 'Error', errorMessage: (e && e.message) || String(e) } }))))
  .then((outcomes) => fs.writeSync(3, JSON.stringify(outcomes)))
  .finally(() => process.exit(0));
`;

/** Invokes a bundle with every event at once, in one process; results in event order. */
export async function invokeBundleConcurrently(
  name: LambdaBundle,
  events: readonly unknown[],
  options: InvokeBundleOptions,
): Promise<{ readonly results: readonly Omit<BundleInvocation, 'logs'>[]; readonly logs: readonly string[] }> {
  const { outcome, logs } = await runInProcess(CONCURRENT_RUNNER, name, events, options, 120_000);
  return { results: JSON.parse(outcome) as Omit<BundleInvocation, 'logs'>[], logs };
}

/**
 * Runner code that catches what the process writes to stdout and stderr in `lines` (one entry a
 * line) instead of writing it, so that each of several events handled in one process gets its own
 * log lines: reset `lines` before each.
 */
export const CAPTURED_OUTPUT = `
let lines = [];
for (const stream of [process.stdout, process.stderr]) {
  stream.write = (chunk, encoding, callback) => {
    lines.push(...String(chunk).split('\\n').filter((line) => line.length > 0));
    const done = typeof encoding === 'function' ? encoding : callback;
    if (typeof done === 'function') done();
    return true;
  };
}
`;

// Loads the bundle once and runs the events one after the other, stopping at the first that
// fails: one warm container serving a rotation's steps, as Lambda usually does. Each event's log
// lines are told apart by catching what the handler writes to stdout and stderr while it runs.
const SEQUENCE_RUNNER = `
const fs = require('node:fs');
const events = JSON.parse(fs.readFileSync(0, 'utf8'));
const { handler } = require(process.argv[1]);
${CAPTURED_OUTPUT}(async () => {
  const outcomes = [];
  for (const event of events) {
    lines = [];
    const context = { functionName: 'rotor-local', awsRequestId: require('node:crypto').randomUUID(), getRemainingTimeInMillis: () => 60000 };
    try {
      const result = await handler(event, context);
      outcomes.push({ ok: true, result: result === undefined ? null : result, logs: lines });
    } catch (e) {
      outcomes.push({ ok: false, error: { errorType: (e && e.name) || 'Error', errorMessage: (e && e.message) || String(e) }, logs: lines });
      break;
    }
  }
  fs.writeSync(3, JSON.stringify(outcomes));
})().finally(() => process.exit(0));
`;

/**
 * Invokes a bundle with the events one after the other in one process (one warm container),
 * stopping at the first event whose handler throws; results in event order, each with its own
 * log lines. Events after a failure are not run, so there are fewer results than events.
 */
export async function invokeBundleSequence(
  name: LambdaBundle,
  events: readonly unknown[],
  options: InvokeBundleOptions,
): Promise<readonly BundleInvocation[]> {
  const { outcome, logs } = await runInProcess(SEQUENCE_RUNNER, name, events, options, 60_000 * events.length);
  const results = JSON.parse(outcome) as BundleInvocation[];
  // Anything written around the handler's calls (none is expected) goes with the last result.
  const last = results[results.length - 1];
  if (last !== undefined && logs.length > 0) results[results.length - 1] = { ...last, logs: [...last.logs, ...logs] };
  return results;
}

/**
 * Runs `runner` in a fresh Node process with the bundle's path as its argument and `input` on
 * stdin; returns what the runner wrote on file descriptor 3 and every line of stdout/stderr.
 */
function runInProcess(
  runner: string,
  name: LambdaBundle,
  input: unknown,
  options: InvokeBundleOptions,
  defaultTimeoutMs: number,
): Promise<{ outcome: string; logs: string[] }> {
  const bundle = join(options.distDir ?? DIST_LAMBDA_DIR, name, 'index.js');
  if (!existsSync(bundle)) {
    const shown = relative(process.cwd(), bundle) || bundle;
    return Promise.reject(
      new EnvironmentError(`the Lambda bundles are not built (${shown} is missing): run \`npm run build\``),
    );
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', runner, bundle], {
      env: { PATH: process.env.PATH ?? '', ...options.env, AWS_ACCESS_KEY_ID: functionAccessKeyId(name) },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    const logs: string[] = [];
    let outcome = '';
    const collect = (chunk: Buffer) =>
      logs.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((line) => line.length > 0),
      );
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => (outcome += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? defaultTimeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (outcome === '') {
        reject(new Error(`bundle ${name} ended without an outcome (exit ${code ?? signal}): ${logs.join('\n')}`));
        return;
      }
      resolve({ outcome, logs });
    });
    child.stdin?.end(JSON.stringify(input));
  });
}
