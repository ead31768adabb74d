import { VersionValueCache } from '../../../lambda/adapters/version-value-cache';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123';
const OTHER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/other-XyZ789';

/** A clock the test moves by hand. */
function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return { now: () => time, advance: (ms) => (time += ms) };
}

describe('Class: VersionValueCache', () => {
  it('returns what was stored for a secret and version, and nothing for others', () => {
    // Prepare
    const cache = new VersionValueCache();

    // Act
    cache.set(ARN, 'v1', 'value-1');

    // Assess
    expect(cache.get(ARN, 'v1')).toBe('value-1');
    expect(cache.get(ARN, 'v2')).toBeUndefined();
    expect(cache.get(OTHER_ARN, 'v1')).toBeUndefined();
  });

  it('keeps the same version id of two secrets apart', () => {
    // Prepare
    const cache = new VersionValueCache();

    // Act
    cache.set(ARN, 'v1', 'first');
    cache.set(OTHER_ARN, 'v1', 'second');

    // Assess
    expect(cache.get(ARN, 'v1')).toBe('first');
    expect(cache.get(OTHER_ARN, 'v1')).toBe('second');
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    // Prepare
    const cache = new VersionValueCache(3);
    cache.set(ARN, 'a', 'A');
    cache.set(ARN, 'b', 'B');
    cache.set(ARN, 'c', 'C');
    cache.get(ARN, 'a');

    // Act
    cache.set(ARN, 'd', 'D');

    // Assess: 'b' was used least recently; 'a' was read after it
    expect(cache.get(ARN, 'b')).toBeUndefined();
    expect(cache.get(ARN, 'a')).toBe('A');
    expect(cache.get(ARN, 'c')).toBe('C');
    expect(cache.get(ARN, 'd')).toBe('D');
  });

  it('counts storing a key again as a use, without growing', () => {
    // Prepare
    const cache = new VersionValueCache(2);
    cache.set(ARN, 'a', 'A');
    cache.set(ARN, 'b', 'B');
    cache.set(ARN, 'a', 'A');

    // Act
    cache.set(ARN, 'c', 'C');

    // Assess
    expect(cache.get(ARN, 'a')).toBe('A');
    expect(cache.get(ARN, 'b')).toBeUndefined();
    expect(cache.get(ARN, 'c')).toBe('C');
  });

  it('holds 32 entries by default', () => {
    // Prepare
    const cache = new VersionValueCache();

    // Act
    for (let index = 0; index <= 32; index++) cache.set(ARN, `v${index}`, `value-${index}`);

    // Assess
    expect(cache.get(ARN, 'v0')).toBeUndefined();
    expect(cache.get(ARN, 'v1')).toBe('value-1');
    expect(cache.get(ARN, 'v32')).toBe('value-32');
  });

  it('forgets an entry older than maxAgeMs', () => {
    // Prepare
    const clock = manualClock();
    const cache = new VersionValueCache(32, 1_000, clock.now);
    cache.set(ARN, 'v1', 'value-1');

    // Act
    clock.advance(1_000);
    const atMaxAge = cache.get(ARN, 'v1');
    clock.advance(1);
    const pastMaxAge = cache.get(ARN, 'v1');
    clock.advance(-10_000);
    const afterwards = cache.get(ARN, 'v1');

    // Assess: once expired the entry is gone, even if the clock went back
    expect(atMaxAge).toBe('value-1');
    expect(pastMaxAge).toBeUndefined();
    expect(afterwards).toBeUndefined();
  });

  it('measures age from when the value was stored, not from when it was last read', () => {
    // Prepare
    const clock = manualClock();
    const cache = new VersionValueCache(32, 1_000, clock.now);
    cache.set(ARN, 'v1', 'value-1');
    clock.advance(600);
    cache.get(ARN, 'v1');

    // Act
    clock.advance(600);

    // Assess
    expect(cache.get(ARN, 'v1')).toBeUndefined();
  });

  it('expires entries after five minutes by default', () => {
    // Prepare
    const clock = manualClock();
    const cache = new VersionValueCache(undefined, undefined, clock.now);
    cache.set(ARN, 'v1', 'value-1');

    // Act
    clock.advance(5 * 60_000);
    const atFiveMinutes = cache.get(ARN, 'v1');
    clock.advance(1);

    // Assess
    expect(atFiveMinutes).toBe('value-1');
    expect(cache.get(ARN, 'v1')).toBeUndefined();
  });

  it('forgets everything on clear', () => {
    // Prepare
    const cache = new VersionValueCache();
    cache.set(ARN, 'v1', 'value-1');

    // Act
    cache.clear();

    // Assess
    expect(cache.get(ARN, 'v1')).toBeUndefined();
  });
});
