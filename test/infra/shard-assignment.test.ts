import { createHash } from 'node:crypto';
import { assignShards, MAX_SHARDS, shardId, shardOf } from '../../lib/shard-assignment';
import { fleetSecretName } from './infra-test-app';

describe('shardOf', () => {
  const names = Array.from({ length: 2000 }, (_, index) => fleetSecretName(index));

  it('puts a secret in the same shard whatever other secrets the stage has', () => {
    // GIVEN the shards of 2,000 secrets
    const before = new Map(names.map((name) => [name, shardOf(name, 32)]));
    // WHEN half of them are removed and 500 others added
    const after = [...names.filter((_, index) => index % 2 === 0), ...names.map((name) => `${name}-new`).slice(0, 500)];
    const shards = assignShards(after, 32, (name) => name);
    // THEN every secret that stayed is in the shard it was in
    shards.forEach((members, shard) => {
      for (const name of members) if (before.has(name)) expect(before.get(name)).toBe(shard);
    });
  });

  it('spreads secrets evenly enough that no shard holds twice the average', () => {
    // WHEN 2,000 secrets are assigned to 32 shards
    const sizes = assignShards(names, 32, (name) => name).map((members) => members.length);
    // THEN each shard is within a factor of two of the average (62.5)
    expect(Math.max(...sizes)).toBeLessThan(125);
    expect(Math.min(...sizes)).toBeGreaterThan(31);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2000);
  });

  it('is a pure function of the name and the count: SHA-256, first four bytes, modulo', () => {
    const expected = Number.parseInt(createHash('sha256').update('deploy-token').digest('hex').slice(0, 8), 16);
    expect(shardOf('deploy-token', 7)).toBe(expected % 7);
    expect(shardOf('deploy-token', 1)).toBe(0);
  });

  it('fails on a shard count outside 1 to MAX_SHARDS', () => {
    expect(() => shardOf('a', 0)).toThrow(/shardCount must be a whole number from 1 to 400, got 0/);
    expect(() => shardOf('a', MAX_SHARDS + 1)).toThrow(/got 401/);
    expect(() => shardOf('a', 2.5)).toThrow(/got 2.5/);
  });

  it('names shards so that they sort in order', () => {
    expect([shardId(0), shardId(7), shardId(123)]).toEqual(['Shard000', 'Shard007', 'Shard123']);
  });
});
