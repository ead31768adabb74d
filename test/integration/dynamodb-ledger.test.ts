import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes, randomUUID } from 'node:crypto';
import { ensureLedgerTable } from '../../cli/local/ledger-table';
import { LOCAL_CREDENTIALS } from '../../cli/local/local-clients';
import type { MotoServer } from '../../cli/local/moto-server';
import { workerMoto } from '../support/worker-moto';
import { DynamoDbLedger, LedgerContentionError, type DynamoDbLedgerProps } from '../../lambda/adapters/dynamodb-ledger';
import { NotAFingerprintError } from '../../lambda/adapters/dynamodb-ledger-items';
import { Fingerprinter, fingerprintPrefix } from '../../lambda/core/ledger/fingerprint';
import type { CredentialVersionRef, PendingCredential, Promotion } from '../../lambda/core/ledger/ledger';
import type { JournalClaim } from '../../lambda/core/providers/side-effect-journal';
import { generateManagedToken } from '../../lambda/core/providers/managed-token/managed-token-format';
import { rejectionOf } from '../unit/helpers/rejection';

// DynamoDbLedger against a moto server this file starts, on a table made by ensureLedgerTable.
// Every test uses its own secrets and credentials, so tests share the table without a reset.
// Clocks are fixed (the `now` option and the `now` arguments), so no test waits for time.

const TABLE = 'rotor-test-ledger';
const REGION = 'us-east-1';
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const AUDIT_RETENTION_SECONDS = 400 * 24 * 3600;
const GRACE_MS = 2000;
const REUSE_MEMORY_SECONDS = 3600;
const TOKEN_SHAPE = /rtr_[0-9A-Za-z]{49}/;

let moto: MotoServer;
let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;
const fingerprinter = new Fingerprinter(randomBytes(32));
let secretCount = 0;

beforeAll(async () => {
  moto = await workerMoto();
  client = newClient();
  documents = DynamoDBDocumentClient.from(client);
  await ensureLedgerTable(client, TABLE);
});

afterAll(async () => {
  await moto?.stop();
});

interface TestSecret {
  readonly arn: string;
  readonly name: string;
}

interface TestCredential extends CredentialVersionRef {
  readonly token: string;
}

function newClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: moto.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
}

function newSecret(): TestSecret {
  secretCount += 1;
  const name = `rotor/development/ledger-${secretCount}`;
  return { arn: `arn:aws:secretsmanager:${REGION}:123456789012:secret:${name}-AbCdEf`, name };
}

/** A real managed token, known to the ledger only by its fingerprint. */
function newCredential(): TestCredential {
  const token = generateManagedToken();
  return { token, fingerprint: fingerprinter.of(token), versionId: randomUUID() };
}

function newLedger(options: Partial<DynamoDbLedgerProps> = {}): DynamoDbLedger {
  return new DynamoDbLedger({
    client,
    tableName: TABLE,
    auditRetentionSeconds: AUDIT_RETENTION_SECONDS,
    now: () => T0,
    ...options,
  });
}

const ledger = () => newLedger();

function pendingOf(secret: TestSecret, credential: CredentialVersionRef, now = T0): PendingCredential {
  return {
    secretArn: secret.arn,
    secretName: secret.name,
    provider: 'managed-token',
    versionId: credential.versionId,
    fingerprint: credential.fingerprint,
    now,
    expiresAt: seconds(now) + 24 * 3600,
  };
}

function promotionOf(
  secret: TestSecret,
  current: CredentialVersionRef,
  previous?: CredentialVersionRef,
  now = T0,
): Promotion {
  const graceEndsAt = now + GRACE_MS;
  return {
    secretArn: secret.arn,
    secretName: secret.name,
    provider: 'managed-token',
    current: { versionId: current.versionId, fingerprint: current.fingerprint },
    ...(previous === undefined
      ? {}
      : { previous: { versionId: previous.versionId, fingerprint: previous.fingerprint } }),
    now,
    graceEndsAt,
    previousExpiresAt: seconds(graceEndsAt) + REUSE_MEMORY_SECONDS,
    onReuse: 'revoke-and-rotate',
  };
}

/** One full rotation as the rotation handler records it: pending, then promoted over `previous`. */
async function rotate(
  secret: TestSecret,
  previous?: TestCredential,
  now = T0,
  target = ledger(),
): Promise<TestCredential> {
  const credential = newCredential();
  await target.recordPending(pendingOf(secret, credential, now));
  expect(await target.recordPromotion(promotionOf(secret, credential, previous, now))).toBe('recorded');
  return credential;
}

function seconds(epochMs: number): number {
  return Math.floor(epochMs / 1000);
}

async function rawCredential(fingerprint: string): Promise<Record<string, unknown> | undefined> {
  const result = await documents.send(
    new GetCommand({ TableName: TABLE, Key: { pk: `TOKEN#${fingerprint}`, sk: 'TOKEN' }, ConsistentRead: true }),
  );
  return result.Item;
}

/** Every item under one partition, as stored: compared before and after to show "changes nothing". */
async function partition(pk: string, table = TABLE): Promise<Record<string, unknown>[]> {
  const result = await documents.send(
    new QueryCommand({
      TableName: table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    }),
  );
  return result.Items ?? [];
}

async function snapshot(secret: TestSecret, ...credentials: CredentialVersionRef[]): Promise<unknown[]> {
  return [
    await partition(`SECRET#${secret.arn}`),
    ...(await Promise.all(credentials.map((credential) => partition(`TOKEN#${credential.fingerprint}`)))),
  ];
}

function countOf<T>(values: readonly T[], value: T): number {
  return values.filter((candidate) => candidate === value).length;
}

/**
 * A client whose middleware runs `before` ahead of the n-th call of `commandName` (after the
 * ledger has read, before it writes), or makes the n-th call lose its response after it
 * committed (an InternalServerError, which the SDK retries with the same request).
 */
function clientWithHook(
  commandName: string,
  hook: { readonly before?: () => Promise<unknown>; readonly loseResponse?: boolean },
): { client: DynamoDBClient; calls: () => number } {
  const hooked = newClient();
  let calls = 0;
  hooked.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== commandName) return next(args);
      calls += 1;
      if (calls === 1 && hook.before !== undefined) await hook.before();
      const result = await next(args);
      if (calls === 1 && hook.loseResponse === true) {
        throw Object.assign(new Error('response lost (injected by the test)'), {
          name: 'InternalServerError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
        });
      }
      return result;
    },
    { step: 'deserialize', name: 'testHook' },
  );
  return { client: hooked, calls: () => calls };
}

/**
 * A client that lets one TransactWriteItems at a time reach moto. moto 5.2 has no transaction
 * isolation: it applies a transaction's items one by one and, on cancellation, restores a copy
 * of the whole table taken when the transaction began, with no lock. Concurrent transactions
 * then resurrect each other's cancelled writes or erase committed ones (measured: 30 runs of 10
 * concurrent promotions gave two `recorded` twice, a lost committed event once, events of
 * cancelled transactions four times). DynamoDB serialises conflicting transactions, so this
 * restores the AWS contract; the ledgers' reads still interleave with the transactions.
 */
function clientSerialisingTransactions(): DynamoDBClient {
  const serialising = newClient();
  let queue: Promise<unknown> = Promise.resolve();
  serialising.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName !== 'TransactWriteItemsCommand') return next(args);
      const turn = queue.then(() => next(args));
      queue = turn.catch(() => undefined);
      return turn;
    },
    { step: 'deserialize', name: 'serialiseTransactions' },
  );
  return serialising;
}

describe('Function: ensureLedgerTable', () => {
  it('creates an on-demand table with pk/sk, the grace index projecting all attributes, and TTL on expiresAt', async () => {
    // Prepare: beforeAll created the table.

    // Act
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: TABLE }));
    const { TimeToLiveDescription: ttl } = await client.send(new DescribeTimeToLiveCommand({ TableName: TABLE }));

    // Assess
    expect(table?.TableStatus).toBe('ACTIVE');
    expect(table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table?.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'graceIndex', AttributeType: 'S' },
        { AttributeName: 'graceEndsAt', AttributeType: 'N' },
      ]),
    );
    expect(table?.GlobalSecondaryIndexes).toEqual([
      expect.objectContaining({
        IndexName: 'previous-by-grace-end',
        KeySchema: [
          { AttributeName: 'graceIndex', KeyType: 'HASH' },
          { AttributeName: 'graceEndsAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      }),
    ]);
    expect(ttl).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAt' });
  });

  it('keeps an existing ledger table and its items when run again', async () => {
    // Prepare
    const secret = newSecret();
    const credential = await rotate(secret);

    // Act
    await ensureLedgerTable(client, TABLE);

    // Assess
    expect((await ledger().getCredential(credential.fingerprint))?.state).toBe('current');
  });

  it('fails on an existing table of that name with another key schema', async () => {
    // Prepare
    await client.send(
      new CreateTableCommand({
        TableName: 'not-a-ledger',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      }),
    );

    // Act
    const attempt = ensureLedgerTable(client, 'not-a-ledger');

    // Assess
    await expect(attempt).rejects.toThrow(/table not-a-ledger exists but is not a Rotor ledger: keys id:HASH/);
  });
});

describe('Class: DynamoDbLedger', () => {
  describe('Method: recordPending', () => {
    it('stores the credential pending with its TTL, points the secret state at it and records a created event', async () => {
      // Prepare
      const secret = newSecret();
      const credential = newCredential();

      // Act
      await ledger().recordPending(pendingOf(secret, credential));

      // Assess
      expect(await rawCredential(credential.fingerprint)).toEqual({
        pk: `TOKEN#${credential.fingerprint}`,
        sk: 'TOKEN',
        kind: 'credential',
        fingerprint: credential.fingerprint,
        secretArn: secret.arn,
        secretName: secret.name,
        versionId: credential.versionId,
        provider: 'managed-token',
        state: 'pending',
        createdAt: T0,
        expiresAt: seconds(T0) + 24 * 3600,
      });
      expect(await ledger().getSecretState(secret.arn)).toEqual({
        secretArn: secret.arn,
        secretName: secret.name,
        generation: 0,
        status: 'active',
        onReuse: 'revoke-and-rotate',
        pendingVersionId: credential.versionId,
        pendingFingerprint: credential.fingerprint,
      });
      const audit = await ledger().readAudit(secret.arn);
      expect(audit.map((event) => [event.type, event.versionId, event.fingerprintPrefix])).toEqual([
        ['created', credential.versionId, fingerprintPrefix(credential.fingerprint)],
      ]);
    });

    it('changes nothing when run a second time', async () => {
      // Prepare
      const secret = newSecret();
      const credential = newCredential();
      await ledger().recordPending(pendingOf(secret, credential));
      const before = await snapshot(secret, credential);

      // Act
      await ledger().recordPending(pendingOf(secret, credential, T0 + 5000));

      // Assess
      expect(await snapshot(secret, credential)).toEqual(before);
    });

    it('leaves a credential that was already promoted current, with no pending version', async () => {
      // Prepare
      const secret = newSecret();
      const credential = await rotate(secret);

      // Act
      await ledger().recordPending(pendingOf(secret, credential));

      // Assess
      expect((await ledger().getCredential(credential.fingerprint))?.state).toBe('current');
      expect(await ledger().getSecretState(secret.arn)).not.toHaveProperty('pendingVersionId');
    });

    it('records a credential anew over an expired item that DynamoDB has not deleted yet', async () => {
      // Prepare
      const secret = newSecret();
      const credential = newCredential();
      await ledger().recordPending({ ...pendingOf(secret, credential), expiresAt: seconds(T0) + 60 });
      const later = T0 + 120_000;

      // Act
      await newLedger({ now: () => later }).recordPending(pendingOf(secret, credential, later));

      // Assess
      expect(await newLedger({ now: () => later }).getCredential(credential.fingerprint)).toMatchObject({
        state: 'pending',
        createdAt: later,
        expiresAt: seconds(later) + 24 * 3600,
      });
    });
  });

  describe('Method: recordPromotion', () => {
    it('records the first promotion: current without TTL, generation 1, pending cleared, a promoted event', async () => {
      // Prepare
      const secret = newSecret();
      const credential = newCredential();
      await ledger().recordPending(pendingOf(secret, credential));

      // Act
      const outcome = await ledger().recordPromotion(promotionOf(secret, credential));

      // Assess
      expect(outcome).toBe('recorded');
      const stored = await rawCredential(credential.fingerprint);
      expect(stored).toMatchObject({ state: 'current', createdAt: T0, promotedAt: T0 });
      expect(stored).not.toHaveProperty('expiresAt');
      expect(stored).not.toHaveProperty('graceIndex');
      expect(await ledger().getSecretState(secret.arn)).toEqual({
        secretArn: secret.arn,
        secretName: secret.name,
        generation: 1,
        status: 'active',
        onReuse: 'revoke-and-rotate',
        currentVersionId: credential.versionId,
        currentFingerprint: credential.fingerprint,
      });
      const audit = await ledger().readAudit(secret.arn);
      expect(audit.map((event) => [event.type, event.detail])).toEqual([
        ['created', { provider: 'managed-token' }],
        ['promoted', { generation: 1 }],
      ]);
    });

    it('moves the replaced credential to previous with its grace end, the grace index and its TTL', async () => {
      // Prepare
      const secret = newSecret();
      const first = await rotate(secret);
      const second = newCredential();
      await ledger().recordPending(pendingOf(secret, second, T0 + 1000));
      const promotion = promotionOf(secret, second, first, T0 + 1000);

      // Act
      const outcome = await ledger().recordPromotion(promotion);

      // Assess
      expect(outcome).toBe('recorded');
      expect(await rawCredential(first.fingerprint)).toMatchObject({
        state: 'previous',
        supersededAt: T0 + 1000,
        graceEndsAt: promotion.graceEndsAt,
        graceIndex: 'PREVIOUS',
        expiresAt: promotion.previousExpiresAt,
      });
      const current = await rawCredential(second.fingerprint);
      expect(current).toMatchObject({ state: 'current', promotedAt: T0 + 1000 });
      expect(current).not.toHaveProperty('expiresAt');
      expect(await ledger().getSecretState(secret.arn)).toMatchObject({
        generation: 2,
        currentVersionId: second.versionId,
        currentFingerprint: second.fingerprint,
        previousVersionId: first.versionId,
        previousFingerprint: first.fingerprint,
        previousGraceEndsAt: promotion.graceEndsAt,
      });
      const promoted = (await ledger().readAudit(secret.arn)).filter((event) => event.type === 'promoted');
      expect(promoted.at(-1)?.detail).toEqual({
        generation: 2,
        previousVersionId: first.versionId,
        graceEndsAt: new Date(promotion.graceEndsAt).toISOString(),
      });
    });

    it('keeps the grace marked before the move when the promotion is recorded later, and clears the mark', async () => {
      // Prepare: finishSecret marked v1 at T0 + 1000; the promotion is recorded at T0 + 5000.
      const secret = newSecret();
      const first = await rotate(secret);
      const second = newCredential();
      await ledger().recordPending(pendingOf(secret, second, T0 + 1000));
      const marked = T0 + 1000 + GRACE_MS;
      await ledger().markSupersession({ secretArn: secret.arn, ...first, graceEndsAt: marked, now: T0 + 1000 });
      expect(await rawCredential(first.fingerprint)).toMatchObject({
        state: 'current',
        supersessionGraceEndsAt: marked,
      });

      // Act
      await ledger().recordPromotion(promotionOf(secret, second, first, T0 + 5000));

      // Assess
      const previous = await rawCredential(first.fingerprint);
      expect(previous).toMatchObject({ state: 'previous', graceEndsAt: marked });
      expect(previous).not.toHaveProperty('supersessionGraceEndsAt');
    });

    it('marks only a current credential of that secret and version', async () => {
      // Prepare
      const secret = newSecret();
      const first = await rotate(secret);
      const pending = newCredential();
      await ledger().recordPending(pendingOf(secret, pending));

      // Act
      await ledger().markSupersession({ secretArn: secret.arn, ...pending, graceEndsAt: T0 + 1, now: T0 });
      await ledger().markSupersession({ secretArn: newSecret().arn, ...first, graceEndsAt: T0 + 1, now: T0 });
      await ledger().markSupersession({
        secretArn: secret.arn,
        fingerprint: first.fingerprint,
        versionId: 'another-version',
        graceEndsAt: T0 + 1,
        now: T0,
      });

      // Assess
      expect(await rawCredential(pending.fingerprint)).not.toHaveProperty('supersessionGraceEndsAt');
      expect(await rawCredential(first.fingerprint)).not.toHaveProperty('supersessionGraceEndsAt');
    });

    it('demotes a current credential the state still names after a promotion the ledger missed', async () => {
      // Prepare: v1 current; v2 was promoted in Secrets Manager but the ledger only has it pending.
      const secret = newSecret();
      const first = await rotate(secret);
      const [second, third] = [newCredential(), newCredential()];
      await ledger().recordPending(pendingOf(secret, second, T0 + 1000));
      await ledger().recordPending(pendingOf(secret, third, T0 + 2000));

      // Act: v3 is promoted over v2 (AWSPREVIOUS in Secrets Manager).
      await ledger().recordPromotion(promotionOf(secret, third, second, T0 + 3000));

      // Assess: only v3 is current; v2 previous in its grace; v1 previous with no grace left.
      expect(await rawCredential(third.fingerprint)).toMatchObject({ state: 'current' });
      expect(await rawCredential(second.fingerprint)).toMatchObject({
        state: 'previous',
        graceEndsAt: T0 + 3000 + GRACE_MS,
      });
      expect(await rawCredential(first.fingerprint)).toMatchObject({ state: 'previous', graceEndsAt: T0 + 3000 });
      expect(await ledger().getSecretState(secret.arn)).toMatchObject({
        currentVersionId: third.versionId,
        previousVersionId: second.versionId,
      });
    });

    it('creates the credential current when recordPending never ran for it', async () => {
      // Prepare
      const secret = newSecret();
      const credential = newCredential();

      // Act
      const outcome = await ledger().recordPromotion(promotionOf(secret, credential));

      // Assess
      expect(outcome).toBe('recorded');
      expect(await ledger().getCredential(credential.fingerprint)).toEqual({
        fingerprint: credential.fingerprint,
        secretArn: secret.arn,
        secretName: secret.name,
        versionId: credential.versionId,
        provider: 'managed-token',
        state: 'current',
        createdAt: T0,
        promotedAt: T0,
      });
    });

    it('answers already-recorded the second time and changes nothing', async () => {
      // Prepare
      const secret = newSecret();
      const first = await rotate(secret);
      const second = newCredential();
      await ledger().recordPending(pendingOf(secret, second));
      expect(await ledger().recordPromotion(promotionOf(secret, second, first))).toBe('recorded');
      const before = await snapshot(secret, first, second);

      // Act
      const outcome = await ledger().recordPromotion(promotionOf(secret, second, first, T0 + 3000));

      // Assess
      expect(outcome).toBe('already-recorded');
      expect(await snapshot(secret, first, second)).toEqual(before);
    });

    it('records ten concurrent recordings of the same promotion exactly once', async () => {
      // Prepare
      const secret = newSecret();
      const first = await rotate(secret);
      const second = newCredential();
      await ledger().recordPending(pendingOf(secret, second));

      const serialising = clientSerialisingTransactions();

      // Act
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () =>
          newLedger({ client: serialising }).recordPromotion(promotionOf(secret, second, first)),
        ),
      );

      // Assess
      expect(countOf(outcomes, 'recorded')).toBe(1);
      expect(countOf(outcomes, 'already-recorded')).toBe(9);
      expect((await ledger().getSecretState(secret.arn))?.generation).toBe(2);
      const types = (await ledger().readAudit(secret.arn)).map((event) => event.type);
      expect(countOf(types, 'promoted')).toBe(2);
      expect((await ledger().getCredential(first.fingerprint))?.state).toBe('previous');
    });

    it('keeps a revoked credential revoked when it is replaced, and marks the secret active again', async () => {
      // Prepare
      const secret = newSecret();
      const first = await rotate(secret);
      await ledger().revokeFamily(secret.arn, T0, seconds(T0) + REUSE_MEMORY_SECONDS);

      // Act
      const second = await rotate(secret, first, T0 + 1000);

      // Assess
      expect(await rawCredential(first.fingerprint)).toMatchObject({ state: 'revoked', revokedAt: T0 });
      expect(await rawCredential(first.fingerprint)).not.toHaveProperty('graceIndex');
      expect((await ledger().getCredential(second.fingerprint))?.state).toBe('current');
      expect((await ledger().getSecretState(secret.arn))?.status).toBe('active');
    });

    it('leaves the pending credential out of a revocation, so its promotion ends the incident', async () => {
      // Prepare: an incident while a rotation is in flight
      const secret = newSecret();
      const first = await rotate(secret);
      const second = newCredential();
      await ledger().recordPending(pendingOf(secret, second));
      await ledger().revokeFamily(secret.arn, T0, seconds(T0) + REUSE_MEMORY_SECONDS);

      // Act
      const outcome = await ledger().recordPromotion(promotionOf(secret, second, first, T0 + 1000));

      // Assess
      expect(outcome).toBe('recorded');
      expect((await ledger().getCredential(second.fingerprint))?.state).toBe('current');
      expect((await ledger().getCredential(first.fingerprint))?.state).toBe('revoked');
      expect(await ledger().getSecretState(secret.arn)).toMatchObject({
        currentVersionId: second.versionId,
        status: 'active',
      });
    });

    it('keeps credentials revoked that are revoked between its reads and its transaction, by retrying', async () => {
      // Prepare
      const secret = newSecret();
      const first = await rotate(secret);
      const second = newCredential();
      await ledger().recordPending(pendingOf(secret, second));
      const hooked = clientWithHook('TransactWriteItemsCommand', {
        before: () => ledger().revokeFamily(secret.arn, T0, seconds(T0) + REUSE_MEMORY_SECONDS),
      });

      // Act
      const outcome = await newLedger({ client: hooked.client }).recordPromotion(
        promotionOf(secret, second, first, T0 + 1000),
      );

      // Assess
      expect(outcome).toBe('recorded');
      expect(hooked.calls()).toBe(2);
      expect((await ledger().getCredential(first.fingerprint))?.state).toBe('revoked');
      // The pending credential was not part of the revocation: its promotion ends the incident.
      expect((await ledger().getCredential(second.fingerprint))?.state).toBe('current');
      expect((await ledger().getSecretState(secret.arn))?.status).toBe('active');
    });

    it('writes none of its items when one of them fails, and gives up after its bounded attempts', async () => {
      // Prepare: an audit event already sits where this promotion's event would go.
      const secret = newSecret();
      const first = await rotate(secret);
      const second = newCredential();
      await ledger().recordPending(pendingOf(secret, second));
      await documents.send(
        new PutCommand({
          TableName: TABLE,
          Item: { pk: `SECRET#${secret.arn}`, sk: `EVENT#${new Date(T0).toISOString()}#fixed-id` },
        }),
      );
      const before = await snapshot(secret, first, second);
      const hooked = clientWithHook('TransactWriteItemsCommand', {});

      // Act
      const attempt = newLedger({
        client: hooked.client,
        newId: () => 'fixed-id',
        maxTransactionAttempts: 3,
      }).recordPromotion(promotionOf(secret, second, first));

      // Assess
      await expect(attempt).rejects.toThrow(LedgerContentionError);
      await expect(attempt).rejects.toThrow(
        /cancelled 3 times; last reasons: \[None, None, None, ConditionalCheckFailed\]/,
      );
      expect(hooked.calls()).toBe(3);
      expect(await snapshot(secret, first, second)).toEqual(before);
    });

    it('answers recorded when its committed transaction lost its response and the SDK retried it', async () => {
      // Prepare
      const secret = newSecret();
      const credential = newCredential();
      await ledger().recordPending(pendingOf(secret, credential));
      const hooked = clientWithHook('TransactWriteItemsCommand', { loseResponse: true });

      // Act
      const outcome = await newLedger({ client: hooked.client }).recordPromotion(promotionOf(secret, credential));

      // Assess
      expect(outcome).toBe('recorded');
      expect(hooked.calls()).toBe(2);
      expect((await ledger().getSecretState(secret.arn))?.generation).toBe(1);
      const types = (await ledger().readAudit(secret.arn)).map((event) => event.type);
      expect(types).toEqual(['created', 'promoted']);
    });
  });

  describe('Methods: getCredential and getSecretState', () => {
    it('answer undefined for a fingerprint and a secret the ledger does not know', async () => {
      // Prepare
      const secret = newSecret();
      const credential = newCredential();

      // Act
      const record = await ledger().getCredential(credential.fingerprint);
      const state = await ledger().getSecretState(secret.arn);

      // Assess
      expect(record).toBeUndefined();
      expect(state).toBeUndefined();
    });

    it('treats a credential whose TTL has passed as absent, while DynamoDB still holds it', async () => {
      // Prepare
      const secret = newSecret();
      const credential = newCredential();
      await ledger().recordPending({ ...pendingOf(secret, credential), expiresAt: seconds(T0) + 60 });

      // Act
      const justBefore = await newLedger({ now: () => T0 + 59_999 }).getCredential(credential.fingerprint);
      const atExpiry = await newLedger({ now: () => T0 + 60_000 }).getCredential(credential.fingerprint);

      // Assess
      expect(justBefore?.state).toBe('pending');
      expect(atExpiry).toBeUndefined();
      expect(await rawCredential(credential.fingerprint)).toMatchObject({ state: 'pending' });
    });
  });

  describe('Method: retire', () => {
    async function previousCredential(): Promise<{ secret: TestSecret; previous: TestCredential }> {
      const secret = newSecret();
      const previous = await rotate(secret);
      await rotate(secret, previous);
      return { secret, previous };
    }

    it('answers not-due within the grace period and changes nothing', async () => {
      // Prepare
      const { previous } = await previousCredential();
      const before = await rawCredential(previous.fingerprint);

      // Act
      const outcome = await ledger().retire(previous.fingerprint, T0 + GRACE_MS - 1);

      // Assess
      expect(outcome).toBe('not-due');
      expect(await rawCredential(previous.fingerprint)).toEqual(before);
    });

    it('retires a previous credential after its grace, takes it off the grace index and keeps its TTL', async () => {
      // Prepare
      const { previous } = await previousCredential();
      const before = await rawCredential(previous.fingerprint);

      // Act
      const outcome = await ledger().retire(previous.fingerprint, T0 + GRACE_MS);

      // Assess
      expect(outcome).toBe('retired');
      const after = await rawCredential(previous.fingerprint);
      expect(after).toMatchObject({ state: 'retired', retiredAt: T0 + GRACE_MS, expiresAt: before?.expiresAt });
      expect(after).not.toHaveProperty('graceIndex');
      expect(await ledger().getCredential(previous.fingerprint)).toMatchObject({
        state: 'retired',
        graceEndsAt: T0 + GRACE_MS,
        retiredAt: T0 + GRACE_MS,
      });
    });

    it('answers not-previous the second time, and for a current or unknown credential', async () => {
      // Prepare
      const { secret, previous } = await previousCredential();
      await ledger().retire(previous.fingerprint, T0 + GRACE_MS);
      const current = (await ledger().getSecretState(secret.arn))!.currentFingerprint!;

      // Act
      const outcomes = [
        await ledger().retire(previous.fingerprint, T0 + GRACE_MS + 1),
        await ledger().retire(current, T0 + GRACE_MS),
        await ledger().retire(newCredential().fingerprint, T0 + GRACE_MS),
      ];

      // Assess
      expect(outcomes).toEqual(['not-previous', 'not-previous', 'not-previous']);
      expect(await rawCredential(previous.fingerprint)).toMatchObject({ retiredAt: T0 + GRACE_MS });
    });

    it('retires once when the one-time schedule and the sweep race, 20 at a time', async () => {
      // Prepare
      const { previous } = await previousCredential();

      // Act
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, () => newLedger().retire(previous.fingerprint, T0 + GRACE_MS)),
      );

      // Assess
      expect(countOf(outcomes, 'retired')).toBe(1);
      expect(countOf(outcomes, 'not-previous')).toBe(19);
    });

    it('answers not-previous for a previous credential whose TTL has passed', async () => {
      // Prepare
      const { previous } = await previousCredential();
      const expiry = ((await rawCredential(previous.fingerprint))?.expiresAt as number) * 1000;

      // Act
      const outcome = await ledger().retire(previous.fingerprint, expiry);

      // Assess
      expect(outcome).toBe('not-previous');
      expect(await rawCredential(previous.fingerprint)).toMatchObject({ state: 'previous' });
    });

    it('answers retired when its committed write lost its response and the SDK retried it', async () => {
      // Prepare
      const { previous } = await previousCredential();
      const hooked = clientWithHook('UpdateItemCommand', { loseResponse: true });

      // Act
      const outcome = await newLedger({ client: hooked.client }).retire(previous.fingerprint, T0 + GRACE_MS);

      // Assess
      expect(outcome).toBe('retired');
      expect(hooked.calls()).toBe(2);
    });
  });

  describe('Method: listOverdue', () => {
    // The grace index spans the whole table: these tests get a table of their own.
    const OVERDUE_TABLE = 'rotor-test-ledger-overdue';
    const overdueLedger = (now = T0) => newLedger({ tableName: OVERDUE_TABLE, now: () => now });

    beforeAll(async () => {
      await ensureLedgerTable(client, OVERDUE_TABLE);
    });

    it('lists previous credentials whose grace has ended, oldest grace end first, up to the limit', async () => {
      // Prepare: previous credentials with grace ends at +3 s, +1 s, +2 s (overdue), +60 s (in grace), and a retired one.
      const previousAt = async (rotatedAt: number) => {
        const secret = newSecret();
        const first = await rotate(secret, undefined, T0, overdueLedger());
        await rotate(secret, first, rotatedAt, overdueLedger());
        return first;
      };
      const third = await previousAt(T0 + 3000 - GRACE_MS);
      const first = await previousAt(T0 + 1000 - GRACE_MS);
      const second = await previousAt(T0 + 2000 - GRACE_MS);
      await previousAt(T0 + 60_000 - GRACE_MS);
      const retired = await previousAt(T0 + 500 - GRACE_MS);
      expect(await overdueLedger().retire(retired.fingerprint, T0 + 500)).toBe('retired');

      // Act
      const all = await overdueLedger().listOverdue(T0 + 5000, 100);
      const firstTwo = await overdueLedger().listOverdue(T0 + 5000, 2);

      // Assess
      expect(all.map((record) => [record.fingerprint, record.state, record.graceEndsAt])).toEqual([
        [first.fingerprint, 'previous', T0 + 1000],
        [second.fingerprint, 'previous', T0 + 2000],
        [third.fingerprint, 'previous', T0 + 3000],
      ]);
      expect(firstTwo.map((record) => record.fingerprint)).toEqual([first.fingerprint, second.fingerprint]);
    });
  });

  describe('Method: claimReuseReport', () => {
    async function retiredCredential(): Promise<{ secret: TestSecret; dead: TestCredential }> {
      const secret = newSecret();
      const dead = await rotate(secret);
      await rotate(secret, dead);
      await ledger().retire(dead.fingerprint, T0 + GRACE_MS);
      return { secret, dead };
    }

    it('answers true to the first claim only', async () => {
      // Prepare
      const { secret, dead } = await retiredCredential();

      // Act
      const first = await ledger().claimReuseReport(secret.arn, dead.fingerprint, T0 + 10_000);
      const second = await ledger().claimReuseReport(secret.arn, dead.fingerprint, T0 + 11_000);

      // Assess
      expect([first, second]).toEqual([true, false]);
      expect(await rawCredential(dead.fingerprint)).toMatchObject({ reuseReportedAt: T0 + 10_000 });
    });

    it('gives exactly one of 200 concurrent callers the claim', async () => {
      // Prepare
      const { secret, dead } = await retiredCredential();

      // Act
      const claims = await Promise.all(
        Array.from({ length: 200 }, () => newLedger().claimReuseReport(secret.arn, dead.fingerprint, T0 + 10_000)),
      );

      // Assess
      expect(countOf(claims, true)).toBe(1);
      expect(countOf(claims, false)).toBe(199);
    });

    it('answers false for a credential the ledger does not know, or that belongs to another secret', async () => {
      // Prepare
      const { dead } = await retiredCredential();

      // Act
      const unknown = await ledger().claimReuseReport(newSecret().arn, newCredential().fingerprint, T0);
      const otherSecret = await ledger().claimReuseReport(newSecret().arn, dead.fingerprint, T0);

      // Assess
      expect([unknown, otherSecret]).toEqual([false, false]);
      expect(await rawCredential(dead.fingerprint)).not.toHaveProperty('reuseReportedAt');
    });

    it('keeps the claim when the family is revoked afterwards', async () => {
      // Prepare
      const { secret, dead } = await retiredCredential();
      await ledger().claimReuseReport(secret.arn, dead.fingerprint, T0 + 10_000);

      // Act
      await ledger().revokeFamily(secret.arn, T0 + 10_000, seconds(T0) + REUSE_MEMORY_SECONDS);
      const again = await ledger().claimReuseReport(secret.arn, dead.fingerprint, T0 + 20_000);

      // Assess
      expect(again).toBe(false);
      expect((await ledger().getCredential(dead.fingerprint))?.state).toBe('revoked');
    });
  });

  describe('Side-effect journal: claim, release, markRejected, claimLostRetry', () => {
    const entry = (secret: TestSecret, versionId: string, spends?: string) => ({
      secretArn: secret.arn,
      versionId,
      action: 'oauth2-refresh-token:create',
      ...(spends === undefined ? {} : { spends }),
    });
    const outcomeOf = (claim: JournalClaim) => claim.outcome;

    it('claims a rotation’s side effect once, and keeps the claim for the journal retention', async () => {
      // Prepare
      const secret = newSecret();
      const versionId = randomUUID();

      // Act
      const outcomes = [
        await ledger().claim(entry(secret, versionId)),
        await ledger().claim(entry(secret, versionId)),
        await ledger().claim(entry(secret, randomUUID())),
      ];

      // Assess
      expect(outcomes.map(outcomeOf)).toEqual(['claimed', 'already-claimed', 'claimed']);
      expect(outcomes[1]).toEqual({
        outcome: 'already-claimed',
        record: { versionId, action: 'oauth2-refresh-token:create', claimedAt: T0, outcome: 'in-flight' },
      });
      const [claim] = await partition(`SECRET#${secret.arn}`).then((items) =>
        items.filter((item) => item.sk === `JOURNAL#${versionId}`),
      );
      expect(claim).toMatchObject({
        kind: 'journal-claim',
        action: 'oauth2-refresh-token:create',
        outcome: 'in-flight',
        claimedAt: T0,
        expiresAt: seconds(T0) + 7 * 24 * 3600,
      });
    });

    it('keys a spending claim by the spent credential: a second rotation cannot spend it again', async () => {
      // Prepare
      const secret = newSecret();
      const spent = fingerprinter.of('refresh-token-one');
      const [first, second] = [randomUUID(), randomUUID()];

      // Act
      const winner = await ledger().claim(entry(secret, first, spent));
      const other = await ledger().claim(entry(secret, second, spent));

      // Assess
      expect(winner.outcome).toBe('claimed');
      expect(other).toMatchObject({ outcome: 'already-claimed', record: { versionId: first, outcome: 'in-flight' } });
      const items = await partition(`SECRET#${secret.arn}`);
      expect(items.map((item) => item.sk)).toEqual([`SPENT#${spent}`]);
      // Kept as long as the audit trail: a lost or rejected spend must outlive any rotation schedule.
      expect(items[0]).toMatchObject({ outcome: 'in-flight', expiresAt: seconds(T0) + AUDIT_RETENTION_SECONDS });
    });

    it('refuses a spends value that is not a fingerprint, writing nothing', async () => {
      // Prepare
      const secret = newSecret();

      // Act
      const attempt = ledger().claim(entry(secret, randomUUID(), 'a-raw-refresh-token'));

      // Assess
      await expect(attempt).rejects.toThrow(NotAFingerprintError);
      expect(await partition(`SECRET#${secret.arn}`)).toEqual([]);
    });

    it('releases only the holder’s claim', async () => {
      // Prepare
      const secret = newSecret();
      const spent = fingerprinter.of('refresh-token-two');
      const versionId = randomUUID();
      const claim = await ledger().claim(entry(secret, versionId, spent));
      if (claim.outcome !== 'claimed') throw new Error('expected the first claim to win');

      // Act
      await ledger().release(entry(secret, versionId, spent), 'someone-else');
      const afterForeignRelease = await ledger().claim(entry(secret, randomUUID(), spent));
      await ledger().release(entry(secret, versionId, spent), claim.claimId);
      const afterRelease = await ledger().claim(entry(secret, randomUUID(), spent));

      // Assess
      expect(afterForeignRelease.outcome).toBe('already-claimed');
      expect(afterRelease.outcome).toBe('claimed');
    });

    it('marks a claim rejected, which every later claim then reads', async () => {
      // Prepare
      const secret = newSecret();
      const spent = fingerprinter.of('refresh-token-three');
      const versionId = randomUUID();
      const claim = await ledger().claim(entry(secret, versionId, spent));
      if (claim.outcome !== 'claimed') throw new Error('expected the first claim to win');

      // Act
      await ledger().markRejected(entry(secret, versionId, spent), claim.claimId);
      const later = await ledger().claim(entry(secret, randomUUID(), spent));

      // Assess
      expect(later).toMatchObject({ outcome: 'already-claimed', record: { versionId, outcome: 'rejected' } });
      await expect(ledger().markRejected(entry(secret, versionId, spent), 'someone-else')).resolves.toBeUndefined();
    });

    it('grants the one retry of a lost outcome to exactly one of 20 concurrent callers', async () => {
      // Prepare
      const secret = newSecret();
      const spent = fingerprinter.of('refresh-token-four');
      const versionId = randomUUID();
      await ledger().claim(entry(secret, versionId, spent));
      const found = await ledger().claim(entry(secret, randomUUID(), spent));
      if (found.outcome !== 'already-claimed') throw new Error('expected the claim to be held');

      // Act: 20 invocations of another rotation race for the retry
      const retrying = randomUUID();
      const retries = await Promise.all(
        Array.from({ length: 20 }, () => newLedger().claimLostRetry(entry(secret, retrying, spent), found.record)),
      );
      const afterwards = await ledger().claim(entry(secret, randomUUID(), spent));

      // Assess
      expect(retries.filter((id) => id !== undefined)).toHaveLength(1);
      expect(afterwards).toMatchObject({
        outcome: 'already-claimed',
        record: { versionId: retrying, lostRetryAt: T0 },
      });
    });

    it('gives exactly one of 200 concurrent claims', async () => {
      // Prepare
      const secret = newSecret();
      const versionId = randomUUID();

      // Act
      const outcomes = await Promise.all(
        Array.from({ length: 200 }, () => newLedger().claim(entry(secret, versionId))),
      );

      // Assess
      expect(countOf(outcomes.map(outcomeOf), 'claimed')).toBe(1);
      expect(countOf(outcomes.map(outcomeOf), 'already-claimed')).toBe(199);
    });

    it('lets a claim whose TTL has passed be claimed again', async () => {
      // Prepare
      const secret = newSecret();
      const versionId = randomUUID();
      await newLedger({ journalRetentionSeconds: 60 }).claim(entry(secret, versionId));

      // Act
      const outcome = await newLedger({ now: () => T0 + 60_000 }).claim(entry(secret, versionId));

      // Assess
      expect(outcome.outcome).toBe('claimed');
    });

    it('answers claimed to the winner whose write lost its response and was retried by the SDK', async () => {
      // Prepare
      const secret = newSecret();
      const versionId = randomUUID();
      const hooked = clientWithHook('PutItemCommand', { loseResponse: true });

      // Act
      const outcome = await newLedger({ client: hooked.client }).claim(entry(secret, versionId));
      const rival = await ledger().claim(entry(secret, versionId));

      // Assess
      expect(hooked.calls()).toBe(2);
      expect([outcome.outcome, rival.outcome]).toEqual(['claimed', 'already-claimed']);
    });
  });

  describe('Method: markGraceUse', () => {
    it('answers true the first time only, and false for an unknown credential', async () => {
      // Prepare
      const secret = newSecret();
      const previous = await rotate(secret);
      await rotate(secret, previous);

      // Act
      const outcomes = [
        await ledger().markGraceUse(previous.fingerprint, T0 + 100),
        await ledger().markGraceUse(previous.fingerprint, T0 + 200),
        await ledger().markGraceUse(newCredential().fingerprint, T0 + 100),
      ];

      // Assess
      expect(outcomes).toEqual([true, false, false]);
      expect(await rawCredential(previous.fingerprint)).toMatchObject({ graceUsedAt: T0 + 100 });
    });
  });

  describe('Method: revokeFamily', () => {
    async function family() {
      const secret = newSecret();
      const previous = await rotate(secret);
      const current = await rotate(secret, previous);
      const pending = newCredential();
      await ledger().recordPending(pendingOf(secret, pending));
      return { secret, previous, current, pending };
    }

    it('revokes the current and previous credentials, not the pending one, and marks the secret compromised', async () => {
      // Prepare
      const { secret, previous, current, pending } = await family();
      const revokeAt = T0 + 10_000;
      // Shorter than the previous credential's TTL, longer than the pending one's.
      const expiresAt = seconds(T0) + 2 * 3600;
      const previousExpiry = (await rawCredential(previous.fingerprint))?.expiresAt;

      // Act
      const revoked = await ledger().revokeFamily(secret.arn, revokeAt, expiresAt);

      // Assess
      expect([...revoked].sort()).toEqual([previous.fingerprint, current.fingerprint].sort());
      expect((await rawCredential(pending.fingerprint))?.state).toBe('pending');
      for (const credential of [previous, current]) {
        const item = await rawCredential(credential.fingerprint);
        expect(item).toMatchObject({ state: 'revoked', revokedAt: revokeAt });
        expect(item).not.toHaveProperty('graceIndex');
      }
      expect((await rawCredential(current.fingerprint))?.expiresAt).toBe(expiresAt);
      expect((await rawCredential(previous.fingerprint))?.expiresAt).toBe(
        Math.max(previousExpiry as number, expiresAt),
      );
      expect((await rawCredential(pending.fingerprint))?.expiresAt).toBe(seconds(T0) + 24 * 3600);
      expect((await ledger().getSecretState(secret.arn))?.status).toBe('compromised');
      expect(await ledger().listOverdue(T0 + 60_000, 1000)).not.toContainEqual(
        expect.objectContaining({ fingerprint: previous.fingerprint }),
      );
    });

    it('revokes nothing and changes nothing when run a second time', async () => {
      // Prepare
      const { secret, previous, current, pending } = await family();
      await ledger().revokeFamily(secret.arn, T0 + 10_000, seconds(T0) + 3600);
      const before = await snapshot(secret, previous, current, pending);

      // Act
      const revoked = await ledger().revokeFamily(secret.arn, T0 + 20_000, seconds(T0) + 7200);

      // Assess
      expect(revoked).toEqual([]);
      expect(await snapshot(secret, previous, current, pending)).toEqual(before);
    });

    it('revokes each credential once when two incidents revoke the family at the same time', async () => {
      // Prepare
      const { secret } = await family();

      // Act
      const [one, other] = await Promise.all([
        newLedger().revokeFamily(secret.arn, T0 + 10_000, seconds(T0) + 3600),
        newLedger().revokeFamily(secret.arn, T0 + 10_000, seconds(T0) + 3600),
      ]);

      // Assess
      expect(one.length + other.length).toBe(2);
      expect(new Set([...one, ...other]).size).toBe(2);
    });

    it('revokes nothing for a secret the ledger does not know', async () => {
      // Prepare
      const secret = newSecret();

      // Act
      const revoked = await ledger().revokeFamily(secret.arn, T0, seconds(T0) + 3600);

      // Assess
      expect(revoked).toEqual([]);
      expect(await ledger().getSecretState(secret.arn)).toBeUndefined();
    });
  });

  describe('Methods: appendAudit and readAudit', () => {
    const event = (secret: TestSecret, at: number, reason: string) => ({
      secretArn: secret.arn,
      secretName: secret.name,
      type: 'retired' as const,
      at,
      detail: { reason },
    });

    it('reads events oldest first whatever order they were appended in, each with its TTL', async () => {
      // Prepare
      const secret = newSecret();

      // Act
      for (const [offset, reason] of [
        [3000, 'third'],
        [1000, 'first'],
        [2000, 'second'],
      ] as const) {
        await ledger().appendAudit(event(secret, T0 + offset, reason));
      }
      const audit = await ledger().readAudit(secret.arn);

      // Assess
      expect(audit.map((stored) => [stored.at, stored.detail?.reason])).toEqual([
        [T0 + 1000, 'first'],
        [T0 + 2000, 'second'],
        [T0 + 3000, 'third'],
      ]);
      expect(new Set(audit.map((stored) => stored.id)).size).toBe(3);
      const items = await partition(`SECRET#${secret.arn}`);
      expect(items.map((item) => item.expiresAt)).toEqual(
        [1000, 2000, 3000].map((offset) => seconds(T0 + offset) + AUDIT_RETENTION_SECONDS),
      );
      expect(items[0]?.sk).toMatch(/^EVENT#2030-01-01T12:00:01\.000Z#/);
    });

    it('keeps the order of events appended within the same millisecond', async () => {
      // Prepare
      const secret = newSecret();
      const reasons = Array.from({ length: 12 }, (_, index) => `event-${index}`);

      // Act
      for (const reason of reasons) await ledger().appendAudit(event(secret, T0, reason));
      const audit = await ledger().readAudit(secret.arn);

      // Assess
      expect(audit.map((stored) => stored.detail?.reason)).toEqual(reasons);
    });

    it('skips expired events and still returns up to the limit, paging past them', async () => {
      // Prepare: five events that expire after 60 s, then five later ones.
      const secret = newSecret();
      const shortLived = newLedger({ auditRetentionSeconds: 60 });
      for (let index = 0; index < 5; index += 1) await shortLived.appendAudit(event(secret, T0, `old-${index}`));
      for (let index = 0; index < 5; index += 1) {
        await shortLived.appendAudit(event(secret, T0 + 100_000, `new-${index}`));
      }

      // Act
      const audit = await newLedger({ now: () => T0 + 90_000 }).readAudit(secret.arn, 3);

      // Assess
      expect(audit.map((stored) => stored.detail?.reason)).toEqual(['new-0', 'new-1', 'new-2']);
    });
  });

  describe('Refusing anything but a fingerprint', () => {
    it('refuses a token where a fingerprint belongs, in every method, without echoing it or storing anything', async () => {
      // Prepare
      const secret = newSecret();
      const token = generateManagedToken();
      const real = newCredential();
      const asFingerprint = { versionId: randomUUID(), fingerprint: token };

      // Act
      const attempts = [
        ledger().recordPending(pendingOf(secret, asFingerprint)),
        ledger().recordPromotion(promotionOf(secret, asFingerprint)),
        ledger().recordPromotion(promotionOf(secret, real, asFingerprint)),
        ledger().getCredential(token),
        ledger().retire(token, T0),
        ledger().claimReuseReport(secret.arn, token, T0),
        ledger().markGraceUse(token, T0),
      ];
      const errors = await Promise.all(attempts.map((attempt) => rejectionOf(attempt)));

      // Assess
      for (const error of errors) {
        expect(error).toBeInstanceOf(NotAFingerprintError);
        expect(error.message).not.toContain(token);
        expect(error.message).toMatch(
          /must be a fingerprint \(64 lower-case hex characters\), got a string of 53 characters/,
        );
      }
      expect(await partition(`SECRET#${secret.arn}`)).toEqual([]);
      expect(await partition(`TOKEN#${token}`)).toEqual([]);
      expect(await rawCredential(real.fingerprint)).toBeUndefined();
    });

    it('refuses upper-case hex, 63 hex characters and non-strings', async () => {
      // Prepare
      const { fingerprint } = newCredential();

      // Act
      const attempts = [fingerprint.toUpperCase(), fingerprint.slice(1), 42 as unknown as string].map((candidate) =>
        ledger().getCredential(candidate),
      );

      // Assess
      for (const attempt of attempts) await expect(attempt).rejects.toThrow(NotAFingerprintError);
    });

    it('refuses an audit event whose fingerprint prefix is longer than 12 hex characters', async () => {
      // Prepare
      const secret = newSecret();

      // Act
      const attempt = ledger().appendAudit({
        secretArn: secret.arn,
        secretName: secret.name,
        type: 'grace-used',
        at: T0,
        fingerprintPrefix: newCredential().fingerprint,
      });

      // Assess
      await expect(attempt).rejects.toThrow(NotAFingerprintError);
      expect(await ledger().readAudit(secret.arn)).toEqual([]);
    });
  });

  describe('What the table holds', () => {
    it('holds no token anywhere after a rich scenario driven by real tokens', async () => {
      // Prepare: two secrets, three rotations each, grace use, retirement, a reuse incident, journal claims.
      const tokens: string[] = [];
      const scenario = async (secret: TestSecret) => {
        let previous: TestCredential | undefined;
        for (let rotation = 0; rotation < 3; rotation += 1) {
          const at = T0 + rotation * 10_000;
          const credential = newCredential();
          tokens.push(credential.token);
          await ledger().claim({
            secretArn: secret.arn,
            versionId: credential.versionId,
            action: 'managed-token:create',
          });
          await ledger().recordPending(pendingOf(secret, credential, at));
          await ledger().recordPromotion(promotionOf(secret, credential, previous, at));
          if (previous !== undefined) {
            await ledger().markGraceUse(previous.fingerprint, at + 1);
            await ledger().retire(previous.fingerprint, at + GRACE_MS);
          }
          previous = credential;
        }
        const pending = newCredential();
        tokens.push(pending.token);
        await ledger().recordPending(pendingOf(secret, pending, T0 + 40_000));
        return previous!;
      };
      const [first, second] = [newSecret(), newSecret()];
      await scenario(first);
      await scenario(second);
      // The first secret's first token, retired two rotations ago, is presented again.
      const reused = fingerprinter.of(tokens[0]!);
      expect(await ledger().claimReuseReport(first.arn, reused, T0 + 50_000)).toBe(true);
      expect(await ledger().revokeFamily(first.arn, T0 + 50_000, seconds(T0) + 3600)).toHaveLength(2);

      // Act
      const scanned: unknown[] = [];
      let start: Record<string, never> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({ TableName: TABLE, ConsistentRead: true, ExclusiveStartKey: start }),
        );
        scanned.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey as Record<string, never> | undefined;
      } while (start !== undefined);
      const dump = JSON.stringify(scanned);

      // Assess
      expect(tokens).toHaveLength(8);
      for (const token of tokens) {
        expect(dump).toContain(`TOKEN#${fingerprinter.of(token)}`);
        expect(dump).not.toContain(token);
        expect(dump).not.toContain(token.slice(4));
      }
      expect(dump).not.toMatch(TOKEN_SHAPE);
      expect(dump).not.toMatch(/rtr_/);
    });
  });
});
