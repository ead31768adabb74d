import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { inspect } from 'node:util';
import { NodeProviderHttpClient } from '../../lambda/adapters/provider-http-client';
import { ProviderCallError } from '../../lambda/core/errors';
import type { ProviderHttpRequest } from '../../lambda/core/providers/provider-http';
import { createTestPki } from '../support/test-pki';
import { rejectionOf } from '../unit/helpers/rejection';

// The provider transport against real node:https servers on the loopback interface, with
// certificates of a CA made for this file. What matters in each failure is `sideEffect`: a
// provider call that may have spent a credential must never be reported as `none`.

const pki = createTestPki();
const serverCertificate = { cert: pki.server.certificatePem, key: pki.server.privateKeyPem };
const clientCertificate = { certificatePem: pki.client.certificatePem, privateKeyPem: pki.client.privateKeyPem };
const strangerCertificate = {
  certificatePem: pki.strangerClient.certificatePem,
  privateKeyPem: pki.strangerClient.privateKeyPem,
};
const trustTestCa = { caBundlePem: pki.caPem };

interface ReceivedRequest {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** CN of the client certificate the server verified, when it asked for one. */
  readonly clientCommonName: string | undefined;
  readonly protocol: string | null;
}

/** Answers a request whose body the server has read. */
type Respond = (response: http.ServerResponse) => void;

interface RunningServer {
  readonly port: number;
  readonly received: ReceivedRequest[];
  /** TCP connections accepted. */
  readonly connections: () => number;
  /** TLS sessions established (a kept-alive connection counts once). */
  readonly tlsSessions: () => number;
}

const answerOk: Respond = (response) => {
  response.setHeader('Content-Type', 'application/json');
  response.end('{"ok":true}');
};

const running: (http.Server | net.Server)[] = [];
let client: NodeProviderHttpClient;

// These servers listen on loopback: their origins are pinned as each starts, and private addresses
// allowed (the refusals themselves are proven in provider-endpoints.test.ts).
const origins = new Set<string>();
const endpoints = { origins, allowPrivateAddresses: true };

beforeEach(() => {
  client = new NodeProviderHttpClient({ endpoints });
});

afterEach(async () => {
  client.close();
  await Promise.all(running.splice(0).map(stop));
});

async function stop(server: http.Server | net.Server): Promise<void> {
  if (server instanceof http.Server) server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

async function listen(server: http.Server | net.Server): Promise<number> {
  running.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  origins.add(`https://127.0.0.1:${port}`);
  return port;
}

async function startHttpsServer(
  options: https.ServerOptions = {},
  respond: Respond = answerOk,
): Promise<RunningServer> {
  return startServer(https.createServer({ ...serverCertificate, ...options }), respond);
}

async function startServer(server: http.Server, respond: Respond): Promise<RunningServer> {
  const received: ReceivedRequest[] = [];
  let connections = 0;
  let tlsSessions = 0;
  server.on('connection', () => (connections += 1));
  server.on('secureConnection', () => (tlsSessions += 1));
  server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const socket = request.socket as Partial<TLSSocket>;
      const commonName = socket.getPeerCertificate?.().subject?.CN;
      received.push({
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        clientCommonName: typeof commonName === 'string' ? commonName : undefined,
        protocol: socket.getProtocol?.() ?? null,
      });
      respond(response);
    });
  });
  const port = await listen(server);
  return { port, received, connections: () => connections, tlsSessions: () => tlsSessions };
}

/** A loopback port nothing listens on (any more). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  origins.add(`https://127.0.0.1:${port}`);
  return port;
}

function urlOf(server: { readonly port: number }, path = '/oauth/token'): string {
  return `https://127.0.0.1:${server.port}${path}`;
}

async function callError(
  request: ProviderHttpRequest,
  by: NodeProviderHttpClient = client,
): Promise<ProviderCallError> {
  const error = await rejectionOf(by.send(request));
  if (!(error instanceof ProviderCallError)) throw error;
  return error;
}

describe('Trust: the default store plus the secret’s CA bundle', () => {
  it('accepts a TLS 1.3 server whose CA is in tls.caBundlePem', async () => {
    // Prepare
    const server = await startHttpsServer();

    // Act
    const response = await client.send({ method: 'GET', url: urlOf(server), tls: trustTestCa });

    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toBe('{"ok":true}');
    expect(server.received).toEqual([expect.objectContaining({ method: 'GET', protocol: 'TLSv1.3' })]);
  });

  it('refuses the same server without the bundle: certificate not trusted, nothing sent', async () => {
    // Prepare
    const server = await startHttpsServer();

    // Act
    const error = await callError({ method: 'GET', url: urlOf(server) });

    // Assess
    expect(error.sideEffect).toBe('none');
    expect(error.message).toMatch(
      /^TLS handshake with 127\.0\.0\.1:\d+ failed: the server's certificate is not trusted/,
    );
    expect(error.message).toMatch(/tls\.caBundlePem/);
    expect(server.received).toHaveLength(0);
  });

  it('refuses a CA bundle that holds no PEM certificate before connecting', async () => {
    // Prepare
    const server = await startHttpsServer();

    // Act
    const error = await callError({ method: 'GET', url: urlOf(server), tls: { caBundlePem: 'not a certificate' } });

    // Assess
    expect(error.sideEffect).toBe('none');
    expect(error.message).toMatch(/tls\.caBundlePem is not a list of PEM certificates/);
    expect(server.connections()).toBe(0);
  });
});

describe('TLS version: 1.3 unless the secret allows 1.2', () => {
  it('refuses a TLS 1.2 server by default and says how to allow it; nothing is sent', async () => {
    // Prepare
    const server = await startHttpsServer({ maxVersion: 'TLSv1.2' });

    // Act
    const error = await callError({ method: 'POST', url: urlOf(server), form: { a: 'b' }, tls: trustTestCa });

    // Assess
    expect(error.sideEffect).toBe('none');
    expect(error.message).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+ failed: the server does not offer TLS 1\.3/);
    expect(error.message).toMatch(/set tls\.minVersion to TLSv1\.2 to allow it/);
    expect(server.received).toHaveLength(0);
  });

  it('accepts the TLS 1.2 server when tls.minVersion is TLSv1.2', async () => {
    // Prepare
    const server = await startHttpsServer({ maxVersion: 'TLSv1.2' });

    // Act
    const response = await client.send({
      method: 'GET',
      url: urlOf(server),
      tls: { ...trustTestCa, minVersion: 'TLSv1.2' },
    });

    // Assess
    expect(response.status).toBe(200);
    expect(server.received).toEqual([expect.objectContaining({ protocol: 'TLSv1.2' })]);
  });
});

describe('mTLS: the client certificate of tls.clientCertificate', () => {
  const mtlsOptions: https.ServerOptions = { requestCert: true, rejectUnauthorized: true, ca: pki.caPem };

  it('presents the client certificate, which the server verifies', async () => {
    // Prepare
    const server = await startHttpsServer(mtlsOptions);

    // Act
    const response = await client.send({
      method: 'GET',
      url: urlOf(server),
      tls: { ...trustTestCa, clientCertificate },
    });

    // Assess
    expect(response.status).toBe(200);
    expect(server.received).toEqual([expect.objectContaining({ clientCommonName: 'rotor-rotation' })]);
  });

  it('is refused without a client certificate; the TLS alert proves nothing reached the server', async () => {
    // Prepare
    const server = await startHttpsServer(mtlsOptions);

    // Act
    const error = await callError({ method: 'POST', url: urlOf(server), form: { a: 'b' }, tls: trustTestCa });

    // Assess
    expect(error.sideEffect).toBe('none');
    expect(error.message).toMatch(/requires a client certificate and the secret sets no tls\.clientCertificate/);
    expect(server.received).toHaveLength(0);
  });

  it('is refused with a certificate of another CA; Node closes without an alert, so the outcome is unknown', async () => {
    // Prepare: with TLS 1.3 the client has sent its request before the server checks the
    // certificate, and Node's server just closes: from the client this is indistinguishable
    // from a server that read the request and dropped the connection.
    const server = await startHttpsServer(mtlsOptions);

    // Act
    const error = await callError({
      method: 'POST',
      url: urlOf(server),
      form: { a: 'b' },
      tls: { ...trustTestCa, clientCertificate: strangerCertificate },
    });

    // Assess
    expect(error.sideEffect).toBe('unknown');
    expect(error.message).toMatch(/a server that refuses tls\.clientCertificate closes the connection this way/);
    expect(server.received).toHaveLength(0);
  });

  it('is refused with a certificate of another CA during a TLS 1.2 handshake: nothing sent', async () => {
    // Prepare
    const server = await startHttpsServer({ ...mtlsOptions, maxVersion: 'TLSv1.2' });

    // Act
    const error = await callError({
      method: 'POST',
      url: urlOf(server),
      form: { a: 'b' },
      tls: { ...trustTestCa, minVersion: 'TLSv1.2', clientCertificate: strangerCertificate },
    });

    // Assess
    expect(error.sideEffect).toBe('none');
    expect(server.received).toHaveLength(0);
  });

  it('refuses a client certificate whose key is not its own before connecting', async () => {
    // Prepare
    const server = await startHttpsServer(mtlsOptions);
    const mismatched = { certificatePem: pki.client.certificatePem, privateKeyPem: pki.strangerClient.privateKeyPem };

    // Act
    const error = await callError({
      method: 'GET',
      url: urlOf(server),
      tls: { ...trustTestCa, clientCertificate: mismatched },
    });

    // Assess
    expect(error.sideEffect).toBe('none');
    expect(error.message).toMatch(/the private key of tls\.clientCertificate does not match its certificate/);
    expect(server.connections()).toBe(0);
  });
});

describe('Requests and responses', () => {
  it('sends a form as application/x-www-form-urlencoded with its length, asking for JSON', async () => {
    // Prepare
    const server = await startHttpsServer();
    const form = { grant_type: 'refresh_token', refresh_token: 'a b&c=d+e/é', client_id: 'rotor' };

    // Act
    await client.send({
      method: 'POST',
      url: urlOf(server),
      headers: { 'x-request-id': 'r-1' },
      form,
      tls: trustTestCa,
    });

    // Assess
    const [received] = server.received;
    expect(received?.method).toBe('POST');
    expect(received?.headers).toMatchObject({
      'content-type': 'application/x-www-form-urlencoded',
      'content-length': String(Buffer.byteLength(received?.body ?? '')),
      accept: 'application/json',
      'x-request-id': 'r-1',
    });
    expect(Object.fromEntries(new URLSearchParams(received?.body))).toEqual(form);
  });

  it('returns 4xx and 5xx answers as responses, with lower-case header names', async () => {
    // Prepare
    const server = await startHttpsServer({}, (response) => {
      response.writeHead(400, { 'Content-Type': 'application/json', 'X-Trace-Id': 'abc' });
      response.end('{"error":"invalid_grant"}');
    });

    // Act
    const response = await client.send({ method: 'POST', url: urlOf(server), form: {}, tls: trustTestCa });

    // Assess
    expect(response.status).toBe(400);
    expect(response.headers).toMatchObject({ 'content-type': 'application/json', 'x-trace-id': 'abc' });
    expect(response.body).toBe('{"error":"invalid_grant"}');
  });

  it('reuses one connection for calls with the same TLS settings, and opens another for other settings', async () => {
    // Prepare
    const server = await startHttpsServer();

    // Act
    await client.send({ method: 'GET', url: urlOf(server), tls: trustTestCa });
    await client.send({ method: 'GET', url: urlOf(server), tls: trustTestCa });
    await client.send({ method: 'GET', url: urlOf(server), tls: { ...trustTestCa, minVersion: 'TLSv1.2' } });

    // Assess
    expect(server.received).toHaveLength(3);
    expect(server.tlsSessions()).toBe(2);
  });

  it('keeps at most maxPools connection pools, closing the least recently used', async () => {
    // Prepare
    const bounded = new NodeProviderHttpClient({ endpoints, maxPools: 1 });
    const server = await startHttpsServer();
    const tls13 = { method: 'GET', url: urlOf(server), tls: trustTestCa } as const;
    const tls12 = { ...tls13, tls: { ...trustTestCa, minVersion: 'TLSv1.2' } } as const;

    // Act
    try {
      await bounded.send(tls13);
      await bounded.send(tls12);
      await bounded.send(tls13);
    } finally {
      bounded.close();
    }

    // Assess
    expect(server.received).toHaveLength(3);
    expect(server.tlsSessions()).toBe(3);
  });

  it('does not reuse a connection idle for longer than maxIdleMs', async () => {
    // Prepare
    let now = 1_000_000;
    const clocked = new NodeProviderHttpClient({ endpoints, maxIdleMs: 4_000, now: () => now });
    const server = await startHttpsServer();

    // Act
    try {
      await clocked.send({ method: 'GET', url: urlOf(server), tls: trustTestCa });
      now += 3_000;
      await clocked.send({ method: 'GET', url: urlOf(server), tls: trustTestCa });
      now += 4_001;
      await clocked.send({ method: 'GET', url: urlOf(server), tls: trustTestCa });
    } finally {
      clocked.close();
    }

    // Assess
    expect(server.received).toHaveLength(3);
    expect(server.tlsSessions()).toBe(2);
  });
});

describe('Deadlines and limits', () => {
  it('gives up on a server that never answers at the deadline: the request may have arrived', async () => {
    // Prepare
    const server = await startHttpsServer({}, () => undefined);

    // Act
    const error = await callError({
      method: 'POST',
      url: urlOf(server),
      form: { a: 'b' },
      tls: trustTestCa,
      timeoutMs: 300,
    });

    // Assess
    expect(error.sideEffect).toBe('unknown');
    expect(error.message).toMatch(/no complete response from 127\.0\.0\.1:\d+ within 300 ms/);
    expect(server.received).toHaveLength(1);
  });

  it('gives up on a server that never completes the TLS handshake: nothing was sent', async () => {
    // Prepare: a TCP server that accepts and stays silent.
    const silent = net.createServer(() => undefined);
    const port = await listen(silent);
    const sockets: net.Socket[] = [];
    silent.on('connection', (socket) => sockets.push(socket));

    // Act
    const error = await callError({ method: 'POST', url: urlOf({ port }), form: { a: 'b' }, timeoutMs: 300 });
    sockets.forEach((socket) => socket.destroy());

    // Assess
    expect(error.sideEffect).toBe('none');
    expect(error.message).toMatch(/could not connect to 127\.0\.0\.1:\d+ within 300 ms/);
    expect(sockets).toHaveLength(1);
  });

  it.each([
    ['with a Content-Length', true],
    ['chunked', false],
  ])('refuses a response over the limit (%s): the request was sent', async (_name, declared) => {
    // Prepare
    const oversized = 'x'.repeat(64 * 1024 + 1);
    const server = await startHttpsServer({}, (response) => {
      if (declared) response.setHeader('Content-Length', String(oversized.length));
      for (let offset = 0; offset < oversized.length; offset += 8 * 1024) {
        response.write(oversized.slice(offset, offset + 8 * 1024));
      }
      response.end();
    });

    // Act
    const error = await callError({ method: 'GET', url: urlOf(server), tls: trustTestCa });

    // Assess
    expect(error.sideEffect).toBe('unknown');
    expect(error.message).toMatch(/larger than the 65536-byte limit/);
  });

  it('accepts a response of exactly the limit', async () => {
    // Prepare
    const server = await startHttpsServer({}, (response) => response.end('y'.repeat(64 * 1024)));

    // Act
    const response = await client.send({ method: 'GET', url: urlOf(server), tls: trustTestCa });

    // Assess
    expect(response.body).toHaveLength(64 * 1024);
  });
});

describe('Refused before any connection', () => {
  it('refuses an http: URL without connecting', async () => {
    // Prepare
    const plain = await startServer(http.createServer(), answerOk);
    const plainUrl = `http://127.0.0.1:${plain.port}/oauth/token`;

    // Act
    const error = await callError({ method: 'POST', url: plainUrl, form: { a: 'b' } });
    // A connection the client had started would be accepted before this later one.
    await fetch(plainUrl);

    // Assess
    expect(error.sideEffect).toBe('none');
    expect(error.message).toMatch(/must use https:, not http:/);
    expect(plain.connections()).toBe(1);
    expect(plain.received).toHaveLength(1);
  });

  it('refuses a URL with user info without echoing it', async () => {
    // Act
    const error = await callError({ method: 'GET', url: 'https://ci:hunter2-password@127.0.0.1:1/oauth/token' });

    // Assess
    expect(error.sideEffect).toBe('none');
    expect(error.message).toMatch(/must not carry credentials/);
    expect(error.message).not.toMatch(/hunter2|ci:/);
  });

  it('reports a refused connection on a closed port: nothing was sent', async () => {
    // Prepare
    const port = await closedPort();

    // Act
    const error = await callError({ method: 'POST', url: urlOf({ port }), form: { a: 'b' } });

    // Assess
    expect(error.sideEffect).toBe('none');
    expect(error.message).toMatch(/127\.0\.0\.1:\d+ refused the connection \(ECONNREFUSED\)/);
  });
});

describe('Errors and output never carry request data', () => {
  const FORM_SENTINEL = 'SECRET-SENTINEL-FORM-123';
  const HEADER_SENTINEL = 'SECRET-SENTINEL-HEADER-123';
  const QUERY_SENTINEL = 'SECRET-SENTINEL-QUERY-123';
  const SENTINELS = [FORM_SENTINEL, HEADER_SENTINEL, QUERY_SENTINEL];
  const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;

  it('leaves the form, the authorization header and the query string out of every failure', async () => {
    // Prepare
    const written: string[] = [];
    const record = (chunk: unknown) => written.push(String(chunk));
    const spies = [
      jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => (record(chunk), true)),
      jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => (record(chunk), true)),
      ...CONSOLE_METHODS.map((method) => jest.spyOn(console, method).mockImplementation((...args) => record(args))),
    ];
    const untrusted = await startHttpsServer();
    const silent = await startHttpsServer({}, () => undefined);
    const oversized = await startHttpsServer({}, (response) => response.end('z'.repeat(70 * 1024)));
    const tls12Only = await startHttpsServer({ maxVersion: 'TLSv1.2' });
    const refusing = await closedPort();
    const requestTo = (url: string, timeoutMs?: number): ProviderHttpRequest => ({
      method: 'POST',
      url: `${url}?code=${QUERY_SENTINEL}#${QUERY_SENTINEL}`,
      headers: { authorization: `Bearer ${HEADER_SENTINEL}` },
      form: { client_secret: FORM_SENTINEL },
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });

    // Act
    const errors = [
      await callError(requestTo(urlOf(untrusted))),
      await callError({ ...requestTo(urlOf(silent), 300), tls: trustTestCa }),
      await callError({ ...requestTo(urlOf(oversized)), tls: trustTestCa }),
      await callError({ ...requestTo(urlOf(tls12Only)), tls: trustTestCa }),
      await callError(requestTo(urlOf({ port: refusing }))),
      await callError(requestTo(`http://127.0.0.1:${refusing}/oauth/token`)),
      await callError(requestTo(`https://user:${HEADER_SENTINEL}@127.0.0.1:${refusing}/oauth/token`)),
      await callError({ ...requestTo(urlOf(silent)), headers: { authorization: `Bearer\n${HEADER_SENTINEL}` } }),
    ];
    const consoleCalls = spies.slice(2).map((spy) => spy.mock.calls.length);
    spies.forEach((spy) => spy.mockRestore());

    // Assess: the failures are the ones meant, then none of them shows request data.
    expect(errors.map((error) => error.sideEffect)).toEqual([
      'none',
      'unknown',
      'unknown',
      'none',
      'none',
      'none',
      'none',
      'none',
    ]);
    for (const error of errors) {
      const everything = `${error.message}\n${inspect(error, { depth: 10, showHidden: true })}`;
      for (const sentinel of SENTINELS) expect(everything).not.toContain(sentinel);
      expect(error.message).not.toContain('?');
      expect(error.cause).toBeUndefined();
    }
    expect(errors[0]?.message).toContain('127.0.0.1');
    for (const sentinel of SENTINELS) expect(written.join('\n')).not.toContain(sentinel);
    expect(consoleCalls).toEqual(CONSOLE_METHODS.map(() => 0));
  });
});
