import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { handler as retireHandler } from '../../../lambda/handlers/retire';
import { fingerprinter, LEDGER_SECRET, tokenNumber } from '../helpers/ledger-harness';
import { rejectionOf } from '../helpers/rejection';

const { arn: ARN, name: NAME } = LEDGER_SECRET;
const OTHER = { arn: `${ARN}-other`, name: 'rotor/dev/other-token' };
const [FIRST, SECOND] = [fingerprinter.of(tokenNumber(21)), fingerprinter.of(tokenNumber(22))];

function previousItem(fingerprint: string, secret = LEDGER_SECRET, state = 'previous'): Record<string, unknown> {
  return {
    pk: `TOKEN#${fingerprint}`,
    sk: 'TOKEN',
    kind: 'credential',
    fingerprint,
    secretArn: secret.arn,
    secretName: secret.name,
    versionId: `version-${fingerprint.slice(0, 4)}`,
    provider: 'managed-token',
    state,
    createdAt: Date.now() - 600_000,
    graceEndsAt: Date.now() - 60_000,
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
  };
}

describe('Function: handler (retire)', () => {
  const dynamodb = mockClient(DynamoDBDocumentClient);
  let handler: typeof retireHandler;
  let written: string;

  beforeAll(async () => {
    process.env.AWS_REGION = 'eu-west-1';
    process.env.ROTOR_STAGE = 'development';
    process.env.ROTOR_LEDGER_TABLE = 'rotor-development-ledger';
    process.env.ROTOR_SECRET_NAME_PREFIX = 'rotor/dev/';
    delete process.env.POWERTOOLS_DEV;
    ({ handler } = await import('../../../lambda/handlers/retire'));
  });

  beforeEach(() => {
    dynamodb.reset();
    dynamodb.on(UpdateCommand).resolves({});
    dynamodb.on(PutCommand).resolves({});
    dynamodb.on(GetCommand).callsFake((input: { Key: { pk: string } }) => ({
      Item: [previousItem(FIRST, LEDGER_SECRET, 'retired'), previousItem(SECOND, OTHER, 'retired')].find(
        (item) => item.pk === input.Key.pk,
      ),
    }));
    written = '';
    const capture = (chunk: unknown): boolean => {
      written += String(chunk);
      return true;
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  afterAll(() => {
    dynamodb.restore();
  });

  function records(): Record<string, unknown>[] {
    return written
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
  const logLines = () => records().filter((record) => !('_aws' in record));
  const emfRecords = () => records().filter((record) => '_aws' in record);

  it('retires the credential a one-time schedule names and emits CredentialRetired under its secret', async () => {
    // Act
    const result = await handler({ secretArn: ARN, versionId: 'version-1', fingerprint: FIRST });

    // Assess
    expect(result).toEqual({ retired: 1 });
    expect(dynamodb).toHaveReceivedCommandWith(UpdateCommand, {
      TableName: 'rotor-development-ledger',
      Key: { pk: `TOKEN#${FIRST}`, sk: 'TOKEN' },
    });
    expect(dynamodb.commandCalls(PutCommand).map((call) => String(call.args[0].input.Item?.type))).toEqual(['retired']);
    expect(emfRecords()).toEqual([expect.objectContaining({ SecretName: NAME, CredentialRetired: 1 })]);
    expect(logLines()).toEqual([
      expect.objectContaining({
        message: 'retirement done',
        service: 'rotor-retire',
        outcome: 'retired',
        secretArn: ARN,
        versionId: 'version-1',
      }),
    ]);
  });

  it('answers retired 0, emitting nothing, when the grace has not ended yet', async () => {
    // Prepare: the conditional write fails and returns the item, still previous
    dynamodb.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'The conditional request failed',
        $metadata: {},
        Item: marshall({ ...previousItem(FIRST), graceEndsAt: Date.now() + 60_000 }),
      }),
    );

    // Act
    const result = await handler({ secretArn: ARN, versionId: 'version-1', fingerprint: FIRST });

    // Assess
    expect(result).toEqual({ retired: 0 });
    expect(emfRecords()).toEqual([]);
    expect(logLines()).toEqual([expect.objectContaining({ outcome: 'not-due' })]);
  });

  it('sweeps every overdue credential, emitting CredentialRetired per secret', async () => {
    // Prepare
    dynamodb.on(QueryCommand).resolves({ Items: [previousItem(FIRST), previousItem(SECOND, OTHER)] });

    // Act
    const result = await handler({ sweep: true });

    // Assess
    expect(result).toEqual({ retired: 2 });
    expect(dynamodb).toHaveReceivedCommandWith(QueryCommand, {
      TableName: 'rotor-development-ledger',
      IndexName: 'previous-by-grace-end',
    });
    expect(emfRecords()).toEqual([
      expect.objectContaining({ SecretName: NAME, CredentialRetired: 1 }),
      expect.objectContaining({ SecretName: OTHER.name, CredentialRetired: 1 }),
    ]);
    expect(logLines()).toEqual([expect.objectContaining({ message: 'retirement sweep done', retired: 2 })]);
  });

  it.each([
    ['a sweep flag that is not true', { sweep: 'true' }],
    ['null', null],
    ['a string', 'sweep'],
  ])('throws on an event with %s, without touching the ledger', async (_label, event) => {
    // Act
    const error = await rejectionOf(handler(event));

    // Assess
    expect(error.message).toBe('retire event must be {"sweep": true} or {"secretArn", "versionId", "fingerprint"}');
    expect(dynamodb.calls()).toHaveLength(0);
  });

  it.each([
    ['no fingerprint', { secretArn: ARN, versionId: 'version-1' }, 'fingerprint must be 64 lower-case hex digits'],
    [
      'an upper-case fingerprint',
      { secretArn: ARN, versionId: 'version-1', fingerprint: FIRST.toUpperCase() },
      'fingerprint',
    ],
    ['no secret ARN', { versionId: 'version-1', fingerprint: FIRST }, 'secretArn must be a Secrets Manager secret ARN'],
    ['a secret name for the ARN', { secretArn: NAME, versionId: 'version-1', fingerprint: FIRST }, 'secretArn'],
    [
      'an ARN of 2,049 characters',
      { secretArn: `${ARN}${'a'.repeat(2049 - ARN.length)}`, versionId: 'v', fingerprint: FIRST },
      'secretArn',
    ],
    [
      'an ARN with a line break',
      { secretArn: `${ARN}\n{"level":"ERROR"}`, versionId: 'v', fingerprint: FIRST },
      'secretArn',
    ],
    [
      'a non-string version id',
      { secretArn: ARN, versionId: 7, fingerprint: FIRST },
      'versionId must be a secret version id',
    ],
    ['a version id of 65 characters', { secretArn: ARN, versionId: 'v'.repeat(65), fingerprint: FIRST }, 'versionId'],
  ])(
    'refuses a retirement request with %s in one line, without touching the ledger or logging it',
    async (_label, event, message) => {
      // Act
      const error = await rejectionOf(handler(event));

      // Assess
      expect(error.message).toContain(`retire event ${message}`);
      expect(error.message).not.toContain('\n');
      expect(dynamodb.calls()).toHaveLength(0);
      expect(logLines()).toEqual([]);
    },
  );

  it('throws on a token where the fingerprint belongs, without touching the ledger or echoing it', async () => {
    // Prepare
    const token = tokenNumber(21);

    // Act
    const error = await rejectionOf(handler({ secretArn: ARN, versionId: 'version-1', fingerprint: token }));

    // Assess
    expect(error.message).not.toContain(token);
    expect(dynamodb.calls()).toHaveLength(0);
    expect(written).not.toContain(token);
  });
});
