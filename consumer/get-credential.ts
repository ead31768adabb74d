/**
 * Reading a Rotor credential from Node-based CI tooling: the current credential of a secret,
 * cached for less than the grace period, and re-read once when the service it is presented to
 * answers 401 or 403 (a rotation happened since it was read).
 *
 * ```ts
 * import { getCredential, withCredential } from './consumer/get-credential';
 *
 * const token = await getCredential('rotor/production/deploy-token');
 * const response = await withCredential('rotor/production/deploy-token', (token) =>
 *   fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}` } }),
 * );
 * ```
 *
 * Nothing here logs, and no error message carries a credential or a secret value.
 */
import {
  GetSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';

/**
 * The field of each provider's document that holds the credential a consumer presents. A
 * provider's other fields are Rotor's (refresh tokens, settings) and never returned.
 */
export const CREDENTIAL_FIELDS: Readonly<Record<string, string>> = {
  'managed-token': 'token',
  'oauth2-refresh-token': 'accessToken',
  'gitlab-access-token': 'token',
};

/** Default time a read credential is reused, in seconds: well inside the default 15-minute grace. */
export const DEFAULT_MAX_AGE_SECONDS = 60;

/** Reuse must end before the grace of the previous credential (900 s by default) does. */
export const MAX_AGE_LIMIT_SECONDS = 900;

/** A secret that cannot be read as a Rotor credential; the message names the secret and the field, never a value. */
export class CredentialReadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CredentialReadError';
  }
}

/** Options of one read. */
export interface GetCredentialOptions {
  /**
   * How long a credential read from the secret is reused, in seconds; 0 reads every time. Keep it
   * below the secret's grace period, so that a reused credential is still accepted.
   *
   * @default - the reader's maxAgeSeconds (60 unless set)
   */
  readonly maxAgeSeconds?: number;
  /**
   * Read the secret now, whatever is cached, and cache the result.
   *
   * @default false
   */
  readonly forceFetch?: boolean;
}

/** A reader takes either an SDK client or the config to build one, never both. */
export type CredentialReaderOptions = (
  | {
      /** The Secrets Manager client to read with (its region, credentials, middleware). */
      readonly awsSdkV3Client: SecretsManagerClient;
      readonly clientConfig?: never;
    }
  | {
      readonly awsSdkV3Client?: never;
      /**
       * Config of the client the reader builds.
       *
       * @default - the SDK's defaults (region and credentials from the environment)
       */
      readonly clientConfig?: SecretsManagerClientConfig;
    }
) & {
  /**
   * Default reuse time of a read credential, in seconds, from 0 to less than 900.
   *
   * @default 60
   */
  readonly maxAgeSeconds?: number;
  /**
   * The clock, in milliseconds since the epoch.
   *
   * @default Date.now
   */
  readonly now?: () => number;
};

/** What {@link CredentialReader.withCredential} calls with the credential. */
export type CredentialCallback<T> = (credential: string) => Promise<T> | T;

interface CacheEntry {
  readonly readAt: number;
  readonly credential: Promise<string>;
}

/**
 * Reads Rotor credentials with one Secrets Manager client and caches them per secret. Build one
 * per client; {@link getCredential} and {@link withCredential} use a module-wide default.
 */
export class CredentialReader {
  private readonly client: SecretsManagerClient;
  private readonly maxAgeSeconds: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(options: CredentialReaderOptions = {}) {
    if (options.awsSdkV3Client !== undefined && options.clientConfig !== undefined) {
      throw new TypeError('CredentialReader takes either awsSdkV3Client or clientConfig, not both');
    }
    this.client = options.awsSdkV3Client ?? new SecretsManagerClient(options.clientConfig ?? {});
    this.maxAgeSeconds = checkedMaxAge(options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS);
    this.now = options.now ?? Date.now;
  }

  /**
   * The credential of the secret's `AWSCURRENT` version: the provider's credential field of
   * Rotor's JSON document (`token` for managed-token, `accessToken` for oauth2-refresh-token).
   *
   * @param secretId the secret's name or ARN.
   * @throws CredentialReadError when the secret holds no Rotor document or no credential yet.
   */
  getCredential(secretId: string, options: GetCredentialOptions = {}): Promise<string> {
    const maxAgeMs = checkedMaxAge(options.maxAgeSeconds ?? this.maxAgeSeconds) * 1000;
    const cached = this.cache.get(secretId);
    const now = this.now();
    if (!options.forceFetch && cached !== undefined && now - cached.readAt < maxAgeMs) return cached.credential;

    const credential = this.read(secretId);
    const entry: CacheEntry = { readAt: now, credential };
    this.cache.set(secretId, entry);
    // A failed read is not kept: the next call reads again.
    credential.catch(() => {
      if (this.cache.get(secretId) === entry) this.cache.delete(secretId);
    });
    return credential;
  }

  /**
   * Calls `callback` with the current credential. If the callback signals an authentication
   * failure, 401 or 403, by throwing an error or returning a response whose `status` (or
   * `statusCode`, or `response.status`) says so, the secret is read again, once, and if that
   * gives another credential the callback is called once more with it; its outcome is final.
   * If the credential did not change, the first outcome stands: the failure is not a rotation.
   */
  async withCredential<T>(
    secretId: string,
    callback: CredentialCallback<T>,
    options: GetCredentialOptions = {},
  ): Promise<T> {
    const first = await this.getCredential(secretId, options);
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await callback(first) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const failure = outcome.ok ? outcome.value : outcome.error;
    if (!isAuthenticationFailure(failure)) return settle(outcome);

    const fresh = await this.getCredential(secretId, { ...options, forceFetch: true });
    if (fresh === first) return settle(outcome);
    return callback(fresh);
  }

  /** Forgets every cached credential (or that of one secret). */
  clearCache(secretId?: string): void {
    if (secretId === undefined) this.cache.clear();
    else this.cache.delete(secretId);
  }

  private async read(secretId: string): Promise<string> {
    let secretString: string | undefined;
    try {
      // Always by stage: AWSCURRENT is what consumers may read (and what their role allows).
      const output = await this.client.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
      );
      secretString = output.SecretString;
    } catch (error) {
      throw new CredentialReadError(`could not read the current version of ${secretId}: ${errorName(error)}`, {
        cause: error,
      });
    }
    return credentialOf(secretId, secretString);
  }
}

/** The credential in a Rotor document, or an error that names what is missing and never a value. */
export function credentialOf(secretId: string, secretString: string | undefined): string {
  if (secretString === undefined) {
    throw new CredentialReadError(`${secretId} holds no string value: it is not a Rotor secret`);
  }
  let document: unknown;
  try {
    document = JSON.parse(secretString);
  } catch {
    // The parser's message quotes the text, so it is not passed on.
    throw new CredentialReadError(`${secretId} does not hold a JSON document: it is not a Rotor secret`);
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new CredentialReadError(`${secretId} does not hold a JSON object: it is not a Rotor secret`);
  }
  const provider = (document as Record<string, unknown>).provider;
  if (typeof provider !== 'string') {
    throw new CredentialReadError(`${secretId} has no "provider" field: it is not a Rotor secret`);
  }
  const field = Object.hasOwn(CREDENTIAL_FIELDS, provider) ? CREDENTIAL_FIELDS[provider] : undefined;
  if (field === undefined) {
    throw new CredentialReadError(
      `${secretId} is a ${JSON.stringify(provider)} secret, which this reader does not know (${Object.keys(CREDENTIAL_FIELDS).join(', ')})`,
    );
  }
  const credential = (document as Record<string, unknown>)[field];
  if (typeof credential !== 'string' || credential.length === 0) {
    throw new CredentialReadError(
      `${secretId} has no credential yet (its "${field}" field is missing or empty): its first rotation has not finished`,
    );
  }
  return credential;
}

const AUTHENTICATION_FAILURES = new Set([401, 403]);

/**
 * Whether `value` (a thrown error or a returned response) signals 401 or 403: a numeric `status`
 * or `statusCode` on it (fetch's Response, Octokit's RequestError) or on its `response` (axios's
 * and got's errors).
 */
export function isAuthenticationFailure(value: unknown): boolean {
  const statusOf = (candidate: unknown): unknown => {
    if (typeof candidate !== 'object' || candidate === null) return undefined;
    const record = candidate as { status?: unknown; statusCode?: unknown };
    return record.status ?? record.statusCode;
  };
  const status = statusOf(value) ?? statusOf((value as { response?: unknown } | null | undefined)?.response);
  return typeof status === 'number' && AUTHENTICATION_FAILURES.has(status);
}

function settle<T>(outcome: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}

function checkedMaxAge(seconds: number): number {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds >= MAX_AGE_LIMIT_SECONDS) {
    throw new RangeError(
      `maxAgeSeconds must be from 0 to less than ${MAX_AGE_LIMIT_SECONDS} (the default grace period), got ${seconds}`,
    );
  }
  return seconds;
}

function errorName(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

let defaultReader: CredentialReader | undefined;

/** The module-wide reader behind {@link getCredential}: a default client, built on first use. */
function reader(): CredentialReader {
  defaultReader ??= new CredentialReader();
  return defaultReader;
}

/** {@link CredentialReader.getCredential} with the module-wide reader (default client, 60 s reuse). */
export function getCredential(secretId: string, options?: GetCredentialOptions): Promise<string> {
  return reader().getCredential(secretId, options);
}

/** {@link CredentialReader.withCredential} with the module-wide reader (default client, 60 s reuse). */
export function withCredential<T>(
  secretId: string,
  callback: CredentialCallback<T>,
  options?: GetCredentialOptions,
): Promise<T> {
  return reader().withCredential(secretId, callback, options);
}
