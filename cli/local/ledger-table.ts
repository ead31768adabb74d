import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { LedgerSchema } from '../../lambda/shared/rotor-constants';

/** How long {@link ensureLedgerTable} waits for the table to become ACTIVE. */
const ACTIVE_TIMEOUT_SECONDS = 60;

/**
 * The ledger table as the stack defines it: on-demand, string `pk`/`sk`, and the sparse grace
 * index (string `graceIndex`, numeric `graceEndsAt`) projecting every attribute, so that the
 * retirement sweep needs no second read. TTL is set separately (CreateTable cannot).
 */
export function ledgerTableDefinition(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey, graceIndex } = LedgerSchema;
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: partitionKey, AttributeType: 'S' },
      { AttributeName: sortKey, AttributeType: 'S' },
      { AttributeName: graceIndex.partitionKey, AttributeType: 'S' },
      { AttributeName: graceIndex.sortKey, AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: graceIndex.name,
        KeySchema: [
          { AttributeName: graceIndex.partitionKey, KeyType: 'HASH' },
          { AttributeName: graceIndex.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/**
 * Creates the ledger table in the local emulator as the stack does in an account (see
 * {@link ledgerTableDefinition}) and enables TTL on `LedgerSchema.ttlAttribute`. Safe to run
 * again: an existing table is kept (with its items) once its keys and grace index are checked.
 * Returns when the table is ACTIVE.
 * @throws when a table of that name exists with another key schema or grace index, or TTL on another attribute.
 */
export async function ensureLedgerTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(ledgerTableDefinition(tableName)));
  } catch (error) {
    // The table exists (or is being created by a concurrent caller): check it below.
    if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
  }
  await waitUntilTableExists(
    { client, minDelay: 1, maxDelay: 5, maxWaitTime: ACTIVE_TIMEOUT_SECONDS },
    { TableName: tableName },
  );
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  assertLedgerShape(tableName, table);
  await ensureTimeToLive(client, tableName);
}

function assertLedgerShape(tableName: string, table: TableDescription | undefined): void {
  const expected = ledgerTableDefinition(tableName);
  const keys = (schema: readonly { AttributeName?: string; KeyType?: string }[] | undefined) =>
    (schema ?? []).map((key) => `${key.AttributeName}:${key.KeyType}`).join(',');
  const index = table?.GlobalSecondaryIndexes?.find(
    (candidate) => candidate.IndexName === LedgerSchema.graceIndex.name,
  );
  const expectedIndex = expected.GlobalSecondaryIndexes![0]!;
  const problems = [
    keys(table?.KeySchema) === keys(expected.KeySchema) ? undefined : `keys ${keys(table?.KeySchema)}`,
    index === undefined ? `no index ${LedgerSchema.graceIndex.name}` : undefined,
    index !== undefined && keys(index.KeySchema) !== keys(expectedIndex.KeySchema)
      ? `index keys ${keys(index.KeySchema)}`
      : undefined,
    index !== undefined && index.Projection?.ProjectionType !== 'ALL'
      ? `index projection ${index.Projection?.ProjectionType}`
      : undefined,
  ].filter((problem): problem is string => problem !== undefined);
  if (problems.length > 0) {
    throw new Error(`table ${tableName} exists but is not a Rotor ledger: ${problems.join('; ')}`);
  }
}

async function ensureTimeToLive(client: DynamoDBClient, tableName: string): Promise<void> {
  const { TimeToLiveDescription: ttl } = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  const status = ttl?.TimeToLiveStatus;
  if (status === 'ENABLED' || status === 'ENABLING') {
    if (ttl?.AttributeName === LedgerSchema.ttlAttribute) return;
    throw new Error(`table ${tableName} has TTL on ${ttl?.AttributeName}, expected ${LedgerSchema.ttlAttribute}`);
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: LedgerSchema.ttlAttribute, Enabled: true },
    }),
  );
}
