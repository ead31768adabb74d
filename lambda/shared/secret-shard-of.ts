import { createHash } from 'node:crypto';

/** Most shards a stage may have: each is one resource of the stage's own template, next to ~60 fixed ones. */
export const MAX_SHARDS = 400;

/**
 * The shard, from 0 to `shardCount - 1`, that holds the secret named `nameInStage`: the first four
 * bytes of the SHA-256 of the name, modulo the shard count. It depends on nothing but the name and
 * the count, so adding or removing a secret never moves another one, and every synth of the same
 * config puts each secret in the same shard (a secret that moved would be deleted from one nested
 * stack and created in another, which its retained name forbids). The stack places each secret with
 * it and the functions tag each secret's metrics with it, so both must use this one implementation.
 */
export function shardOf(nameInStage: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > MAX_SHARDS) {
    throw new Error(`shardCount must be a whole number from 1 to ${MAX_SHARDS}, got ${shardCount}`);
  }
  return createHash('sha256').update(nameInStage, 'utf8').digest().readUInt32BE(0) % shardCount;
}

/**
 * The value of the `Shard` dimension on the metrics of the secret whose full name is `secretName`
 * in a stage of `shardCount` shards whose names start with `secretNamePrefix`: its shard as a
 * decimal string (`"7"`). Undefined when the stage is not sharded or the name is outside the stage,
 * so that such metrics keep `SecretName` as their only dimension.
 */
export function shardDimensionValue(
  secretName: string,
  secretNamePrefix: string | undefined,
  shardCount: number | undefined,
): string | undefined {
  if (shardCount === undefined || secretNamePrefix === undefined || !secretName.startsWith(secretNamePrefix)) {
    return undefined;
  }
  return String(shardOf(secretName.slice(secretNamePrefix.length), shardCount));
}
