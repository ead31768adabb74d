import { randomBytes } from 'node:crypto';
import {
  generateManagedToken,
  isWellFormedManagedToken,
  MANAGED_TOKEN_LENGTH,
  MANAGED_TOKEN_PREFIX,
} from '../../../../../lambda/core/providers/managed-token/managed-token-format';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BODY = { start: MANAGED_TOKEN_PREFIX.length, end: MANAGED_TOKEN_PREFIX.length + 43 };

/** A random source that always returns `bytes`. */
function fixedRandom(bytes: Buffer): (size: number) => Buffer {
  return () => Buffer.from(bytes);
}

function decodeBase62(digits: string): bigint {
  return [...digits].reduce((value, digit) => value * 62n + BigInt(BASE62.indexOf(digit)), 0n);
}

describe('Function: generateManagedToken', () => {
  it('asks the random source for 32 bytes: 256 bits of entropy', () => {
    // Prepare
    const random = jest.fn((size: number) => randomBytes(size));

    // Act
    generateManagedToken(random);

    // Assess
    expect(random).toHaveBeenCalledTimes(1);
    expect(random).toHaveBeenCalledWith(32);
  });

  it('carries all 256 random bits in the token body', () => {
    // Prepare
    const entropy = randomBytes(32);

    // Act
    const token = generateManagedToken(fixedRandom(entropy));

    // Assess
    expect(decodeBase62(token.slice(BODY.start, BODY.end))).toBe(BigInt(`0x${entropy.toString('hex')}`));
  });

  it('gives a different body for every single flipped bit of entropy', () => {
    // Prepare
    const base = randomBytes(32);
    const variants = [base];
    for (let bit = 0; bit < 256; bit++) {
      const flipped = Buffer.from(base);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      variants.push(flipped);
    }

    // Act
    const bodies = variants.map((bytes) => generateManagedToken(fixedRandom(bytes)).slice(BODY.start, BODY.end));

    // Assess
    expect(new Set(bodies).size).toBe(257);
  });

  it.each([
    ['all zero', Buffer.alloc(32, 0x00)],
    ['all one', Buffer.alloc(32, 0xff)],
  ])('keeps the fixed length for %s bits', (_label, entropy) => {
    // Act
    const token = generateManagedToken(fixedRandom(entropy));

    // Assess
    expect(token).toHaveLength(MANAGED_TOKEN_LENGTH);
    expect(token).toMatch(/^rtr_[0-9A-Za-z]{49}$/);
    expect(isWellFormedManagedToken(token)).toBe(true);
  });

  it('is rtr_ plus 43 body and 6 checksum characters', () => {
    // Act
    const token = generateManagedToken(fixedRandom(Buffer.alloc(32, 0x11)));

    // Assess
    expect(MANAGED_TOKEN_PREFIX).toBe('rtr_');
    expect(MANAGED_TOKEN_LENGTH).toBe(53);
    expect(token).toBe('rtr_42un7GJ8wIAbHDnhePy2Mqo9gkXYFS7sXjeCn1f4haT2qvsPP');
  });

  it.each([31, 33, 0])('fails when the random source returns %d bytes', (size) => {
    // Act & Assess
    expect(() => generateManagedToken(() => Buffer.alloc(size))).toThrow(
      `random source returned ${size} bytes, expected 32`,
    );
  });

  it('makes many unique, well-formed tokens from the OS random source', () => {
    // Act
    const tokens = Array.from({ length: 5_000 }, () => generateManagedToken());

    // Assess
    expect(new Set(tokens).size).toBe(tokens.length);
    for (const token of tokens) {
      expect(token).toHaveLength(MANAGED_TOKEN_LENGTH);
      expect(token.startsWith('rtr_')).toBe(true);
      expect(isWellFormedManagedToken(token)).toBe(true);
    }
  });
});

describe('Function: isWellFormedManagedToken', () => {
  it('detects every single-character change in a sample of tokens', () => {
    // Prepare
    const tokens = Array.from({ length: 8 }, () => generateManagedToken());
    const alphabet = `${BASE62}_`;
    let changes = 0;
    const accepted: string[] = [];

    // Act
    for (const token of tokens) {
      for (let position = 0; position < token.length; position++) {
        for (const replacement of alphabet) {
          if (replacement === token[position]) continue;
          const changed = token.slice(0, position) + replacement + token.slice(position + 1);
          changes += 1;
          if (isWellFormedManagedToken(changed)) accepted.push(changed);
        }
      }
    }

    // Assess
    expect(changes).toBe(8 * 53 * 62);
    expect(accepted).toEqual([]);
  });

  it.each([
    ['another prefix', (token: string) => `ghp_${token.slice(4)}`],
    ['an upper-case prefix', (token: string) => `RTR_${token.slice(4)}`],
    ['no prefix', (token: string) => token.slice(4)],
    ['a character missing', (token: string) => token.slice(0, -1)],
    ['a character added', (token: string) => `${token}0`],
    ['a character added inside', (token: string) => `${token.slice(0, 20)}0${token.slice(20)}`],
    ['surrounding whitespace', (token: string) => ` ${token}`],
    ['a trailing newline', (token: string) => `${token}\n`],
    ['two characters swapped', (token: string) => `${token.slice(0, 10)}${token[11]}${token[10]}${token.slice(12)}`],
  ])('rejects a token with %s', (_label, mangle) => {
    // Prepare: fixed entropy whose characters 10 and 11 differ, so a swap changes the token
    const token = generateManagedToken(fixedRandom(Buffer.alloc(32, 0x11)));

    // Act
    const mangled = mangle(token);

    // Assess
    expect(mangled).not.toBe(token);
    expect(isWellFormedManagedToken(mangled)).toBe(false);
  });

  it.each([[undefined], [null], [42], [{}], [['rtr_']], [Buffer.from('rtr_')]])(
    'rejects the non-string %p',
    (value) => {
      // Act & Assess
      expect(isWellFormedManagedToken(value)).toBe(false);
    },
  );

  it('rejects an empty string', () => {
    // Act & Assess
    expect(isWellFormedManagedToken('')).toBe(false);
  });
});
