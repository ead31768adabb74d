import * as z from 'zod';
import { show } from './show-value';

/** The stage's functions whose concurrency `reservedConcurrency` may reserve, by their key in the file. */
export const RESERVABLE_FUNCTIONS = [
  'rotation',
  'verifier',
  'retire',
  'healthCheck',
  'rollback',
  'rotationEvents',
] as const;
export type ReservableFunction = (typeof RESERVABLE_FUNCTIONS)[number];

/**
 * Concurrent executions reserved for each of the stage's functions; undefined: none reserved, the
 * function draws on the account's unreserved pool.
 */
export type ReservedConcurrency = Readonly<Partial<Record<ReservableFunction, number>>>;

/**
 * What a stage reserves when its file says nothing: nothing. Lambda keeps 100 executions of the
 * account's quota unreserved, so any reservation fails the deploy on an account whose quota is 100
 * or less, as new accounts' often is (see docs/configuration.md).
 */
export const DEFAULT_RESERVED_CONCURRENCY: ReservedConcurrency = {};

/** Most executions a stage may reserve for one function: Lambda's default account quota. */
export const MAX_RESERVED_CONCURRENCY = 1000;

// A number of executions, or false for none; any other value gets the one message.
const Reservation = z.unknown().superRefine((value, ctx) => {
  if (value === false) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_RESERVED_CONCURRENCY) {
    ctx.addIssue({
      code: 'custom',
      message: `must be a whole number of executions from 1 to ${MAX_RESERVED_CONCURRENCY}, or false for none, got ${show(value)}`,
    });
  }
});

/** `reservedConcurrency` of a stage: per function, a number of executions or `false` for none. */
export const ReservedConcurrencySchema = z.strictObject(
  Object.fromEntries(RESERVABLE_FUNCTIONS.map((key) => [key, Reservation.optional()])) as Record<
    ReservableFunction,
    z.ZodOptional<typeof Reservation>
  >,
);
type ReservedConcurrencyFile = z.infer<typeof ReservedConcurrencySchema>;

/** The file's `reservedConcurrency` over the defaults, with `false` as none. */
export function toReservedConcurrency(file: ReservedConcurrencyFile | undefined): ReservedConcurrency {
  const merged = { ...DEFAULT_RESERVED_CONCURRENCY, ...file };
  return Object.fromEntries(
    Object.entries(merged).filter((entry): entry is [string, number] => typeof entry[1] === 'number'),
  );
}
