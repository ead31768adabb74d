import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { IamGate, IamPartialGrant, RefusedCall } from './iam-gate';

/** A fault the proxy answers instead of forwarding, in AWS's JSON error shape. */
export interface InjectedFault {
  readonly status: number;
  readonly type: string;
  readonly message: string;
}

/**
 * A loopback HTTP proxy in front of the emulator that sees every AWS SDK request: it counts
 * calls per API operation (the `X-Amz-Target` header, e.g. `secretsmanager.GetSecretValue`),
 * can answer the next N calls of one operation with an error, to test retries, and, given an
 * IAM gate, refuses what the calling function's role does not allow, as AWS would (the emulator
 * enforces no IAM). `rotor local` uses it for the gate only; the counts and injected faults are
 * for the tests.
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
  /**
   * Answers every call of `operation` (an AWS JSON protocol operation) with `body` and status 200
   * instead of forwarding it: a stand-in for an operation the emulator does not have.
   */
  answerWith(operation: string, body: unknown): void;
  /**
   * Answers every call whose operation `matches` with what `answer` returns for its body instead
   * of forwarding it: a stand-in for a service the emulator cannot run (Lambda's Invoke).
   */
  standIn(
    matches: (operation: string) => boolean,
    answer: (body: string, operation: string) => Promise<StandInAnswer>,
  ): void;
  /**
   * Answers every `every`-th call of any of `operations`, counted together (2: half of them), with
   * AWS's throttling error, as a region over its quota would, until called again with an empty list.
   */
  throttleEvery(operations: readonly string[], every: number): void;
  /** Calls answered as throttled since the last reset, per operation. */
  throttled(): Readonly<Record<string, number>>;
  /** Calls the IAM gate refused since the last reset (none without a gate). */
  refusals(): readonly RefusedCall[];
  stop(): Promise<void>;
}

/** A stand-in's answer: status, headers and body as the service would send them. */
export interface StandInAnswer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body: string;
}

const SERVICE_UNAVAILABLE: InjectedFault = {
  status: 503,
  type: 'ServiceUnavailable',
  message: 'injected by the proxy',
};

/** What Secrets Manager and DynamoDB answer to a call over the quota. */
export const THROTTLING_FAULT: InjectedFault = {
  status: 400,
  type: 'ThrottlingException',
  message: 'Rate exceeded (injected by the proxy)',
};

export async function startAwsProxy(upstream: string, options: { readonly iamGate?: IamGate } = {}): Promise<AwsProxy> {
  const { iamGate } = options;
  const target = new URL(upstream);
  let counts: Record<string, number> = {};
  let requests: { operation: string; body: string }[] = [];
  const faults = new Map<string, { remaining: number; fault: InjectedFault }>();
  const standIns: {
    matches: (operation: string) => boolean;
    answer: (body: string, operation: string) => Promise<StandInAnswer>;
  }[] = [];
  let throttling: { operations: ReadonlySet<string>; every: number; seen: number } | undefined;
  let throttled: Record<string, number> = {};

  const forward = (incoming: IncomingMessage, outgoing: ServerResponse, body: Buffer): void => {
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
    forwarded.end(body);
  };

  // A batch the gate authorized in part: forward what it allows, and list the rest in the
  // answer's Errors, as AWS answers BatchGetSecretValue.
  const servePartly = (incoming: IncomingMessage, outgoing: ServerResponse, grant: IamPartialGrant): void => {
    const answer = (status: number, headers: Record<string, string>, served: Record<string, unknown>) => {
      const text = JSON.stringify({
        ...served,
        SecretValues: served.SecretValues ?? [],
        Errors: [...((served.Errors as unknown[] | undefined) ?? []), ...grant.errors],
      });
      outgoing.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(text)) });
      outgoing.end(text);
    };
    if (grant.forwardBody === undefined) {
      answer(200, { 'content-type': 'application/x-amz-json-1.1' }, {});
      return;
    }
    const forwardBody = Buffer.from(grant.forwardBody);
    const forwarded = request(
      {
        host: target.hostname,
        port: target.port,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, host: target.host, 'content-length': String(forwardBody.length) },
      },
      (upstreamAnswer) => {
        const chunks: Buffer[] = [];
        upstreamAnswer.on('data', (chunk: Buffer) => chunks.push(chunk));
        upstreamAnswer.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if ((upstreamAnswer.statusCode ?? 500) !== 200) {
            outgoing.writeHead(upstreamAnswer.statusCode ?? 502, upstreamAnswer.headers);
            outgoing.end(text);
            return;
          }
          answer(200, { 'content-type': 'application/x-amz-json-1.1' }, JSON.parse(text) as Record<string, unknown>);
        });
      },
    );
    forwarded.on('error', (error) => {
      outgoing.writeHead(502);
      outgoing.end(String(error));
    });
    forwarded.end(forwardBody);
  };

  const server = createServer((incoming: IncomingMessage, outgoing: ServerResponse) => {
    const operation = String(incoming.headers['x-amz-target'] ?? `${incoming.method} ${incoming.url}`);
    counts[operation] = (counts[operation] ?? 0) + 1;
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ operation, body: body.toString('utf8') });
      const standIn = standIns.find((candidate) => candidate.matches(operation));
      if (standIn !== undefined) {
        standIn.answer(body.toString('utf8'), operation).then(
          (answer) => {
            outgoing.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
            outgoing.end(answer.body);
          },
          (error: unknown) => {
            outgoing.writeHead(500, { 'content-type': 'application/json' });
            outgoing.end(
              JSON.stringify({ __type: 'InternalFailure', message: `test stand-in failed: ${String(error)}` }),
            );
          },
        );
        return;
      }
      const planned = faults.get(operation);
      if (planned !== undefined && planned.remaining > 0) {
        planned.remaining -= 1;
        outgoing.writeHead(planned.fault.status, { 'content-type': 'application/x-amz-json-1.1' });
        outgoing.end(JSON.stringify({ __type: planned.fault.type, message: planned.fault.message }));
        return;
      }
      if (throttling?.operations.has(operation) === true) {
        throttling.seen += 1;
        if (throttling.seen % throttling.every === 0) {
          throttled[operation] = (throttled[operation] ?? 0) + 1;
          outgoing.writeHead(THROTTLING_FAULT.status, { 'content-type': 'application/x-amz-json-1.1' });
          outgoing.end(JSON.stringify({ __type: THROTTLING_FAULT.type, message: THROTTLING_FAULT.message }));
          return;
        }
      }
      if (iamGate === undefined) {
        forward(incoming, outgoing, body);
        return;
      }
      iamGate
        .authorize({
          method: incoming.method ?? 'GET',
          url: incoming.url ?? '/',
          headers: incoming.headers,
          body: body.toString('utf8'),
        })
        .then(
          (refusal) => {
            if (refusal === undefined) {
              forward(incoming, outgoing, body);
              return;
            }
            if ('errors' in refusal) {
              servePartly(incoming, outgoing, refusal);
              return;
            }
            outgoing.writeHead(refusal.status, refusal.headers);
            outgoing.end(refusal.body);
          },
          (error: unknown) => {
            // A gate that cannot decide fails the call loudly rather than letting it through.
            outgoing.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
            outgoing.end(
              JSON.stringify({ __type: 'InternalFailure', message: `local IAM check failed: ${String(error)}` }),
            );
          },
        );
    });
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
      throttled = {};
      iamGate?.reset();
    },
    failNext: (operation, times, fault = SERVICE_UNAVAILABLE) => {
      faults.set(operation, { remaining: times, fault });
    },
    answerWith: (operation, body) => {
      standIns.push({
        matches: (candidate) => candidate === operation,
        answer: () =>
          Promise.resolve({
            status: 200,
            headers: { 'content-type': 'application/x-amz-json-1.0' },
            body: JSON.stringify(body),
          }),
      });
    },
    standIn: (matches, answer) => {
      standIns.push({ matches, answer });
    },
    throttleEvery: (operations, every) => {
      throttling = operations.length === 0 ? undefined : { operations: new Set(operations), every, seen: 0 };
    },
    throttled: () => ({ ...throttled }),
    refusals: () => iamGate?.refusals() ?? [],
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
