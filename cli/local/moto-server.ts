import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A moto server on loopback, started and stopped by its owner. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`: pass it as AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  /** Wipes every resource (moto's `POST /moto-api/reset`). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartMotoOptions {
  /** @default a free port chosen by the OS */
  readonly port?: number;
  /** @default 120 seconds: moto answers within seconds, later only on a heavily loaded machine */
  readonly startTimeoutMs?: number;
  /** Python interpreter with moto[server] installed. @default `python3` */
  readonly python?: string;
}

/**
 * `python -m moto.server`, with two changes. Requests are handled one at a time: moto's threaded
 * server runs each request's check-and-write without a lock, so under load two conditional writes
 * to one item could both pass their condition, which DynamoDB never allows; Rotor's tests race
 * conditional writes on purpose and must see DynamoDB's semantics. Connections are still accepted
 * concurrently (keep-alive works as before); only the handling is serialised. And requests are not
 * logged: nobody reads those lines (only the end of the server's error output is kept, to explain
 * a failed start), and writing and draining them cost about a sixth of the time of 2,000 DynamoDB
 * calls (11.7 s to 9.7 s). The server exits when its standard input closes, so it never outlives
 * the process that started it, even one that was killed.
 */
const SERIALIZED_MOTO_SERVER = `
import os, sys, threading
from werkzeug.serving import run_simple, WSGIRequestHandler
from moto.server import DomainDispatcherApplication, create_backend_app
app = DomainDispatcherApplication(create_backend_app)
app.debug = True
lock = threading.Lock()
def serialized(environ, start_response):
    with lock:
        return list(app(environ, start_response))
def exit_with_parent():
    sys.stdin.read()
    os._exit(0)
threading.Thread(target=exit_with_parent, daemon=True).start()
class Unlogged(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass
run_simple(sys.argv[1], int(sys.argv[2]), serialized, threaded=True, request_handler=Unlogged)
`;

/**
 * Starts moto's server on 127.0.0.1 (see {@link SERIALIZED_MOTO_SERVER}) and waits until it answers.
 * @throws with install instructions when moto is not installed.
 */
export async function startMotoServer(options: StartMotoOptions = {}): Promise<MotoServer> {
  const python = options.python ?? 'python3';
  assertMotoInstalled(python);
  const port = options.port ?? (await findFreePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(python, ['-c', SERIALIZED_MOTO_SERVER, '127.0.0.1', String(port)], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, MOTO_PORT: String(port) },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  try {
    await waitUntilReady(endpoint, child, options.startTimeoutMs ?? 120_000, () => stderr);
    // Lambda functions in moto are stand-ins: never run them in Docker (there is none here).
    await postJson(`${endpoint}/moto-api/config`, { lambda: { use_docker: false } });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { ...attachMotoServer(endpoint), stop: () => stopChild(child) };
}

/** A moto server someone else started and will stop: `reset()` wipes it, `stop()` does nothing. */
export function attachMotoServer(endpoint: string): MotoServer {
  return {
    endpoint,
    reset: async () => {
      await postJson(`${endpoint}/moto-api/reset`, {});
      await postJson(`${endpoint}/moto-api/config`, { lambda: { use_docker: false } });
    },
    stop: () => Promise.resolve(),
  };
}

function assertMotoInstalled(python: string): void {
  const probe = spawnSync(python, ['-c', 'import moto.server'], { stdio: 'ignore' });
  if (probe.status !== 0) {
    throw new Error(
      `moto is not installed for ${python}: run \`${python} -m pip install 'moto[server]'\` (or \`bash scripts/setup.sh\`)`,
    );
  }
}

async function waitUntilReady(endpoint: string, child: ChildProcess, timeoutMs: number, stderr: () => string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto server exited with code ${child.exitCode}: ${stderr()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/data.json`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto server did not answer on ${endpoint} within ${timeoutMs} ms: ${stderr()}`);
}

async function postJson(url: string, body: unknown): Promise<void> {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(killer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** A port that was free a moment ago (the OS picks it). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
