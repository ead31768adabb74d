import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beginRotation, rotateLocally, type StepAttempt } from '../../cli/local/local-rotation';
import { ROTATION_STEPS } from '../../lambda/core/rotation/rotation-event';
import { MetricName, RotorEvents } from '../../lambda/shared/rotor-constants';
import { LOCAL_GITLAB_MANAGER_NAME } from '../support/function-policies';
import { startGitLabApiServer, type GitLabApiServer, type GitLabToken } from '../support/gitlab-api-server';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';
import { createTestPki, type TestPki } from '../support/test-pki';

// The bundled rotation and retire handlers (each invocation in a fresh process) against moto and
// the GitLab API test server over TLS with a CA made here.

const PREFIX = 'rotor/development/';
const LEASE_SECONDS = 3;
const GRACE_SECONDS = 1;
/** Four hours to the next rotation plus its window and grace. */
const HORIZON_SECONDS = 5 * 3600;
const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'rotor.js');

let pki: TestPki;
let gitlab: GitLabApiServer;
let rotor: LocalRotor;
let projectId: number;
let managerName: string;
let secretCount = 0;
const logs: string[] = [];

beforeAll(async () => {
  pki = createTestPki();
  [gitlab, rotor] = await Promise.all([
    startGitLabApiServer({ tls: pki.server }),
    startLocalRotor({ env: { ROTOR_SIDE_EFFECT_LEASE_SECONDS: String(LEASE_SECONDS) } }),
  ]);
  rotor.allowProviderOrigins(gitlab.origin);
  projectId = gitlab.addProject('example-group/app');
  // The manager: a personal token with api, itself a self-rotating secret of the stage, named as
  // the stage's configured manager (whose current version the retire function's role may read).
  const manager = gitlab.issueToken({ type: 'personal', name: 'rotor-manager', scopes: ['api'] });
  managerName = `${PREFIX}${LOCAL_GITLAB_MANAGER_NAME}`;
  await rotor.createSecret(managerName, JSON.stringify(documentOf(manager, { tokenType: 'personal' })));
});

afterAll(async () => {
  await Promise.all([gitlab?.stop(), rotor?.stop()]);
});

function documentOf(token: GitLabToken, extra: Record<string, unknown>): Record<string, unknown> {
  return {
    provider: 'gitlab-access-token',
    schemaVersion: 1,
    gitlabUrl: gitlab.origin,
    tokenId: token.id,
    token: token.value,
    scopes: token.scopes,
    expiresAt: token.expiresAt,
    expiryHorizonSeconds: HORIZON_SECONDS,
    graceSeconds: GRACE_SECONDS,
    tls: { caBundle: pki.caPem },
    ...extra,
  };
}

interface GitLabSecret {
  readonly arn: string;
  readonly name: string;
  readonly token: GitLabToken;
}

async function newSecret(mode: 'overlap' | 'self'): Promise<GitLabSecret> {
  secretCount += 1;
  const name = `${PREFIX}gitlab-${secretCount}`;
  const token =
    mode === 'overlap'
      ? gitlab.issueToken({
          type: 'project',
          ownerId: projectId,
          name: `registry-push-${secretCount}`,
          scopes: ['read_registry', 'write_registry'],
          accessLevel: 30,
        })
      : gitlab.issueToken({ type: 'personal', name: `ci-${secretCount}`, scopes: ['api'] });
  const extra =
    mode === 'overlap'
      ? { tokenType: 'project', ownerId: 'example-group/app', accessLevel: 30, managerSecret: managerName }
      : { tokenType: 'personal' };
  return { arn: await rotor.createSecret(name, JSON.stringify(documentOf(token, extra))), name, token };
}

async function documentAt(arn: string, stage: string): Promise<{ token: string; tokenId: number; expiresAt: string }> {
  const value = await rotor.valueAt(arn, stage);
  if (value === undefined) throw new Error(`no value at ${stage}`);
  return JSON.parse(value) as { token: string; tokenId: number; expiresAt: string };
}

function keepLogs(attempt: StepAttempt): void {
  logs.push(...attempt.logs);
}

async function rotate(arn: string) {
  const result = await rotateLocally(rotor.local, arn, { maxAttempts: 1, retryDelayMs: 10, onStep: keepLogs });
  expect(result.attempts.map((attempt) => [attempt.step, attempt.ok])).toEqual(
    ROTATION_STEPS.map((step) => [step, true]),
  );
  return result;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function eventsOfType(detailType: string): Record<string, unknown>[] {
  return rotor.proxy
    .requests()
    .filter((request) => request.operation === 'AWSEvents.PutEvents')
    .flatMap((request) => (JSON.parse(request.body) as { Entries: { DetailType: string; Detail: string }[] }).Entries)
    .filter((entry) => entry.DetailType === detailType)
    .map((entry) => JSON.parse(entry.Detail) as Record<string, unknown>);
}

describe('GitLab access-token rotation against the GitLab API test server', () => {
  it('overlap: creates a new token per rotation, keeps the old one working through the grace, revokes it at retirement', async () => {
    // Prepare
    const secret = await newSecret('overlap');
    gitlab.resetCounts();

    // Act: two rotations; a job holds the token of the first throughout the second
    await rotate(secret.arn);
    const afterFirst = await documentAt(secret.arn, 'AWSCURRENT');
    await rotate(secret.arn);
    const afterSecond = await documentAt(secret.arn, 'AWSCURRENT');
    const oldWorksInGrace = gitlab.accepts(afterFirst.token);
    await pause(GRACE_SECONDS * 1000 + 1100);
    const swept = await rotor.retire({ sweep: true });

    // Assess
    expect(oldWorksInGrace).toBe(true);
    expect(swept.error).toBeUndefined();
    expect(gitlab.counts).toMatchObject({ create: 2, rotate: 0, revoke: 1, familyRevocations: 0 });
    expect(gitlab.accepts(afterFirst.token)).toBe(false);
    expect(gitlab.accepts(afterSecond.token)).toBe(true);
    const current = gitlab.token(afterSecond.tokenId)!;
    expect(current).toMatchObject({ name: secret.token.name, scopes: secret.token.scopes, accessLevel: 30 });
    // The first UTC midnight after the horizon plus the one-day margin.
    const earliest = new Date(Date.now() + (HORIZON_SECONDS + 86_400) * 1000).toISOString().slice(0, 10);
    expect(afterSecond.expiresAt > earliest).toBe(true);
    const ledger = (await rotor.scanLedger()).filter((item) => item.secretArn === secret.arn);
    expect(ledger.filter((item) => item.kind === 'credential' && item.state === 'retired')).toHaveLength(1);
    logs.push(...swept.logs);
  });

  it('self: rotates a personal token through GitLab, which revokes the old one at once, without tripping family revocation', async () => {
    // Prepare
    const secret = await newSecret('self');
    gitlab.resetCounts();

    // Act
    await rotate(secret.arn);
    const afterFirst = await documentAt(secret.arn, 'AWSCURRENT');
    const oldAfterFirst = gitlab.accepts(secret.token.value);
    await rotate(secret.arn);
    const afterSecond = await documentAt(secret.arn, 'AWSCURRENT');

    // Assess
    expect(oldAfterFirst).toBe(false);
    expect(gitlab.counts).toMatchObject({ rotate: 2, create: 0, familyRevocations: 0 });
    expect(gitlab.accepts(afterFirst.token)).toBe(false);
    expect(gitlab.accepts(afterSecond.token)).toBe(true);
  });

  it.each(['self', 'overlap'] as const)(
    '%s: two concurrent createSecret invocations make one token and never present a rotated one',
    async (mode) => {
      // Prepare
      const secret = await newSecret(mode);
      const { versionId } = await beginRotation(rotor.local, secret.arn);
      gitlab.setLatencyMs(400);
      gitlab.resetCounts();

      // Act
      const twins = await Promise.all([
        rotor.runStep('createSecret', secret.arn, versionId),
        rotor.runStep('createSecret', secret.arn, versionId),
      ]);
      gitlab.setLatencyMs(0);
      const rest = await rotor.runSteps(['setSecret', 'testSecret', 'finishSecret'], secret.arn, versionId);
      expect(rest.map((run) => run.error)).toEqual([undefined, undefined, undefined]);

      // Assess
      expect(twins.map((twin) => twin.ok)).toEqual([true, true]);
      expect(gitlab.counts.rotate + gitlab.counts.create).toBe(1);
      expect(gitlab.counts.familyRevocations).toBe(0);
      expect(gitlab.accepts((await documentAt(secret.arn, 'AWSCURRENT')).token)).toBe(true);
      logs.push(...twins.flatMap((twin) => twin.logs));
    },
  );

  it('overlap: recovers a lost create answer by revoking the token it made and creating one again', async () => {
    // Prepare: GitLab creates the token, and its answer never arrives
    const secret = await newSecret('overlap');
    const { versionId } = await beginRotation(rotor.local, secret.arn);
    gitlab.dropNextAnswer((method, path) => method === 'POST' && path.endsWith('/access_tokens'));
    const lost = await rotor.runStep('createSecret', secret.arn, versionId);
    await pause(LEASE_SECONDS * 1000 + 200);

    // Act: Secrets Manager's retry, in a fresh process
    const runs = await rotor.runSteps(ROTATION_STEPS, secret.arn, versionId);
    const retried = runs[0]!;
    expect(runs.map((run) => run.error)).toEqual(ROTATION_STEPS.map(() => undefined));

    // Assess
    expect(lost.ok).toBe(false);
    expect(retried.error).toBeUndefined();
    const named = gitlab.tokens().filter((token) => token.name === secret.token.name);
    expect(named).toHaveLength(3);
    const current = await documentAt(secret.arn, 'AWSCURRENT');
    expect(named.filter((token) => gitlab.accepts(token.value)).map((token) => token.id)).toEqual([
      secret.token.id,
      current.tokenId,
    ]);
    expect(eventsOfType(RotorEvents.sideEffectOutcomeUnknown)).toEqual([
      expect.objectContaining({ secretName: secret.name, retrying: true }),
    ]);
    logs.push(...lost.logs, ...retried.logs);
  });

  it('self: a lost rotate answer is reported with the token id, and the rotated token is never presented again', async () => {
    // Prepare
    const secret = await newSecret('self');
    const { versionId } = await beginRotation(rotor.local, secret.arn);
    gitlab.dropNextAnswer((method, path) => method === 'POST' && path.endsWith('/self/rotate'));
    await rotor.runStep('createSecret', secret.arn, versionId);
    await pause(LEASE_SECONDS * 1000 + 200);
    gitlab.resetCounts();

    // Act
    const retried = await rotor.runStep('createSecret', secret.arn, versionId);

    // Assess
    expect(retried.error?.errorType).toBe('SideEffectOutcomeUnknownError');
    expect(retried.error?.errorMessage).toContain(`token ${secret.token.id}`);
    expect(gitlab.counts.rotate).toBe(0);
    expect(gitlab.counts.familyRevocations).toBe(0);
    logs.push(...retried.logs);
  });

  it('self: a token someone else rotated is a reuse incident, and the secret is marked compromised', async () => {
    // Prepare: a thief rotates the stolen current token
    const secret = await newSecret('self');
    await rotate(secret.arn);
    const stolen = await documentAt(secret.arn, 'AWSCURRENT');
    expect((await gitlab.rotateAsHolder(stolen.token)).status).toBe(200);
    rotor.proxy.resetCounts();

    // Act
    const failed = await rotateLocally(rotor.local, secret.arn, { maxAttempts: 1, onStep: keepLogs }).catch(
      (error: { attempts: StepAttempt[] }) => error,
    );

    // Assess
    const create = 'attempts' in failed ? failed.attempts[0] : undefined;
    expect(create?.error?.errorType).toBe('UpstreamReuseSuspectedError');
    const items = (await rotor.scanLedger()).filter(
      (item) => item.pk === `SECRET#${secret.arn}` || item.secretArn === secret.arn,
    );
    expect(items.find((item) => item.sk === 'STATE')).toMatchObject({ status: 'compromised' });
    expect(eventsOfType(RotorEvents.reuseDetected)).toEqual([
      expect.objectContaining({ secretName: secret.name, reason: 'possible theft upstream' }),
    ]);
    expect(create!.logs.filter((line) => line.includes(`"${MetricName.ReuseDetected}":1`))).toHaveLength(1);
  });

  it('rotor bootstrap stores a fresh token and its id from stdin without echoing it, and rotation resumes', async () => {
    // Prepare: a compromised secret (someone else rotated its token)
    const secret = await newSecret('self');
    await rotate(secret.arn);
    await gitlab.rotateAsHolder((await documentAt(secret.arn, 'AWSCURRENT')).token);
    await rotateLocally(rotor.local, secret.arn, { maxAttempts: 1 }).catch(() => undefined);
    const fresh = gitlab.issueToken({ type: 'personal', name: 'ci-fresh', scopes: ['api'] });

    // Act
    const bootstrap = await runCli(['bootstrap', secret.name, ...localCliOptions()], `${fresh.value}\n${fresh.id}\n`);
    if (bootstrap.code !== 0) throw new Error(`rotor bootstrap failed: ${bootstrap.stderr}`);
    const stored = await documentAt(secret.arn, 'AWSCURRENT');
    await rotate(secret.arn);

    // Assess
    expect(bootstrap.stdout + bootstrap.stderr).not.toContain(fresh.value);
    expect(stored).toMatchObject({ token: fresh.value, tokenId: fresh.id });
    expect(gitlab.accepts(fresh.value)).toBe(false);
    expect(gitlab.accepts((await documentAt(secret.arn, 'AWSCURRENT')).token)).toBe(true);
  });

  it('rotor status says plainly that a self-mode token has no overlap at GitLab', async () => {
    // Act
    const status = await runCli(['status', ...localCliOptions()], '');

    // Assess
    expect(status.code).toBe(0);
    const selfRow = status.stdout.split('\n').find((line) => line.trimStart().startsWith(`${PREFIX}gitlab-2 `));
    expect(selfRow).toContain('none (self)');
    expect(status.stdout).toContain(`${PREFIX}gitlab-2: a GitLab token in self mode has no overlap at GitLab`);
    const overlapRow = status.stdout.split('\n').find((line) => line.trimStart().startsWith(`${PREFIX}gitlab-1 `));
    expect(overlapRow).not.toContain('none (self)');
  });

  it('never writes a token into logs, metrics, events or the ledger', async () => {
    // Act
    const ledger = JSON.stringify(await rotor.scanLedger());
    const events = JSON.stringify(
      rotor.proxy.requests().filter((request) => !request.operation.startsWith('secretsmanager')),
    );
    const everything = [logs.join('\n'), ledger, events].join('\n');

    // Assess
    const leaked = gitlab.tokens().filter((token) => everything.includes(token.value));
    expect(leaked.map((token) => token.id)).toEqual([]);
    expect(gitlab.tokens().length).toBeGreaterThan(10);
  });
});

function localCliOptions(): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-gitlab-cli-'));
  const config = join(dir, 'rotor.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      stages: [
        {
          name: 'development',
          secretNamePrefix: PREFIX,
          logRetentionDays: 30,
          secrets: [{ name: 'unused', provider: 'managed-token', schedule: 'rate(4 hours)', window: '1h' }],
        },
      ],
    }),
  );
  return ['--local', '--endpoint', rotor.moto.endpoint, '--config', config];
}

function runCli(args: string[], stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '' } },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), stdout, stderr });
      },
    );
    child.stdin?.end(stdin);
  });
}
