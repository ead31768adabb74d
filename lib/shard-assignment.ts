import { MAX_SHARDS, shardOf } from '../lambda/shared/secret-shard-of';

// One implementation for the stack and the functions, which tag each secret's metrics with its shard.
export { MAX_SHARDS, shardOf };

/** Construct id of shard `index`, zero-padded so that the shards sort in order: `Shard007`. */
export function shardId(index: number): string {
  return `Shard${String(index).padStart(3, '0')}`;
}

/** `items` grouped by the shard of `nameOf(item)`, one list per shard (empty lists included), each in input order. */
export function assignShards<T>(items: readonly T[], shardCount: number, nameOf: (item: T) => string): T[][] {
  const shards: T[][] = Array.from({ length: shardCount }, () => []);
  for (const item of items) shards[shardOf(nameOf(item), shardCount)]!.push(item);
  return shards;
}
