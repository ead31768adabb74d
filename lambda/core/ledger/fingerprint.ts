import { createHmac } from 'node:crypto';

/** Length of a fingerprint: HMAC-SHA256 as lower-case hex. */
export const FINGERPRINT_LENGTH = 64;

/** Minimum pepper size: the HMAC key must carry at least 256 bits. */
export const MIN_PEPPER_BYTES = 32;

/**
 * Turns a credential into the only form the ledger stores: HMAC-SHA256 under a pepper that
 * lives in its own secret. Without the pepper a stolen ledger cannot be matched against
 * guessed or leaked tokens.
 */
export class Fingerprinter {
  private readonly pepper: Buffer;

  constructor(pepper: Buffer) {
    if (pepper.length < MIN_PEPPER_BYTES) {
      throw new Error(`fingerprint pepper must be at least ${MIN_PEPPER_BYTES} bytes, got ${pepper.length}`);
    }
    this.pepper = Buffer.from(pepper);
  }

  of(credential: string): string {
    return createHmac('sha256', this.pepper).update(credential, 'utf8').digest('hex');
  }
}

/** What the audit trail shows of a fingerprint. */
export function fingerprintPrefix(fingerprint: string): string {
  return fingerprint.slice(0, 12);
}
