import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Format of the tokens Rotor issues itself: `rtr_` + 43 base62 characters carrying 256 bits
 * from the OS CSPRNG + 6 base62 characters of CRC32 over everything before them.
 *
 * The prefix lets secret scanners find leaked tokens; the checksum lets the verifier and
 * scanners reject typos and garbage without a lookup. The checksum is not a MAC: it proves
 * nothing about who made the token.
 */
export const MANAGED_TOKEN_PREFIX = 'rtr_';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ENTROPY_BYTES = 32;
/** Smallest n with 62^n >= 2^256. */
const BODY_LENGTH = 43;
/** Smallest n with 62^n >= 2^32. */
const CHECKSUM_LENGTH = 6;
/** Total length of a managed token. */
export const MANAGED_TOKEN_LENGTH = MANAGED_TOKEN_PREFIX.length + BODY_LENGTH + CHECKSUM_LENGTH;
const SHAPE = new RegExp(`^${MANAGED_TOKEN_PREFIX}[0-9A-Za-z]{${BODY_LENGTH + CHECKSUM_LENGTH}}$`);

/** Returns a new managed token. `random` is injectable for tests only. */
export function generateManagedToken(random: (size: number) => Buffer = randomBytes): string {
  const entropy = random(ENTROPY_BYTES);
  if (entropy.length !== ENTROPY_BYTES)
    throw new Error(`random source returned ${entropy.length} bytes, expected ${ENTROPY_BYTES}`);
  const head = MANAGED_TOKEN_PREFIX + toBase62(BigInt(`0x${entropy.toString('hex')}`), BODY_LENGTH);
  return head + checksumOf(head);
}

/** True when `candidate` has the managed-token shape and a matching checksum. Cheap: no I/O. */
export function isWellFormedManagedToken(candidate: unknown): candidate is string {
  if (typeof candidate !== 'string' || candidate.length !== MANAGED_TOKEN_LENGTH || !SHAPE.test(candidate))
    return false;
  const head = candidate.slice(0, -CHECKSUM_LENGTH);
  return candidate.slice(-CHECKSUM_LENGTH) === checksumOf(head);
}

function checksumOf(head: string): string {
  return toBase62(BigInt(crc32(head)), CHECKSUM_LENGTH);
}

function toBase62(value: bigint, width: number): string {
  let digits = '';
  let rest = value;
  while (rest > 0n) {
    digits = BASE62[Number(rest % 62n)]! + digits;
    rest /= 62n;
  }
  return digits.padStart(width, '0');
}
