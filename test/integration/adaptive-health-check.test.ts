import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { rotateLocally } from '../../cli/local/local-rotation';
import { dueReason, type CheckCadence } from '../../lambda/core/health/check-cadence';
import type { HealthCheckSummary } from '../../lambda/core/health/run-health-check';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';
import { putSecretValueEvent } from '../support/secret-change-event';

// The health check at its production cadence, on the emulator with every function's IAM enforced:
// a secret nothing happened to is read once an hour, in its own slot; Secrets Manager's CloudTrail
// event of a change (delivered to the rotation-events function as EventBridge delivers it) makes it
// watched, and the next run finds what the change broke.

const CADENCE: CheckCadence = { runSeconds: 60, watchSeconds: 900, idleSeconds: 3600 };

let rotor: LocalRotor;

beforeAll(async () => {
  rotor = await startLocalRotor({
    env: {
      ROTOR_HEALTH_CHECK_RUN_SECONDS: String(CADENCE.runSeconds),
      ROTOR_HEALTH_CHECK_WATCH_SECONDS: String(CADENCE.watchSeconds),
      ROTOR_HEALTH_CHECK_IDLE_SECONDS: String(CADENCE.idleSeconds),
    },
  });
});

afterAll(async () => {
  await rotor?.stop();
});

/** A secret name whose idle slot is not in the next 10 minutes' runs, so only a watch makes it due. */
function quietName(): string {
  for (let index = 0; ; index += 1) {
    const name = `rotor/development/quiet-${index}`;
    const soon = Array.from({ length: 11 }, (_, minute) => Date.now() + minute * 60_000);
    if (soon.every((at) => dueReason(name, undefined, at, CADENCE) === undefined)) return name;
  }
}

/** Every Secrets Manager read of the last run that names `arn`. */
function readsOf(arn: string): string[] {
  return rotor.proxy
    .requests()
    .filter(({ operation, body }) => /GetSecretValue$/.test(operation) && body.includes(arn))
    .map(({ operation }) => operation);
}

describe('The health check at its idle cadence', () => {
  it('leaves a healthy idle secret unread, and detects an out-of-band change at the run after its CloudTrail event', async () => {
    // Prepare: a secret holding a credential Rotor issued, whose idle slot is not near
    const name = quietName();
    const arn = await rotor.createSecret(name, JSON.stringify({ provider: 'managed-token' }));
    await rotateLocally(rotor.local, arn);

    // Act 1: a run with nothing happened
    rotor.proxy.resetCounts();
    const idle = await rotor.healthCheck();

    // Assess 1: not read at all; the stage was listed and the watch list read once
    expect(idle.ok).toBe(true);
    expect(readsOf(arn)).toEqual([]);
    expect(rotor.proxy.counts()['DynamoDB_20120810.Query']).toBe(1);
    expect(idle.logs.some((line) => line.includes(`"secretName":"${name}"`))).toBe(false);

    // Act 2: someone writes garbage as AWSCURRENT; CloudTrail's event reaches the rotation-events function
    await rotor.secretsManager.send(
      new PutSecretValueCommand({ SecretId: arn, SecretString: 'not a Rotor document', VersionStages: ['AWSCURRENT'] }),
    );
    const delivered = await rotor.rotationEvents(putSecretValueEvent({ arn, secretId: name }));
    rotor.proxy.resetCounts();
    const watched = await rotor.healthCheck();

    // Assess 2: watched, read in a batch, failed, and remembered as failing
    expect(delivered.result).toEqual({ counted: false, watched: true });
    expect(rotor.proxy.refusals()).toEqual([]);
    expect(readsOf(arn)).toEqual(['secretsmanager.BatchGetSecretValue']);
    const failure = watched.logs
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.secretName === name && line.message === 'health check failed');
    expect(failure).toMatchObject({ outcome: 'unhealthy', due: 'changed' });
    expect(watched.logs.some((line) => line.includes('"HealthCheckFailed":1') && line.includes(name))).toBe(true);

    // Act 3: the next run
    const next = await rotor.healthCheck();

    // Assess 3: still tested, now as failing (the alarm counts two failing minutes in a row)
    expect((next.result as HealthCheckSummary).unhealthy).toBeGreaterThanOrEqual(1);
    expect(next.logs.some((line) => line.includes(`"secretName":"${name}"`) && line.includes('"due":"failing"'))).toBe(
      true,
    );
    expect(
      (await rotor.scanLedger()).filter((item) => item.pk === 'HEALTH#WATCH').map((item) => [item.sk, item.state]),
    ).toEqual(
      expect.arrayContaining([
        [`${name}#change`, undefined],
        [`${name}#failing`, 'failing'],
      ]),
    );
  });
});
