import { DynamoDBClient, TransactionCanceledException, TransactionInProgressException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { DynamoDbLedger, LedgerContentionError } from '../../../lambda/adapters/dynamodb-ledger';
import type { Promotion } from '../../../lambda/core/ledger/ledger';
import { rejectionOf } from '../helpers/rejection';

// What moto cannot produce: TransactionConflict cancellations, cancellations for reasons that
// are not races, and TransactionInProgressException. Everything moto can show is tested against
// it in test/integration/dynamodb-ledger.test.ts.

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123';
const CURRENT = { versionId: 'c0ffee00-1111-4222-8333-444455556666', fingerprint: 'a'.repeat(64) };
const T0 = 1_700_000_000_000;
const PROMOTION: Promotion = {
  secretArn: ARN,
  secretName: 'rotor/dev/ci-token',
  provider: 'managed-token',
  current: CURRENT,
  now: T0,
  graceEndsAt: T0 + 900_000,
  previousExpiresAt: Math.floor(T0 / 1000) + 3600,
  onReuse: 'revoke-and-rotate',
};
const metadata = { $metadata: {} };

function cancelled(...codes: string[]): TransactionCanceledException {
  return new TransactionCanceledException({
    message: 'Transaction cancelled, please refer cancellation reasons for specific reasons',
    CancellationReasons: codes.map((Code) => ({ Code })),
    ...metadata,
  });
}

describe('Class: DynamoDbLedger', () => {
  const dynamodb = mockClient(DynamoDBDocumentClient);
  let ids: number;
  let ledger: DynamoDbLedger;

  beforeEach(() => {
    dynamodb.reset();
    ids = 0;
    ledger = new DynamoDbLedger({
      client: new DynamoDBClient({ region: 'eu-west-1' }),
      tableName: 'ledger',
      auditRetentionSeconds: 3600,
      now: () => T0,
      newId: () => `id-${(ids += 1)}`,
      maxTransactionAttempts: 3,
    });
    // Nothing recorded yet: every consistent read finds no item.
    dynamodb.on(GetCommand).resolves({});
  });

  describe('Method: recordPromotion', () => {
    it('retries a transaction cancelled by a conflict and records the promotion when the next one commits', async () => {
      // Prepare
      dynamodb
        .on(TransactWriteCommand)
        .rejectsOnce(cancelled('TransactionConflict', 'None', 'None'))
        .resolves({});

      // Act
      const outcome = await ledger.recordPromotion(PROMOTION);

      // Assess
      expect(outcome).toBe('recorded');
      const tokens = dynamodb.commandCalls(TransactWriteCommand).map((call) => call.args[0].input.ClientRequestToken);
      expect(tokens).toEqual(['id-1', 'id-2']);
    });

    it('gives up after maxTransactionAttempts conflicts, naming the last reasons', async () => {
      // Prepare
      dynamodb.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None', 'None'));

      // Act
      const error = await rejectionOf(ledger.recordPromotion(PROMOTION));

      // Assess
      expect(error).toBeInstanceOf(LedgerContentionError);
      expect(error.message).toBe(
        'recordPromotion was cancelled 3 times; last reasons: [TransactionConflict, None, None]',
      );
      expect(dynamodb).toHaveReceivedCommandTimes(TransactWriteCommand, 3);
      // Three attempts read the state and the credential; a last read of the state classifies.
      expect(dynamodb).toHaveReceivedCommandTimes(GetCommand, 7);
    });

    it('passes on at once a cancellation that no retry can cure', async () => {
      // Prepare
      const failure = cancelled('None', 'ValidationError', 'None');
      dynamodb.on(TransactWriteCommand).rejects(failure);

      // Act
      const error = await rejectionOf(ledger.recordPromotion(PROMOTION));

      // Assess
      expect(error).toBe(failure);
      expect(dynamodb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    });

    it('reads again after TransactionInProgressException and answers recorded when its own transaction landed', async () => {
      // Prepare: the first read finds nothing; after the SDK's overlapping retry, the state names our transaction.
      dynamodb
        .on(GetCommand, { Key: { pk: `SECRET#${ARN}`, sk: 'STATE' } })
        .resolvesOnce({})
        .resolves({ Item: { currentVersionId: CURRENT.versionId, promotionId: 'id-1' } });
      dynamodb
        .on(TransactWriteCommand)
        .rejects(new TransactionInProgressException({ message: 'in progress', ...metadata }));

      // Act
      const outcome = await ledger.recordPromotion(PROMOTION);

      // Assess
      expect(outcome).toBe('recorded');
      expect(dynamodb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    });

    it('answers already-recorded when another caller’s transaction recorded the same version meanwhile', async () => {
      // Prepare
      dynamodb
        .on(GetCommand, { Key: { pk: `SECRET#${ARN}`, sk: 'STATE' } })
        .resolvesOnce({})
        .resolves({ Item: { currentVersionId: CURRENT.versionId, promotionId: 'someone-else' } });
      dynamodb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'ConditionalCheckFailed', 'None'));

      // Act
      const outcome = await ledger.recordPromotion(PROMOTION);

      // Assess
      expect(outcome).toBe('already-recorded');
      expect(dynamodb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    });
  });

  describe('Method: recordPending', () => {
    it('gives up after maxTransactionAttempts conflicts', async () => {
      // Prepare
      dynamodb.on(TransactWriteCommand).rejects(cancelled('TransactionConflict', 'None', 'None'));

      // Act
      const error = await rejectionOf(
        ledger.recordPending({
          secretArn: ARN,
          secretName: 'rotor/dev/ci-token',
          provider: 'managed-token',
          ...CURRENT,
          now: T0,
          expiresAt: Math.floor(T0 / 1000) + 86_400,
        }),
      );

      // Assess
      expect(error).toBeInstanceOf(LedgerContentionError);
      expect(dynamodb).toHaveReceivedCommandTimes(TransactWriteCommand, 3);
    });
  });

  describe('Constructor', () => {
    it('fails on an audit retention that is not a positive whole number of seconds', () => {
      // Act & Assess
      expect(
        () => new DynamoDbLedger({ client: new DynamoDBClient({}), tableName: 'ledger', auditRetentionSeconds: 0 }),
      ).toThrow(/auditRetentionSeconds must be a positive integer, got 0/);
    });
  });
});
