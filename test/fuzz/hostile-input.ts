/**
 * A deterministic generator of malformed and hostile inputs: the same seed gives the same cases
 * on every run, so a failure names a case that can be replayed.
 */

/** mulberry32: small, fast, and good enough to spread cases; not for anything secret. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(below: number): number {
    return Math.floor(this.next() * below);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '\u0000',
  'null',
  'undefined',
  'true',
  '-1',
  '1e309',
  'NaN',
  '__proto__',
  'constructor',
  '../../etc/passwd',
  'rotor/production/deploy-token',
  'rotor-internal/development/fingerprint-pepper',
  'arn:aws:secretsmanager:us-east-1:000000000000:secret:rotor/production/x-AbCdEf',
  'arn:aws:secretsmanager:us-east-1:000000000000:secret:rotor/development/x',
  'rotor/development/',
  'rotor/development/../production/x',
  'http://169.254.169.254/latest/meta-data/',
  'https://[::ffff:127.0.0.1]/token',
  'https://2130706433/token',
  '${jndi:ldap://x}',
  '<script>alert(1)</script>',
  "'; DROP TABLE x; --",
  '\r\nX-Injected: 1',
  '💥'.repeat(40),
  'A'.repeat(2049),
  'rtr_' + 'A'.repeat(49),
  'createSecret',
  'AWSCURRENT',
  'Bearer ',
  'Bearer rtr_',
  '{"provider":"managed-token"}',
];

/** A hostile JSON-able value of bounded depth. */
export function hostileValue(random: SeededRandom, depth = 0): unknown {
  const kind = random.int(depth >= 2 ? 6 : 9);
  switch (kind) {
    case 0:
      return random.pick(HOSTILE_STRINGS);
    case 1:
      return random.pick([0, -1, 1.5, Number.MAX_SAFE_INTEGER, -Number.MAX_VALUE, 1e21]);
    case 2:
      return random.pick([true, false, null]);
    case 3:
      return random.pick(HOSTILE_STRINGS) + random.pick(HOSTILE_STRINGS);
    case 4:
      return String.fromCharCode(...Array.from({ length: 1 + random.int(24) }, () => random.int(0xffff)));
    case 5:
      return random.pick([[], {}, '', 'x']);
    case 6:
      return Array.from({ length: random.int(4) }, () => hostileValue(random, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = random.int(4); i > 0; i -= 1) object[random.pick(HOSTILE_STRINGS)] = hostileValue(random, depth + 1);
      return object;
    }
  }
}

/**
 * `base` with one to three mutations: a field dropped, replaced by a hostile value, or added; or
 * the whole event replaced by a hostile value.
 */
export function mutate(random: SeededRandom, base: Record<string, unknown>): unknown {
  if (random.int(8) === 0) return hostileValue(random);
  const event: Record<string, unknown> = structuredClone(base);
  const keys = Object.keys(event);
  for (let n = 1 + random.int(3); n > 0; n -= 1) {
    const key = random.pick(keys);
    switch (random.int(3)) {
      case 0:
        delete event[key];
        break;
      case 1:
        event[key] = hostileValue(random);
        break;
      default:
        event[random.pick(HOSTILE_STRINGS)] = hostileValue(random);
    }
  }
  return event;
}
