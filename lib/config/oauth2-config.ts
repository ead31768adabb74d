import * as z from 'zod';
import { RotorProviderName } from '../../lambda/shared/rotor-constants';
import { show } from './show-value';

// The config of issue 4: the `oauth2` block of a secret whose provider is `oauth2-refresh-token`.
// Its non-secret settings go into the secret's first document (lib/secret-first-document.ts);
// the client secret and the refresh token arrive later, by `rotor bootstrap`.

/** The provider whose secrets carry an `oauth2` block, and only they. */
export const OAUTH2_PROVIDER = RotorProviderName.oauth2RefreshToken;

/** How Rotor authenticates the client at the token endpoint (RFC 6749 2.3, OpenID Connect Core 9). */
export const OAUTH2_CLIENT_AUTHENTICATIONS = ['client_secret_basic', 'client_secret_post', 'none'] as const;
export type OAuth2ClientAuthentication = (typeof OAUTH2_CLIENT_AUTHENTICATIONS)[number];
/** The method the token endpoint defaults to (RFC 6749 2.3.1: servers must support it). */
export const DEFAULT_OAUTH2_CLIENT_AUTHENTICATION: OAuth2ClientAuthentication = 'client_secret_basic';
/** Named in the document's schema but not implemented by the provider yet: refused at synth. */
export const RESERVED_OAUTH2_CLIENT_AUTHENTICATIONS = ['private_key_jwt'] as const;

/** The lowest TLS version the provider accepts from the IdP's endpoints. */
export const OAUTH2_TLS_MIN_VERSIONS = ['TLSv1.3', 'TLSv1.2'] as const;
export type OAuth2TlsMinVersion = (typeof OAUTH2_TLS_MIN_VERSIONS)[number];

/** Shortest access-token lifetime the config accepts. */
export const MIN_ACCESS_TOKEN_LIFETIME_SECONDS = 60;
/** The IdP's access tokens live 30 minutes or less (issue 4). */
export const MAX_ACCESS_TOKEN_LIFETIME_SECONDS = 1800;
/**
 * Shortest refresh interval: Secrets Manager advises at most one new version of a secret every
 * 10 minutes (more and versions pile up faster than it removes them, up to its version quota).
 */
export const MIN_REFRESH_INTERVAL_SECONDS = 600;
/** Longest refresh-token reuse interval a document may carry: one day. */
export const MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECONDS = 86_400;
/** The default refresh interval is this share of the access-token lifetime, rounded down to whole minutes. */
export const DEFAULT_REFRESH_INTERVAL_SHARE = 2 / 3;

/** TLS settings of the provider's calls to the IdP. */
export interface RotorOAuth2TlsConfig {
  /** Lowest TLS version accepted. @default - the provider's default */
  readonly minVersion?: OAuth2TlsMinVersion;
  /**
   * Full name of a secret, under the stage's `secretNamePrefix` and encrypted with the stage's key,
   * that holds the client certificate and key for mutual TLS. The rotation function may read its
   * AWSCURRENT version. @default - no client certificate
   */
  readonly clientCertificateSecretName?: string;
}

/** The `oauth2` block of a secret, validated, with its defaults applied. */
export interface RotorOAuth2Config {
  /** The IdP's token endpoint, `https://`. */
  readonly tokenEndpoint: string;
  /** The client id Rotor presents. */
  readonly clientId: string;
  /** How the client authenticates at the token endpoint; the file's default is `client_secret_basic`. */
  readonly clientAuthentication: OAuth2ClientAuthentication;
  /** Space-separated scopes asked for on each refresh. @default - none: the grant's scopes */
  readonly scope?: string;
  /** RFC 7662 endpoint on which testSecret checks a new access token (`https://`). */
  readonly introspectionEndpoint?: string;
  /** A URL that answers 2xx to a request with a valid access token (`https://`). */
  readonly testUrl?: string;
  /** How long the IdP's access tokens live, 60 to 1800 seconds. */
  readonly accessTokenLifetimeSeconds: number;
  /** How long the IdP's refresh tokens live; longer than the access tokens. */
  readonly refreshTokenLifetimeSeconds: number;
  /**
   * How often the access-token refresh schedule rotates the secret: whole minutes, at least 600
   * seconds and shorter than the access-token lifetime; the file's default is
   * {@link defaultRefreshIntervalSeconds}.
   */
  readonly refreshIntervalSeconds: number;
  /** How long the IdP still accepts a spent refresh token, 0 to 86400. @default - none: never */
  readonly refreshTokenReuseIntervalSeconds?: number;
  /** @default - the provider's TLS defaults, no client certificate */
  readonly tls?: RotorOAuth2TlsConfig;
}

/**
 * The refresh interval when the config sets none: 2/3 of the access-token lifetime, rounded
 * down to whole minutes (the schedule is `rate(N minutes)`). 900 s -> 600 s, 1800 s -> 1200 s.
 * It may fall under {@link MIN_REFRESH_INTERVAL_SECONDS}, which the config refuses.
 */
export function defaultRefreshIntervalSeconds(accessTokenLifetimeSeconds: number): number {
  return Math.floor((accessTokenLifetimeSeconds * DEFAULT_REFRESH_INTERVAL_SHARE) / 60) * 60;
}

/**
 * The refresh interval a secret runs with: the configured one, else the default. The config, the
 * refresh schedule and the README all use this one function.
 */
export function effectiveRefreshIntervalSeconds(oauth2: {
  readonly accessTokenLifetimeSeconds: number;
  readonly refreshIntervalSeconds?: number | undefined;
}): number {
  return oauth2.refreshIntervalSeconds ?? defaultRefreshIntervalSeconds(oauth2.accessTokenLifetimeSeconds);
}

/** The longest refresh interval that is whole minutes and shorter than the access-token lifetime. */
function longestRefreshIntervalSeconds(accessTokenLifetimeSeconds: number): number {
  return Math.floor((accessTokenLifetimeSeconds - 1) / 60) * 60;
}

/** The two bounds of a refresh interval, and why. */
function intervalRule(accessTokenLifetimeSeconds: number): string {
  return (
    `at least ${MIN_REFRESH_INTERVAL_SECONDS} seconds (Secrets Manager advises at most one new version of a secret every 10 minutes) ` +
    `and shorter than accessTokenLifetimeSeconds, ${accessTokenLifetimeSeconds} (so that the secret holds a new access token before the old one expires)`
  );
}

/**
 * Why an access-token lifetime and a refresh interval (undefined: the default) cannot be used,
 * as `{ field, message }` in the config's style, or undefined when they can. Expects each number
 * to have passed its own field's rule.
 */
export function refreshIntervalProblem(oauth2: {
  readonly accessTokenLifetimeSeconds: number;
  readonly refreshIntervalSeconds?: number | undefined;
}): { field: 'accessTokenLifetimeSeconds' | 'refreshIntervalSeconds'; message: string } | undefined {
  const access = oauth2.accessTokenLifetimeSeconds;
  const longest = longestRefreshIntervalSeconds(access);
  if (longest < MIN_REFRESH_INTERVAL_SECONDS) {
    return {
      field: 'accessTokenLifetimeSeconds',
      message:
        `must be longer than ${MIN_REFRESH_INTERVAL_SECONDS} seconds: the refresh interval must be ${intervalRule(access)}, ` +
        `and no whole number of minutes is both, got ${show(access)}`,
    };
  }
  const range = `a whole number of minutes from ${MIN_REFRESH_INTERVAL_SECONDS} to ${longest} seconds`;
  const interval = oauth2.refreshIntervalSeconds;
  if (interval === undefined) {
    const fallback = defaultRefreshIntervalSeconds(access);
    if (fallback >= MIN_REFRESH_INTERVAL_SECONDS) return undefined;
    return {
      field: 'refreshIntervalSeconds',
      message:
        `is required when accessTokenLifetimeSeconds is ${access}: its default (2/3 of the access token lifetime, ` +
        `rounded down to whole minutes) would be ${fallback}, and the interval must be ${intervalRule(access)}; ` +
        `set ${range}, got the default ${fallback}`,
    };
  }
  if (interval < MIN_REFRESH_INTERVAL_SECONDS || interval >= access) {
    return {
      field: 'refreshIntervalSeconds',
      message: `must be ${intervalRule(access)}: ${range}, got ${show(interval)}`,
    };
  }
  return undefined;
}

const MAX_URL_LENGTH = 2048;
const MAX_CLIENT_ID_LENGTH = 255;
const MAX_SCOPE_LENGTH = 1024;
// RFC 6749 A.1: client_id is VSCHAR (printable ASCII and space); A.4: scope-tokens of NQCHAR
// separated by single spaces.
const CLIENT_ID = /^[\x20-\x7e]+$/;
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*$/;
const SECRET_NAME = /^[A-Za-z0-9_+=.@-]+(?:\/[A-Za-z0-9_+=.@-]+)*$/;
const MAX_SECRET_NAME_LENGTH = 512;

/** An `https://` URL with a host, no user name or password and no fragment (RFC 6749 3.2), at most 2048 characters. */
function isHttpsUrl(value: string): boolean {
  if (value.length > MAX_URL_LENGTH) return false;
  try {
    const url = new URL(value);
    return (
      url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === '' && url.hash === ''
    );
  } catch {
    return false;
  }
}

function httpsUrl(what: string) {
  return z.string().refine(isHttpsUrl, {
    error: (iss) =>
      `must be the ${what} as an https:// URL without a user name, password or fragment, at most ${MAX_URL_LENGTH} characters (it is written into the template and the secret document, so it must not carry a secret), got ${show(iss.input)}`,
  });
}

function wholeNumber(min: number, max: number, unit: string) {
  return z.number().refine((value) => Number.isInteger(value) && value >= min && value <= max, {
    error: (iss) => `must be a whole number of ${unit} from ${min} to ${max}, got ${show(iss.input)}`,
  });
}

const TlsSchema = z.strictObject({
  minVersion: z
    .enum(OAUTH2_TLS_MIN_VERSIONS, {
      error: (iss) => `must be ${OAUTH2_TLS_MIN_VERSIONS.map((v) => `"${v}"`).join(' or ')}, got ${show(iss.input)}`,
    })
    .optional(),
  clientCertificateSecretName: z
    .string()
    .refine((name) => name.length <= MAX_SECRET_NAME_LENGTH && SECRET_NAME.test(name), {
      error: (iss) =>
        `must be the full name of a Secrets Manager secret under the stage's secretNamePrefix, such as "rotor/development/idp-client-certificate", got ${show(iss.input)}`,
    })
    .optional(),
});

/** The `oauth2` block of a secret as the file gives it. */
export const OAuth2Schema = z
  .strictObject({
    tokenEndpoint: httpsUrl("IdP's token endpoint"),
    clientId: z.string().refine((id) => id.length <= MAX_CLIENT_ID_LENGTH && CLIENT_ID.test(id), {
      error: (iss) =>
        `must be the client id, 1 to ${MAX_CLIENT_ID_LENGTH} printable ASCII characters, got ${show(iss.input)}`,
    }),
    clientAuthentication: z
      .string()
      .superRefine((method, ctx) => {
        if ((OAUTH2_CLIENT_AUTHENTICATIONS as readonly string[]).includes(method)) return;
        const reserved = (RESERVED_OAUTH2_CLIENT_AUTHENTICATIONS as readonly string[]).includes(method);
        ctx.addIssue({
          code: 'custom',
          message: `${reserved ? 'is reserved and not supported yet; use' : 'must be'} one of ${OAUTH2_CLIENT_AUTHENTICATIONS.map((m) => `"${m}"`).join(', ')}, got ${show(method)}`,
        });
      })
      .optional(),
    scope: z
      .string()
      .refine((scope) => scope.length <= MAX_SCOPE_LENGTH && SCOPE.test(scope), {
        error: (iss) =>
          `must be scopes separated by single spaces (RFC 6749 3.3: no quotes or backslashes), at most ${MAX_SCOPE_LENGTH} characters, got ${show(iss.input)}`,
      })
      .optional(),
    introspectionEndpoint: httpsUrl("IdP's introspection endpoint (RFC 7662)").optional(),
    testUrl: httpsUrl('URL that answers 2xx to a valid access token').optional(),
    accessTokenLifetimeSeconds: wholeNumber(
      MIN_ACCESS_TOKEN_LIFETIME_SECONDS,
      MAX_ACCESS_TOKEN_LIFETIME_SECONDS,
      'seconds',
    ),
    refreshTokenLifetimeSeconds: z.number().refine((value) => Number.isSafeInteger(value) && value >= 1, {
      error: (iss) => `must be a whole number of seconds, at least 1, got ${show(iss.input)}`,
    }),
    refreshIntervalSeconds: z
      .number()
      .refine((value) => Number.isInteger(value) && value > 0 && value % 60 === 0, {
        error: (iss) =>
          `must be whole minutes in seconds (a multiple of 60: the schedule is "rate(N minutes)"), got ${show(iss.input)}`,
      })
      .optional(),
    refreshTokenReuseIntervalSeconds: wholeNumber(0, MAX_REFRESH_TOKEN_REUSE_INTERVAL_SECONDS, 'seconds').optional(),
    tls: TlsSchema.optional(),
  })
  .superRefine((oauth2, ctx) => {
    if (oauth2.introspectionEndpoint !== undefined && oauth2.testUrl !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['testUrl'],
        message: `must not be set with introspectionEndpoint: testSecret checks a new access token with one of them, got ${show(oauth2.testUrl)}`,
      });
    }
    const access = oauth2.accessTokenLifetimeSeconds;
    const accessOk =
      Number.isInteger(access) &&
      access >= MIN_ACCESS_TOKEN_LIFETIME_SECONDS &&
      access <= MAX_ACCESS_TOKEN_LIFETIME_SECONDS;
    if (!accessOk) return; // reported on the field
    const refresh = oauth2.refreshTokenLifetimeSeconds;
    if (Number.isSafeInteger(refresh) && refresh >= 1 && refresh <= access) {
      ctx.addIssue({
        code: 'custom',
        path: ['refreshTokenLifetimeSeconds'],
        message: `must be longer than accessTokenLifetimeSeconds (${access}): each refresh spends the refresh token to get the next access token, so it must outlive the access token, got ${show(refresh)}`,
      });
    }
    const interval = oauth2.refreshIntervalSeconds;
    if (interval !== undefined && !(Number.isInteger(interval) && interval > 0 && interval % 60 === 0)) return;
    const problem = refreshIntervalProblem({ accessTokenLifetimeSeconds: access, refreshIntervalSeconds: interval });
    if (problem) ctx.addIssue({ code: 'custom', path: [problem.field], message: problem.message });
  });
type OAuth2File = z.infer<typeof OAuth2Schema>;

/** What {@link checkSecretOAuth2} reads of a parsed secret. */
interface SecretWithOAuth2 {
  readonly provider: string;
  readonly oauth2?: unknown;
}

/** A secret of provider `oauth2-refresh-token` has an `oauth2` block; any other has none. */
export function checkSecretOAuth2(secret: SecretWithOAuth2, ctx: z.RefinementCtx): void {
  if (secret.provider === OAUTH2_PROVIDER && secret.oauth2 === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['oauth2'],
      message: `is required for provider "${OAUTH2_PROVIDER}": it names the token endpoint, the client and the token lifetimes`,
    });
  }
  if (secret.provider !== OAUTH2_PROVIDER && secret.oauth2 !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['oauth2'],
      message: `is only for provider "${OAUTH2_PROVIDER}"; remove it from this ${show(secret.provider)} secret, got ${show(secret.oauth2)}`,
    });
  }
}

/** What {@link checkStageOAuth2} reads of a parsed stage. */
interface StageWithOAuth2 {
  readonly secretNamePrefix: string;
  readonly secrets: readonly { readonly name: string; readonly oauth2?: OAuth2File | undefined }[];
}

/**
 * A client certificate secret lies under the stage's prefix (the rotation function's access to it
 * is granted by name, and stages stay apart by prefix) and is none of the secrets Rotor rotates.
 */
export function checkStageOAuth2(stage: StageWithOAuth2, ctx: z.RefinementCtx): void {
  const rotated = new Map(stage.secrets.map((secret, index) => [`${stage.secretNamePrefix}${secret.name}`, index]));
  stage.secrets.forEach((secret, index) => {
    const name = secret.oauth2?.tls?.clientCertificateSecretName;
    if (name === undefined) return;
    const path = ['secrets', index, 'oauth2', 'tls', 'clientCertificateSecretName'];
    if (!name.startsWith(stage.secretNamePrefix) || name.length === stage.secretNamePrefix.length) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `must start with the stage's secretNamePrefix ${show(stage.secretNamePrefix)}: the rotation function may read no secret of another stage, got ${show(name)}`,
      });
      return;
    }
    const other = rotated.get(name);
    if (other !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `is secrets[${other}], a secret Rotor rotates; the client certificate must be a secret of its own, got ${show(name)}`,
      });
    }
  });
}

/** The validated block with its defaults applied. */
export function toOAuth2Config(file: OAuth2File): RotorOAuth2Config {
  const tls = file.tls;
  return {
    tokenEndpoint: file.tokenEndpoint,
    clientId: file.clientId,
    // Checked above to be one of OAUTH2_CLIENT_AUTHENTICATIONS.
    clientAuthentication:
      (file.clientAuthentication as OAuth2ClientAuthentication | undefined) ?? DEFAULT_OAUTH2_CLIENT_AUTHENTICATION,
    ...(file.scope === undefined ? {} : { scope: file.scope }),
    ...(file.introspectionEndpoint === undefined ? {} : { introspectionEndpoint: file.introspectionEndpoint }),
    ...(file.testUrl === undefined ? {} : { testUrl: file.testUrl }),
    accessTokenLifetimeSeconds: file.accessTokenLifetimeSeconds,
    refreshTokenLifetimeSeconds: file.refreshTokenLifetimeSeconds,
    refreshIntervalSeconds: effectiveRefreshIntervalSeconds(file),
    ...(file.refreshTokenReuseIntervalSeconds === undefined
      ? {}
      : { refreshTokenReuseIntervalSeconds: file.refreshTokenReuseIntervalSeconds }),
    ...(tls === undefined
      ? {}
      : {
          tls: {
            ...(tls.minVersion === undefined ? {} : { minVersion: tls.minVersion }),
            ...(tls.clientCertificateSecretName === undefined
              ? {}
              : { clientCertificateSecretName: tls.clientCertificateSecretName }),
          },
        }),
  };
}
