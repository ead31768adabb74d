import { attachMotoServer, startMotoServer, type MotoServer } from '../../cli/local/moto-server';

/**
 * How the global set-up hands each Jest worker its moto server: endpoints separated by commas,
 * the n-th for JEST_WORKER_ID n.
 */
export const WORKER_MOTO_ENDPOINTS_ENV = 'ROTOR_TEST_MOTO_ENDPOINTS';

/**
 * The moto server of this Jest worker, wiped for the calling test file. A worker runs one test
 * file at a time, so the file has the server to itself; sharing it saves starting Python and
 * moto for every file. `stop()` leaves the server to the global teardown.
 *
 * Without the global set-up (the bench, a script) it starts a server of its own, which `stop()`
 * stops.
 */
export async function workerMoto(): Promise<MotoServer> {
  const endpoints = (process.env[WORKER_MOTO_ENDPOINTS_ENV] ?? '').split(',').filter((endpoint) => endpoint !== '');
  if (endpoints.length === 0) return startMotoServer();
  const worker = Number(process.env.JEST_WORKER_ID ?? '1');
  const server = attachMotoServer(endpoints[(worker - 1) % endpoints.length]!);
  // Whatever the worker's previous test file left behind is gone before this one starts.
  await server.reset();
  return server;
}
