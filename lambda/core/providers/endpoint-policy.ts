/**
 * Where provider calls may go. A secret's document names the URLs its credentials are sent to,
 * and whoever can write a secret's value is not necessarily someone who may read it: the
 * endpoints are therefore pinned at deploy (the origins of the stage's provider configuration)
 * and checked before anything is sent, and the address actually connected to must not be
 * loopback, link-local or private unless the stage allows it (local runs do).
 */
import { isIP } from 'node:net';
import { RotorEnv } from '../../shared/rotor-constants';
import { RotorSettingsError } from '../../shared/rotor-settings';
import { ADDRESS_CLASS_DESCRIPTION, addressClassOf } from './network-address';

/** The destinations one stage's provider calls may reach. */
export interface EndpointPolicy {
  /** Origins (`https://host` or `https://host:port`, as `URL.origin` writes them) provider calls may go to. */
  readonly origins: ReadonlySet<string>;
  /** Whether loopback, link-local, private, shared, multicast and reserved addresses may be connected to. */
  readonly allowPrivateAddresses: boolean;
}

const PROVIDER_ORIGINS_SETTING = RotorEnv.providerOrigins;
const ALLOW_PRIVATE_ENDPOINTS_SETTING = RotorEnv.allowPrivateEndpoints;

/**
 * The origin of an `https:` URL as the policy compares it (scheme, lower-case host, port only when
 * not 443), or undefined when the text is not an `https:` URL with a host and nothing but a path.
 */
export function httpsOriginOf(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.hostname === '' || url.username !== '' || url.password !== '') return undefined;
  return url.origin;
}

/**
 * Parses the comma-separated origins of `ROTOR_PROVIDER_ORIGINS` (empty: no provider call may go
 * anywhere). Each entry must be an origin and nothing more: `https://idp.example.com:8443`.
 * @throws RotorSettingsError naming the position of an entry that is not one (never its text, which could be anything).
 */
export function parseProviderOrigins(text: string): string[] {
  const entries = text
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  return entries.map((entry, index) => {
    const origin = httpsOriginOf(entry);
    if (origin === undefined || !/^https:\/\/[^/?#]+\/?$/i.test(entry)) {
      throw new RotorSettingsError(
        `${PROVIDER_ORIGINS_SETTING} entry ${index + 1} is not an https origin (https://host or https://host:port, nothing after it)`,
      );
    }
    return origin;
  });
}

/**
 * The policy of a function's environment: the origins of `ROTOR_PROVIDER_ORIGINS` (unset: none)
 * and, only when `ROTOR_ALLOW_PRIVATE_ENDPOINTS` is exactly `true`, non-public addresses too.
 * Anything else in either variable fails, rather than silently widening or narrowing what a
 * provider may reach.
 * @throws RotorSettingsError naming the variable.
 */
export function endpointPolicyFromEnvironment(
  env: Readonly<Record<string, string | undefined>> = process.env,
): EndpointPolicy {
  const allow = env[ALLOW_PRIVATE_ENDPOINTS_SETTING];
  if (allow !== undefined && allow !== '' && allow !== 'true' && allow !== 'false') {
    throw new RotorSettingsError(`${ALLOW_PRIVATE_ENDPOINTS_SETTING} must be true or false`);
  }
  return {
    origins: new Set(parseProviderOrigins(env[PROVIDER_ORIGINS_SETTING] ?? '')),
    allowPrivateAddresses: allow === 'true',
  };
}

/** Why `url` (parsed) may not be called under `policy`, checked with no I/O; undefined when it may. */
export function destinationRefusal(url: URL, policy: EndpointPolicy): string | undefined {
  if (!policy.origins.has(url.origin)) {
    const allowed = policy.origins.size === 0 ? 'none' : [...policy.origins].join(', ');
    return (
      `origin ${url.origin} is not one of this stage's provider endpoints (${PROVIDER_ORIGINS_SETTING}: ${allowed}); ` +
      "the endpoints come from the secrets' provider configuration at deploy"
    );
  }
  // An IP literal is connected to without a lookup: its class is known now.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) === 0 ? undefined : addressRefusal(host, policy);
}

/** Why connecting to the IP `address` is refused under `policy`; undefined when it is allowed. */
export function addressRefusal(address: string, policy: EndpointPolicy): string | undefined {
  if (policy.allowPrivateAddresses) return undefined;
  const kind = addressClassOf(address);
  if (kind === 'public') return undefined;
  return `${address} is ${ADDRESS_CLASS_DESCRIPTION[kind]}, and this stage does not allow provider calls to non-public addresses (${ALLOW_PRIVATE_ENDPOINTS_SETTING} is not true)`;
}
