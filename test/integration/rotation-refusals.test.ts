import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { beginRotation, rotateLocally, LocalRotationFailedError } from '../../cli/local/local-rotation';
import { ROTATION_STEPS } from '../../lambda/core/rotation/rotation-event';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';

// Bad input gets a clear error and changes nothing: the current value stays, no pending
// value is written, no label moves. Checked through the bundled handler on moto.

let rotor: LocalRotor;
let secretCount = 0;

beforeAll(async () => {
  rotor = await startLocalRotor();
});

afterAll(async () => {
  await rotor?.stop();
});

beforeEach(() => {
  rotor.proxy.resetCounts();
});

const WRITES = ['secretsmanager.PutSecretValue', 'secretsmanager.UpdateSecretVersionStage'];

function writesMade(): number {
  const counts = rotor.proxy.counts();
  return WRITES.reduce((sum, operation) => sum + (counts[operation] ?? 0), 0);
}

describe('Foreign and malformed secrets', () => {
  const cases: [string, string, RegExp][] = [
    ['not JSON', 'hunter2-plain-password', /MalformedSecretError: secret .* \(AWSCURRENT\) is not valid JSON/],
    ['a JSON array', '["hunter2"]', /MalformedSecretError: .* is not a JSON object/],
    [
      'a foreign document without provider',
      '{"username":"ci","password":"hunter2"}',
      /MalformedSecretError: .* is not a Rotor document: field 'provider'/,
    ],
    [
      'another provider',
      '{"provider":"gitlab-token","token":"glpat-hunter2"}',
      /UnsupportedProviderError: .* names a provider this rotation function does not handle \(it handles: managed-token, oauth2-refresh-token, gitlab-access-token\)/,
    ],
    [
      'a token failing its checksum',
      '{"provider":"managed-token","token":"rtr_hunter2"}',
      /MalformedSecretError: .* field 'token': must be a Rotor token/,
    ],
    [
      'an unknown schema version',
      '{"provider":"managed-token","schemaVersion":7}',
      /MalformedSecretError: .* field 'schemaVersion': must be 1/,
    ],
  ];

  it.each(cases)('refuses %s and leaves it unchanged', async (_name, value, expected) => {
    // Prepare
    secretCount += 1;
    const arn = await rotor.createSecret(`rotor/development/foreign-${secretCount}`, value);
    const labelsBefore = await rotor.labels(arn);

    // Act
    const failure = await rotateLocally(rotor.local, arn, { maxAttempts: 2, retryDelayMs: 10 }).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(LocalRotationFailedError);
    const attempts = (failure as LocalRotationFailedError).attempts;
    // A refusal cannot succeed on retry: the rotation is not run again, and its empty AWSPENDING is removed.
    expect(attempts.map((a) => [a.step, a.ok])).toEqual([['createSecret', false]]);
    expect((failure as LocalRotationFailedError).permanent).toBe(true);
    expect((failure as LocalRotationFailedError).pendingRemoved).toBe(true);
    expect(Object.values(await rotor.labels(arn)).flat()).not.toContain('AWSPENDING');
    const error = attempts[0]!.error!;
    expect(`${error.errorType}: ${error.errorMessage}`).toMatch(expected);
    expect(error.errorMessage).not.toContain('hunter2');
    expect(attempts.flatMap((a) => a.logs).join('\n')).not.toContain('hunter2');
    expect(await rotor.valueAt(arn, 'AWSCURRENT')).toBe(value);
    expect(await rotor.valueAt(arn, 'AWSPENDING')).toBeUndefined();
    const labelsAfter = await rotor.labels(arn);
    for (const [version, stages] of Object.entries(labelsBefore)) expect(labelsAfter[version]).toEqual(stages);
    expect(writesMade()).toBe(0);
  });

  it('refuses to promote an empty pending version when finishSecret is invoked directly', async () => {
    // Prepare
    secretCount += 1;
    const arn = await rotor.createSecret(`rotor/development/foreign-${secretCount}`, '{"provider":"managed-token"}');
    const { versionId } = await beginRotation(rotor.local, arn);

    // Act
    const finish = await rotor.runStep('finishSecret', arn, versionId);

    // Assess
    expect(finish.ok).toBe(false);
    expect(finish.error?.errorType).toBe('UnexpectedVersionError');
    expect(finish.error?.errorMessage).toMatch(/holds no value yet; createSecret must run first/);
    expect((await rotor.labels(arn))[versionId]).toEqual(['AWSPENDING']);
    expect(await rotor.valueAt(arn, 'AWSCURRENT')).toBe('{"provider":"managed-token"}');
    expect(writesMade()).toBe(0);
  });
});

describe('Events and secrets the rotation function must refuse', () => {
  let arn: string;
  let versionId: string;

  beforeAll(async () => {
    arn = await rotor.createSecret('rotor/development/refusals', '{"provider":"managed-token"}');
    ({ versionId } = await beginRotation(rotor.local, arn));
  });

  it.each([
    [
      'an unknown step',
      { Step: 'deleteSecret' },
      /InvalidRotationEventError: rotation event has unknown Step "deleteSecret"/,
    ],
    ['a missing token', { ClientRequestToken: undefined }, /InvalidRotationEventError: .*ClientRequestToken/],
    ['an oversized SecretId', { SecretId: 'x'.repeat(5000) }, /InvalidRotationEventError: .*SecretId/],
    [
      'a token that is no version of the secret',
      { ClientRequestToken: '00000000-0000-4000-8000-000000000000' },
      /UnexpectedVersionError: version 00000000-0000-4000-8000-000000000000 is not a labelled version of secret rotor\/development\/refusals/,
    ],
  ])('refuses %s without writing anything', async (_name, override, expected) => {
    // Act
    const result = await rotor.runStep('createSecret', arn, versionId, override);

    // Assess
    expect(result.ok).toBe(false);
    expect(`${result.error?.errorType}: ${result.error?.errorMessage}`).toMatch(expected);
    expect(writesMade()).toBe(0);
    expect(await rotor.valueAt(arn, 'AWSPENDING')).toBeUndefined();
  });

  it('refuses a secret outside the stage prefix: its role has no grant on it, so nothing is read or written', async () => {
    // Prepare
    const foreignArn = await rotor.createSecret('other-team/app-token', '{"provider":"managed-token"}');
    const { versionId: foreignVersion } = await beginRotation(rotor.local, foreignArn);

    // Act
    const results = await Promise.all(ROTATION_STEPS.map((step) => rotor.runStep(step, foreignArn, foreignVersion)));

    // Assess: AWS refuses the first call (DescribeSecret) before the function's own prefix guard
    // (unit-tested) could; the emulator alone would have let the function read the secret.
    for (const result of results) {
      expect(result.error?.errorType).toBe('AccessDeniedException');
      expect(result.error?.errorMessage).toContain(
        `is not authorized to perform: secretsmanager:DescribeSecret on resource: ${foreignArn}`,
      );
    }
    expect(writesMade()).toBe(0);
    expect(new Set(rotor.proxy.refusals().map((refusal) => `${refusal.bundle} ${refusal.action}`))).toEqual(
      new Set(['rotation secretsmanager:DescribeSecret']),
    );
  });

  it('refuses a secret whose rotation is not enabled', async () => {
    // Prepare: RotateSecret without rules leaves rotation disabled on the emulator
    const disabledArn = await rotor.createSecret('rotor/development/disabled', '{"provider":"managed-token"}');
    const started = await rotor.secretsManager.send(
      new RotateSecretCommand({ SecretId: disabledArn, RotationLambdaARN: rotor.local.rotationFunctionArn }),
    );

    // Act
    const result = await rotor.runStep('createSecret', disabledArn, started.VersionId!);

    // Assess
    expect(result.error?.errorType).toBe('RotationNotAllowedError');
    expect(result.error?.errorMessage).toBe('secret rotor/development/disabled does not have rotation enabled');
    expect(writesMade()).toBe(0);
  });
});
