import type { MotoServer } from '../../cli/local/moto-server';
import { WORKER_MOTO_SERVERS } from './global-setup';

/** Stops the workers' moto servers that the global set-up started. */
export default async function globalTeardown(): Promise<void> {
  const servers = ((globalThis as Record<symbol, unknown>)[WORKER_MOTO_SERVERS] ?? []) as MotoServer[];
  await Promise.all(servers.map((server) => server.stop()));
}
