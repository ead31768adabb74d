import {
  DescribeSecretCommand,
  InvalidRequestException,
  RotateSecretCommand,
  SecretsManagerClient,
  type DescribeSecretCommandOutput,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SecretsManagerRotationStarter } from '../../../lambda/adapters/secrets-manager-rotation-starter';
import { rejectionOf } from '../helpers/rejection';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123';
const FUNCTION_ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:rotor-development-rotation';
const CURRENT = 'c0ffee00-1111-4222-8333-444455556666';
const PREVIOUS = 'b0ffee00-1111-4222-8333-444455556666';
const NEW_VERSION = 'd0ffee00-1111-4222-8333-444455556666';
const metadata = { $metadata: {} };

function described(overrides: Partial<DescribeSecretCommandOutput> = {}): Partial<DescribeSecretCommandOutput> {
  return {
    ARN,
    Name: 'rotor/dev/ci-token',
    RotationEnabled: true,
    RotationLambdaARN: FUNCTION_ARN,
    RotationRules: { AutomaticallyAfterDays: 1, ScheduleExpression: 'rate(4 hours)', Duration: '2h' },
    VersionIdsToStages: { [CURRENT]: ['AWSCURRENT'], [PREVIOUS]: ['AWSPREVIOUS'] },
    ...overrides,
  };
}

describe('Class: SecretsManagerRotationStarter', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  const starter = new SecretsManagerRotationStarter(new SecretsManagerClient({ region: 'eu-west-1' }));

  beforeEach(() => {
    secretsManager.reset();
    secretsManager.on(DescribeSecretCommand).resolves(described());
    secretsManager.on(RotateSecretCommand).resolves({ ARN, VersionId: NEW_VERSION });
  });

  afterAll(() => {
    secretsManager.restore();
  });

  it('starts a rotation now, restating the function and the schedule without AutomaticallyAfterDays', async () => {
    // Act
    const versionId = await starter.startRotation(ARN);

    // Assess
    expect(versionId).toBe(NEW_VERSION);
    expect(secretsManager).toHaveReceivedCommandWith(DescribeSecretCommand, { SecretId: ARN });
    expect(secretsManager.commandCalls(RotateSecretCommand).map((call) => call.args[0].input)).toEqual([
      {
        SecretId: ARN,
        RotationLambdaARN: FUNCTION_ARN,
        RotationRules: { ScheduleExpression: 'rate(4 hours)', Duration: '2h' },
        RotateImmediately: true,
      },
    ]);
  });

  it('restates a schedule expression without a window as it is', async () => {
    // Prepare
    secretsManager
      .on(DescribeSecretCommand)
      .resolves(described({ RotationRules: { AutomaticallyAfterDays: 1, ScheduleExpression: 'cron(0 6 * * ? *)' } }));

    // Act
    await starter.startRotation(ARN);

    // Assess
    expect(secretsManager.commandCalls(RotateSecretCommand)[0]!.args[0].input.RotationRules).toEqual({
      ScheduleExpression: 'cron(0 6 * * ? *)',
    });
  });

  it('restates rules given in days alone as they are', async () => {
    // Prepare
    secretsManager.on(DescribeSecretCommand).resolves(described({ RotationRules: { AutomaticallyAfterDays: 7 } }));

    // Act
    await starter.startRotation(ARN);

    // Assess
    expect(secretsManager.commandCalls(RotateSecretCommand)[0]!.args[0].input.RotationRules).toEqual({
      AutomaticallyAfterDays: 7,
    });
  });

  it('sends no rotation rules when the secret has none', async () => {
    // Prepare
    secretsManager.on(DescribeSecretCommand).resolves(described({ RotationRules: undefined }));

    // Act
    await starter.startRotation(ARN);

    // Assess
    expect(secretsManager.commandCalls(RotateSecretCommand)[0]!.args[0].input).toEqual({
      SecretId: ARN,
      RotationLambdaARN: FUNCTION_ARN,
      RotateImmediately: true,
    });
  });

  it('returns the pending version of a rotation already under way instead of starting another', async () => {
    // Prepare
    secretsManager.on(DescribeSecretCommand).resolves(
      described({
        VersionIdsToStages: { [CURRENT]: ['AWSCURRENT'], [NEW_VERSION]: ['AWSPENDING'], [PREVIOUS]: ['AWSPREVIOUS'] },
      }),
    );

    // Act
    const versionId = await starter.startRotation(ARN);

    // Assess
    expect(versionId).toBe(NEW_VERSION);
    expect(secretsManager).not.toHaveReceivedCommand(RotateSecretCommand);
  });

  it('starts a rotation when AWSPENDING is left on the current version by a finished one', async () => {
    // Prepare
    secretsManager
      .on(DescribeSecretCommand)
      .resolves(described({ VersionIdsToStages: { [CURRENT]: ['AWSCURRENT', 'AWSPENDING'] } }));

    // Act
    const versionId = await starter.startRotation(ARN);

    // Assess
    expect(versionId).toBe(NEW_VERSION);
    expect(secretsManager).toHaveReceivedCommandTimes(RotateSecretCommand, 1);
  });

  it.each([
    ['none', undefined],
    ['an empty one', ''],
  ])('refuses a secret with %s as its rotation function, without calling RotateSecret', async (_label, lambdaArn) => {
    // Prepare
    secretsManager.on(DescribeSecretCommand).resolves(described({ RotationLambdaARN: lambdaArn }));

    // Act
    const error = await rejectionOf(starter.startRotation(ARN));

    // Assess
    expect(error.message).toBe('secret rotor/dev/ci-token has no rotation function; cannot rotate it');
    expect(secretsManager).not.toHaveReceivedCommand(RotateSecretCommand);
  });

  it('fails when RotateSecret answers no version', async () => {
    // Prepare
    secretsManager.on(RotateSecretCommand).resolves({ ARN });

    // Act
    const error = await rejectionOf(starter.startRotation(ARN));

    // Assess
    expect(error.message).toBe(`RotateSecret on ${ARN} returned no version`);
  });

  it('passes on a RotateSecret failure as it is', async () => {
    // Prepare
    const failure = new InvalidRequestException({ message: 'A previous rotation isn’t complete.', ...metadata });
    secretsManager.on(RotateSecretCommand).rejects(failure);

    // Act
    const error = await rejectionOf(starter.startRotation(ARN));

    // Assess
    expect(error).toBe(failure);
  });
});
