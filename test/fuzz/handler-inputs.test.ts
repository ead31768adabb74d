import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { authorizerEvent, DOCUMENT_SECRETS, hostileDocument, mutate, SeededRandom } from './hostile-input';

// Malformed and hostile inputs to every Lambda handler, in process, with every AWS client mocked:
// each input must end in a clear one-line error, a deny or an "ignored", must not make a single
// write to Secrets Manager, DynamoDB, Scheduler, EventBridge or SNS, and must not let a secret
// value reach a thrown message or a log line. A smaller slice runs end to end against the
// emulator in handler-inputs-emulated.test.ts.

const SEED = 0x5eed_2026;
const PREFIX = 'rotor/development/';
const SECRET_NAME = `${PREFIX}fuzz`;
const SECRET_ARN = `arn:aws:secretsmanager:us-east-1:123456789012:secret:${SECRET_NAME}-AbCdEf`;
const PEPPER_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:rotor-internal/development/fingerprint-pepper-XyZ';
const CURRENT_ID = '11111111-1111-4111-8111-111111111111';
const PENDING_ID = '22222222-2222-4222-8222-222222222222';

/** Secret material: none of it may appear in an error message or a log line. */
const PEPPER = 'PEPPER-SENTINEL-'.padEnd(64, 'p');
const SENTINELS = [PEPPER, ...DOCUMENT_SECRETS];

const ENVIRONMENT: Record<string, string> = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'fuzz',
  AWS_SECRET_ACCESS_KEY: 'fuzz',
  ROTOR_STAGE: 'development',
  ROTOR_SECRET_NAME_PREFIX: PREFIX,
  ROTOR_LEDGER_TABLE: 'rotor-development-ledger',
  ROTOR_PEPPER_SECRET_ARN: PEPPER_ARN,
  ROTOR_RETIRE_FUNCTION_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotor-development-retire',
  ROTOR_SCHEDULER_ROLE_ARN: 'arn:aws:iam::123456789012:role/rotor-development-scheduler',
  ROTOR_SCHEDULE_GROUP: 'rotor-development',
  ROTOR_EVENT_BUS_NAME: 'default',
  ROTOR_ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:rotor-development-alerts',
  ROTOR_PROVIDER_ORIGINS: 'https://idp.example.com',
  POWERTOOLS_METRICS_NAMESPACE: 'Rotor',
};

/** Environment faults: one variable missing or garbage at a time. */
const ENVIRONMENT_FAULTS: readonly (readonly [string, string | undefined])[] = [
  ['ROTOR_STAGE', undefined],
  ['ROTOR_SECRET_NAME_PREFIX', undefined],
  ['ROTOR_SECRET_NAME_PREFIX', ''],
  ['ROTOR_LEDGER_TABLE', undefined],
  ['ROTOR_PEPPER_SECRET_ARN', undefined],
  ['ROTOR_SCHEDULE_GROUP', undefined],
  ['ROTOR_RETIRE_FUNCTION_ARN', ''],
  ['ROTOR_EVENT_BUS_NAME', undefined],
  ['ROTOR_ALERT_TOPIC_ARN', undefined],
  ['ROTOR_DEFAULT_GRACE_SECONDS', 'fifteen minutes'],
  ['ROTOR_REUSE_MEMORY_SECONDS', '-1'],
  ['ROTOR_AUDIT_RETENTION_SECONDS', '1.5'],
  ['ROTOR_MAX_ROLLBACK_ATTEMPTS', '0'],
  ['ROTOR_HEALTH_CHECK_CONCURRENCY', 'many'],
  ['ROTOR_SIDE_EFFECT_LEASE_SECONDS', 'NaN'],
  ['ROTOR_PROVIDER_ORIGINS', 'http://idp.example.com'],
  ['ROTOR_PROVIDER_ORIGINS', `https://idp.example.com/${DOCUMENT_SECRETS[0]}`],
  ['ROTOR_ALLOW_PRIVATE_ENDPOINTS', 'yes'],
];

/** Commands that change state: none may be sent. */
const WRITES = /^(Put|Update|Delete|Create|TransactWrite|BatchWrite|Publish|Rotate|Restore|Cancel|Tag|Untag)/;

/** What this file uses of each client mock. */
interface ClientMock {
  restore(): void;
  resetHistory(): void;
  calls(): readonly { readonly args: readonly unknown[] }[];
}
const mocks: ClientMock[] = [];
let logs: string[] = [];

function notFound(): Error {
  const error = new Error("Secrets Manager can't find the specified secret.");
  error.name = 'ResourceNotFoundException';
  return error;
}

beforeAll(() => {
  Object.assign(process.env, ENVIRONMENT);
  const secretsManager = mockClient(SecretsManagerClient);
  secretsManager.on(DescribeSecretCommand).resolves({
    ARN: SECRET_ARN,
    Name: SECRET_NAME,
    RotationEnabled: true,
    RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotor-development-rotation',
    VersionIdsToStages: { [CURRENT_ID]: ['AWSCURRENT'], [PENDING_ID]: ['AWSPENDING'] },
    Tags: [{ Key: 'rotor:stage', Value: 'development' }],
  });
  secretsManager
    .on(GetSecretValueCommand)
    .callsFake((input: { SecretId: string; VersionId?: string; VersionStage?: string }) => {
      if (input.SecretId === PEPPER_ARN) return Promise.resolve({ SecretString: PEPPER });
      if (input.VersionId === PENDING_ID || input.VersionStage === 'AWSPENDING') return Promise.reject(notFound());
      return Promise.resolve({
        ARN: SECRET_ARN,
        Name: SECRET_NAME,
        VersionId: CURRENT_ID,
        SecretString: currentDocument,
      });
    });
  secretsManager.on(ListSecretsCommand).resolves({ SecretList: [] });
  const documents = mockClient(DynamoDBDocumentClient);
  documents.on(GetCommand).resolves({});
  documents.on(QueryCommand).resolves({ Items: [] });
  documents.on(ScanCommand).resolves({ Items: [] });
  // The mocked table is empty: a write conditioned on an attribute's value fails there, as
  // DynamoDB would fail it, and changes nothing. Any other write is one the test counts.
  for (const command of [PutCommand, UpdateCommand, DeleteCommand, TransactWriteCommand]) {
    documents
      .on(command as never)
      .callsFake((input: unknown) =>
        failsOnEmptyTable(input) ? Promise.reject(conditionalCheckFailed()) : Promise.resolve({}),
      );
  }
  mocks.push(
    secretsManager,
    documents,
    mockClient(DynamoDBClient),
    mockClient(EventBridgeClient),
    mockClient(SchedulerClient),
    mockClient(SNSClient),
    mockClient(CloudWatchClient),
  );
  // Powertools writes its log lines and EMF records to stdout.
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    logs.push(String(chunk));
    return true;
  });
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    logs.push(String(chunk));
    return true;
  });
});

afterAll(() => {
  jest.restoreAllMocks();
  for (const mock of mocks) mock.restore();
});

/** The AWS value the rotation handler reads as AWSCURRENT; set per case. */
let currentDocument = '{}';

function conditionalCheckFailed(): Error {
  const error = new Error('The conditional request failed');
  error.name = 'ConditionalCheckFailedException';
  return error;
}

/** Whether a write is conditioned on an attribute's value (`#a = :v AND ...`), which no missing item satisfies. */
function failsOnEmptyTable(input: unknown): boolean {
  const conditionsOf = (write: unknown): unknown[] => {
    const { TransactItems } = write as { TransactItems?: Record<string, { ConditionExpression?: unknown }>[] };
    if (TransactItems !== undefined) {
      return TransactItems.map((item) => Object.values(item)[0]?.ConditionExpression);
    }
    return [(write as { ConditionExpression?: unknown }).ConditionExpression];
  };
  return conditionsOf(input).some(
    // `#state = :v0 AND ...`: the first conjunct alone fails on a missing item.
    (condition) => typeof condition === 'string' && /^#\w+ = :\w+(?:\s+AND\b|\s*$)/.test(condition),
  );
}

/** Names of the state-changing commands sent that the mocked world would have carried out. */
function writesSent(): string[] {
  return mocks.flatMap((mock) =>
    mock
      .calls()
      .map((call) => call.args[0] as { constructor: { name: string }; input?: unknown })
      .filter((command) => WRITES.test(command.constructor.name) && !failsOnEmptyTable(command.input))
      .map((command) => command.constructor.name),
  );
}

type Outcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly error: unknown };

async function run(handler: (event: unknown) => Promise<unknown>, event: unknown): Promise<Outcome> {
  for (const mock of mocks) mock.resetHistory();
  logs = [];
  try {
    return { ok: true, result: await handler(event) };
  } catch (error) {
    return { ok: false, error };
  }
}

const ALLOW = /"(allowed|isAuthorized)":true|"Effect":"Allow"/;

/** What every outcome must satisfy; `what` names the case in a failure. */
function assertSafe(outcome: Outcome, what: string): void {
  const writes = writesSent();
  expect({ what, writes }).toEqual({ what, writes: [] });
  if (!outcome.ok) {
    const message = outcome.error instanceof Error ? outcome.error.message : undefined;
    expect({ what, message: typeof message === 'string' && message.length > 0 }).toEqual({ what, message: true });
    expect({ what, oneLine: !message!.includes('\n') }).toEqual({ what, oneLine: true });
    for (const secret of SENTINELS)
      expect({ what, leaked: message!.includes(secret) }).toEqual({ what, leaked: false });
  } else {
    expect({ what, allowed: ALLOW.test(JSON.stringify(outcome.result ?? null)) }).toEqual({ what, allowed: false });
  }
  const logged = logs.join('');
  for (const secret of SENTINELS)
    expect({ what, loggedSecret: logged.includes(secret) }).toEqual({ what, loggedSecret: false });
}

type Handler = (event: unknown) => Promise<unknown>;
const HANDLERS: Record<string, () => Promise<{ handler: Handler }>> = {
  rotation: () => import('../../lambda/handlers/rotation'),
  'health-check': () => import('../../lambda/handlers/health-check'),
  rollback: () => import('../../lambda/handlers/rollback'),
  retire: () => import('../../lambda/handlers/retire'),
  'rotation-events': () => import('../../lambda/handlers/rotation-events'),
  verifier: () => import('../../lambda/handlers/verifier'),
};

/** A well-formed event of each handler, which the mutations start from. */
const BASE_EVENTS: Record<string, Record<string, unknown>> = {
  rotation: { Step: 'createSecret', SecretId: SECRET_ARN, ClientRequestToken: PENDING_ID, RotationToken: 'rt-token' },
  'health-check': {},
  rollback: {
    version: '0',
    source: 'aws.cloudwatch',
    account: '123456789012',
    region: 'us-east-1',
    'detail-type': 'CloudWatch Alarm State Change',
    resources: [
      'arn:aws:cloudwatch:us-east-1:123456789012:alarm:rotor-development-rotation-failures-rotor-development-fuzz',
    ],
    detail: {
      alarmName: 'rotor-development-rotation-failures-rotor-development-fuzz',
      state: { value: 'ALARM' },
      previousState: { value: 'OK' },
      configuration: { metrics: [{ metricStat: { metric: { dimensions: { SecretName: SECRET_NAME } } } }] },
    },
  },
  retire: { secretArn: SECRET_ARN, versionId: CURRENT_ID, fingerprint: 'f'.repeat(64) },
  'rotation-events': {
    source: 'aws.secretsmanager',
    'detail-type': 'AWS Service Event via CloudTrail',
    detail: { eventName: 'RotationFailed', additionalEventData: { SecretId: SECRET_ARN } },
  },
  verifier: { token: 'rtr_' + 'A'.repeat(49) },
};

const EVENTS_PER_HANDLER = 120;

describe('Fuzz: every handler, with every AWS client mocked', () => {
  const random = new SeededRandom(SEED);
  let cases = 0;

  afterAll(() => {
    // The floor: at least 1,000 hostile inputs in total (this file's share is counted here).
    expect(cases).toBeGreaterThanOrEqual(1_000);
  });

  it.each(Object.keys(HANDLERS))('%s: environment faults, then malformed events', async (name) => {
    const { handler } = await HANDLERS[name]!();
    // Faults first: a handler keeps the dependencies of its first good invocation.
    for (const [variable, value] of ENVIRONMENT_FAULTS) {
      const saved = process.env[variable];
      if (value === undefined) delete process.env[variable];
      else process.env[variable] = value;
      try {
        assertSafe(await run(handler, BASE_EVENTS[name]), `${name} with ${variable}=${String(value)}`);
      } finally {
        if (saved === undefined) delete process.env[variable];
        else process.env[variable] = saved;
      }
      cases += 1;
    }
    for (let i = 0; i < EVENTS_PER_HANDLER; i += 1) {
      currentDocument = hostileDocument(random);
      const event = mutate(random, BASE_EVENTS[name]!);
      assertSafe(await run(handler, event), `${name} event #${i}: ${JSON.stringify(event)?.slice(0, 300)}`);
      cases += 1;
    }
  });

  it('rotation: a well-formed event of every step against hostile secret documents', async () => {
    const { handler } = await HANDLERS.rotation!();
    const steps = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'];
    for (let i = 0; i < 200; i += 1) {
      currentDocument = hostileDocument(random);
      const event = { ...BASE_EVENTS.rotation, Step: steps[i % steps.length] };
      const outcome = await run(handler, event);
      assertSafe(outcome, `document #${i} at ${event.Step}: ${currentDocument.slice(0, 300)}`);
      cases += 1;
    }
  });

  it('verifier: hostile API Gateway authorizer events of every shape are denied or refused, never allowed', async () => {
    const { handler } = await HANDLERS.verifier!();
    for (let i = 0; i < 200; i += 1) {
      const event = mutate(random, authorizerEvent(random));
      const outcome = await run(handler, event);
      assertSafe(outcome, `authorizer event #${i}: ${JSON.stringify(event)?.slice(0, 300)}`);
      cases += 1;
    }
  });
});
