import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  InvalidRotationEventError,
  MalformedSecretError,
  RotationNotAllowedError,
  RotationThrottledError,
} from '../../../lambda/core/errors';
import { isWellFormedManagedToken } from '../../../lambda/core/providers/managed-token/managed-token-format';
import { ROTATION_STEPS, type RotationStep } from '../../../lambda/core/rotation/rotation-event';
import type { handler as rotationHandler } from '../../../lambda/handlers/rotation';
import { SecretsManagerSimulation } from '../fakes/secrets-manager-simulation';
import { rejectionOf } from '../helpers/rejection';
import { CURRENT_TOKEN, loadEvent, managedTokenDocument, ROTATION_TOKEN } from '../helpers/rotation-harness';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123';
const NAME = 'rotor/dev/ci-token';
const PENDING_TOKEN = 'rtr_85paEWcHsaLCYRbPIpw4jhcJNV56UuFl5TIPa3K9PAw26u7MF';
const PEPPER_ARN =
  'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor-internal/development/fingerprint-pepper-XyZ789';

interface LogLine {
  readonly level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}

interface EmfRecord {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

describe('Function: handler (rotation)', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  // The ledger and the retirement schedules answer like empty, healthy services; their own
  // behaviour is tested against moto (test/integration).
  const dynamodb = mockClient(DynamoDBDocumentClient);
  const scheduler = mockClient(SchedulerClient);
  let handler: typeof rotationHandler;
  let written: string;

  beforeAll(async () => {
    process.env.AWS_REGION = 'eu-west-1';
    process.env.ROTOR_STAGE = 'development';
    process.env.ROTOR_SECRET_NAME_PREFIX = 'rotor/dev/';
    process.env.ROTOR_LEDGER_TABLE = 'rotor-development-ledger';
    process.env.ROTOR_PEPPER_SECRET_ARN = PEPPER_ARN;
    process.env.ROTOR_SCHEDULE_GROUP = 'rotor-development';
    process.env.ROTOR_RETIRE_FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:rotor-development-retire';
    process.env.ROTOR_SCHEDULER_ROLE_ARN = 'arn:aws:iam::123456789012:role/rotor-development-scheduler';
    process.env.ROTOR_EVENT_BUS_NAME = 'default';
    delete process.env.POWERTOOLS_DEV;
    // The module builds its client and version cache once, as a Lambda container does: every
    // test below uses fresh version ids, so nothing one test cached can answer another.
    ({ handler } = await import('../../../lambda/handlers/rotation'));
  });

  beforeEach(() => {
    secretsManager.reset();
    dynamodb.reset();
    dynamodb.onAnyCommand().resolves({});
    scheduler.reset();
    scheduler.onAnyCommand().resolves({});
    written = '';
    // Powertools writes JSON lines to stdout (info) and stderr (error) through its own Console.
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
    scheduler.restore();
  });

  function records(): Record<string, unknown>[] {
    return written
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }
  const logLines = (): LogLine[] => records().filter((record) => !('_aws' in record)) as LogLine[];
  const emfRecords = (): EmfRecord[] => records().filter((record) => '_aws' in record) as EmfRecord[];

  /** A secret mid-rotation, behind the mocked client, with fresh version ids. */
  function secretMidRotation(currentValue = JSON.stringify(managedTokenDocument())): {
    simulation: SecretsManagerSimulation;
    current: string;
    pending: string;
  } {
    const current = randomUUID();
    const pending = randomUUID();
    const simulation = new SecretsManagerSimulation(ARN, NAME)
      .addVersion(current, currentValue, ['AWSCURRENT'])
      .addVersion(pending, undefined, ['AWSPENDING'])
      .install(secretsManager);
    secretsManager.on(GetSecretValueCommand, { SecretId: PEPPER_ARN }).resolves({ SecretString: 'p'.repeat(64) });
    return { simulation, current, pending };
  }

  function eventFor(step: RotationStep, pending: string): Record<string, unknown> {
    return { ...loadEvent(step), ClientRequestToken: pending };
  }

  it('drives a full rotation through the four steps with the right SDK calls', async () => {
    // Prepare
    const { simulation, current, pending } = secretMidRotation();

    // Act
    for (const step of ROTATION_STEPS) await handler(eventFor(step, pending));

    // Assess
    expect(secretsManager).toHaveReceivedCommandTimes(DescribeSecretCommand, 4);
    expect(secretsManager).toHaveReceivedCommandWith(DescribeSecretCommand, { SecretId: ARN });
    // Before createSecret writes, the ledger's check reads AWSCURRENT (a first rotation: the ledger
    // knows no current version yet); createSecret finds the pending version empty; the later steps
    // reuse the values, from the cache.
    // (The fingerprint pepper is read at most once per container, for the ledger.)
    const reads = secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input);
    expect(reads.filter((input) => input.SecretId === ARN)).toEqual([
      { SecretId: ARN, VersionId: current, VersionStage: 'AWSCURRENT' },
      { SecretId: ARN, VersionId: pending, VersionStage: 'AWSPENDING' },
    ]);
    expect(reads.filter((input) => input.SecretId === PEPPER_ARN).length).toBeLessThanOrEqual(1);
    const puts = secretsManager.commandCalls(PutSecretValueCommand);
    expect(puts).toHaveLength(1);
    const putInput = puts[0]!.args[0].input;
    expect(putInput).toEqual({
      SecretId: ARN,
      ClientRequestToken: pending,
      SecretString: expect.any(String) as unknown,
      VersionStages: ['AWSPENDING'],
      RotationToken: ROTATION_TOKEN,
    });
    const stored = JSON.parse(putInput.SecretString!) as Record<string, unknown>;
    expect(stored).toMatchObject({ provider: 'managed-token', schemaVersion: 1, owner: 'platform-team' });
    expect(isWellFormedManagedToken(stored.token)).toBe(true);
    expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: pending, RemoveFromVersionId: current },
    ]);
    expect(simulation.stages[pending]).toEqual(['AWSPENDING', 'AWSCURRENT']);
    expect(simulation.stages[current]).toEqual(['AWSPREVIOUS']);
  });

  it('logs one line per step, with the stage and the step, and never a token or the RotationToken', async () => {
    // Prepare
    const { pending } = secretMidRotation();

    // Act
    for (const step of ROTATION_STEPS) await handler(eventFor(step, pending));

    // Assess
    const lines = logLines();
    expect(lines).toEqual(
      ROTATION_STEPS.map(
        (step, index) =>
          expect.objectContaining({
            level: 'INFO',
            message: 'rotation step completed',
            service: 'rotor-rotation',
            stage: 'development',
            step,
            secretId: ARN,
            versionId: pending,
            secretName: NAME,
            outcome: ['created', 'nothing-to-set', 'tested', 'promoted'][index],
            provider: 'managed-token',
          }) as unknown,
      ),
    );
    const newToken = (
      JSON.parse(secretsManager.commandCalls(PutSecretValueCommand)[0]!.args[0].input.SecretString!) as {
        token: string;
      }
    ).token;
    expect(written).not.toContain(newToken);
    expect(written).not.toContain(CURRENT_TOKEN);
    expect(written).not.toContain(ROTATION_TOKEN);
  });

  it('counts a routine rotation under the Stage dimension only: step latency on every step, RotationSucceeded on finish', async () => {
    // Prepare
    const { pending } = secretMidRotation();

    // Act
    for (const step of ROTATION_STEPS) await handler(eventFor(step, pending));

    // Assess: nothing under the secret's name, which would cost a custom metric per secret
    const emf = emfRecords();
    expect(emf).toHaveLength(4);
    for (const record of emf) {
      expect(record._aws.CloudWatchMetrics).toEqual([
        expect.objectContaining({ Namespace: 'Rotor', Dimensions: [['Stage']] }) as unknown,
      ]);
      expect(record.Stage).toBe('development');
      expect(record).not.toHaveProperty('SecretName');
      expect(record).not.toHaveProperty('service');
      expect(record.RotationStepLatency).toEqual(expect.any(Number));
      expect(record).not.toHaveProperty('RotationFailed');
    }
    expect(emf.map((record) => record.RotationSucceeded)).toEqual([undefined, undefined, undefined, 1]);
    expect(emf[3]!._aws.CloudWatchMetrics[0]!.Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'RotationSucceeded', Unit: 'Count' },
        { Name: 'RotationStepLatency', Unit: 'Milliseconds' },
      ]),
    );
  });

  it.each([
    ['Secrets Manager', 'ThrottlingException', 400],
    ['Secrets Manager', 'TooManyRequestsException', 400],
    ['any service, with an HTTP 429', 'SomeServiceError', 429],
  ])(
    'fails a step that %s kept throttling (%s) with a clear throttled error, counted under the stage and never as RotationFailed',
    async (_service, name, status) => {
      // Prepare: PutSecretValue stays throttled after the SDK's retries
      const { pending } = secretMidRotation();
      const throttled = Object.assign(new Error('Rate exceeded'), { name, $metadata: { httpStatusCode: status } });
      secretsManager.on(PutSecretValueCommand).rejects(throttled);

      // Act
      const error = await rejectionOf(handler(eventFor('createSecret', pending)));

      // Assess
      expect(error).toBeInstanceOf(RotationThrottledError);
      expect(error.message).toBe(
        `createSecret of ${NAME} was throttled by AWS 6 times in a row; nothing is lost and the step is safe to run again, which Secrets Manager does when it retries the rotation`,
      );
      expect(error.cause).toBe(throttled);
      const emf = emfRecords();
      expect(emf).toEqual([expect.objectContaining({ Stage: 'development', RotationThrottled: 1 }) as unknown]);
      expect(emf[0]).not.toHaveProperty('RotationFailed');
      expect(emf[0]).not.toHaveProperty('SecretName');
      expect(logLines()).toEqual([
        expect.objectContaining({ level: 'WARN', message: 'rotation step throttled', step: 'createSecret' }) as unknown,
      ]);
    },
  );

  it('returns without a stage move when Secrets Manager retries a finished rotation', async () => {
    // Prepare
    const { pending } = secretMidRotation();
    for (const step of ROTATION_STEPS) await handler(eventFor(step, pending));
    secretsManager.resetHistory();
    written = '';

    // Act
    await handler(eventFor('finishSecret', pending));

    // Assess
    expect(secretsManager).toHaveReceivedCommandTimes(DescribeSecretCommand, 1);
    expect(secretsManager).not.toHaveReceivedCommand(UpdateSecretVersionStageCommand);
    expect(logLines()).toEqual([expect.objectContaining({ outcome: 'already-current' }) as unknown]);
    expect(emfRecords()[0]).not.toHaveProperty('RotationSucceeded');
  });

  it.each([
    ['an unknown Step', { Step: 'rotateSecret' }],
    ['a bad ClientRequestToken', { ClientRequestToken: 'not-a-version' }],
    ['a missing SecretId', { SecretId: undefined }],
    ['an empty RotationToken', { RotationToken: '' }],
  ])('throws on an event with %s and makes no SDK call', async (_label, overrides) => {
    // Prepare
    const event = { ...loadEvent('createSecret'), ...overrides };

    // Act
    const error = await rejectionOf(handler(event));

    // Assess
    expect(error).toBeInstanceOf(InvalidRotationEventError);
    expect(secretsManager.calls()).toHaveLength(0);
    expect(logLines()).toEqual([
      expect.objectContaining({ level: 'ERROR', message: 'rejected rotation event' }) as unknown,
    ]);
    expect(emfRecords()).toEqual([]);
    expect(written).not.toContain(ROTATION_TOKEN);
  });

  it('throws on an event that is not an object and makes no SDK call', async () => {
    // Act
    const error = await rejectionOf(handler('createSecret'));

    // Assess
    expect(error).toBeInstanceOf(InvalidRotationEventError);
    expect(secretsManager.calls()).toHaveLength(0);
  });

  it('rethrows a failing step, logs it once without the secret value and emits RotationFailed', async () => {
    // Prepare: the pending value holds a token that fails its checksum
    const { simulation, pending } = secretMidRotation();
    const badToken = `${PENDING_TOKEN.slice(0, -1)}0`;
    simulation.addVersion(pending, JSON.stringify(managedTokenDocument({ token: badToken })), ['AWSPENDING']);

    // Act
    const error = await rejectionOf(handler(eventFor('testSecret', pending)));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(logLines()).toEqual([
      expect.objectContaining({
        level: 'ERROR',
        message: 'rotation step failed',
        step: 'testSecret',
        secretId: ARN,
        versionId: pending,
        stage: 'development',
      }) as unknown,
    ]);
    expect(written).not.toContain(badToken);
    expect(written).not.toContain(CURRENT_TOKEN);
    expect(written).not.toContain(ROTATION_TOKEN);
    const emf = emfRecords();
    expect(emf).toHaveLength(1);
    expect(emf[0]).toMatchObject({ SecretName: NAME, RotationFailed: 1 });
    expect(emf[0]!._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'Rotor', Dimensions: [['SecretName']] });
    expect(emf[0]).not.toHaveProperty('RotationSucceeded');
  });

  it('rethrows an SDK failure as it is and emits RotationFailed under the name from the ARN', async () => {
    // Prepare
    const failure = new InternalServiceError({ message: 'An error occurred on the server side.', $metadata: {} });
    secretsManager.on(DescribeSecretCommand).rejects(failure);

    // Act
    const error = await rejectionOf(handler(eventFor('createSecret', randomUUID())));

    // Assess
    expect(error).toBe(failure);
    expect(emfRecords()).toEqual([expect.objectContaining({ SecretName: NAME, RotationFailed: 1 }) as unknown]);
  });

  it('refuses a secret outside ROTOR_SECRET_NAME_PREFIX before reading or writing it', async () => {
    // Prepare
    const pending = randomUUID();
    new SecretsManagerSimulation(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/prod/ci-token-XyZ789',
      'rotor/prod/ci-token',
    )
      .addVersion(randomUUID(), JSON.stringify(managedTokenDocument()), ['AWSCURRENT'])
      .addVersion(pending, undefined, ['AWSPENDING'])
      .install(secretsManager);
    secretsManager.on(GetSecretValueCommand, { SecretId: PEPPER_ARN }).resolves({ SecretString: 'p'.repeat(64) });
    const event = {
      ...eventFor('createSecret', pending),
      SecretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/prod/ci-token-XyZ789',
    };

    // Act
    const error = await rejectionOf(handler(event));

    // Assess
    expect(error).toBeInstanceOf(RotationNotAllowedError);
    expect(secretsManager.calls().map((call) => call.args[0].constructor.name)).toEqual(['DescribeSecretCommand']);
    expect(emfRecords()).toEqual([
      expect.objectContaining({ SecretName: 'rotor/prod/ci-token', RotationFailed: 1 }) as unknown,
    ]);
  });

  it('does not carry one invocation’s keys into the next log line', async () => {
    // Prepare
    const { pending } = secretMidRotation();
    await handler(eventFor('createSecret', pending));
    written = '';

    // Act
    await rejectionOf(handler({ Step: 'nope' }));

    // Assess
    const [line] = logLines();
    expect(line).toMatchObject({ message: 'rejected rotation event', stage: 'development' });
    expect(line).not.toHaveProperty('step');
    expect(line).not.toHaveProperty('versionId');
    expect(line).not.toHaveProperty('secretId');
  });
});
