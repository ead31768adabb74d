import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { localClients } from '../../cli/local/local-clients';
import { LocalRotationFailedError, rotateLocally } from '../../cli/local/local-rotation';
import { retirementScheduleName } from '../../lambda/adapters/scheduler-retirements';
import type { AlarmAnswer } from '../../lambda/core/rollback/answer-alarm';
import type { Verdict } from '../../lambda/core/verifier/verdict';
import { invokeBundle } from '../../cli/local/invoke-bundle';
import {
  LambdaBundle,
  MANAGED_BY_TAG,
  RotorAlarmKind,
  rotorAlarmName,
  RotorEnv,
  rotorAlarmGroupAlarmName,
  RotorEvents,
  type RotorAlarmKind as AlarmKind,
} from '../../lambda/shared/rotor-constants';
import { alarmGroupOf } from '../../lambda/shared/alarm-group-of';
import { contributorStateChangeEvent } from '../support/contributor-event';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';

// Health checks, automatic rollback, pause and resume, end to end: the bundled health-check,
// rollback, rotation-events, rotation and verifier functions and the built CLI against a moto
// server this file starts. moto never evaluates alarms, so the tests feed the rollback function
// the EventBridge event CloudWatch sends when an alarm enters ALARM, in its documented shape.
//
// How a promoted credential goes bad here: it is revoked in the ledger after its promotion. For a
// managed token the ledger is the issuer, so this is a credential invalidated at its issuer after
// it passed testSecret (an operator revoking a token believed leaked, say): the verifier refuses
// it, so every consumer of AWSCURRENT is locked out until AWSCURRENT moves.

const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'rotor.js');
const TOKEN = /rtr_[0-9A-Za-z]{49}/;
// Long enough that the previous credential is still in grace whenever a test rolls back to it.
const GRACE_SECONDS = 600;
let rotor: LocalRotor;
let secretCount = 0;
const allLogs: string[] = [];

beforeAll(async () => {
  rotor = await startLocalRotor({ graceSeconds: GRACE_SECONDS });
});

afterAll(async () => {
  await rotor?.stop();
});

beforeEach(() => {
  rotor.proxy.resetCounts();
});

interface EmfRecord {
  readonly _aws: { readonly CloudWatchMetrics: readonly { readonly Metrics: readonly { readonly Name: string }[] }[] };
  readonly SecretName?: string;
  readonly Stage?: string;
  readonly [metric: string]: unknown;
}

/** The EMF records in a function's output: one object per line with an `_aws` key. */
function emf(logs: readonly string[]): EmfRecord[] {
  return logs
    .filter((line) => line.startsWith('{') && line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfRecord);
}

/** The value of `metric` per SecretName in a function's EMF output. */
function metricValues(logs: readonly string[], metric: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const record of emf(logs)) {
    if (typeof record[metric] === 'number' && typeof record.SecretName === 'string') {
      values[record.SecretName] = (values[record.SecretName] ?? 0) + record[metric];
    }
  }
  return values;
}

/** The EMF records about `secretName` in a function's output. */
function recordsOf(logs: readonly string[], secretName: string): EmfRecord[] {
  return emf(logs).filter((record) => record.SecretName === secretName);
}

/** The sum of `metric` under the `Stage` dimension `stage` in a function's EMF output. */
function stageValue(logs: readonly string[], metric: string, stage: string): number {
  return emf(logs)
    .filter((record) => record.Stage === stage && typeof record[metric] === 'number')
    .reduce((sum, record) => sum + (record[metric] as number), 0);
}

function logLines(logs: readonly string[]): Record<string, unknown>[] {
  return logs
    .filter((line) => line.startsWith('{') && !line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function newSecret(): Promise<{ arn: string; name: string }> {
  secretCount += 1;
  const name = `rotor/development/health-${secretCount}`;
  const arn = await rotor.createSecret(name, JSON.stringify({ provider: 'managed-token' }));
  return { arn, name };
}

async function rotateAndRead(arn: string): Promise<{ versionId: string; token: string }> {
  const result = await rotateLocally(rotor.local, arn);
  allLogs.push(...result.attempts.flatMap((attempt) => attempt.logs));
  const current = JSON.parse((await rotor.valueAt(arn, 'AWSCURRENT'))!) as { token: string };
  return { versionId: result.versionId, token: current.token };
}

/** Invalidates a credential at its issuer after its promotion: for a managed token, the ledger. */
async function revokeInLedger(versionId: string): Promise<void> {
  const item = (await rotor.scanLedger()).find(
    (candidate) => candidate.sk === 'TOKEN' && candidate.versionId === versionId,
  );
  if (item === undefined) throw new Error(`the ledger has no credential of version ${versionId}`);
  await localClients(rotor.local.endpoint).dynamodb.send(
    new UpdateItemCommand({
      TableName: rotor.local.ledgerTableName,
      Key: { pk: { S: String(item.pk) }, sk: { S: 'TOKEN' } },
      UpdateExpression: 'SET #state = :revoked, revokedAt = :now',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':revoked': { S: 'revoked' }, ':now': { N: String(Date.now()) } },
    }),
  );
}

let stateChanges = 0;

/**
 * The EventBridge event CloudWatch sends when `kind`'s alarm of `secretName` changes state, as
 * documented ("CloudWatch Alarm State Change"). Each call is a new state change unless `like`
 * gives the one to repeat.
 */
function alarmEvent(
  secretName: string,
  options: {
    readonly kind?: AlarmKind;
    readonly state?: string;
    readonly stage?: string;
    readonly dimension?: string;
    readonly alarmName?: string;
  } = {},
) {
  stateChanges += 1;
  const alarmName =
    options.alarmName ??
    rotorAlarmName(options.stage ?? 'development', options.kind ?? RotorAlarmKind.healthCheckFailures, secretName);
  const at = new Date(Date.UTC(2030, 0, 1, 12, 0, stateChanges));
  const stamp = at.toISOString().replace('Z', '+0000');
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'CloudWatch Alarm State Change',
    source: 'aws.cloudwatch',
    account: '123456789012',
    time: `${at.toISOString().slice(0, 19)}Z`,
    region: 'us-east-1',
    resources: [`arn:aws:cloudwatch:us-east-1:123456789012:alarm:${alarmName}`],
    detail: {
      alarmName,
      state: {
        value: options.state ?? 'ALARM',
        reason:
          'Threshold Crossed: 1 datapoint [2.0 (01/01/30 11:59:00)] was greater than or equal to the threshold (2.0).',
        reasonData: '{"version":"1.0","queryDate":"2030-01-01T12:00:00.000+0000","statistic":"Sum","period":60}',
        timestamp: stamp,
      },
      previousState: { value: 'OK', reason: 'Threshold Crossed', timestamp: '2030-01-01T11:00:00.000+0000' },
      configuration: {
        description: 'Rotor health-check failures',
        metrics: [
          {
            id: 'm1',
            metricStat: {
              metric: {
                namespace: 'Rotor',
                name: 'HealthCheckFailed',
                dimensions: { SecretName: options.dimension ?? secretName },
              },
              period: 60,
              stat: 'Sum',
            },
            returnData: true,
          },
        ],
      },
    },
  };
}

async function answer(event: unknown): Promise<AlarmAnswer> {
  const invocation = await rotor.rollback(event);
  allLogs.push(...invocation.logs);
  if (!invocation.ok)
    throw new Error(`rollback failed: ${invocation.error?.errorType}: ${invocation.error?.errorMessage}`);
  return invocation.result as AlarmAnswer;
}

async function verdictFor(token: string): Promise<Verdict> {
  const invocation = await rotor.verify(token);
  allLogs.push(...invocation.logs);
  return invocation.result as Verdict;
}

async function auditTypes(arn: string): Promise<string[]> {
  return (await rotor.scanLedger())
    .filter((item) => item.pk === `SECRET#${arn}` && String(item.sk).startsWith('EVENT#'))
    .sort((a, b) => String(a.sk).localeCompare(String(b.sk)))
    .map((item) => String(item.type));
}

async function ledgerState(arn: string): Promise<Record<string, unknown>> {
  return (await rotor.scanLedger()).find((item) => item.pk === `SECRET#${arn}` && item.sk === 'STATE')!;
}

async function credentialState(versionId: string): Promise<unknown> {
  return (await rotor.scanLedger()).find((item) => item.sk === 'TOKEN' && item.versionId === versionId)?.state;
}

async function scheduleExists(arn: string, versionId: string): Promise<boolean> {
  try {
    await localClients(rotor.local.endpoint).scheduler.send(
      new GetScheduleCommand({ Name: retirementScheduleName(arn, versionId), GroupName: 'rotor-development' }),
    );
    return true;
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

/** The operations that change something, of the calls the proxy saw since its last reset. */
function writes(): string[] {
  const changing = /Put|Update|Delete|Create|Transact|Rotate|Publish|Tag|SetAlarm/;
  return rotor.proxy
    .requests()
    .map((request) => (request.operation === 'POST /' ? queryAction(request.body) : request.operation))
    .filter((operation) => changing.test(operation) && !operation.startsWith('GET'));
}

// SNS speaks the query protocol: the operation is the body's Action.
function queryAction(body: string): string {
  return `sns.${new URLSearchParams(body).get('Action') ?? '?'}`;
}

describe('Health check and automatic rollback', () => {
  it('rolls a promoted credential that fails its health check back to the previous one', async () => {
    // Prepare: two rotations; the second credential is then invalidated at its issuer
    const { arn, name } = await newSecret();
    const first = await rotateAndRead(arn);
    const second = await rotateAndRead(arn);
    const healthy = await rotor.healthCheck();
    await revokeInLedger(second.versionId);
    expect(await scheduleExists(arn, first.versionId)).toBe(true);

    // Act: the health check fails it; the alarm (two failures in a minute) reaches the rollback
    const failing = await rotor.healthCheck();
    const failingAgain = await rotor.healthCheck();
    rotor.proxy.resetCounts();
    const rolledBack = await answer(alarmEvent(name));
    const counts = rotor.proxy.counts();
    const afterwards = await rotor.healthCheck();
    allLogs.push(...healthy.logs, ...failing.logs, ...failingAgain.logs, ...afterwards.logs);

    // Assess: the health check's metrics and log lines
    // A healthy secret says nothing of its own; the stage counts it. A failing one emits its failure.
    expect(recordsOf(healthy.logs, name)).toEqual([]);
    expect(stageValue(healthy.logs, 'HealthChecksSucceeded', 'development')).toBeGreaterThanOrEqual(1);
    expect(metricValues(failing.logs, 'HealthCheckFailed')[name]).toBe(1);
    expect(metricValues(failingAgain.logs, 'HealthCheckFailed')[name]).toBe(1);
    expect(recordsOf(failing.logs, name)).toHaveLength(1);
    expect(logLines(failing.logs).filter((line) => line.secretName === name)).toEqual([
      expect.objectContaining({
        level: 'WARN',
        message: 'health check failed',
        outcome: 'unhealthy',
        versionId: second.versionId,
        reason: expect.stringMatching(/the ledger has the credential of AWSCURRENT .* revoked, not current/) as unknown,
      }) as unknown,
    ]);
    // Assess: the rollback
    expect(rolledBack).toMatchObject({
      outcome: 'rolled-back',
      secretName: name,
      fromVersionId: second.versionId,
      toVersionId: first.versionId,
      attempt: 1,
      recorded: true,
    });
    expect(counts['secretsmanager.UpdateSecretVersionStage']).toBe(1);
    const labels = await rotor.labels(arn);
    expect(labels[first.versionId]).toEqual(['AWSCURRENT']);
    expect(labels[second.versionId]).toEqual(['AWSPREVIOUS']);
    expect(await credentialState(second.versionId)).toBe('revoked');
    expect(await credentialState(first.versionId)).toBe('current');
    expect(await scheduleExists(arn, first.versionId)).toBe(false);
    expect(await verdictFor(first.token)).toMatchObject({
      allowed: true,
      reason: 'current',
      versionId: first.versionId,
    });
    expect(await verdictFor(second.token)).toMatchObject({ allowed: false, reason: 'revoked' });
    expect(recordsOf(afterwards.logs, name)).toEqual([]);
    expect(logLines(afterwards.logs).filter((line) => line.secretName === name)).toEqual([
      expect.objectContaining({ message: 'health check passed', outcome: 'healthy' }) as unknown,
    ]);
    // Presenting the revoked credential afterwards is reported (once) like any dead credential.
    expect(await auditTypes(arn)).toEqual([
      'created',
      'promoted',
      'created',
      'promoted',
      'rolled-back',
      'reuse-detected',
    ]);
  });

  it('pauses rotation after three rollbacks in one incident; the rotation handler refuses; rotor resume restores it', async () => {
    // Prepare: every new credential goes bad after its promotion, three times over
    const { arn, name } = await newSecret();
    const original = await rotateAndRead(arn);
    const answers: AlarmAnswer[] = [];
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      const bad = await rotateAndRead(arn);
      await revokeInLedger(bad.versionId);
      answers.push(await answer(alarmEvent(name)));
    }
    const fourth = await rotateAndRead(arn);
    await revokeInLedger(fourth.versionId);
    rotor.proxy.resetCounts();

    // Act: the fourth alarm of the incident
    const paused = await answer(alarmEvent(name));
    const sent = rotor.proxy.requests();
    const pausedState = await ledgerState(arn);
    const pausedLabels = await rotor.labels(arn);
    let refusal: LocalRotationFailedError | undefined;
    try {
      await rotateLocally(rotor.local, arn, { maxAttempts: 1 });
    } catch (error) {
      refusal = error as LocalRotationFailedError;
    }
    const configPath = stageConfig();
    const local = ['--local', '--endpoint', rotor.proxy.endpoint, '--config', configPath];
    await showAlarm(rotorAlarmName('development', RotorAlarmKind.healthCheckFailures, name), 'ALARM');
    const statusPaused = await cli(['status', ...local]);
    rotor.proxy.resetCounts();
    const resumed = await cli(['resume', name, ...local]);
    const resumeEvents = rotor.proxy.requests().filter((request) => request.operation === 'AWSEvents.PutEvents');
    const resumedAgain = await cli(['resume', name, ...local]);
    const afterResume = await rotateAndRead(arn);
    const statusActive = await cli(['status', ...local]);

    // Assess: three rollbacks to the original credential, then the pause
    expect(answers.map((a) => [a.outcome, a.outcome === 'rolled-back' ? a.attempt : 0])).toEqual([
      ['rolled-back', 1],
      ['rolled-back', 2],
      ['rolled-back', 3],
    ]);
    expect(paused).toMatchObject({ outcome: 'paused', secretName: name, rollbacks: 3 });
    expect((paused as { reason: string }).reason).toMatch(
      /AWSCURRENT still fails after 3 rollbacks in this incident \(at most 3\)/,
    );
    expect(pausedState).toMatchObject({ status: 'paused', pauseReason: (paused as { reason: string }).reason });
    // A pause leaves AWSCURRENT where it is: a person decides what to put there.
    expect(pausedLabels[fourth.versionId]).toEqual(['AWSCURRENT']);
    // Assess: people were told (SNS) and pipelines (EventBridge), once each, without a token
    const published = sent.filter(
      (request) => request.operation === 'POST /' && queryAction(request.body) === 'sns.Publish',
    );
    expect(published).toHaveLength(1);
    const message = new URLSearchParams(published[0]!.body);
    expect(message.get('TopicArn')).toBe(rotor.local.alertTopicArn);
    expect(message.get('Subject')).toBe(`Rotor: rotation of ${name} is paused`);
    expect(message.get('Message')).toContain(`rotor resume ${name}`);
    const events = sent.filter((request) => request.operation === 'AWSEvents.PutEvents');
    expect(events).toHaveLength(1);
    expect(JSON.parse(events[0]!.body)).toMatchObject({
      Entries: [{ Source: 'rotor', DetailType: RotorEvents.rotationPaused, Resources: [arn] }],
    });
    expect(sent.filter((request) => TOKEN.test(request.body))).toEqual([]);
    // Assess: the rotation handler refuses to start a rotation, saying why and what to do
    expect(refusal).toBeInstanceOf(LocalRotationFailedError);
    expect(refusal?.attempts[0]).toMatchObject({ step: 'createSecret', ok: false });
    expect(refusal?.attempts[0]?.error).toEqual({
      errorType: 'RotationPausedError',
      errorMessage: expect.stringMatching(
        new RegExp(
          `^rotation of secret ${name} is paused since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z: AWSCURRENT still fails .*; run \`rotor resume ${name}\` after looking$`,
        ),
      ) as unknown,
    });
    // Assess: status shows the pause, resume lifts it, and rotation works again
    expect(statusPaused.code).toBe(0);
    expect(statusPaused.stdout).toMatch(
      new RegExp(`${name}\\s+managed-token\\s+paused \\(3/3 rollbacks\\).*health:ALARM`),
    );
    expect(statusPaused.stdout).toContain(`${name} is paused since`);
    expect(resumed).toMatchObject({ code: 0 });
    expect(resumed.stdout).toContain(`rotation of ${name} resumed (paused since`);
    expect(resumeEvents).toHaveLength(1);
    expect(JSON.parse(resumeEvents[0]!.body)).toMatchObject({
      Entries: [{ Source: 'rotor', DetailType: RotorEvents.rotationResumed, Resources: [arn] }],
    });
    expect(resumedAgain.stdout).toBe(`${name} is not paused (status: active); nothing changed\n`);
    expect(afterResume.versionId).not.toBe(fourth.versionId);
    expect(await verdictFor(afterResume.token)).toMatchObject({ allowed: true, reason: 'current' });
    expect(await ledgerState(arn)).toMatchObject({ status: 'active' });
    expect(statusActive.stdout).toMatch(
      new RegExp(`${name}\\s+managed-token\\s+active\\s+\\d+s\\s+\\S+\\s+previous revoked`),
    );
    const trail = await auditTypes(arn);
    expect(trail.filter((type) => type === 'rolled-back')).toHaveLength(3);
    expect(trail.slice(-4)).toEqual(['paused', 'resumed', 'created', 'promoted']);
    expect(original.versionId).toBeDefined();
  });

  it('acts once on two identical alarm events delivered at once', async () => {
    // Prepare
    const { arn, name } = await newSecret();
    const first = await rotateAndRead(arn);
    const second = await rotateAndRead(arn);
    await revokeInLedger(second.versionId);
    const event = alarmEvent(name);
    rotor.proxy.resetCounts();

    // Act: one warm container serving both deliveries, then a third delivery in a fresh container
    const { results, logs } = await rotor.rollbackConcurrently([event, structuredClone(event)]);
    const late = await answer(structuredClone(event));
    allLogs.push(...logs);

    // Assess
    const outcomes = results.map((result) => (result.result as AlarmAnswer).outcome).sort();
    expect(results.every((result) => result.ok)).toBe(true);
    expect(outcomes).toEqual(['ignored', 'rolled-back']);
    const ignored = results.map((result) => result.result as AlarmAnswer).find((a) => a.outcome === 'ignored');
    expect(ignored).toMatchObject({ reason: expect.stringMatching(/^duplicate/) as unknown });
    expect(late).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/^duplicate/) as unknown });
    const counts = rotor.proxy.counts();
    expect(counts['secretsmanager.UpdateSecretVersionStage']).toBe(1);
    expect(counts['DynamoDB_20120810.TransactWriteItems']).toBe(1);
    expect(
      Object.entries(counts)
        .filter(([operation]) => operation.startsWith('DELETE /schedules/'))
        .map(([, n]) => n),
    ).toEqual([1]);
    expect(metricValues(logs, 'RollbackPerformed')).toEqual({ [name]: 1 });
    expect((await auditTypes(arn)).filter((type) => type === 'rolled-back')).toHaveLength(1);
    expect((await rotor.labels(arn))[first.versionId]).toEqual(['AWSCURRENT']);
  });

  it('ignores alarm events that are not its own, with a log line, and writes nothing', async () => {
    // Prepare: a secret that is rotated (and whose current credential fails) and one never rotated
    const { arn, name } = await newSecret();
    await rotateAndRead(arn);
    const second = await rotateAndRead(arn);
    await revokeInLedger(second.versionId);
    const neverRotated = await newSecret();
    const other = await newSecret();
    const before = await rotor.scanLedger();
    rotor.proxy.resetCounts();
    const foreign: [string, unknown][] = [
      ['a state change to OK', alarmEvent(name, { state: 'OK' })],
      ['a state change to INSUFFICIENT_DATA', alarmEvent(name, { state: 'INSUFFICIENT_DATA' })],
      ['an alarm of another owner', alarmEvent(name, { alarmName: 'billing-too-high' })],
      ['an alarm of another stage', alarmEvent(name, { stage: 'production' })],
      ['a reuse alarm', alarmEvent(name, { kind: RotorAlarmKind.reuseDetected })],
      ['a name that does not match its dimension', alarmEvent(name, { dimension: other.name })],
      ['a secret outside the stage', alarmEvent('rotor/production/deploy-token', { stage: 'development' })],
      ['a secret Secrets Manager does not have', alarmEvent('rotor/development/no-such-secret')],
      ['a secret the ledger does not know', alarmEvent(neverRotated.name)],
      [
        'not an alarm event',
        { source: 'aws.secretsmanager', 'detail-type': 'AWS API Call via CloudTrail', detail: {} },
      ],
    ];

    // Act
    const answers = await Promise.all(foreign.map(([, event]) => rotor.rollback(event)));

    // Assess
    for (const [index, invocation] of answers.entries()) {
      const label = foreign[index]![0];
      expect([label, invocation.ok, (invocation.result as AlarmAnswer).outcome]).toEqual([label, true, 'ignored']);
      expect([label, logLines(invocation.logs).map((line) => line.message)]).toEqual([label, ['alarm ignored']]);
    }
    expect(writes()).toEqual([]);
    expect(await rotor.scanLedger()).toEqual(before);
    expect((await rotor.labels(arn))[second.versionId]).toEqual(['AWSCURRENT']);
  });

  it('lists only the stage’s tagged secrets under its prefix, and skips those with no credential yet', async () => {
    // Prepare: a secret under the prefix tagged for another stage, and one untagged
    const { secretsManager } = rotor;
    await secretsManager.send(
      new CreateSecretCommand({
        Name: 'rotor/development/other-stage',
        SecretString: JSON.stringify({ provider: 'managed-token' }),
        Tags: [{ Key: MANAGED_BY_TAG, Value: 'development-2' }],
      }),
    );
    await secretsManager.send(
      new CreateSecretCommand({ Name: 'rotor/development/untagged', SecretString: '{"provider":"managed-token"}' }),
    );
    const fresh = await newSecret();

    // Act
    const run = await rotor.healthCheck();

    // Assess
    const lines = logLines(run.logs);
    const named = lines.filter((line) => typeof line.secretName === 'string').map((line) => line.secretName);
    expect(named).not.toContain('rotor/development/other-stage');
    expect(named).not.toContain('rotor/development/untagged');
    expect(lines.find((line) => line.secretName === fresh.name)).toMatchObject({
      message: 'health check skipped',
      reason: 'AWSCURRENT holds no credential yet (first rotation pending)',
    });
    expect(metricValues(run.logs, 'HealthCheckFailed')[fresh.name]).toBeUndefined();
    expect(run.result).toMatchObject({ skipped: expect.any(Number) as unknown });
  });
});

describe('A sharded stage: a secret in ALARM in its alarm group’s Metrics Insights alarm', () => {
  // GIVEN the functions of a sharded stage of 4 alarm groups: each secret's metrics carry its
  // group, and the rollback answers contributor state changes of the group alarms, as CloudWatch sends them
  const GROUPS = 4;
  const sharded = () => ({ env: { ...rotor.local.env, [RotorEnv.alarmGroupCount]: String(GROUPS) } });
  let changes = 0;

  async function answerContributor(alarmName: string, secretName: string): Promise<AlarmAnswer> {
    changes += 1;
    const at = new Date(Date.UTC(2030, 1, 1, 12, 0, changes));
    const invocation = await invokeBundle(
      LambdaBundle.rollback,
      contributorStateChangeEvent({ alarmName, secretName, at }),
      sharded(),
    );
    allLogs.push(...invocation.logs);
    if (!invocation.ok) throw new Error(`rollback failed: ${invocation.error?.errorMessage}`);
    return invocation.result as AlarmAnswer;
  }

  it('tags the failing health check with its alarm group, rolls back from the contributor event and pauses after 3 attempts', async () => {
    // Prepare: a secret whose every new credential goes bad after its promotion
    const { arn, name } = await newSecret();
    const group = alarmGroupOf(name.slice('rotor/development/'.length), GROUPS);
    const healthAlarm = rotorAlarmGroupAlarmName('development', RotorAlarmKind.healthCheckFailures, group);
    const original = await rotateAndRead(arn);
    const bad = await rotateAndRead(arn);
    await revokeInLedger(bad.versionId);

    // Act: the health check reports the failure; CloudWatch's contributor event reaches the rollback
    const failing = await invokeBundle(LambdaBundle.healthCheck, {}, sharded());
    allLogs.push(...failing.logs);
    const otherGroup = await answerContributor(
      rotorAlarmGroupAlarmName('development', RotorAlarmKind.healthCheckFailures, (group + 1) % GROUPS),
      name,
    );
    const answers = [await answerContributor(healthAlarm, name)];
    const afterFirst = await rotor.labels(arn);
    for (let attempt = 2; attempt <= 3; attempt += 1) {
      const next = await rotateAndRead(arn);
      await revokeInLedger(next.versionId);
      answers.push(await answerContributor(healthAlarm, name));
    }
    const fourth = await rotateAndRead(arn);
    await revokeInLedger(fourth.versionId);
    const paused = await answerContributor(healthAlarm, name);

    // Assess: the failure is a metric with SecretName and AlarmGroup, the dimensions the group alarm selects on
    const failures = emf(failing.logs).filter((record) => record.SecretName === name && 'HealthCheckFailed' in record);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ AlarmGroup: String(group), HealthCheckFailed: 1 });
    expect((failures[0]!._aws.CloudWatchMetrics[0] as unknown as { Dimensions: string[][] }).Dimensions).toEqual([
      ['SecretName', 'AlarmGroup'],
    ]);
    // Assess: another group's alarm cannot point the rollback at the secret
    expect(otherGroup).toMatchObject({ outcome: 'ignored' });
    // Assess: three rollbacks to the original credential, then the pause, as with a secret's own alarm
    expect(answers.map((a) => [a.outcome, a.outcome === 'rolled-back' ? a.attempt : 0])).toEqual([
      ['rolled-back', 1],
      ['rolled-back', 2],
      ['rolled-back', 3],
    ]);
    expect(afterFirst[original.versionId]).toEqual(['AWSCURRENT']);
    expect(afterFirst[bad.versionId]).toEqual(['AWSPREVIOUS']);
    expect(paused).toMatchObject({ outcome: 'paused', secretName: name, rollbacks: 3 });
    expect(await ledgerState(arn)).toMatchObject({ status: 'paused' });
    expect((await auditTypes(arn)).filter((type) => type === 'rolled-back')).toHaveLength(3);
  });
});

/** What an operator's PutSecretValue does (console, CLI, a script), not through Rotor: @returns the new version. */
async function overwriteByHand(arn: string, value: string): Promise<string> {
  const put = await localClients(rotor.local.endpoint).secretsManager.send(
    new PutSecretValueCommand({ SecretId: arn, SecretString: value }),
  );
  return put.VersionId!;
}

async function lastAudit(arn: string): Promise<Record<string, unknown>> {
  return (await rotor.scanLedger())
    .filter((item) => item.pk === `SECRET#${arn}` && String(item.sk).startsWith('EVENT#'))
    .sort((a, b) => String(a.sk).localeCompare(String(b.sk)))
    .at(-1)!;
}

describe('A value written to AWSCURRENT outside Rotor', () => {
  it('is undone: AWSCURRENT goes back to Rotor’s credential once, audited as out-of-band, without a pause', async () => {
    // Prepare: one rotation, then a broken value put by hand
    const { arn, name } = await newSecret();
    const issued = await rotateAndRead(arn);
    const byHand = await overwriteByHand(arn, '{"provider":"managed-token","token":"pasted-by-mistake"}');
    const failing = await rotor.healthCheck();
    const event = alarmEvent(name);
    rotor.proxy.resetCounts();

    // Act: the alarm event, delivered twice
    const first = await answer(event);
    const second = await answer(structuredClone(event));
    const counts = rotor.proxy.counts();
    const afterwards = await rotor.healthCheck();
    allLogs.push(...failing.logs, ...afterwards.logs);

    // Assess
    expect(metricValues(failing.logs, 'HealthCheckFailed')[name]).toBe(1);
    expect(first).toMatchObject({
      outcome: 'rolled-back',
      cause: 'out-of-band-change',
      fromVersionId: byHand,
      toVersionId: issued.versionId,
      recorded: true,
    });
    expect(second).toMatchObject({ outcome: 'ignored', reason: expect.stringMatching(/^duplicate/) as unknown });
    expect(counts['secretsmanager.UpdateSecretVersionStage']).toBe(1);
    const labels = await rotor.labels(arn);
    expect(labels[issued.versionId]).toEqual(['AWSCURRENT']);
    expect(labels[byHand]).toEqual(['AWSPREVIOUS']);
    expect(await ledgerState(arn)).toMatchObject({ status: 'active', currentVersionId: issued.versionId });
    expect(await credentialState(issued.versionId)).toBe('current');
    expect(await lastAudit(arn)).toMatchObject({
      type: 'rolled-back',
      versionId: issued.versionId,
      detail: { cause: 'out-of-band-change', fromVersionId: byHand },
    });
    expect(await verdictFor(issued.token)).toMatchObject({ allowed: true, reason: 'current' });
    expect(recordsOf(afterwards.logs, name)).toEqual([]);
    expect(logLines(afterwards.logs).filter((line) => line.secretName === name)).toEqual([
      expect.objectContaining({ message: 'health check passed', outcome: 'healthy' }) as unknown,
    ]);
  });

  it('pauses rotation as before when no credential Rotor issued still holds', async () => {
    // Prepare: the credential Rotor issued is revoked, then a broken value is put by hand
    const { arn, name } = await newSecret();
    const issued = await rotateAndRead(arn);
    await revokeInLedger(issued.versionId);
    const byHand = await overwriteByHand(arn, 'not a document');

    // Act
    const paused = await answer(alarmEvent(name));

    // Assess
    expect(paused).toMatchObject({
      outcome: 'paused',
      reason: expect.stringMatching(/no credential Rotor issued is usable: .* is revoked$/) as unknown,
    });
    expect((await rotor.labels(arn))[byHand]).toEqual(['AWSCURRENT']);
    expect(await ledgerState(arn)).toMatchObject({ status: 'paused' });
  });
});

describe('Secrets Manager’s own rotation failures', () => {
  it.each(['RotationFailed', 'RotationAbandoned'])(
    'counts %s as RotationFailed of its secret, and watches it',
    async (eventName) => {
      // Prepare
      const { arn, name } = await newSecret();

      // Act
      const run = await rotor.rotationEvents(cloudTrailEvent(eventName, arn));
      allLogs.push(...run.logs);

      // Assess
      expect(run.result).toEqual({ counted: true, watched: true });
      expect(metricValues(run.logs, 'RotationFailed')).toEqual({ [name]: 1 });
    },
  );

  it('ignores a failure of a secret outside the stage, and other events', async () => {
    // Act
    const outside = await rotor.rotationEvents(
      cloudTrailEvent(
        'RotationFailed',
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:rotor/production/x-AbCdEf',
      ),
    );
    const succeeded = await rotor.rotationEvents(
      cloudTrailEvent(
        'RotationSucceeded',
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:rotor/development/x-AbCdEf',
      ),
    );

    // Assess
    expect([outside.result, succeeded.result]).toEqual([
      { counted: false, watched: false },
      { counted: false, watched: false },
    ]);
    expect(emf([...outside.logs, ...succeeded.logs])).toEqual([]);
  });
});

describe('Nothing shows a token', () => {
  it('keeps tokens out of every log line and metric of these tests', () => {
    expect(allLogs.length).toBeGreaterThan(0);
    expect(allLogs.filter((line) => TOKEN.test(line))).toEqual([]);
  });
});

/** The EventBridge event of a Secrets Manager CloudTrail service event, as documented. */
function cloudTrailEvent(eventName: string, secretArn: string) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'AWS Service Event via CloudTrail',
    source: 'aws.secretsmanager',
    account: '123456789012',
    time: '2030-01-01T12:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.08',
      userIdentity: { accountId: '123456789012', invokedBy: 'secretsmanager.amazonaws.com' },
      eventTime: '2030-01-01T12:00:00Z',
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      awsRegion: 'us-east-1',
      sourceIPAddress: 'secretsmanager.amazonaws.com',
      userAgent: 'secretsmanager.amazonaws.com',
      errorMessage:
        'Error when executing lambda arn:aws:lambda:us-east-1:123456789012:function:rotor-development-rotation during createSecret step',
      requestParameters: null,
      responseElements: null,
      additionalEventData: { SecretId: secretArn },
      requestID: `Rotation-${secretArn}`,
      eventID: randomUUID(),
      readOnly: false,
      eventType: 'AwsServiceEvent',
      managementEvent: true,
      recipientAccountId: '123456789012',
      eventCategory: 'Management',
    },
  };
}

/** A config with the test stage, for the CLI (its secret is provisioned too, and stays unrotated). */
function stageConfig(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rotor-health-')), 'rotor.config.json');
  writeFileSync(
    path,
    JSON.stringify({
      stages: [
        {
          name: 'development',
          secretNamePrefix: 'rotor/development/',
          logRetentionDays: 30,
          graceSeconds: GRACE_SECONDS,
          secrets: [{ name: 'deploy-token', provider: 'managed-token', schedule: 'rate(4 hours)', window: '1h' }],
        },
      ],
    }),
  );
  return path;
}

/** An alarm as the stack creates it, put in `state` (moto evaluates none). */
async function showAlarm(alarmName: string, state: 'OK' | 'ALARM'): Promise<void> {
  const { cloudWatch } = localClients(rotor.local.endpoint);
  await cloudWatch.send(
    new PutMetricAlarmCommand({
      AlarmName: alarmName,
      Namespace: 'Rotor',
      MetricName: 'HealthCheckFailed',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    }),
  );
  await cloudWatch.send(new SetAlarmStateCommand({ AlarmName: alarmName, StateValue: state, StateReason: 'test' }));
}

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '' },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
