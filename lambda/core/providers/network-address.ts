/**
 * What kind of network an IP address belongs to, so that provider calls can be kept off loopback,
 * link-local (the instance metadata service at 169.254.169.254 among them) and private networks.
 * Pure computation: no DNS, no sockets.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';

/** `public`: routable on the internet; every other class is refused unless the stage allows private endpoints. */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'unspecified'
  | 'private'
  | 'shared'
  | 'link-local'
  | 'multicast'
  | 'reserved'
  | 'not an IP address';

/** What each class is called in an error message. */
export const ADDRESS_CLASS_DESCRIPTION: Readonly<Record<AddressClass, string>> = {
  public: 'a public address',
  loopback: 'a loopback address',
  unspecified: 'the unspecified address',
  private: 'a private-network address',
  shared: 'a carrier-grade NAT address (100.64.0.0/10)',
  'link-local': 'a link-local address (the instance metadata service among them)',
  multicast: 'a multicast or broadcast address',
  reserved: 'a reserved address',
  'not an IP address': 'not an IP address',
};

type Range = readonly [address: string, prefix: number, kind: Exclude<AddressClass, 'public' | 'not an IP address'>];

// RFC 6890 and the IANA special-purpose registries; the first match wins.
const IPV4_RANGES: readonly Range[] = [
  ['0.0.0.0', 32, 'unspecified'],
  ['0.0.0.0', 8, 'reserved'], // "this network"
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'], // IETF protocol assignments
  ['192.0.2.0', 24, 'reserved'], // documentation
  ['192.88.99.0', 24, 'reserved'], // 6to4 relay anycast
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'], // benchmarking
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['255.255.255.255', 32, 'multicast'], // limited broadcast
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const IPV6_RANGES: readonly Range[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'reserved'], // discard-only
  ['2001:db8::', 32, 'reserved'], // documentation
  ['fc00::', 7, 'private'], // unique local
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'private'], // deprecated site-local
  ['ff00::', 8, 'multicast'],
];

function blockListsOf(ranges: readonly Range[], family: 'ipv4' | 'ipv6') {
  return ranges.map(([address, prefix, kind]) => {
    const list = new BlockList();
    list.addSubnet(address, prefix, family);
    return { list, kind };
  });
}

const IPV4 = blockListsOf(IPV4_RANGES, 'ipv4');
const IPV6 = blockListsOf(IPV6_RANGES, 'ipv6');

/**
 * The IPv4 address an IPv6 address carries, when it is one that reaches an IPv4 host: IPv4-mapped
 * (`::ffff:127.0.0.1`), IPv4-compatible (`::127.0.0.1`, deprecated) or NAT64 (`64:ff9b::/96`).
 */
function embeddedIpv4(address: string): string | undefined {
  const groups = expandIpv6(address);
  if (groups === undefined) return undefined;
  const high = groups.slice(0, 6);
  const mapped = high.every((group, index) => (index === 5 ? group === 0xffff : group === 0));
  const compatible = high.every((group) => group === 0) && (groups[6] !== 0 || (groups[7] ?? 0) > 1);
  const nat64 = groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((group) => group === 0);
  if (!mapped && !compatible && !nat64) return undefined;
  const [a = 0, b = 0] = groups.slice(6);
  return `${a >> 8}.${a & 0xff}.${b >> 8}.${b & 0xff}`;
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part included), or undefined. */
function expandIpv6(address: string): number[] | undefined {
  let text = address.toLowerCase();
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const octets = dotted[2]!.split('.').map(Number);
    text = `${dotted[1]}${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  const fill = halves.length === 2 ? 8 - head.length - tail.length : 0;
  const groups = [...head, ...Array<number>(Math.max(fill, 0)).fill(0), ...tail];
  return groups.length === 8 && groups.every((group) => Number.isInteger(group) && group >= 0 && group <= 0xffff)
    ? groups
    : undefined;
}

/**
 * The class of an IP address as a socket reports it (`127.0.0.1`, `::ffff:127.0.0.1`, `fe80::1%eth0`).
 * Only the canonical dotted and colon forms are IP addresses here: a URL parser has already turned
 * `2130706433`, `0x7f.1` or `0177.0.0.1` into `127.0.0.1`, and a host name is resolved before it is
 * classified.
 */
export function addressClassOf(address: string): AddressClass {
  // A zone index (`fe80::1%eth0`) names an interface, not part of the address.
  const bare = address.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  if (isIPv4(bare)) return classIn(IPV4, bare, 'ipv4');
  if (!isIPv6(bare)) return 'not an IP address';
  const carried = embeddedIpv4(bare);
  if (carried !== undefined) return classIn(IPV4, carried, 'ipv4');
  return classIn(IPV6, bare, 'ipv6');
}

function classIn(ranges: ReturnType<typeof blockListsOf>, address: string, family: 'ipv4' | 'ipv6'): AddressClass {
  for (const { list, kind } of ranges) if (list.check(address, family)) return kind;
  return 'public';
}
