import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { HealthWatch, HealthWatchMarker, HealthWatchStore } from '../core/health/health-watch';
import { LedgerSchema } from '../shared/rotor-constants';

/** The kinds of watch item a secret may have, each written by one party only (so no two writers race on one item). */
const WatchKind = {
  /** Written by the rotation-events function on Secrets Manager's events. */
  change: 'change',
  /** Written by the health check: `failing`, or `recovered` until a time. */
  health: 'failing',
  /** Written by the health check: when the credential expires on its own. */
  expiry: 'expiry',
} as const;

// A failing secret's item is written again at each failing check, so it outlives one only by a day.
const FAILING_MEMORY_SECONDS = 24 * 3600;
// Items outlive the time they describe a little: TTL deletion is lazy and reads check times anyway.
const AFTERLIFE_SECONDS = 3600;

/**
 * The health check's watch list in the ledger: one partition (`HEALTH#WATCH`), sort key
 * `<secret name>#<kind>`, each item with a TTL. A run reads it with one consistent Query (its size
 * is the number of secrets watched, failing or with an expiring credential, not the stage's);
 * Secrets Manager names never hold `#`.
 */
export class DynamoDbHealthWatch implements HealthWatchStore, HealthWatchMarker {
  private readonly documents: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {
    this.documents = DynamoDBDocumentClient.from(client);
  }

  async list(): Promise<Map<string, HealthWatch>> {
    const watches = new Map<string, HealthWatch>();
    const now = Math.floor(this.now() / 1000);
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': LedgerSchema.partitionKey },
          ExpressionAttributeValues: { ':pk': LedgerSchema.healthWatchPartition },
          ConsistentRead: true,
          ...(start === undefined ? {} : { ExclusiveStartKey: start }),
        }),
      );
      for (const item of page.Items ?? []) {
        const expiresAt = item[LedgerSchema.ttlAttribute] as unknown;
        if (typeof expiresAt === 'number' && expiresAt <= now) continue;
        const key = String(item[LedgerSchema.sortKey]);
        const split = key.lastIndexOf('#');
        if (split < 1) continue;
        const name = key.slice(0, split);
        const watch = { ...watches.get(name) } as { -readonly [K in keyof HealthWatch]: HealthWatch[K] };
        switch (key.slice(split + 1)) {
          case WatchKind.change:
            if (typeof item.watchUntil === 'number') watch.changedUntil = item.watchUntil;
            break;
          case WatchKind.health:
            if (item.state === 'failing') watch.failing = true;
            if (item.state === 'recovered' && typeof item.watchUntil === 'number')
              watch.recoveredUntil = item.watchUntil;
            break;
          case WatchKind.expiry:
            if (typeof item.credentialExpiresAt === 'number') watch.credentialExpiresAt = item.credentialExpiresAt;
            break;
        }
        watches.set(name, watch);
      }
      start = page.LastEvaluatedKey;
    } while (start !== undefined);
    return watches;
  }

  /**
   * Watch the secret until `untilSeconds`, unless a later watch is already held: a conditional
   * update, so that events delivered late, twice, or out of order never shorten a watch.
   */
  async markChanged(secretName: string, untilSeconds: number, cause: string): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key(secretName, WatchKind.change),
          UpdateExpression: 'SET watchUntil = :until, #cause = :cause, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(watchUntil) OR watchUntil < :until',
          ExpressionAttributeNames: { '#cause': 'cause', '#ttl': LedgerSchema.ttlAttribute },
          ExpressionAttributeValues: {
            ':until': untilSeconds,
            ':cause': cause,
            ':ttl': untilSeconds + AFTERLIFE_SECONDS,
          },
        }),
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') return;
      throw error;
    }
  }

  recordFailing(secretName: string, nowSeconds: number): Promise<void> {
    return this.put(secretName, WatchKind.health, {
      state: 'failing',
      failedAt: nowSeconds,
      [LedgerSchema.ttlAttribute]: nowSeconds + FAILING_MEMORY_SECONDS,
    });
  }

  recordRecovered(secretName: string, untilSeconds: number): Promise<void> {
    return this.put(secretName, WatchKind.health, {
      state: 'recovered',
      watchUntil: untilSeconds,
      [LedgerSchema.ttlAttribute]: untilSeconds + AFTERLIFE_SECONDS,
    });
  }

  recordCredentialExpiry(secretName: string, expiresAtSeconds: number): Promise<void> {
    return this.put(secretName, WatchKind.expiry, {
      credentialExpiresAt: expiresAtSeconds,
      [LedgerSchema.ttlAttribute]: expiresAtSeconds + FAILING_MEMORY_SECONDS,
    });
  }

  private async put(secretName: string, kind: string, attributes: Record<string, unknown>): Promise<void> {
    await this.documents.send(
      new PutCommand({ TableName: this.tableName, Item: { ...this.key(secretName, kind), ...attributes } }),
    );
  }

  private key(secretName: string, kind: string): Record<string, string> {
    return {
      [LedgerSchema.partitionKey]: LedgerSchema.healthWatchPartition,
      [LedgerSchema.sortKey]: `${secretName}#${kind}`,
    };
  }
}
