import { createHash, X509Certificate } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import * as tls from 'node:tls';
import { EndpointRefusedError, ProviderCallError } from '../core/errors';
import { addressRefusal, destinationRefusal, type EndpointPolicy } from '../core/providers/endpoint-policy';
import type {
  ProviderHttpClient,
  ProviderHttpRequest,
  ProviderHttpResponse,
  ProviderTlsSettings,
} from '../core/providers/provider-http';

export interface NodeProviderHttpClientOptions {
  /**
   * The origins calls may go to, and whether non-public addresses may be connected to: the stage's
   * `ROTOR_PROVIDER_ORIGINS` and `ROTOR_ALLOW_PRIVATE_ENDPOINTS`.
   */
  readonly endpoints: EndpointPolicy;
  /** Whole-call deadline (DNS, connect, TLS handshake, request and response) of a request that sets none. @default 10 000 */
  readonly defaultTimeoutMs?: number;
  /** Longest response body accepted, in bytes; a longer one is an error. @default 65 536 */
  readonly maxResponseBytes?: number;
  /** How many distinct TLS settings keep a connection pool; the least recently used idle pool goes first. @default 16 */
  readonly maxPools?: number;
  /** A kept-alive connection idle for longer than this is closed instead of reused. @default 4 000 */
  readonly maxIdleMs?: number;
  /** Wall clock, for the idle age of kept-alive connections. */
  readonly now?: () => number;
}

/**
 * {@link ProviderHttpClient} on `node:https`: the transport rules every provider shares.
 *
 * - Only `https:` URLs without user info, whose origin is one of `endpoints.origins`; anything
 *   else is refused before any I/O.
 * - Unless `endpoints.allowPrivateAddresses`, no connection to a loopback, link-local, private,
 *   shared (CGNAT), multicast or reserved address: an IP literal is refused before any I/O, a
 *   host name's addresses are filtered when it is resolved, and the address the socket actually
 *   connected to is checked again before the TLS session (and so the request) can start.
 * - TLS 1.3 only, unless the secret's `tls.minVersion` allows TLS 1.2. Certificates are always
 *   verified, against the default trust store plus `tls.caBundlePem` when given; the client
 *   certificate of `tls.clientCertificate` is presented for mTLS.
 * - One deadline covers the whole call, connecting included; the response body is bounded.
 * - Connections are kept alive, one pool per distinct TLS settings, so that the steps of a
 *   rotation on a warm Lambda container reuse them. A pooled connection idle for longer than
 *   `maxIdleMs` (by the wall clock, which keeps running while Lambda freezes the container) is
 *   closed rather than reused: a server that dropped it meanwhile would otherwise reset the next
 *   request after it was written, and that failure could not be told apart from one where the
 *   provider acted.
 *
 * A call that gets no complete HTTP response fails with a {@link ProviderCallError} whose
 * `sideEffect` says whether the provider may have acted. It is `none` only when the request
 * provably never reached the provider's application: the TLS session of a new connection was
 * never established (nothing but handshake bytes left), or the server's TLS stack refused the
 * handshake with an alert (with TLS 1.3 the server checks the client certificate after the
 * client has finished its side of the handshake and may already have written the request; the
 * alert proves that the request was discarded undecrypted). Everything else that fails once
 * the connection is up is `unknown`. Every HTTP status, 4xx and 5xx included, is a response.
 *
 * This client never logs (it has no logger) and its errors name the method, the URL without
 * its query string, the host and the reason, never a header, the form or the response body.
 * They carry no `cause` either: some Node errors hold the raw bytes they failed on (an HTTP
 * parser error keeps the response packet, which may hold a token).
 */
export class NodeProviderHttpClient implements ProviderHttpClient {
  private readonly defaultTimeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly maxPools: number;
  private readonly maxIdleMs: number;
  private readonly now: () => number;
  private readonly endpoints: EndpointPolicy;
  /** Resolves host names to allowed addresses only; undefined when every address is allowed. */
  private readonly lookup: LookupFunction | undefined;
  /** Least recently used first. */
  private readonly pools = new Map<string, ConnectionPool>();

  constructor(options: NodeProviderHttpClientOptions) {
    this.endpoints = options.endpoints;
    this.lookup = options.endpoints.allowPrivateAddresses ? undefined : allowedAddressLookup(options.endpoints);
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 10_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024;
    this.maxPools = options.maxPools ?? 16;
    this.maxIdleMs = options.maxIdleMs ?? 4_000;
    this.now = options.now ?? Date.now;
  }

  checkDestination(url: string): void {
    parseTarget({ url }, this.endpoints);
  }

  async send(request: ProviderHttpRequest): Promise<ProviderHttpResponse> {
    const target = parseTarget(request, this.endpoints);
    const timeoutMs = request.timeoutMs ?? this.defaultTimeoutMs;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new ProviderCallError(`${target.label} was not sent: timeoutMs must be a positive number`, 'none');
    }
    const settings = request.tls ?? {};
    const pool = this.poolFor(settings, target);
    if (request.form !== undefined && request.json !== undefined) {
      throw new ProviderCallError(
        `${target.label} was not sent: a request has a form or a JSON body, not both`,
        'none',
      );
    }
    const body =
      request.form !== undefined
        ? Buffer.from(new URLSearchParams(request.form).toString())
        : request.json !== undefined
          ? Buffer.from(JSON.stringify(request.json))
          : undefined;
    const contentType = request.form !== undefined ? 'application/x-www-form-urlencoded' : 'application/json';
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...request.headers,
      ...(body === undefined ? {} : { 'content-type': contentType, 'content-length': String(body.length) }),
    };
    pool.activeCalls += 1;
    try {
      return await exchange({
        target,
        headers,
        body,
        agent: pool.agent,
        lookup: this.lookup,
        endpoints: this.endpoints,
        timeoutMs,
        maxResponseBytes: this.maxResponseBytes,
        minVersion: settings.minVersion ?? 'TLSv1.3',
        hasClientCertificate: settings.clientCertificate !== undefined,
      });
    } finally {
      pool.activeCalls -= 1;
    }
  }

  /** Closes every kept-alive connection (tests; a Lambda container just freezes). */
  close(): void {
    for (const pool of this.pools.values()) pool.agent.destroy();
    this.pools.clear();
  }

  private poolFor(settings: ProviderTlsSettings, target: Target): ConnectionPool {
    const key = settingsKey(settings);
    let pool = this.pools.get(key);
    if (pool === undefined) {
      pool = new ConnectionPool(secureContextFor(settings, target), this.now);
    } else {
      this.pools.delete(key);
    }
    this.pools.set(key, pool);
    pool.closeConnectionsIdleLongerThan(this.maxIdleMs);
    this.evictIdlePools(pool);
    return pool;
  }

  // A pool with a call in flight is never closed, so the cache may exceed its bound for as long as
  // more than maxPools distinct settings are in use at once.
  private evictIdlePools(inUse: ConnectionPool): void {
    for (const [key, pool] of this.pools) {
      if (this.pools.size <= this.maxPools) return;
      if (pool === inUse || pool.activeCalls > 0) continue;
      pool.agent.destroy();
      this.pools.delete(key);
    }
  }
}

/** The keep-alive agent of one TLS settings, and when each of its free connections fell idle. */
class ConnectionPool {
  readonly agent: Agent;
  activeCalls = 0;
  private readonly idleSince = new WeakMap<Socket, number>();

  constructor(
    secureContext: tls.SecureContext,
    private readonly now: () => number,
  ) {
    // The secure context carries the versions, trust and client certificate; rejectUnauthorized
    // is a connection option and overrides NODE_TLS_REJECT_UNAUTHORIZED.
    this.agent = new Agent({ keepAlive: true, secureContext, rejectUnauthorized: true });
    this.agent.on('free', (socket: Socket) => this.idleSince.set(socket, this.now()));
  }

  // Free connections are listed in the order they fell idle, so the destroyed ones lead each
  // list, which is where the agent skips destroyed connections.
  closeConnectionsIdleLongerThan(maxIdleMs: number): void {
    const now = this.now();
    for (const sockets of Object.values(this.agent.freeSockets)) {
      for (const socket of sockets ?? []) {
        const since = this.idleSince.get(socket);
        if (since !== undefined && now - since > maxIdleMs) socket.destroy();
      }
    }
  }
}

interface Target {
  readonly hostname: string;
  readonly port: number;
  readonly path: string;
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** The host as written in the URL, with its port when not the default one. */
  readonly host: string;
  /** `POST https://idp.example.com/oauth/token`: no user info, query string or fragment. */
  readonly label: string;
}

/**
 * The request's target, checked with no I/O. Without a method (a document's URL checked ahead of
 * any call) the errors say the URL is refused rather than that a request was not sent.
 */
function parseTarget(
  request: { readonly method?: ProviderHttpRequest['method']; readonly url: string },
  endpoints: EndpointPolicy,
): Target {
  const method = request.method ?? 'POST';
  const refused = (label: string, reason: string) =>
    new EndpointRefusedError(
      request.method === undefined ? `provider URL ${label} is refused: ${reason}` : `${label} was not sent: ${reason}`,
    );
  let url: URL;
  try {
    url = new URL(request.url);
  } catch {
    // The text of an unparsable URL is not echoed: it may hold anything.
    throw refused(
      request.method === undefined ? '(unparsable)' : `${method} request`,
      'the provider URL is not a valid URL',
    );
  }
  const address = `${url.protocol}//${url.host}${url.pathname}`;
  const label = request.method === undefined ? address : `${method} ${address}`;
  if (url.protocol !== 'https:') {
    throw refused(label, `provider calls must use https:, not ${url.protocol} (host ${url.host})`);
  }
  if (url.username !== '' || url.password !== '') {
    throw refused(label, `the provider URL must not carry credentials (user info before the host ${url.host})`);
  }
  const refusal = destinationRefusal(url, endpoints);
  if (refusal !== undefined) throw refused(label, refusal);
  return {
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 443 : Number(url.port),
    path: `${url.pathname}${url.search}`,
    method,
    host: url.host,
    label,
  };
}

function settingsKey(settings: ProviderTlsSettings): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        settings.minVersion ?? 'TLSv1.3',
        settings.caBundlePem ?? null,
        settings.clientCertificate?.certificatePem ?? null,
        settings.clientCertificate?.privateKeyPem ?? null,
      ]),
    )
    .digest('hex');
}

/** Built once per pool rather than once per connection: the trust store alone is ~150 certificates. */
function secureContextFor(settings: ProviderTlsSettings, target: Target): tls.SecureContext {
  const refuse = (reason: string) => new ProviderCallError(`${target.label} was not sent: ${reason}`, 'none');
  const minVersion = settings.minVersion ?? 'TLSv1.3';
  if (minVersion !== 'TLSv1.3' && minVersion !== 'TLSv1.2') {
    throw refuse('tls.minVersion must be TLSv1.3 or TLSv1.2');
  }
  const options: tls.SecureContextOptions = { minVersion, maxVersion: 'TLSv1.3' };
  if (settings.caBundlePem !== undefined) {
    const bundle = pemCertificates(settings.caBundlePem);
    if (bundle === undefined) throw refuse('tls.caBundlePem is not a list of PEM certificates');
    // Node's `ca` replaces the default trust store instead of adding to it.
    options.ca = [...defaultTrustedCertificates(), ...bundle];
  }
  if (settings.clientCertificate !== undefined) {
    options.cert = settings.clientCertificate.certificatePem;
    options.key = settings.clientCertificate.privateKeyPem;
  }
  try {
    return tls.createSecureContext(options);
  } catch (error) {
    const code = errorCode(error);
    throw refuse(
      code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH'
        ? 'the private key of tls.clientCertificate does not match its certificate'
        : `tls.clientCertificate is not a PEM certificate with its unencrypted private key (${code ?? 'unreadable'})`,
    );
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The bundle's certificates, or undefined when it holds none or one that does not parse. */
function pemCertificates(bundlePem: string): string[] | undefined {
  const certificates = bundlePem.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) return undefined;
  try {
    for (const certificate of certificates) new X509Certificate(certificate);
  } catch {
    return undefined;
  }
  return certificates;
}

let defaultTrust: readonly string[] | undefined;

/**
 * The certificates Node trusts when no `ca` is given. `tls.getCACertificates('default')`
 * (Node 22.15 and later, the Lambda runtime) includes NODE_EXTRA_CA_CERTS and the system store
 * when Node uses them; older Node only offers its bundled store, `tls.rootCertificates`.
 */
function defaultTrustedCertificates(): readonly string[] {
  const withCaList = tls as typeof tls & { getCACertificates?: (type: 'default') => string[] };
  defaultTrust ??= withCaList.getCACertificates?.('default') ?? tls.rootCertificates;
  return defaultTrust;
}

interface Exchange {
  readonly target: Target;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer | undefined;
  readonly agent: Agent;
  /** Used to resolve the host of a new connection. @default Node's */
  readonly lookup: LookupFunction | undefined;
  readonly endpoints: EndpointPolicy;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  readonly minVersion: 'TLSv1.3' | 'TLSv1.2';
  readonly hasClientCertificate: boolean;
}

/**
 * How far the call got when it failed: `connecting` until the TLS session of a new connection
 * is established (the TLS layer holds the request back until then), `sending` from then on or
 * from the start on a reused connection, `answered` once response headers arrived.
 */
type Progress = 'connecting' | 'sending' | 'answered';

type Failure =
  | { readonly kind: 'deadline' }
  | { readonly kind: 'response-too-large' }
  | { readonly kind: 'closed-early' }
  | { readonly kind: 'error'; readonly error: unknown };

interface FailureContext {
  readonly call: Exchange;
  readonly progress: Progress;
  readonly newConnection: boolean;
  /** The request `finish`ed: all of it was handed to the connection. */
  readonly requestWritten: boolean;
  /** The TLS version of a new connection, once negotiated. */
  readonly protocol: string | undefined;
}

function exchange(call: Exchange): Promise<ProviderHttpResponse> {
  return new Promise((resolve, reject) => {
    const { target } = call;
    let req: ClientRequest;
    try {
      req = httpsRequest({
        agent: call.agent,
        host: target.hostname,
        port: target.port,
        path: target.path,
        method: target.method,
        headers: call.headers,
        ...(call.lookup === undefined ? {} : { lookup: call.lookup }),
      });
    } catch (error) {
      // Node checks header names and values here, before any I/O.
      reject(
        new ProviderCallError(
          `${target.label} was not sent: the request is invalid (${errorCode(error) ?? 'unknown'})`,
          'none',
        ),
      );
      return;
    }

    let progress: Progress = 'connecting';
    let newConnection = true;
    let requestWritten = false;
    let protocol: string | undefined;
    let settled = false;

    const fail = (failure: Failure): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      reject(describeFailure(failure, { call, progress, newConnection, requestWritten, protocol }));
      req.destroy();
    };
    const deadline = setTimeout(() => fail({ kind: 'deadline' }), call.timeoutMs);

    req.on('socket', (socket) => {
      if (req.reusedSocket) {
        newConnection = false;
        progress = 'sending';
        return;
      }
      // The last word on where the request goes: the address this connection reached. TLS has
      // not started when 'connect' fires, and the request waits for the TLS session.
      socket.once('connect', () => {
        const refusal =
          socket.remoteAddress === undefined ? undefined : addressRefusal(socket.remoteAddress, call.endpoints);
        if (refusal !== undefined) socket.destroy(new RefusedAddressError(`${target.host} connected to ${refusal}`));
      });
      socket.once('secureConnect', () => {
        protocol = (socket as tls.TLSSocket).getProtocol() ?? undefined;
        if (progress === 'connecting') progress = 'sending';
      });
    });
    req.on('finish', () => {
      requestWritten = true;
    });
    req.on('error', (error) => fail({ kind: 'error', error }));
    req.on('close', () => {
      if (progress !== 'answered') fail({ kind: 'closed-early' });
    });
    req.on('response', (response: IncomingMessage) => {
      progress = 'answered';
      const declaredLength = Number(response.headers['content-length']);
      if (Number.isFinite(declaredLength) && declaredLength > call.maxResponseBytes) {
        fail({ kind: 'response-too-large' });
        return;
      }
      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > call.maxResponseBytes) fail({ kind: 'response-too-large' });
        else chunks.push(chunk);
      });
      response.on('error', (error) => fail({ kind: 'error', error }));
      response.on('close', () => {
        if (!response.complete) fail({ kind: 'closed-early' });
      });
      response.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        resolve({
          status: response.statusCode ?? 0,
          headers: lowerCaseHeaders(response),
          body: Buffer.concat(chunks).toString('utf8'),
        });
      });
    });
    req.end(call.body);
  });
}

/** Node already lower-cases names; repeated headers (set-cookie) are joined as HTTP allows. */
function lowerCaseHeaders(response: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

const NOT_SENT = 'the request was not sent';
const MAY_HAVE_ARRIVED = 'the request may have reached the provider';

function describeFailure(failure: Failure, context: FailureContext): ProviderCallError {
  const { call, progress } = context;
  const { target } = call;
  if (failure.kind === 'response-too-large') {
    return new ProviderCallError(
      `${target.label} failed: the response from ${target.host} is larger than the ${call.maxResponseBytes}-byte limit; ${MAY_HAVE_ARRIVED}`,
      'unknown',
    );
  }
  if (failure.kind === 'deadline') {
    if (progress === 'connecting') {
      return new ProviderCallError(
        `${target.label} failed: could not connect to ${target.host} within ${call.timeoutMs} ms; ${NOT_SENT}`,
        'none',
      );
    }
    return new ProviderCallError(
      `${target.label} failed: no complete response from ${target.host} within ${call.timeoutMs} ms; ${MAY_HAVE_ARRIVED}`,
      'unknown',
    );
  }
  const error = failure.kind === 'error' ? failure.error : undefined;
  if (error instanceof RefusedAddressError) {
    return new EndpointRefusedError(`${target.label} was not sent: ${error.message}; ${NOT_SENT}`);
  }
  const code = errorCode(error);
  const handshakeAlert = tlsAlertOf(error);
  // Before the TLS session exists the request cannot have left; a handshake alert on a new
  // connection proves the server discarded it (see the class comment). Neither holds for a
  // reused connection or once a response started.
  if (progress === 'connecting' || (handshakeAlert !== undefined && context.newConnection && progress === 'sending')) {
    const reason = isTlsFailure(error) ? tlsFailureReason(error, call) : undefined;
    if (reason !== undefined) {
      return new ProviderCallError(`TLS handshake with ${target.host} failed: ${reason}; ${NOT_SENT}`, 'none');
    }
    const hint =
      code === 'ECONNRESET' && call.hasClientCertificate
        ? ' (a server that refuses tls.clientCertificate closes the connection this way)'
        : '';
    return new ProviderCallError(
      `${target.label} failed: ${connectFailureReason(code, target)}${hint}; ${NOT_SENT}`,
      'none',
    );
  }
  if (progress === 'answered') {
    const reason = code?.startsWith('HPE_')
      ? `the response from ${target.host} is not valid HTTP (${code})`
      : `the connection to ${target.host} closed before the response was complete (${code ?? 'closed'})`;
    return new ProviderCallError(`${target.label} failed: ${reason}; ${MAY_HAVE_ARRIVED}`, 'unknown');
  }
  const how = context.requestWritten ? 'after the request was sent' : 'while the request was being sent';
  const connection = context.newConnection ? 'the connection' : 'a kept-alive connection';
  let reason = code?.startsWith('HPE_')
    ? `${target.host} answered with invalid HTTP (${code})`
    : `${connection} to ${target.host} closed ${how}, with no response (${code ?? 'closed'})`;
  if (
    context.newConnection &&
    call.hasClientCertificate &&
    context.protocol === 'TLSv1.3' &&
    !code?.startsWith('HPE_')
  ) {
    // With TLS 1.3 a server that refuses the client certificate without an alert (Node's own
    // https server does) closes the connection after the client has sent its request.
    reason += '; a server that refuses tls.clientCertificate closes the connection this way';
  }
  return new ProviderCallError(`${target.label} failed: ${reason}; ${MAY_HAVE_ARRIVED}`, 'unknown');
}

function connectFailureReason(code: string | undefined, { host, hostname }: Target): string {
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `could not resolve ${hostname} (${code})`;
    case 'ECONNREFUSED':
      return `${host} refused the connection (${code})`;
    case 'ECONNRESET':
      return `${host} closed the connection during the TLS handshake (${code})`;
    default:
      return `could not connect to ${host} (${code ?? 'no error code'})`;
  }
}

/** Certificate checks Node runs on the server's chain (their codes are OpenSSL's verify errors). */
const UNTRUSTED_CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
  'CERT_CHAIN_TOO_LONG',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_REJECTED',
]);
const CERTIFICATE_VALIDITY: Readonly<Record<string, string>> = {
  CERT_HAS_EXPIRED: "the server's certificate has expired",
  CERT_NOT_YET_VALID: "the server's certificate is not valid yet",
  CERT_REVOKED: "the server's certificate is revoked",
  ERR_TLS_CERT_ALTNAME_INVALID: "the server's certificate is not valid for this host name",
};
/** Alerts a server sends when it refuses the client's certificate. */
const CLIENT_CERTIFICATE_ALERTS = new Set([
  'alert unknown ca',
  'alert bad certificate',
  'alert certificate unknown',
  'alert certificate expired',
  'alert certificate revoked',
  'alert unsupported certificate',
  'alert access denied',
  'alert decrypt error',
]);

function isTlsFailure(error: unknown): boolean {
  const code = errorCode(error);
  if (code === undefined) return false;
  return (
    UNTRUSTED_CERTIFICATE.has(code) ||
    code in CERTIFICATE_VALIDITY ||
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    (code === 'EPROTO' && openSslReason(error) !== undefined)
  );
}

function tlsFailureReason(error: unknown, call: Exchange): string {
  const code = errorCode(error) ?? 'unknown';
  if (UNTRUSTED_CERTIFICATE.has(code)) {
    return `the server's certificate is not trusted: its issuer is in neither the default trust store nor tls.caBundlePem (${code})`;
  }
  const validity = CERTIFICATE_VALIDITY[code];
  if (validity !== undefined) return `${validity} (${code})`;
  const reason =
    openSslReason(error) ??
    code
      .replace(/^ERR_SSL_/, '')
      .toLowerCase()
      .replace(/_/g, ' ');
  if (/alert protocol version|unsupported protocol|no protocols available/.test(reason)) {
    return call.minVersion === 'TLSv1.3'
      ? `the server does not offer TLS 1.3 (it may support only TLS 1.2) and the secret requires TLS 1.3 (set tls.minVersion to TLSv1.2 to allow it) (${code})`
      : `the server offers neither TLS 1.3 nor TLS 1.2 (${code})`;
  }
  if (
    /alert certificate required/.test(reason) ||
    (!call.hasClientCertificate && /alert handshake failure/.test(reason))
  ) {
    return call.hasClientCertificate
      ? `the server requires a client certificate and did not accept the one in tls.clientCertificateSecretId (${code})`
      : `the server requires a client certificate and the secret sets no tls.clientCertificateSecretId (${code})`;
  }
  const alert = tlsAlertOf(error);
  if (alert !== undefined && CLIENT_CERTIFICATE_ALERTS.has(alert)) {
    return `the server refused tls.clientCertificate (${alert}, ${code})`;
  }
  if (/wrong version number|packet length too long|http request/.test(reason)) {
    return `the server did not answer in TLS (is ${call.target.host} an HTTPS port?) (${code})`;
  }
  return `${reason} (${code})`;
}

/** `tlsv13 alert certificate required` → `alert certificate required`, for alerts the peer sent. */
function tlsAlertOf(error: unknown): string | undefined {
  const code = errorCode(error);
  const reason =
    openSslReason(error) ??
    (code?.startsWith('ERR_SSL_')
      ? code
          .replace(/^ERR_SSL_/, '')
          .toLowerCase()
          .replace(/_/g, ' ')
      : undefined);
  const alert = reason === undefined ? undefined : /(?:^|\s)(alert .+)$/.exec(reason)?.[1];
  return alert !== undefined && isHandshakeAlert(alert) ? alert : undefined;
}

function isHandshakeAlert(alert: string): boolean {
  return (
    CLIENT_CERTIFICATE_ALERTS.has(alert) ||
    alert === 'alert certificate required' ||
    alert === 'alert handshake failure' ||
    alert === 'alert protocol version' ||
    alert === 'alert insufficient security'
  );
}

/** OpenSSL's reason text in a Node TLS error (`...:SSL routines:ssl3_read_bytes:tlsv1 alert protocol version:...`). */
function openSslReason(error: unknown): string | undefined {
  // Not `instanceof Error`: Node's own errors may come from another realm (a test runner's VM).
  if (typeof error !== 'object' || error === null || !('message' in error) || typeof error.message !== 'string') {
    return undefined;
  }
  return /SSL routines:[^:]*:([^:]+)/.exec(error.message)?.[1]?.trim();
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** A resolved or connected address the endpoint policy refuses. */
class RefusedAddressError extends Error {
  readonly code = 'ERR_ROTOR_REFUSED_ADDRESS';
}

/**
 * `dns.lookup` that answers only with addresses the policy allows, so a host name that resolves
 * to a private address is never connected to; a host with none left fails the lookup.
 */
function allowedAddressLookup(endpoints: EndpointPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) {
        callback(error, '', undefined);
        return;
      }
      const allowed = addresses.filter(({ address }) => addressRefusal(address, endpoints) === undefined);
      const first = allowed[0];
      if (first === undefined) {
        const refusals = addresses.map(({ address }) => addressRefusal(address, endpoints)).filter(Boolean);
        callback(
          new RefusedAddressError(
            `${hostname} resolves only to addresses provider calls may not reach: ${refusals[0] ?? 'no address'}`,
          ),
          '',
          undefined,
        );
        return;
      }
      if (options.all === true) callback(null, allowed);
      else callback(null, first.address, first.family);
    });
  };
}
