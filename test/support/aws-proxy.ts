import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fault the proxy answers instead of forwarding, in AWS's JSON error shape. */
export interface InjectedFault {
  readonly status: number;
  readonly type: string;
  readonly message: string;
}

/**
 * A loopback HTTP proxy in front of the emulator that sees every AWS SDK request: it counts
 * calls per API operation (the `X-Amz-Target` header, e.g. `secretsmanager.GetSecretValue`)
 * and can answer the next N calls of one operation with an error, to test retries.
 */
export interface AwsProxy {
  /** Use as AWS_ENDPOINT_URL. */
  readonly endpoint: string;
  /** Calls per operation since the last reset. */
  counts(): Readonly<Record<string, number>>;
  /** Every request since the last reset: operation and body, for scanning what left a Lambda. */
  requests(): readonly { readonly operation: string; readonly body: string }[];
  resetCounts(): void;
  /** Answers the next `times` calls of `operation` with `fault` instead of forwarding them. */
  failNext(operation: string, times: number, fault?: InjectedFault): void;
  stop(): Promise<void>;
}

const SERVICE_UNAVAILABLE: InjectedFault = {
  status: 503,
  type: 'ServiceUnavailable',
  message: 'injected by the test proxy',
};

export async function startAwsProxy(upstream: string): Promise<AwsProxy> {
  const target = new URL(upstream);
  let counts: Record<string, number> = {};
  let requests: { operation: string; body: string }[] = [];
  const faults = new Map<string, { remaining: number; fault: InjectedFault }>();

  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const operation = String(incoming.headers['x-amz-target'] ?? `${incoming.method} ${incoming.url}`);
    counts[operation] = (counts[operation] ?? 0) + 1;
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => requests.push({ operation, body: Buffer.concat(chunks).toString('utf8') }));
    const planned = faults.get(operation);
    if (planned !== undefined && planned.remaining > 0) {
      planned.remaining -= 1;
      incoming.resume();
      outgoing.writeHead(planned.fault.status, { 'content-type': 'application/x-amz-json-1.1' });
      outgoing.end(JSON.stringify({ __type: planned.fault.type, message: planned.fault.message }));
      return;
    }
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: target.host },
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', (error) => {
      outgoing.writeHead(502);
      outgoing.end(String(error));
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts: () => ({ ...counts }),
    requests: () => [...requests],
    resetCounts: () => {
      counts = {};
      requests = [];
    },
    failNext: (operation, times, fault = SERVICE_UNAVAILABLE) => {
      faults.set(operation, { remaining: times, fault });
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
