import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startMotoServer, type MotoServer } from '../../cli/local/moto-server';
import { WORKER_MOTO_ENDPOINTS_ENV } from './worker-moto';

/** The servers this run started, for the global teardown (same process). */
export const WORKER_MOTO_SERVERS = Symbol.for('rotor.test.workerMotoServers');

/**
 * Tests run the artifact `cdk deploy` ships: build the bundles once before any test file.
 * Set ROTOR_SKIP_BUILD=1 when dist/ is known to be fresh (the bench and CI build just before).
 *
 * Then one moto server per Jest worker, shared by the test files that worker runs one after the
 * other (test/support/worker-moto.ts); the workers inherit the endpoints through the environment.
 */
export default async function globalSetup(globalConfig: { readonly maxWorkers: number }): Promise<void> {
  // The SDK's eight-line Node 20 notice, once per worker, says nothing a test run can act on
  // (docs/cli.md states the Node floor); the workers inherit this switch of the SDK's own.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  if (process.env.ROTOR_SKIP_BUILD !== '1') {
    execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build.mjs')], { stdio: 'inherit' });
  }
  let servers: MotoServer[];
  try {
    servers = await Promise.all(Array.from({ length: Math.max(1, globalConfig.maxWorkers) }, () => startMotoServer()));
  } catch {
    // No moto here (unit tests need none): a test file that needs it starts its own and says how to install it.
    return;
  }
  (globalThis as Record<symbol, unknown>)[WORKER_MOTO_SERVERS] = servers;
  process.env[WORKER_MOTO_ENDPOINTS_ENV] = servers.map((server) => server.endpoint).join(',');
}
