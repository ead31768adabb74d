import { createHash } from 'node:crypto';

/** Most shards a stage may have: each is one resource of the stage's own template, next to ~60 fixed ones. */
export const MAX_SHARDS = 400;

/**
 * The shard, from 0 to `shardCount - 1`, that holds the secret named `nameInStage`: the first four
 * bytes of the SHA-256 of the name, modulo the shard count. It depends on nothing but the name and
 * the count, so adding or removing a secret never moves another one, and every synth of the same
 * config puts each secret in the same shard (a secret that moved would be deleted from one nested
 * stack and created in another, which its retained name forbids). The stack places each secret with
 * it, and the alarm groups hash names the same way (alarmGroupOf).
 */
export function shardOf(nameInStage: string, shardCount: number): number {
  if (!Number.isInteger(shardCount) || shardCount < 1 || shardCount > MAX_SHARDS) {
    throw new Error(`shardCount must be a whole number from 1 to ${MAX_SHARDS}, got ${shardCount}`);
  }
  return createHash('sha256').update(nameInStage, 'utf8').digest().readUInt32BE(0) % shardCount;
}
