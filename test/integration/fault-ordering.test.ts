import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { invokeBundle, type BundleInvocation } from '../../cli/local/invoke-bundle';
import { beginRotation } from '../../cli/local/local-rotation';
import { retirementScheduleName } from '../../lambda/adapters/scheduler-retirements';
import type { Verdict } from '../../lambda/core/verifier/verdict';
import { ROTATION_STEPS, type RotationStep } from '../../lambda/core/rotation/rotation-event';
import { LambdaBundle, RotorEnv } from '../../lambda/shared/rotor-constants';
import type { InjectedFault } from '../../cli/local/aws-proxy';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';

// A fault between any two writes of any rotation step never leaves the ledger disagreeing with
// Secrets Manager in a way the verifier gets wrong, and the documented healer puts it right.
// The writes of each step are learnt from a clean rotation (not written down here), then each
// one is refused in turn: the writes before it happened, it and the ones after it did not.
// One moto server for the file, one fresh secret per case, bundles in fresh processes (a faulty
// step in one of its own).

const GRACE_SECONDS = 600;

// An error the SDK does not retry, as IAM or a lost network would leave the function.
const REFUSED: InjectedFault = { status: 400, type: 'AccessDeniedException', message: 'refused by the fault test' };

const WRITE_OPERATION =
  /^(secretsmanager\.(PutSecretValue|UpdateSecretVersionStage)|DynamoDB_20120810\.(PutItem|UpdateItem|DeleteItem|TransactWriteItems|BatchWriteItem)|AWSEvents\.PutEvents|(POST|PUT|PATCH|DELETE) \/)/;

let rotor: LocalRotor;
let secretCount = 0;
/** Write operations of each step of a rotation that replaces a token, in order. */
const writesOf: Partial<Record<RotationStep, string[]>> = {};

beforeAll(async () => {
  rotor = await startLocalRotor({ graceSeconds: GRACE_SECONDS });
  // The clean run that teaches the writes: a secret with a token, rotated once more.
  const { arn, previousVersionId } = await secretWithToken();
  const { versionId } = await beginRotation(rotor.local, arn);
  for (const step of ROTATION_STEPS) {
    rotor.proxy.resetCounts();
    expect((await rotor.runStep(step, arn, versionId)).ok).toBe(true);
    writesOf[step] = rotor.proxy
      .requests()
      .map((request) => request.operation)
      .filter((operation) => WRITE_OPERATION.test(operation))
      .map((operation) => generic(operation, arn, previousVersionId(versionId)));
  }
});

afterAll(async () => {
  await rotor?.stop();
});

// The retirement schedule is named after the secret and the replaced version: make it a placeholder.
function generic(operation: string, arn: string, replacedVersionId: string): string {
  return operation.replace(retirementScheduleName(arn, replacedVersionId), '{retirement}');
}

function concrete(operation: string, arn: string, replacedVersionId: string): string {
  return operation.replace('{retirement}', retirementScheduleName(arn, replacedVersionId));
}

/**
 * A new managed-token secret whose first token (t1, version v1) is issued and promoted. Only the
 * steps that write run: setSecret and testSecret change nothing for this provider (see the first test).
 */
async function secretWithToken(): Promise<{
  arn: string;
  name: string;
  v1: string;
  t1: string;
  previousVersionId: (versionId: string) => string;
}> {
  secretCount += 1;
  const name = `rotor/development/faults-${secretCount}`;
  const arn = await rotor.createSecret(name, '{"provider":"managed-token"}');
  const { versionId: v1 } = await beginRotation(rotor.local, arn);
  await runInOneProcess(WRITING_STEPS, arn, v1);
  const t1 = tokenIn(await rotor.valueAt(arn, 'AWSCURRENT'));
  return { arn, name, v1, t1, previousVersionId: () => v1 };
}

const WRITING_STEPS = ['createSecret', 'finishSecret'] as const;

function tokenIn(document: string | undefined): string {
  const parsed = JSON.parse(document ?? 'null') as { token?: unknown };
  if (typeof parsed.token !== 'string') throw new Error('document holds no token');
  return parsed.token;
}

async function tokenAt(arn: string, versionId: string): Promise<string | undefined> {
  const stages = (await rotor.labels(arn))[versionId] ?? [];
  if (stages.includes('AWSCURRENT')) return tokenIn(await rotor.valueAt(arn, 'AWSCURRENT'));
  if (stages.includes('AWSPENDING')) {
    const value = await rotor.valueAt(arn, 'AWSPENDING');
    return value === undefined ? undefined : (JSON.parse(value) as { token?: string }).token;
  }
  return undefined;
}

async function verdicts(tokens: readonly string[]): Promise<Verdict[]> {
  const { results } = await rotor.verifyConcurrently(tokens.map((token) => ({ token })));
  return results.map((result) => result.result as Verdict);
}

/** The ledger's items for one secret: its credentials by fingerprint-free view, and its state. */
async function ledgerOf(arn: string): Promise<{
  credentials: { versionId: string; state: string; graceEndsAt?: number }[];
  state: Record<string, unknown> | undefined;
}> {
  const items = (await rotor.scanLedger()).filter((item) => item.secretArn === arn);
  return {
    credentials: items
      .filter((item) => item.kind === 'credential')
      .map((item) => ({
        versionId: String(item.versionId),
        state: String(item.state),
        ...(typeof item.graceEndsAt === 'number' ? { graceEndsAt: item.graceEndsAt } : {}),
      })),
    state: items.find((item) => item.kind === 'secret-state'),
  };
}

function healthOf(run: BundleInvocation, secretName: string): string | undefined {
  for (const line of run.logs) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { secretName?: string; outcome?: string };
    if (entry.secretName === secretName && entry.outcome !== undefined) return entry.outcome;
  }
  return undefined;
}

/** The steps in one fresh process (one warm container, as Lambda usually serves a rotation), each successful. */
async function runInOneProcess(steps: readonly RotationStep[], arn: string, versionId: string): Promise<void> {
  const runs = await rotor.runSteps(steps, arn, versionId);
  expect(runs.map((run, index) => [steps[index], run.ok, run.error])).toEqual(
    steps.map((step) => [step, true, undefined]),
  );
}

/**
 * Secrets Manager's retry of the failed rotation, same token, from the failed step on (the steps
 * before it are done; setSecret and testSecret write nothing for this provider), in a process of
 * its own: nothing the failed attempt held in memory helps it.
 */
async function retryFrom(step: RotationStep, arn: string, versionId: string): Promise<void> {
  await runInOneProcess(
    WRITING_STEPS.slice(WRITING_STEPS.indexOf(step as (typeof WRITING_STEPS)[number])),
    arn,
    versionId,
  );
}

/** Learnt writes against what each case was written for. */
const CASES: readonly [RotationStep, number, { ok: boolean; moved: boolean }][] = [
  ['createSecret', 1, { ok: false, moved: false }],
  ['createSecret', 2, { ok: false, moved: false }],
  ['finishSecret', 1, { ok: false, moved: false }],
  ['finishSecret', 2, { ok: false, moved: false }],
  ['finishSecret', 3, { ok: false, moved: true }],
  // A refused retirement schedule is recorded in the audit trail and the sweep retires the token.
  ['finishSecret', 4, { ok: true, moved: true }],
];

/** v2 is AWSCURRENT and the only current credential, v1 previous in its grace, in labels, ledger and verdicts. */
async function expectRotatedOnce(arn: string, v1: string, v2: string, t1: string): Promise<void> {
  const labels = await rotor.labels(arn);
  expect(labels[v2]).toContain('AWSCURRENT');
  expect(labels[v1]).toEqual(['AWSPREVIOUS']);
  const ledger = await ledgerOf(arn);
  expect(ledger.credentials.filter((c) => c.state === 'current').map((c) => c.versionId)).toEqual([v2]);
  expect(ledger.credentials.find((c) => c.versionId === v1)).toMatchObject({ state: 'previous' });
  expect(ledger.state).toMatchObject({ currentVersionId: v2, previousVersionId: v1 });
  const t2 = tokenIn(await rotor.valueAt(arn, 'AWSCURRENT'));
  expect((await verdicts([t2, t1])).map((v) => [v.allowed, v.reason, v.versionId])).toEqual([
    [true, 'current', v2],
    [true, 'grace', v1],
  ]);
}

describe('A fault between any two writes of a rotation step', () => {
  it('learns the writes of each step from a clean rotation: createSecret and finishSecret write, the others do not', () => {
    expect(writesOf).toEqual({
      createSecret: ['secretsmanager.PutSecretValue', 'DynamoDB_20120810.TransactWriteItems'],
      setSecret: [],
      testSecret: [],
      finishSecret: [
        'DynamoDB_20120810.UpdateItem',
        'secretsmanager.UpdateSecretVersionStage',
        'DynamoDB_20120810.TransactWriteItems',
        expect.stringMatching(/^POST \/schedules\/\{retirement\}/) as unknown as string,
      ],
    });
  });

  it('has a case for every write learnt, and no more', () => {
    expect(CASES.map(([step, k]) => `${step} ${k}`)).toEqual(
      ROTATION_STEPS.flatMap((step) => (writesOf[step] ?? []).map((_operation, index) => `${step} ${index + 1}`)),
    );
  });

  it.each(CASES)(
    '%s, write %i refused: the verifier is right meanwhile, and the retry heals',
    async (step, k, expected) => {
      // Prepare: a secret with its first token, and a second rotation up to the faulty step.
      const { arn, name, v1, t1 } = await secretWithToken();
      const { versionId: v2 } = await beginRotation(rotor.local, arn);
      if (step === 'finishSecret') expect((await rotor.runStep('createSecret', arn, v2)).ok).toBe(true);
      const operation = concrete(writesOf[step]![k - 1]!, arn, v1);

      // Act: the k-th write of the step is refused (the ones before it happened).
      rotor.proxy.failNext(operation, 1, REFUSED);
      const faulty = await rotor.runStep(step, arn, v2);
      rotor.proxy.failNext(operation, 0);

      // Assess, meanwhile: the verifier allows exactly what consumers may hold (the old token:
      // AWSCURRENT or within its grace; the new one only once AWSCURRENT), and the health check finds
      // nothing to roll back.
      const moved = (await rotor.labels(arn))[v2]?.includes('AWSCURRENT') ?? false;
      expect({ ok: faulty.ok, moved }).toEqual(expected);
      const t2 = await tokenAt(arn, v2);
      const meanwhile = await verdicts(t2 === undefined ? [t1] : [t1, t2]);
      expect(meanwhile[0]).toMatchObject({ allowed: true, versionId: v1 });
      if (t2 !== undefined) expect(meanwhile[1]?.allowed).toBe(moved);
      expect(healthOf(await rotor.healthCheck(), name)).toBe('healthy');

      // Act: Secrets Manager retries the rotation with the same token.
      if (!faulty.ok) await retryFrom(step, arn, v2);

      // Assess: labels, ledger and verdicts are those of a rotation that never failed.
      await expectRotatedOnce(arn, v1, v2, t1);
    },
    60_000,
  );
});

describe('A finishSecret that failed after moving AWSCURRENT, never retried', () => {
  it('is recorded by the next rotation before it writes, and the rotated-out token is never current again', async () => {
    // Prepare: the second rotation's promotion is refused after the move, and nobody retries it.
    const { arn, v1, t1 } = await secretWithToken();
    const { versionId: v2 } = await beginRotation(rotor.local, arn);
    expect((await rotor.runStep('createSecret', arn, v2)).ok).toBe(true);
    rotor.proxy.failNext('DynamoDB_20120810.TransactWriteItems', 1, REFUSED);
    expect((await rotor.runStep('finishSecret', arn, v2)).ok).toBe(false);
    const t2 = tokenIn(await rotor.valueAt(arn, 'AWSCURRENT'));

    // Act: the next rotation, as the schedule starts it.
    const { versionId: v3 } = await beginRotation(rotor.local, arn);
    expect((await rotor.runStep('createSecret', arn, v3)).ok).toBe(true);
    const healed = await ledgerOf(arn);
    expect((await rotor.runStep('finishSecret', arn, v3)).ok).toBe(true);

    // Assess: createSecret recorded the missed promotion before storing its own token ...
    expect(healed.credentials.filter((c) => c.state === 'current').map((c) => c.versionId)).toEqual([v2]);
    expect(healed.state).toMatchObject({ currentVersionId: v2, previousVersionId: v1 });
    // ... and after the rotation one token is current, the two before it previous; t1's grace is the
    // one marked before the first move, never lengthened by the late record.
    const t3 = tokenIn(await rotor.valueAt(arn, 'AWSCURRENT'));
    const ledger = await ledgerOf(arn);
    expect(ledger.credentials.filter((c) => c.state === 'current').map((c) => c.versionId)).toEqual([v3]);
    const [first, second] = [v1, v2].map((v) => ledger.credentials.find((c) => c.versionId === v));
    expect([first?.state, second?.state]).toEqual(['previous', 'previous']);
    expect(first!.graceEndsAt!).toBeLessThan(second!.graceEndsAt!);
    expect((await verdicts([t3, t2, t1])).map((v) => [v.allowed, v.reason, v.versionId])).toEqual([
      [true, 'current', v3],
      [true, 'grace', v2],
      [true, 'grace', v1],
    ]);
  });
});

describe('A step whose ledger part cannot succeed', () => {
  it('fails before its first write: pepper unreadable, missing or too short, ledger table missing', async () => {
    // Prepare: a secret mid-rotation, and the faults, each a changed environment or a refused read.
    const { arn } = await secretWithToken();
    const { versionId: v2 } = await beginRotation(rotor.local, arn);
    const shortPepper = await rotor.secretsManager.send(
      new CreateSecretCommand({ Name: `rotor/development/short-pepper-${secretCount}`, SecretString: 'too short' }),
    );
    const pepperArn = rotor.local.env[RotorEnv.pepperSecretArn]!;
    const faults: [string, Record<string, string>, boolean][] = [
      ['pepper unreadable', {}, true],
      [
        'pepper missing',
        { [RotorEnv.pepperSecretArn]: pepperArn.replace(/:secret:.*$/, ':secret:rotor/none-AbCdEf') },
        false,
      ],
      ['pepper too short', { [RotorEnv.pepperSecretArn]: shortPepper.ARN! }, false],
      ['ledger table missing', { [RotorEnv.ledgerTable]: 'rotor-development-no-such-table' }, false],
    ];
    const run = async (step: RotationStep, env: Record<string, string>, refusePepper: boolean) => {
      rotor.proxy.resetCounts();
      // The pepper is the first value a writing step reads: refusing it is refusing the pepper.
      if (refusePepper) rotor.proxy.failNext('secretsmanager.GetSecretValue', 1, REFUSED);
      const invocation = await invokeBundle(
        LambdaBundle.rotation,
        { Step: step, SecretId: arn, ClientRequestToken: v2 },
        { env: { ...rotor.local.env, ...env } },
      );
      rotor.proxy.failNext('secretsmanager.GetSecretValue', 0);
      const writes = rotor.proxy
        .requests()
        .map((request) => request.operation)
        .filter((operation) => WRITE_OPERATION.test(operation));
      return { ok: invocation.ok, writes };
    };

    for (const step of WRITING_STEPS) {
      const before = await rotor.labels(arn);
      const ledgerBefore = await ledgerOf(arn);
      for (const [fault, env, refusePepper] of faults) {
        // Act
        const outcome = await run(step, env, refusePepper);

        // Assess
        expect([step, fault, outcome]).toEqual([step, fault, { ok: false, writes: [] }]);
      }
      expect(await rotor.labels(arn)).toEqual(before);
      expect(await ledgerOf(arn)).toEqual(ledgerBefore);
      // With the fault gone, the step runs.
      expect((await rotor.runStep(step, arn, v2)).ok).toBe(true);
    }
    expect((await rotor.labels(arn))[v2]).toContain('AWSCURRENT');
  });
});
