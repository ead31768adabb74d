import {
  addressRefusal,
  destinationRefusal,
  endpointPolicyFromEnvironment,
  httpsOriginOf,
  parseProviderOrigins,
  type EndpointPolicy,
} from '../../../../lambda/core/providers/endpoint-policy';
import { RotorSettingsError } from '../../../../lambda/shared/rotor-settings';

const pinned = (allowPrivateAddresses = false, ...origins: string[]): EndpointPolicy => ({
  origins: new Set(origins.length === 0 ? ['https://idp.example.com', 'https://git.example.com:8443'] : origins),
  allowPrivateAddresses,
});

describe('Function: parseProviderOrigins', () => {
  it('reads comma-separated origins, normalised as URL.origin writes them', () => {
    expect(
      parseProviderOrigins(' https://IDP.example.com , https://git.example.com:8443/,https://a.example:443'),
    ).toEqual(['https://idp.example.com', 'https://git.example.com:8443', 'https://a.example']);
  });

  it('reads nothing as no origin at all', () => {
    expect(parseProviderOrigins('')).toEqual([]);
    expect(parseProviderOrigins(' , ')).toEqual([]);
  });

  it.each([
    ['http://idp.example.com', 1],
    ['https://idp.example.com/token', 1],
    ['https://idp.example.com,https://user:pw@evil.example', 2],
    ['https://idp.example.com?x=1', 1],
    ['idp.example.com', 1],
  ])('fails on %s, naming the entry but not echoing it', (text, position) => {
    const error = (() => {
      try {
        parseProviderOrigins(text);
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('no error');
    })();
    expect(error).toBeInstanceOf(RotorSettingsError);
    expect(error.message).toBe(
      `ROTOR_PROVIDER_ORIGINS entry ${position} is not an https origin (https://host or https://host:port, nothing after it)`,
    );
  });
});

describe('Function: endpointPolicyFromEnvironment', () => {
  it('pins the origins and refuses private addresses unless ROTOR_ALLOW_PRIVATE_ENDPOINTS is exactly true', () => {
    expect(endpointPolicyFromEnvironment({ ROTOR_PROVIDER_ORIGINS: 'https://idp.example.com' })).toEqual({
      origins: new Set(['https://idp.example.com']),
      allowPrivateAddresses: false,
    });
    expect(endpointPolicyFromEnvironment({ ROTOR_ALLOW_PRIVATE_ENDPOINTS: 'true' })).toEqual({
      origins: new Set(),
      allowPrivateAddresses: true,
    });
    expect(endpointPolicyFromEnvironment({ ROTOR_ALLOW_PRIVATE_ENDPOINTS: 'false' }).allowPrivateAddresses).toBe(false);
  });

  it.each(['TRUE', 'yes', '1', ' true'])('fails on ROTOR_ALLOW_PRIVATE_ENDPOINTS=%j rather than guess', (value) => {
    expect(() => endpointPolicyFromEnvironment({ ROTOR_ALLOW_PRIVATE_ENDPOINTS: value })).toThrow(
      new RotorSettingsError('ROTOR_ALLOW_PRIVATE_ENDPOINTS must be true or false'),
    );
  });
});

describe('Function: destinationRefusal', () => {
  it('allows a pinned origin, whatever the path and query', () => {
    expect(destinationRefusal(new URL('https://idp.example.com/oauth2/token?x=1'), pinned())).toBeUndefined();
    expect(destinationRefusal(new URL('https://IDP.example.com:443/introspect'), pinned())).toBeUndefined();
    expect(destinationRefusal(new URL('https://git.example.com:8443/api/v4'), pinned())).toBeUndefined();
  });

  it.each([
    'https://evil.example.com/token',
    'https://idp.example.com.evil.example/token',
    'https://idp.example.com:8443/token',
    'https://git.example.com/api',
    'https://sub.idp.example.com/token',
  ])('refuses %s: its origin is not pinned', (url) => {
    expect(destinationRefusal(new URL(url), pinned())).toMatch(
      /^origin \S+ is not one of this stage's provider endpoints \(ROTOR_PROVIDER_ORIGINS: https:\/\/idp\.example\.com, https:\/\/git\.example\.com:8443\)/,
    );
  });

  it('refuses everything when no origin is pinned', () => {
    const none: EndpointPolicy = { origins: new Set(), allowPrivateAddresses: false };
    expect(destinationRefusal(new URL('https://idp.example.com/token'), none)).toMatch(
      /\(ROTOR_PROVIDER_ORIGINS: none\)/,
    );
  });

  // Pinned on purpose, so that only the address rule decides.
  it.each([
    ['https://127.0.0.1/token', 'loopback'],
    ['https://2130706433/token', 'loopback'], // decimal
    ['https://0x7f000001/token', 'loopback'], // hex
    ['https://0177.0.0.1/token', 'loopback'], // octal
    ['https://127.1/token', 'loopback'], // short form
    ['https://[::1]/token', 'loopback'],
    ['https://[::ffff:127.0.0.1]/token', 'loopback'],
    ['https://0.0.0.0/token', 'unspecified'],
    ['https://0/token', 'unspecified'],
    ['https://169.254.169.254/latest/meta-data', 'link-local'],
    ['https://[fe80::1]/token', 'link-local'],
    ['https://10.1.2.3/token', 'private-network'],
    ['https://172.20.0.1/token', 'private-network'],
    ['https://192.168.1.1/token', 'private-network'],
    ['https://[fd00::1]/token', 'private-network'],
    ['https://100.64.1.1/token', 'carrier-grade NAT'],
    ['https://224.0.0.1/token', 'multicast'],
    ['https://[ff02::1]/token', 'multicast'],
  ])('refuses the IP literal of %s (%s) before any lookup', (text, kind) => {
    const url = new URL(text);
    const policy = pinned(false, url.origin);
    expect(destinationRefusal(url, policy)).toMatch(
      new RegExp(`is (a|an|the) ${kind}.*ROTOR_ALLOW_PRIVATE_ENDPOINTS is not true`),
    );
    expect(destinationRefusal(url, { ...policy, allowPrivateAddresses: true })).toBeUndefined();
  });

  it('leaves a host name to the resolver and the connected address', () => {
    expect(destinationRefusal(new URL('https://localhost/token'), pinned(false, 'https://localhost'))).toBeUndefined();
  });
});

describe('Function: addressRefusal', () => {
  it('allows a public address, refuses the rest unless private addresses are allowed', () => {
    expect(addressRefusal('93.184.216.34', pinned())).toBeUndefined();
    expect(addressRefusal('::ffff:10.0.0.1', pinned())).toMatch(/is a private-network address/);
    expect(addressRefusal('::ffff:10.0.0.1', pinned(true))).toBeUndefined();
  });
});

describe('Function: httpsOriginOf', () => {
  it('is the origin of an https URL, and undefined for anything else', () => {
    expect(httpsOriginOf('https://Idp.Example.com:443/a?b#c')).toBe('https://idp.example.com');
    expect(httpsOriginOf('http://idp.example.com')).toBeUndefined();
    expect(httpsOriginOf('https://u:p@idp.example.com')).toBeUndefined();
    expect(httpsOriginOf('not a url')).toBeUndefined();
  });
});
