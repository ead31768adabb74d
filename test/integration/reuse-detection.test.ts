import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { localClients } from '../../cli/local/local-clients';
import { rotateLocally } from '../../cli/local/local-rotation';
import { retirementScheduleName } from '../../lambda/adapters/scheduler-retirements';
import { generateManagedToken } from '../../lambda/core/providers/managed-token/managed-token-format';
import type { Verdict } from '../../lambda/core/verifier/verdict';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';

// The ledger, grace periods and reuse detection, end to end: the bundled rotation, verifier
// and retire functions against moto. Grace periods are long, so a token is still in its grace
// however slow the machine is; a test ends a grace by moving its end in the ledger into the past,
// which is what the verifier and the retire function compare with the clock.

const TOKEN = /rtr_[0-9A-Za-z]{49}/;
const GRACE_SECONDS = 600;
let rotor: LocalRotor;
let secretCount = 0;
const allLogs: string[] = [];

beforeAll(async () => {
  rotor = await startLocalRotor();
});

afterAll(async () => {
  await rotor?.stop();
});

beforeEach(() => {
  rotor.proxy.resetCounts();
});

async function newSecret(extra: Record<string, unknown> = {}): Promise<string> {
  secretCount += 1;
  return rotor.createSecret(
    `rotor/development/reuse-${secretCount}`,
    JSON.stringify({ provider: 'managed-token', graceSeconds: GRACE_SECONDS, ...extra }),
  );
}

async function rotateAndRead(arn: string): Promise<{ versionId: string; token: string }> {
  const result = await rotateLocally(rotor.local, arn);
  allLogs.push(...result.attempts.flatMap((attempt) => attempt.logs));
  const current = JSON.parse((await rotor.valueAt(arn, 'AWSCURRENT'))!) as { token: string };
  return { versionId: result.versionId, token: current.token };
}

async function verdictFor(token: unknown): Promise<Verdict> {
  const invocation = await rotor.verify(token);
  allLogs.push(...invocation.logs);
  if (!invocation.ok)
    throw new Error(`verifier failed: ${invocation.error?.errorType}: ${invocation.error?.errorMessage}`);
  return invocation.result as Verdict;
}

async function auditTypes(arn: string): Promise<string[]> {
  return (await rotor.scanLedger())
    .filter((item) => item.pk === `SECRET#${arn}` && String(item.sk).startsWith('EVENT#'))
    .sort((a, b) => String(a.sk).localeCompare(String(b.sk)))
    .map((item) => String(item.type));
}

/** Ends the grace of a previous credential now; returns when the ledger had it end. */
async function endGrace(versionId: string): Promise<number> {
  const item = (await rotor.scanLedger()).find((entry) => entry.versionId === versionId && entry.sk === 'TOKEN');
  if (item?.graceEndsAt === undefined) throw new Error(`no previous credential in the ledger for ${versionId}`);
  await localClients(rotor.local.endpoint).dynamodb.send(
    new UpdateItemCommand({
      TableName: rotor.local.ledgerTableName,
      Key: { pk: { S: String(item.pk) }, sk: { S: 'TOKEN' } },
      UpdateExpression: 'SET graceEndsAt = :ended',
      ExpressionAttributeValues: { ':ended': { N: String(Date.now() - 1000) } },
    }),
  );
  return Number(item.graceEndsAt);
}

/** Two rotations: the first token is previous (in its grace), the second current. */
async function secretWithPreviousToken(extra: Record<string, unknown> = {}) {
  const arn = await newSecret(extra);
  const first = await rotateAndRead(arn);
  const second = await rotateAndRead(arn);
  return { arn, first, second };
}

describe('Grace and reuse', () => {
  it('allows the new token and the old one in grace, then denies the old one as reuse and answers once', async () => {
    // Prepare
    const { arn, first, second } = await secretWithPreviousToken();

    // Act: within grace
    const current = await verdictFor(second.token);
    const inGrace = await verdictFor(first.token);
    // Act: after grace
    await endGrace(first.versionId);
    rotor.proxy.resetCounts();
    const reuse = await verdictFor(first.token);
    const again = await verdictFor(first.token);

    // Assess
    expect(current).toMatchObject({ allowed: true, reason: 'current', versionId: second.versionId });
    expect(inGrace).toMatchObject({ allowed: true, reason: 'grace', versionId: first.versionId });
    expect(reuse).toMatchObject({ allowed: false, reason: 'reuse', versionId: first.versionId, incidentOpened: true });
    // revoke-and-rotate revoked the whole family, the reused credential included
    expect(again).toMatchObject({ allowed: false, reason: 'revoked', incidentOpened: false });
    expect(rotor.proxy.counts()['secretsmanager.RotateSecret']).toBe(1);
    expect(rotor.proxy.counts()['AWSEvents.PutEvents']).toBe(1);
    expect(await auditTypes(arn)).toEqual([
      'created',
      'promoted',
      'created',
      'promoted',
      'grace-used',
      'reuse-detected',
      'revoked',
      'rotation-started',
    ]);
  });

  it('opens exactly one incident and starts one rotation for 200 concurrent presentations of a dead token', async () => {
    // Prepare
    const { arn, first } = await secretWithPreviousToken();
    await endGrace(first.versionId);
    rotor.proxy.resetCounts();

    // Act
    const { results, logs } = await rotor.verifyConcurrently(
      Array.from({ length: 200 }, () => ({ token: first.token })),
    );
    allLogs.push(...logs);

    // Assess
    const verdicts = results.map((result) => result.result as Verdict);
    expect(results.every((result) => result.ok)).toBe(true);
    expect(verdicts.every((verdict) => !verdict.allowed && verdict.reason === 'reuse')).toBe(true);
    expect(verdicts.filter((verdict) => verdict.incidentOpened)).toHaveLength(1);
    expect(rotor.proxy.counts()['secretsmanager.RotateSecret']).toBe(1);
    expect(rotor.proxy.counts()['AWSEvents.PutEvents']).toBe(1);
    expect((await auditTypes(arn)).filter((type) => type === 'reuse-detected')).toHaveLength(1);
  });

  it('allows 200 concurrent presentations of the current token', async () => {
    // Prepare
    const arn = await newSecret();
    const { token } = await rotateAndRead(arn);

    // Act
    const { results, logs } = await rotor.verifyConcurrently(Array.from({ length: 200 }, () => ({ token })));
    allLogs.push(...logs);

    // Assess
    expect(results.map((result) => (result.result as Verdict).reason)).toEqual(Array(200).fill('current'));
    expect(rotor.proxy.counts()['secretsmanager.RotateSecret']).toBeUndefined();
  });

  it('revoke-and-rotate leaves no version of the compromised family allowed and the new token allowed', async () => {
    // Prepare
    const { arn, first, second } = await secretWithPreviousToken();
    await endGrace(first.versionId);

    // Act: the reuse revokes the family and starts a rotation, which Rotor's driver then runs
    expect(await verdictFor(first.token)).toMatchObject({ reason: 'reuse', incidentOpened: true });
    const resumed = await rotateLocally(rotor.local, arn);
    const third = JSON.parse((await rotor.valueAt(arn, 'AWSCURRENT'))!) as { token: string };

    // Assess
    expect(resumed.resumed).toBe(true);
    expect(await verdictFor(second.token)).toMatchObject({ allowed: false, reason: 'revoked' });
    expect(await verdictFor(first.token)).toMatchObject({ allowed: false, reason: 'revoked' });
    expect(await verdictFor(third.token)).toMatchObject({
      allowed: true,
      reason: 'current',
      versionId: resumed.versionId,
    });
  });

  it('alert-only reports the reuse and leaves the current token working', async () => {
    // Prepare
    const { arn, first, second } = await secretWithPreviousToken({ onReuse: 'alert-only' });
    await endGrace(first.versionId);
    rotor.proxy.resetCounts();

    // Act
    const reuse = await verdictFor(first.token);

    // Assess
    expect(reuse).toMatchObject({ allowed: false, reason: 'reuse', incidentOpened: true });
    expect(await verdictFor(second.token)).toMatchObject({ allowed: true, reason: 'current' });
    expect(rotor.proxy.counts()['secretsmanager.RotateSecret']).toBeUndefined();
    expect(rotor.proxy.counts()['AWSEvents.PutEvents']).toBe(1);
    expect(await auditTypes(arn)).toContain('reuse-detected');
    expect(await auditTypes(arn)).not.toContain('revoked');
  });

  it.each([
    ['an empty string', ''],
    ['an oversized string', `rtr_${'a'.repeat(100_000)}`],
    ['a number', 42],
    ['nothing', undefined],
    ['a wrong prefix', `ghp_${generateManagedToken().slice(4)}`],
    ['a wrong checksum', withWrongChecksum(generateManagedToken())],
  ])('denies %s as malformed without a DynamoDB call', async (_name, token) => {
    // Act
    const verdict = await verdictFor(token);

    // Assess
    expect(verdict).toEqual({ allowed: false, reason: 'malformed' });
    expect(Object.keys(rotor.proxy.counts()).filter((operation) => operation.startsWith('DynamoDB'))).toEqual([]);
  });

  it('denies a well-formed token the ledger has never seen as unknown', async () => {
    expect(await verdictFor(generateManagedToken())).toEqual({ allowed: false, reason: 'unknown' });
  });
});

describe('Retirement at grace end', () => {
  it('schedules the previous token retirement at its grace end, and the retire function retires it', async () => {
    // Prepare
    const { arn, first } = await secretWithPreviousToken();
    const schedule = await localClients(rotor.local.endpoint).scheduler.send(
      new GetScheduleCommand({ Name: retirementScheduleName(arn, first.versionId), GroupName: 'rotor-development' }),
    );

    // Act: Scheduler's part (moto never fires schedules): invoke the target with the schedule's input
    const graceEndsAt = await endGrace(first.versionId);
    const retired = await rotor.retire(JSON.parse(schedule.Target!.Input!));
    const twice = await rotor.retire(JSON.parse(schedule.Target!.Input!));

    // Assess
    expect(schedule.ActionAfterCompletion).toBe('DELETE');
    expect(schedule.Target?.Arn).toBe(rotor.local.retireFunctionArn);
    // at the grace end, rounded up to the minute (Scheduler fires anywhere within the named minute)
    const scheduledAt = Date.parse(`${/^at\((.+)\)$/.exec(schedule.ScheduleExpression!)![1]}Z`);
    expect(scheduledAt).toBeGreaterThanOrEqual(graceEndsAt);
    expect(scheduledAt).toBeLessThan(graceEndsAt + 60_000);
    expect([retired.result, twice.result]).toEqual([{ retired: 1 }, { retired: 0 }]);
    expect(await auditTypes(arn)).toContain('retired');
    expect(await verdictFor(first.token)).toMatchObject({ allowed: false, reason: 'reuse' });
  });

  it('completes the rotation when the schedule cannot be created, and the sweep retires the token', async () => {
    // Prepare: Scheduler refuses every call during the second rotation
    const arn = await newSecret();
    const first = await rotateAndRead(arn);
    rotor.proxy.failNext(`POST /schedules/${retirementScheduleName(arn, first.versionId)}`, 100, {
      status: 400,
      type: 'ValidationException',
      message: 'injected by the test proxy',
    });
    const second = await rotateAndRead(arn);
    rotor.proxy.failNext(`POST /schedules/${retirementScheduleName(arn, first.versionId)}`, 0);

    // Act
    await endGrace(first.versionId);
    const sweep = await rotor.retire({ sweep: true });

    // Assess
    expect(await verdictFor(second.token)).toMatchObject({ reason: 'current' });
    expect(await auditTypes(arn)).toContain('retirement-schedule-failed');
    expect((sweep.result as { retired: number }).retired).toBeGreaterThanOrEqual(1);
    expect(
      (await rotor.scanLedger()).find((item) => item.versionId === first.versionId && item.sk === 'TOKEN'),
    ).toMatchObject({
      state: 'retired',
    });
  });
});

describe('Nothing stores or shows a token', () => {
  it('keeps tokens out of the ledger, the logs, the metrics and the events', async () => {
    // Prepare: everything the other tests did, plus a rotation whose requests we keep
    const arn = await newSecret();
    rotor.proxy.resetCounts();
    await rotateAndRead(arn);
    const { token } = await rotateAndRead(arn);
    await verdictFor(token);
    const sent = rotor.proxy.requests().filter((request) => !request.operation.startsWith('secretsmanager.'));

    // Act
    const ledger = await rotor.scanLedger();

    // Assess
    expect(ledger.length).toBeGreaterThan(0);
    expect(ledger.filter((item) => TOKEN.test(JSON.stringify(item)))).toEqual([]);
    expect(allLogs.length).toBeGreaterThan(0);
    expect(allLogs.filter((line) => TOKEN.test(line))).toEqual([]);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((request) => TOKEN.test(request.body)).map((request) => request.operation)).toEqual([]);
  });
});

/** `token` with its last checksum character changed (to another character, whatever it was). */
function withWrongChecksum(token: string): string {
  return `${token.slice(0, -1)}${token.endsWith('0') ? '1' : '0'}`;
}
