import { invokeBundleConcurrently } from '../../cli/local/invoke-bundle';
import { beginRotation } from '../../cli/local/local-rotation';
import { ROTATION_STEPS } from '../../lambda/core/rotation/rotation-event';
import type { Verdict } from '../../lambda/core/verifier/verdict';
import { LambdaBundle } from '../../lambda/shared/rotor-constants';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';

// A burst of rotations while Secrets Manager throttles half of its write calls, end to end: the
// bundled rotation function (its SDK clients and their backoff) against moto behind the proxy,
// which enforces the function's IAM policies and answers every second PutSecretValue /
// UpdateSecretVersionStage with ThrottlingException, as a region over its write quota would.

const SECRETS = 10;
const SECRETS_MANAGER_WRITES = ['secretsmanager.PutSecretValue', 'secretsmanager.UpdateSecretVersionStage'];
// Secrets Manager runs a failed rotation again; a step that stayed throttled is run again here too.
const ATTEMPTS_PER_STEP = 3;
const GRACE_SECONDS = 600;

let rotor: LocalRotor;
const arns: string[] = [];
const logs: string[] = [];

beforeAll(async () => {
  rotor = await startLocalRotor({ graceSeconds: GRACE_SECONDS });
  for (let index = 0; index < SECRETS; index += 1) {
    arns.push(
      await rotor.createSecret(`rotor/development/burst-${index}`, JSON.stringify({ provider: 'managed-token' })),
    );
  }
  // Each secret's first credential, before any throttling.
  await rotateAllAtOnce();
});

afterAll(async () => {
  await rotor?.stop();
});

/**
 * Starts a rotation of every secret, then runs each step for all of them at once in one warm
 * function (as concurrent invocations would), running a failed step again as Secrets Manager does.
 */
async function rotateAllAtOnce(): Promise<{ errors: string[] }> {
  const versions = await Promise.all(arns.map(async (arn) => (await beginRotation(rotor.local, arn)).versionId));
  const errors: string[] = [];
  for (const step of ROTATION_STEPS) {
    let pending = arns.map((arn, index) => ({ Step: step, SecretId: arn, ClientRequestToken: versions[index]! }));
    for (let attempt = 1; attempt <= ATTEMPTS_PER_STEP && pending.length > 0; attempt += 1) {
      const run = await invokeBundleConcurrently(LambdaBundle.rotation, pending, { env: rotor.local.env });
      logs.push(...run.logs);
      errors.push(...run.results.flatMap((result) => (result.ok ? [] : [result.error!.errorType])));
      pending = pending.filter((_event, index) => !run.results[index]!.ok);
    }
    if (pending.length > 0)
      throw new Error(`${step} still failing for ${pending.length} secrets: ${errors.join(', ')}`);
  }
  return { errors };
}

function emfRecords(): Record<string, unknown>[] {
  return logs
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function currentToken(arn: string): Promise<string> {
  return (JSON.parse((await rotor.valueAt(arn, 'AWSCURRENT'))!) as { token: string }).token;
}

describe('a burst of rotations while Secrets Manager throttles half of its write calls', () => {
  let before: { versionId: string; token: string }[];
  let burst: { errors: string[] };

  beforeAll(async () => {
    // GIVEN every secret with a current credential
    before = await Promise.all(
      arns.map(async (arn) => ({
        versionId: Object.entries(await rotor.labels(arn)).find(([, stages]) => stages.includes('AWSCURRENT'))![0],
        token: await currentToken(arn),
      })),
    );
    logs.length = 0;
    rotor.proxy.resetCounts();
    rotor.proxy.throttleEvery(SECRETS_MANAGER_WRITES, 2);

    // WHEN all of them rotate at once
    burst = await rotateAllAtOnce();
    rotor.proxy.throttleEvery([], 2);
  });

  it('was throttled: half of the write calls were refused', () => {
    const throttled = rotor.proxy.throttled();
    const writes = SECRETS_MANAGER_WRITES.reduce((sum, operation) => sum + (rotor.proxy.counts()[operation] ?? 0), 0);
    const refused = Object.values(throttled).reduce((sum, count) => sum + count, 0);
    expect(refused).toBeGreaterThanOrEqual(SECRETS);
    expect(refused).toBe(Math.floor(writes / 2));
    expect(rotor.proxy.refusals()).toEqual([]);
  });

  it('backs off and finishes every rotation; a step still throttled fails only as RotationThrottledError', () => {
    expect(burst.errors.filter((name) => name !== 'RotationThrottledError')).toEqual([]);
  });

  it('counts no failure, so nothing can alarm or roll back: no RotationFailed, no RollbackPerformed', () => {
    const records = emfRecords();
    expect(records.length).toBeGreaterThan(0);
    expect(records.filter((record) => 'RotationFailed' in record)).toEqual([]);
    expect(records.filter((record) => 'RollbackPerformed' in record)).toEqual([]);
    const succeeded = records
      .filter((record) => record.Stage === 'development')
      .reduce((sum, record) => sum + ((record.RotationSucceeded as number | undefined) ?? 0), 0);
    expect(succeeded).toBe(SECRETS);
  });

  it('loses no credential: each AWSCURRENT is a new token the ledger knows as current, the old one is in grace', async () => {
    const tokens = await Promise.all(arns.map(currentToken));
    const labels = await Promise.all(arns.map((arn) => rotor.labels(arn)));
    const verdicts = await rotor.verifyConcurrently([
      ...tokens.map((token) => ({ token })),
      ...before.map(({ token }) => ({ token })),
    ]);
    const [current, previous] = [
      verdicts.results.slice(0, SECRETS).map((result) => result.result as Verdict),
      verdicts.results.slice(SECRETS).map((result) => result.result as Verdict),
    ];
    arns.forEach((arn, index) => {
      expect({ arn, changed: tokens[index] !== before[index]!.token }).toEqual({ arn, changed: true });
      expect(labels[index]![before[index]!.versionId]).toEqual(['AWSPREVIOUS']);
      expect(current[index]).toMatchObject({ allowed: true, reason: 'current' });
      expect(previous[index]).toMatchObject({ allowed: true, reason: 'grace', versionId: before[index]!.versionId });
    });
  });

  it("counts Secrets Manager's RotationFailed event for a throttled rotation under the stage, not as the secret's failure", async () => {
    // GIVEN the event Secrets Manager puts when a rotation it retried was throttled
    const event = {
      source: 'aws.secretsmanager',
      'detail-type': 'AWS Service Event via CloudTrail',
      detail: {
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: 'RotationFailed',
        eventType: 'AwsServiceEvent',
        errorMessage: 'Rate exceeded during finishSecret step',
        additionalEventData: { SecretId: arns[0] },
      },
    };

    // WHEN
    const run = await rotor.rotationEvents(event);

    // THEN
    expect(run.result).toEqual({ counted: false, watched: true, throttled: true });
    const records = run.logs.filter((line) => line.includes('"_aws"')).map((line) => JSON.parse(line) as object);
    expect(records).toEqual([expect.objectContaining({ Stage: 'development', RotationThrottled: 1 })]);
    expect(records[0]).not.toHaveProperty('RotationFailed');
  });
});
