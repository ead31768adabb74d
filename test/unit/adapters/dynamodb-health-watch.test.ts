import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDbHealthWatch } from '../../../lambda/adapters/dynamodb-health-watch';

const NOW = 1_800_000_000;

describe('Class: DynamoDbHealthWatch', () => {
  const documents = mockClient(DynamoDBDocumentClient);
  const watch = new DynamoDbHealthWatch(
    new DynamoDBClient({ region: 'eu-west-1' }),
    'rotor-dev-ledger',
    () => NOW * 1000,
  );

  beforeEach(() => {
    documents.reset();
  });

  afterAll(() => {
    documents.restore();
  });

  it('reads the whole watch partition with consistent queries, page by page, by secret, skipping expired items', async () => {
    // Prepare
    documents
      .on(QueryCommand)
      .resolvesOnce({
        Items: [
          { pk: 'HEALTH#WATCH', sk: 'rotor/dev/a#change', watchUntil: NOW + 60, expiresAt: NOW + 3660 },
          { pk: 'HEALTH#WATCH', sk: 'rotor/dev/a#failing', state: 'failing', expiresAt: NOW + 86_400 },
        ],
        LastEvaluatedKey: { pk: 'HEALTH#WATCH', sk: 'rotor/dev/a#failing' },
      })
      .resolvesOnce({
        Items: [
          {
            pk: 'HEALTH#WATCH',
            sk: 'rotor/dev/b#failing',
            state: 'recovered',
            watchUntil: NOW + 30,
            expiresAt: NOW + 3630,
          },
          { pk: 'HEALTH#WATCH', sk: 'rotor/dev/c#expiry', credentialExpiresAt: NOW + 600, expiresAt: NOW + 87_000 },
          { pk: 'HEALTH#WATCH', sk: 'rotor/dev/d#failing', state: 'failing', expiresAt: NOW - 1 },
        ],
      });

    // Act
    const watches = await watch.list();

    // Assess
    expect(documents).toHaveReceivedCommandTimes(QueryCommand, 2);
    expect(documents).toHaveReceivedNthCommandWith(1, QueryCommand, {
      TableName: 'rotor-dev-ledger',
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': 'pk' },
      ExpressionAttributeValues: { ':pk': 'HEALTH#WATCH' },
      ConsistentRead: true,
    });
    expect(watches).toEqual(
      new Map([
        ['rotor/dev/a', { changedUntil: NOW + 60, failing: true }],
        ['rotor/dev/b', { recoveredUntil: NOW + 30 }],
        ['rotor/dev/c', { credentialExpiresAt: NOW + 600 }],
      ]),
    );
  });

  it('marks a change with an update that only lengthens a watch, and takes a longer one already held as done', async () => {
    // Prepare
    documents
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }));

    // Act + Assess
    await expect(watch.markChanged('rotor/dev/a', NOW + 900, 'PutSecretValue')).resolves.toBeUndefined();
    expect(documents).toHaveReceivedCommandWith(UpdateCommand, {
      Key: { pk: 'HEALTH#WATCH', sk: 'rotor/dev/a#change' },
      ConditionExpression: 'attribute_not_exists(watchUntil) OR watchUntil < :until',
      ExpressionAttributeValues: { ':until': NOW + 900, ':cause': 'PutSecretValue', ':ttl': NOW + 900 + 3600 },
    });
  });

  it('passes on any other failure of the mark, so that the event is delivered again', async () => {
    documents.on(UpdateCommand).rejects(Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    await expect(watch.markChanged('rotor/dev/a', NOW + 900, 'RotateSecret')).rejects.toThrow('slow down');
  });

  it('writes a failure, a recovery and an expiry each as an item of its own with a TTL', async () => {
    // Act
    await watch.recordFailing('rotor/dev/a', NOW);
    await watch.recordRecovered('rotor/dev/a', NOW + 900);
    await watch.recordCredentialExpiry('rotor/dev/b', NOW + 3600);

    // Assess
    const items = documents.commandCalls(PutCommand).map((call) => call.args[0].input.Item);
    expect(items).toEqual([
      { pk: 'HEALTH#WATCH', sk: 'rotor/dev/a#failing', state: 'failing', failedAt: NOW, expiresAt: NOW + 86_400 },
      {
        pk: 'HEALTH#WATCH',
        sk: 'rotor/dev/a#failing',
        state: 'recovered',
        watchUntil: NOW + 900,
        expiresAt: NOW + 4500,
      },
      { pk: 'HEALTH#WATCH', sk: 'rotor/dev/b#expiry', credentialExpiresAt: NOW + 3600, expiresAt: NOW + 3600 + 86_400 },
    ]);
  });
});
