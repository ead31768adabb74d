import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import type { CredentialState } from '../../../lambda/core/ledger/ledger-records';
import type { handler as verifierHandler } from '../../../lambda/handlers/verifier';
import { fingerprinter, LEDGER_SECRET, PEPPER, tokenNumber } from '../helpers/ledger-harness';
import {
  httpApiV1Event,
  httpApiV2Event,
  METHOD_ARN,
  restRequestEvent,
  restTokenEvent,
  ROUTE_ARN,
  webSocketConnectEvent,
  WEBSOCKET_ARN,
} from '../fixtures/authorizer-events';
import { rejectionOf } from '../helpers/rejection';

const { arn: ARN, name: NAME } = LEDGER_SECRET;
const PEPPER_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor-internal/development/fingerprint-pepper-XyZ';
const ROTATION_FUNCTION = 'arn:aws:lambda:eu-west-1:123456789012:function:rotor-development-rotation';
const [CURRENT, PREVIOUS, UNKNOWN] = [tokenNumber(11), tokenNumber(12), tokenNumber(13)];

const policy = (effect: 'Allow' | 'Deny', resource: string) => ({
  Version: '2012-10-17',
  Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
});

interface EmfRecord {
  readonly _aws: { readonly CloudWatchMetrics: readonly { readonly Dimensions: readonly string[][] }[] };
  readonly [key: string]: unknown;
}

describe('Function: handler (verifier)', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  const dynamodb = mockClient(DynamoDBDocumentClient);
  const eventBridge = mockClient(EventBridgeClient);
  let handler: typeof verifierHandler;
  let items: Map<string, Record<string, unknown>>;
  let written: string;
  // Not reset between tests: the module loads the pepper once per container, for all of them.
  let pepperReads = 0;

  beforeAll(async () => {
    process.env.AWS_REGION = 'eu-west-1';
    process.env.ROTOR_STAGE = 'development';
    process.env.ROTOR_LEDGER_TABLE = 'rotor-development-ledger';
    process.env.ROTOR_PEPPER_SECRET_ARN = PEPPER_ARN;
    process.env.ROTOR_EVENT_BUS_NAME = 'rotor-development-events';
    delete process.env.POWERTOOLS_DEV;
    ({ handler } = await import('../../../lambda/handlers/verifier'));
  });

  beforeEach(() => {
    items = new Map();
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand, { SecretId: PEPPER_ARN }).callsFake(() => {
      pepperReads += 1;
      return Promise.resolve({ SecretString: PEPPER.toString() });
    });
    secretsManager.on(DescribeSecretCommand).resolves({
      ARN,
      Name: NAME,
      RotationLambdaARN: ROTATION_FUNCTION,
      VersionIdsToStages: { 'version-current': ['AWSCURRENT'] },
    });
    secretsManager.on(RotateSecretCommand).resolves({ ARN, VersionId: 'version-next' });
    dynamodb.reset();
    dynamodb.on(GetCommand).callsFake((input: { Key: { pk: string; sk: string } }) => ({
      Item: items.get(`${input.Key.pk}|${input.Key.sk}`),
    }));
    dynamodb.on(UpdateCommand).resolves({});
    dynamodb.on(PutCommand).resolves({});
    eventBridge.reset();
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
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
    secretsManager.restore();
    dynamodb.restore();
    eventBridge.restore();
  });

  /** A ledger item for `token` in `state`, and the secret's state item. */
  function inLedger(token: string, state: CredentialState, extra: Record<string, unknown> = {}): void {
    const fingerprint = fingerprinter.of(token);
    items.set(`TOKEN#${fingerprint}|TOKEN`, {
      pk: `TOKEN#${fingerprint}`,
      sk: 'TOKEN',
      kind: 'credential',
      fingerprint,
      secretArn: ARN,
      secretName: NAME,
      versionId: `version-${state}`,
      provider: 'managed-token',
      state,
      createdAt: Date.now() - 60_000,
      ...extra,
    });
  }

  function secretState(onReuse: string): void {
    items.set(`SECRET#${ARN}|STATE`, {
      pk: `SECRET#${ARN}`,
      sk: 'STATE',
      secretArn: ARN,
      secretName: NAME,
      generation: 2,
      status: 'active',
      onReuse,
      currentVersionId: 'version-current',
      currentFingerprint: fingerprinter.of(CURRENT),
      previousVersionId: 'version-previous',
      previousFingerprint: fingerprinter.of(PREVIOUS),
    });
  }

  function records(): Record<string, unknown>[] {
    return written
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
  const logLines = () => records().filter((record) => !('_aws' in record));
  const emfRecords = () => records().filter((record) => '_aws' in record) as EmfRecord[];

  it('allows the current token on a direct invocation with one consistent read, and emits no metric', async () => {
    // Prepare
    inLedger(CURRENT, 'current');

    // Act
    const response = await handler({ token: CURRENT });

    // Assess
    expect(response).toEqual({ allowed: true, reason: 'current', secretName: NAME, versionId: 'version-current' });
    expect(dynamodb.calls().map((call) => call.args[0].input)).toEqual([
      {
        TableName: 'rotor-development-ledger',
        Key: { pk: `TOKEN#${fingerprinter.of(CURRENT)}`, sk: 'TOKEN' },
        ConsistentRead: true,
      },
    ]);
    expect(logLines()).toEqual([
      expect.objectContaining({
        level: 'INFO',
        message: 'token verified',
        service: 'rotor-verifier',
        stage: 'development',
        allowed: true,
        reason: 'current',
        secretName: NAME,
        versionId: 'version-current',
      }),
    ]);
    expect(emfRecords()).toEqual([]);
  });

  it('loads the pepper once per container', async () => {
    // Prepare
    inLedger(CURRENT, 'current');

    // Act
    await handler({ token: CURRENT });
    await handler({ token: CURRENT });

    // Assess: whichever tests of this file ran before, they share the one load
    expect(pepperReads).toBe(1);
  });

  it.each([
    ['a wrong checksum', { token: `${CURRENT.slice(0, -1)}${CURRENT.endsWith('A') ? 'B' : 'A'}` }],
    ['no token', {}],
    ['a number', { token: 7 }],
    ['not an object', 'rtr_'],
  ])('denies %s as malformed without any AWS call', async (_label, event) => {
    // Act
    const response = await handler(event);

    // Assess
    expect(response).toEqual({ allowed: false, reason: 'malformed' });
    expect(dynamodb.calls()).toHaveLength(0);
    expect(secretsManager.calls()).toHaveLength(0);
    expect(logLines()).toEqual([expect.objectContaining({ allowed: false, reason: 'malformed' })]);
    expect(emfRecords()).toEqual([]);
  });

  it('denies an unknown token and emits UnknownToken with no dimension', async () => {
    // Act
    const response = await handler({ token: UNKNOWN });

    // Assess
    expect(response).toEqual({ allowed: false, reason: 'unknown' });
    const emf = emfRecords();
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ UnknownToken: 1 });
    expect(emf[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([]);
    expect(emf[0]).not.toHaveProperty('SecretName');
    expect(logLines()[0]).not.toHaveProperty('secretName');
  });

  it('allows the previous token in grace and emits GraceUse under its secret name', async () => {
    // Prepare
    inLedger(PREVIOUS, 'previous', { graceEndsAt: Date.now() + 60_000 });

    // Act
    const response = await handler({ token: PREVIOUS });

    // Assess
    expect(response).toMatchObject({ allowed: true, reason: 'grace', secretName: NAME });
    expect(emfRecords()).toEqual([
      expect.objectContaining({ SecretName: NAME, GraceUse: 1, _aws: expect.objectContaining({}) as unknown }),
    ]);
    expect(emfRecords()[0]!._aws.CloudWatchMetrics[0]!.Dimensions).toEqual([['SecretName']]);
    expect(dynamodb.commandCalls(PutCommand).map((call) => String(call.args[0].input.Item?.type))).toEqual([
      'grace-used',
    ]);
  });

  it('denies a token after its grace as reuse: ReuseDetected, one EventBridge event, and the incident logged', async () => {
    // Prepare
    inLedger(PREVIOUS, 'previous', { graceEndsAt: Date.now() - 1 });
    secretState('alert-only');

    // Act
    const response = await handler({ token: PREVIOUS });

    // Assess
    expect(response).toEqual({
      allowed: false,
      reason: 'reuse',
      secretName: NAME,
      versionId: 'version-previous',
      incidentOpened: true,
    });
    expect(emfRecords()).toEqual([expect.objectContaining({ SecretName: NAME, ReuseDetected: 1 })]);
    const entries = eventBridge.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries);
    expect(entries).toEqual([
      [
        expect.objectContaining({
          EventBusName: 'rotor-development-events',
          Source: 'rotor',
          DetailType: 'Token Reuse Detected',
        }),
      ],
    ]);
    expect(logLines()).toEqual([expect.objectContaining({ reason: 'reuse', incidentOpened: true })]);
    expect(secretsManager).not.toHaveReceivedCommand(RotateSecretCommand);
  });

  it('revokes the family and starts a rotation for a retired token of a revoke-and-rotate secret', async () => {
    // Prepare
    inLedger(PREVIOUS, 'retired', { graceEndsAt: Date.now() - 60_000 });
    inLedger(CURRENT, 'current');
    secretState('revoke-and-rotate');

    // Act
    const response = await handler({ token: PREVIOUS });

    // Assess
    expect(response).toMatchObject({ allowed: false, reason: 'reuse', incidentOpened: true });
    expect(secretsManager).toHaveReceivedCommandTimes(RotateSecretCommand, 1);
    expect(secretsManager).toHaveReceivedCommandWith(RotateSecretCommand, { SecretId: ARN, RotateImmediately: true });
    const revoked = dynamodb
      .commandCalls(UpdateCommand)
      .filter((call) => String(call.args[0].input.UpdateExpression).includes('revokedAt'))
      .map((call) => call.args[0].input.Key?.pk as string);
    expect(revoked.sort()).toEqual(
      [`TOKEN#${fingerprinter.of(CURRENT)}`, `TOKEN#${fingerprinter.of(PREVIOUS)}`].sort(),
    );
  });

  it('denies a revoked token as revoked and counts it as ReuseDetected', async () => {
    // Prepare
    inLedger(CURRENT, 'revoked');
    secretState('revoke-and-rotate');

    // Act
    const response = await handler({ token: CURRENT });

    // Assess
    expect(response).toMatchObject({ allowed: false, reason: 'revoked' });
    expect(emfRecords()).toEqual([expect.objectContaining({ SecretName: NAME, ReuseDetected: 1 })]);
    expect(secretsManager).not.toHaveReceivedCommand(RotateSecretCommand);
  });

  it('answers an HTTP API 2.0 authorizer with the simple response and the IAM policy on the route ARN', async () => {
    // Prepare
    inLedger(CURRENT, 'current');

    // Act
    const responses = [
      await handler(httpApiV2Event({ authorization: `Bearer ${CURRENT}` })),
      await handler(httpApiV2Event({})),
    ];

    // Assess
    expect(responses).toEqual([
      {
        isAuthorized: true,
        principalId: NAME,
        policyDocument: policy('Allow', ROUTE_ARN),
        context: { reason: 'current', secretName: NAME },
      },
      {
        isAuthorized: false,
        principalId: 'unknown',
        policyDocument: policy('Deny', ROUTE_ARN),
        context: { reason: 'malformed' },
      },
    ]);
  });

  it.each([
    ['REST API TOKEN', (header: string) => restTokenEvent(header), METHOD_ARN],
    ['REST API REQUEST', (header: string) => restRequestEvent({ Authorization: header }), METHOD_ARN],
    ['HTTP API payload 1.0', (header: string) => httpApiV1Event({ Authorization: header }), METHOD_ARN],
    ['WebSocket $connect', (header: string) => webSocketConnectEvent({ Authorization: header }), WEBSOCKET_ARN],
  ])('answers a %s authorizer with an Allow or Deny policy on its method ARN', async (_label, event, arn) => {
    // Prepare
    inLedger(CURRENT, 'current');

    // Act
    const allowed = await handler(event(`Bearer ${CURRENT}`));
    const denied = await handler(event(`Bearer ${UNKNOWN}`));

    // Assess
    expect(allowed).toEqual({
      principalId: NAME,
      policyDocument: policy('Allow', arn),
      context: { reason: 'current', secretName: NAME },
    });
    expect(denied).toEqual({
      principalId: 'unknown',
      policyDocument: policy('Deny', arn),
      context: { reason: 'unknown' },
    });
  });

  it('passes on a ledger failure, which denies the request', async () => {
    // Prepare
    const failure = new Error('ProvisionedThroughputExceededException');
    dynamodb.on(GetCommand).rejects(failure);

    // Act
    const error = await rejectionOf(handler({ token: CURRENT }));

    // Assess
    expect(error).toBe(failure);
    expect(written).not.toContain(CURRENT);
  });

  it('keeps every token out of its answers, logs, metrics, events and ledger writes', async () => {
    // Prepare
    inLedger(CURRENT, 'current');
    inLedger(PREVIOUS, 'retired', { graceEndsAt: Date.now() - 60_000 });
    secretState('revoke-and-rotate');

    // Act
    const responses = [
      await handler({ token: CURRENT }),
      await handler({ token: PREVIOUS }),
      await handler({ token: UNKNOWN }),
      await handler(restTokenEvent(`Bearer ${CURRENT}`)),
      await handler(httpApiV2Event({ authorization: `Bearer ${PREVIOUS}` })),
      await handler(restRequestEvent({ Authorization: `Bearer ${UNKNOWN}` })),
    ];

    // Assess
    const sent = JSON.stringify([
      responses,
      dynamodb.calls().map((call) => call.args[0].input),
      eventBridge.calls().map((call) => call.args[0].input),
    ]);
    for (const token of [CURRENT, PREVIOUS, UNKNOWN]) {
      expect(sent).not.toContain(token);
      expect(written).not.toContain(token);
    }
  });
});
