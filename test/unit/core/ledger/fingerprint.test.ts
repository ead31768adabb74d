import { createHmac } from 'node:crypto';
import { FINGERPRINT_LENGTH, Fingerprinter, fingerprintPrefix } from '../../../../lambda/core/ledger/fingerprint';
import { PEPPER, tokenNumber } from '../../helpers/ledger-harness';

describe('Class: Fingerprinter', () => {
  it('answers HMAC-SHA256 of the credential under the pepper, as 64 lower-case hex digits', () => {
    // Prepare
    const token = tokenNumber(1);

    // Act
    const fingerprint = new Fingerprinter(PEPPER).of(token);

    // Assess
    expect(fingerprint).toBe(createHmac('sha256', PEPPER).update(token, 'utf8').digest('hex'));
    expect(fingerprint).toMatch(new RegExp(`^[0-9a-f]{${FINGERPRINT_LENGTH}}$`));
  });

  it('gives different fingerprints under different peppers, and for different credentials', () => {
    // Prepare
    const [one, other] = [new Fingerprinter(Buffer.alloc(32, 1)), new Fingerprinter(Buffer.alloc(32, 2))];

    // Act
    const fingerprints = new Set([one.of(tokenNumber(1)), other.of(tokenNumber(1)), one.of(tokenNumber(2))]);

    // Assess
    expect(fingerprints.size).toBe(3);
  });

  it('keeps its own copy of the pepper', () => {
    // Prepare
    const pepper = Buffer.alloc(32, 7);
    const fingerprinter = new Fingerprinter(pepper);
    const before = fingerprinter.of(tokenNumber(1));

    // Act
    pepper.fill(0);

    // Assess
    expect(fingerprinter.of(tokenNumber(1))).toBe(before);
  });

  it('accepts a pepper of exactly 32 bytes', () => {
    // Act
    const fingerprinter = new Fingerprinter(Buffer.alloc(32, 7));

    // Assess
    expect(fingerprinter.of('x')).toHaveLength(64);
  });

  it('fails on a pepper shorter than 32 bytes, giving its length and not its value', () => {
    // Act
    const attempt = () => new Fingerprinter(Buffer.from('s'.repeat(31)));

    // Assess
    expect(attempt).toThrow(new Error('fingerprint pepper must be at least 32 bytes, got 31'));
  });
});

describe('Function: fingerprintPrefix', () => {
  it('keeps the first 12 hex digits', () => {
    // Act
    const prefix = fingerprintPrefix('0123456789abcdef'.repeat(4));

    // Assess
    expect(prefix).toBe('0123456789ab');
  });
});
