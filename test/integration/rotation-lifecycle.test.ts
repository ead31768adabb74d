import { beginRotation, outcomeFromLogs, rotateLocally, type StepAttempt } from '../../cli/local/local-rotation';
import { isWellFormedManagedToken } from '../../lambda/core/providers/managed-token/managed-token-format';
import { ROTATION_STEPS } from '../../lambda/core/rotation/rotation-event';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';

// The bundled rotation handler (dist/lambda/rotation/index.js), each invocation in its own
// process, against a moto server this file starts. Secrets are read with an explicit
// VersionStage (moto's unqualified GetSecretValue does not follow AWSCURRENT).

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

async function newManagedTokenSecret(initial = '{"provider":"managed-token"}'): Promise<string> {
  secretCount += 1;
  return rotor.createSecret(`rotor/development/lifecycle-${secretCount}`, initial);
}

function tokenIn(document: string | undefined): string {
  const parsed = JSON.parse(document ?? 'null') as { token?: unknown };
  if (typeof parsed.token !== 'string') throw new Error('document holds no token');
  return parsed.token;
}

describe('Rotation through the bundled handler', () => {
  it('issues a token on the first rotation and promotes it with one stage move', async () => {
    // Prepare
    const arn = await newManagedTokenSecret('{"provider":"managed-token","owner":"platform-team"}');
    const [originalVersion] = Object.keys(await rotor.labels(arn));

    // Act
    const result = await rotateLocally(rotor.local, arn);

    // Assess
    expect(result.attempts.map((a) => [a.step, a.ok, a.outcome])).toEqual([
      ['createSecret', true, 'created'],
      ['setSecret', true, 'nothing-to-set'],
      ['testSecret', true, 'tested'],
      ['finishSecret', true, 'promoted'],
    ]);
    const labels = await rotor.labels(arn);
    expect(labels[result.versionId]).toContain('AWSCURRENT');
    expect(labels[originalVersion!]).toEqual(['AWSPREVIOUS']);
    const current = JSON.parse((await rotor.valueAt(arn, 'AWSCURRENT'))!) as Record<string, unknown>;
    expect(current).toMatchObject({ provider: 'managed-token', schemaVersion: 1, owner: 'platform-team' });
    expect(isWellFormedManagedToken(current.token)).toBe(true);
    expect(await rotor.valueAt(arn, 'AWSPREVIOUS')).toBe('{"provider":"managed-token","owner":"platform-team"}');
    const counts = rotor.proxy.counts();
    expect(counts['secretsmanager.PutSecretValue']).toBe(1);
    expect(counts['secretsmanager.UpdateSecretVersionStage']).toBe(1);
  });

  it('keeps AWSCURRENT and AWSPREVIOUS right over a second and third rotation', async () => {
    // Prepare
    const arn = await newManagedTokenSecret();
    const tokens: string[] = [];
    const versions: string[] = [];

    // Act
    for (let rotation = 0; rotation < 3; rotation += 1) {
      const result = await rotateLocally(rotor.local, arn);
      versions.push(result.versionId);
      tokens.push(tokenIn(await rotor.valueAt(arn, 'AWSCURRENT')));
    }

    // Assess
    const labels = await rotor.labels(arn);
    expect(labels[versions[2]!]).toContain('AWSCURRENT');
    expect(labels[versions[1]!]).toEqual(['AWSPREVIOUS']);
    expect(labels[versions[0]!]).toBeUndefined();
    expect(new Set(tokens).size).toBe(3);
    expect(tokenIn(await rotor.valueAt(arn, 'AWSPREVIOUS'))).toBe(tokens[1]);
  });

  it('changes nothing when each step is invoked a second time', async () => {
    // Prepare
    const arn = await newManagedTokenSecret();
    const { versionId } = await beginRotation(rotor.local, arn);
    const outcomes: Record<string, [string | undefined, string | undefined]> = {};

    for (const step of ROTATION_STEPS) {
      // Act
      const first = await rotor.runStep(step, arn, versionId);
      const afterFirst = await snapshot(arn);
      const second = await rotor.runStep(step, arn, versionId);
      const afterSecond = await snapshot(arn);

      // Assess
      expect([step, first.ok, second.ok]).toEqual([step, true, true]);
      expect(afterSecond).toEqual(afterFirst);
      outcomes[step] = [outcomeFromLogs(first.logs), outcomeFromLogs(second.logs)];
    }
    expect(outcomes).toEqual({
      createSecret: ['created', 'already-created'],
      setSecret: ['nothing-to-set', 'nothing-to-set'],
      testSecret: ['tested', 'tested'],
      finishSecret: ['promoted', 'already-current'],
    });
    expect((await rotor.labels(arn))[versionId]).toContain('AWSCURRENT');
  });

  it('leaves exactly one pending value after two concurrent createSecret invocations, and promotes it', async () => {
    // Prepare
    const arn = await newManagedTokenSecret();
    const { versionId } = await beginRotation(rotor.local, arn);

    // Act
    const [first, second] = await Promise.all([
      rotor.runStep('createSecret', arn, versionId),
      rotor.runStep('createSecret', arn, versionId),
    ]);
    const pending = await rotor.valueAt(arn, 'AWSPENDING');
    for (const step of ['setSecret', 'testSecret', 'finishSecret'] as const) {
      expect((await rotor.runStep(step, arn, versionId)).ok).toBe(true);
    }

    // Assess
    expect([first.ok, second.ok]).toEqual([true, true]);
    const pendingVersions = Object.entries(await rotor.labels(arn)).filter(([, s]) => s.includes('AWSPENDING'));
    expect(pendingVersions.map(([id]) => id)).toEqual([versionId]);
    expect(isWellFormedManagedToken(tokenIn(pending))).toBe(true);
    expect(await rotor.valueAt(arn, 'AWSCURRENT')).toBe(pending);
  });

  it('retries a rotation whose testSecret failed, to success, with the token created the first time', async () => {
    // Prepare: Secrets Manager answers 503 to every try of testSecret's read (the SDK retries 3 times).
    const arn = await newManagedTokenSecret();

    // Act
    const result = await rotateLocally(rotor.local, arn, {
      retryDelayMs: 10,
      processPerStep: true,
      onStep: (attempt: StepAttempt) => {
        if (attempt.attempt === 1 && attempt.step === 'setSecret') {
          rotor.proxy.failNext('secretsmanager.GetSecretValue', 3);
        }
      },
    });

    // Assess
    expect(result.attempts.map((a) => [a.attempt, a.step, a.ok, a.outcome ?? a.error?.errorType])).toEqual([
      [1, 'createSecret', true, 'created'],
      [1, 'setSecret', true, 'nothing-to-set'],
      [1, 'testSecret', false, 'ServiceUnavailable'],
      [2, 'createSecret', true, 'already-created'],
      [2, 'setSecret', true, 'nothing-to-set'],
      [2, 'testSecret', true, 'tested'],
      [2, 'finishSecret', true, 'promoted'],
    ]);
    expect((await rotor.labels(arn))[result.versionId]).toContain('AWSCURRENT');
    // One write in all: the retry found the first attempt's token and promoted it.
    expect(rotor.proxy.counts()['secretsmanager.PutSecretValue']).toBe(1);
    expect(isWellFormedManagedToken(tokenIn(await rotor.valueAt(arn, 'AWSCURRENT')))).toBe(true);
  });
});

async function snapshot(arn: string) {
  return {
    labels: await rotor.labels(arn),
    current: await rotor.valueAt(arn, 'AWSCURRENT'),
    pending: await rotor.valueAt(arn, 'AWSPENDING'),
  };
}
