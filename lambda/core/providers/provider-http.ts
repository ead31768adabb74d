/**
 * The one way a provider talks to the world outside AWS (an IdP's token endpoint, GitLab's
 * API). The adapter behind it enforces the transport rules every provider shares: HTTPS only,
 * TLS 1.3 unless the secret allows 1.2, certificates verified against the trust store plus an
 * optional CA bundle, mTLS when a client certificate is given, timeouts, and no body or
 * authorization header ever logged.
 */

/** TLS settings of one call, from the secret's document. */
export interface ProviderTlsSettings {
  /** Lowest TLS version accepted. @default 'TLSv1.3' */
  readonly minVersion?: 'TLSv1.3' | 'TLSv1.2';
  /** PEM certificates trusted in addition to the default trust store (a private CA). */
  readonly caBundlePem?: string;
  /** Client certificate and key for mTLS, as PEM. */
  readonly clientCertificate?: ClientCertificate;
}

export interface ClientCertificate {
  readonly certificatePem: string;
  readonly privateKeyPem: string;
}

export interface ProviderHttpRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  /** Must be an `https:` URL. */
  readonly url: string;
  /** Header names in lower case. Values are never logged. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Sent as `application/x-www-form-urlencoded` (OAuth 2.0 token and introspection requests). */
  readonly form?: Readonly<Record<string, string>>;
  /** Sent as `application/json` (GitLab's API); never together with `form`. */
  readonly json?: Readonly<Record<string, unknown>>;
  readonly tls?: ProviderTlsSettings;
  /** Whole-call deadline in milliseconds. @default the client's (10 000) */
  readonly timeoutMs?: number;
}

export interface ProviderHttpResponse {
  readonly status: number;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** At most the client's response limit (64 KiB); a longer response is an error. */
  readonly body: string;
}

export interface ProviderHttpClient {
  /**
   * Sends one request; never retries (a provider call may spend a credential).
   * @throws ProviderCallError when no HTTP response was received, saying whether the request
   * may have reached the provider.
   */
  send(request: ProviderHttpRequest): Promise<ProviderHttpResponse>;
  /**
   * Refuses, with no I/O, a URL that `send` would refuse before connecting: not `https:`, user
   * info, an origin that is not one of the stage's provider endpoints, an IP literal the stage
   * does not allow. Providers call it for every URL of a document before the engine writes
   * anything, so that a document naming another endpoint changes nothing.
   * @throws EndpointRefusedError saying why; never a value of the request.
   */
  checkDestination(url: string): void;
}

/** Where a provider finds the client certificate and key of an mTLS call: a secret of its own. */
export interface ClientCertificateSource {
  /** Reads the certificate secret `secretId` (JSON `{"certificate": PEM, "privateKey": PEM}`). */
  load(secretId: string): Promise<ClientCertificate>;
  /**
   * Refuses, with no I/O, a certificate secret `load` would refuse by its name alone (outside the
   * stage's prefix).
   * @throws MalformedSecretError naming the secret and the rule.
   */
  checkLocation(secretId: string): void;
}
