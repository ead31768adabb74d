import { UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { beginRotation } from '../../cli/local/local-rotation';
import type { InjectedFault } from '../../cli/local/aws-proxy';
import { retirementScheduleName } from '../../lambda/adapters/scheduler-retirements';
import { ROTATION_STEPS, type RotationStep } from '../../lambda/core/rotation/rotation-event';
import { LOCAL_GITLAB_MANAGER_NAME } from '../support/function-policies';
import { startGitLabApiServer, type GitLabApiServer } from '../support/gitlab-api-server';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';
import { startTestIdp, type TestIdp } from '../support/oidc-idp';
import { createTestPki, type TestPki } from '../support/test-pki';

// The rotations whose credential is made by a side effect outside AWS: an OAuth 2.0 refresh
// (single-use refresh token, spent at a real IdP) and a GitLab overlap rotation (a new token made
// by the manager at GitLab). A fault before any write of any step, the writes learnt from a
// fault-free rotation, never loses the spent answer, never makes a second credential, never
// leaves the verifier allowing what consumers may not hold, and the retry heals: labels, ledger,
// verdicts and the issuer agree afterwards. Past every grace, the retirement sweep leaves only
// AWSCURRENT alive, at the issuer and in the ledger.
//
// One moto, one IdP and one GitLab for the file; one secret per provider, rotated once per case:
// each case starts from the state the previous one ended in (checked), which is the state a
// rotation that never failed leaves, so the next rotation is also part of every recovery.

const PREFIX = 'rotor/development/';
// Long enough to see the previous credential in its grace right after each case, short enough to
// wait for at the end.
const GRACE_SECONDS = 8;
const LEASE_SECONDS = 2;
/** How often createSecret writes AWSPENDING before it gives the answer up (journaled-create.ts). */
const PENDING_WRITE_ATTEMPTS = 5;

// An error the SDK does not retry, as IAM or a lost network would leave the function.
const REFUSED: InjectedFault = { status: 400, type: 'AccessDeniedException', message: 'refused by the fault test' };

const WRITE_OPERATION =
  /^(secretsmanager\.(PutSecretValue|UpdateSecretVersionStage)|DynamoDB_20120810\.(PutItem|UpdateItem|DeleteItem|TransactWriteItems|BatchWriteItem)|AWSEvents\.PutEvents|(POST|PUT|PATCH|DELETE) \/)/;

let pki: TestPki;
let idp: TestIdp;
let gitlab: GitLabApiServer;
let rotor: LocalRotor;

beforeAll(async () => {
  pki = createTestPki();
  [idp, gitlab, rotor] = await Promise.all([
    startTestIdp({ tls: pki.server, caPem: pki.caPem }),
    startGitLabApiServer({ tls: pki.server }),
    // A short lease: a retry after a lost answer waits out the lost attempt's claim first.
    startLocalRotor({ graceSeconds: GRACE_SECONDS, env: { ROTOR_SIDE_EFFECT_LEASE_SECONDS: String(LEASE_SECONDS) } }),
  ]);
  rotor.allowProviderOrigins(idp.issuer, gitlab.origin);
});

afterAll(async () => {
  await Promise.all([idp?.stop(), gitlab?.stop(), rotor?.stop()]);
});

/** What differs between the two providers, for the same enumeration. */
interface FaultSubject {
  readonly arn: string;
  readonly name: string;
  /** The field of the document consumers present (the verifier's credential). */
  readonly credentialField: 'accessToken' | 'token';
  /** Side effects at the issuer so far: refresh exchanges, or tokens created. */
  issued(): number;
  /** Whether the issuer accepts the credential in `document` (a consumer holding it can work). */
  usable(document: Record<string, unknown>): Promise<boolean>;
  /** Provider-specific facts after each healed rotation, given the replaced and the current documents. */
  afterRecovery(replaced: Record<string, unknown>, current: Record<string, unknown>): Promise<void>;
  /** Credentials the issuer accepts that no version of the secret holds (orphans). */
  unheld(): readonly unknown[];
  /** Past every grace and the sweep: what the issuer still accepts besides AWSCURRENT's credential. */
  othersAlive(current: Record<string, unknown>): Promise<readonly unknown[]>;
}

async function oauthSubject(): Promise<FaultSubject> {
  const name = `${PREFIX}faults-oauth`;
  const { refreshToken, accessToken } = await idp.issueRefreshToken();
  const document = {
    provider: 'oauth2-refresh-token',
    schemaVersion: 1,
    tokenEndpoint: idp.tokenEndpoint,
    introspectionEndpoint: idp.introspectionEndpoint,
    clientId: idp.clientId,
    clientSecret: idp.clientSecret,
    refreshToken,
    accessToken,
    tls: { caBundle: pki.caPem },
  };
  return {
    arn: await rotor.createSecret(name, JSON.stringify(document)),
    name,
    credentialField: 'accessToken',
    issued: () => idp.refreshRequests(),
    usable: async (current) => (await idp.introspect(String(current.accessToken))).active,
    afterRecovery: async (replaced, current) => {
      // The refresh token spent at the IdP is the replaced one; the IdP's answer is AWSCURRENT, and
      // it is the only refresh token of the grant still alive: the next rotation can refresh.
      expect((await idp.introspect(String(replaced.refreshToken))).active).toBe(false);
      expect((await idp.introspect(String(current.refreshToken))).active).toBe(true);
    },
    // The IdP lets an access token live out its own lifetime; the verifier's deny is what ends it.
    othersAlive: () => Promise.resolve([]),
    // The IdP makes no credential Rotor could lose track of: a refresh answers with the successor.
    unheld: () => [],
  };
}

async function gitlabSubject(): Promise<FaultSubject> {
  const projectId = gitlab.addProject('example-group/app');
  const manager = gitlab.issueToken({ type: 'personal', name: 'rotor-manager', scopes: ['api'] });
  const common = {
    schemaVersion: 1,
    provider: 'gitlab-access-token',
    gitlabUrl: gitlab.origin,
    // Four hours to the next rotation plus its window and grace.
    expiryHorizonSeconds: 5 * 3600,
  };
  const tls = { caBundle: pki.caPem };
  const managerName = `${PREFIX}${LOCAL_GITLAB_MANAGER_NAME}`;
  await rotor.createSecret(
    managerName,
    JSON.stringify({
      ...common,
      tokenId: manager.id,
      token: manager.value,
      scopes: manager.scopes,
      expiresAt: manager.expiresAt,
      tokenType: 'personal',
      tls,
    }),
  );
  const token = gitlab.issueToken({
    type: 'project',
    ownerId: projectId,
    name: 'registry-push',
    scopes: ['read_registry', 'write_registry'],
    accessLevel: 30,
  });
  const name = `${PREFIX}faults-gitlab`;
  const document = {
    ...common,
    tokenId: token.id,
    token: token.value,
    scopes: token.scopes,
    expiresAt: token.expiresAt,
    tokenType: 'project',
    ownerId: 'example-group/app',
    accessLevel: 30,
    managerSecret: managerName,
    tls,
  };
  const live = () => gitlab.tokens().filter((t) => t.ownerId === projectId && !t.revoked);
  // Token ids some version of the secret held: the first, and each rotation's (their retirement
  // revokes them). A live token not among them would be an orphan no retirement ever revokes.
  const held = new Set<number>([token.id]);
  return {
    arn: await rotor.createSecret(name, JSON.stringify(document)),
    name,
    credentialField: 'token',
    issued: () => gitlab.counts.create,
    usable: (current) => Promise.resolve(gitlab.accepts(String(current.token))),
    afterRecovery: (replaced, current) => {
      // Overlap: the replaced token works through its grace, and no token was made that no
      // version holds (a second create after a lost answer would be one).
      held.add(Number(current.tokenId));
      expect(gitlab.accepts(String(replaced.token))).toBe(true);
      expect(live().filter((t) => !held.has(t.id))).toEqual([]);
      return Promise.resolve();
    },
    unheld: () => live().filter((t) => !held.has(t.id)),
    // The first token was made outside Rotor (the ledger never knew it, so no retirement revokes it).
    othersAlive: (current) => Promise.resolve(live().filter((t) => t.id !== current.tokenId && t.id !== token.id)),
  };
}

async function documentAt(arn: string, stage: string): Promise<Record<string, unknown>> {
  const value = await rotor.valueAt(arn, stage);
  if (value === undefined) throw new Error(`no value at ${stage}`);
  return JSON.parse(value) as Record<string, unknown>;
}

async function ledgerOf(arn: string) {
  const items = (await rotor.scanLedger()).filter((item) => item.secretArn === arn);
  return {
    credentials: items
      .filter((item) => item.kind === 'credential')
      .map((item) => ({
        versionId: String(item.versionId),
        state: String(item.state),
        ...(typeof item.graceEndsAt === 'number' ? { graceEndsAt: item.graceEndsAt } : {}),
        ...(typeof item.supersessionGraceEndsAt === 'number'
          ? { supersessionGraceEndsAt: item.supersessionGraceEndsAt }
          : {}),
      })),
    state: items.find((item) => item.kind === 'secret-state'),
    journal: items
      .filter((item) => item.kind === 'journal-claim')
      .map((item) => ({ key: String(item.sk), versionId: String(item.versionId), outcome: String(item.outcome) })),
  };
}

/**
 * The steps in one fresh process, as Lambda usually serves a rotation's steps (one warm container);
 * each must succeed. A retry after a fault starts a process of its own: nothing the faulty attempt
 * held in memory helps it.
 */
async function runSteps(steps: readonly RotationStep[], arn: string, versionId: string): Promise<void> {
  if (steps.length === 0) return;
  const runs = await rotor.runSteps(steps, arn, versionId);
  expect(runs.map((run, index) => [steps[index], run.ok, run.error])).toEqual(
    steps.map((step) => [step, true, undefined]),
  );
}

/** A fault-free rotation; with `learn`, the write operations of each step, in order. */
async function cleanRotation(subject: FaultSubject, learn?: Partial<Record<RotationStep, string[]>>): Promise<void> {
  const replaced = await documentAt(subject.arn, 'AWSCURRENT');
  const { versionId } = await beginRotation(rotor.local, subject.arn);
  const replacedVersionId = currentVersionOf(await rotor.labels(subject.arn));
  if (learn === undefined) {
    await runSteps(ROTATION_STEPS, subject.arn, versionId);
  } else {
    // Each step in a process of its own, to tell its writes from the next step's.
    for (const step of ROTATION_STEPS) {
      rotor.proxy.resetCounts();
      await runSteps([step], subject.arn, versionId);
      learn[step] = rotor.proxy
        .requests()
        .map((request) => request.operation)
        .filter((operation) => WRITE_OPERATION.test(operation))
        .map((operation) => operation.replace(retirementScheduleName(subject.arn, replacedVersionId), '{retirement}'));
    }
  }
  await clearPending(subject.arn, versionId);
  // The first rotation replaces a credential Rotor never issued: the ledger does not know it.
  await expectHealed(subject, replacedVersionId, versionId, replaced, learn !== undefined);
}

function currentVersionOf(labels: Record<string, string[]>): string {
  const found = Object.entries(labels).find(([, stages]) => stages.includes('AWSCURRENT'));
  if (found === undefined) throw new Error('no AWSCURRENT version');
  return found[0];
}

// As Secrets Manager's end state after a finished rotation: moto refuses the next RotateSecret while
// AWSPENDING stays on the current version.
async function clearPending(arn: string, versionId: string): Promise<void> {
  await rotor.secretsManager.send(
    new UpdateSecretVersionStageCommand({ SecretId: arn, VersionStage: 'AWSPENDING', RemoveFromVersionId: versionId }),
  );
}

/**
 * The state of a rotation that never failed: `current` AWSCURRENT and the only current credential,
 * `replaced` AWSPREVIOUS and previous in its grace, in labels, ledger, verdicts and at the issuer;
 * no journal entry left in flight.
 */
async function expectHealed(
  subject: FaultSubject,
  replacedVersionId: string,
  currentVersionId: string,
  replaced: Record<string, unknown>,
  replacedIssuedByRotor = true,
): Promise<void> {
  const labels = await rotor.labels(subject.arn);
  expect(labels[currentVersionId]).toContain('AWSCURRENT');
  expect(labels[replacedVersionId]).toEqual(['AWSPREVIOUS']);
  const ledger = await ledgerOf(subject.arn);
  expect(ledger.credentials.filter((c) => c.state === 'current').map((c) => c.versionId)).toEqual([currentVersionId]);
  expect(ledger.credentials.find((c) => c.versionId === replacedVersionId)?.state).toBe(
    replacedIssuedByRotor ? 'previous' : undefined,
  );
  expect(ledger.state).toMatchObject({ currentVersionId, previousVersionId: replacedVersionId });
  // A spent refresh token keeps its SPENT# entry (what stops any later rotation presenting it
  // again), one per rotation that spent one; a GitLab create keeps its JOURNAL# entry (the created
  // token, for a retry) until it expires.
  const spentBy = ledger.journal.filter((entry) => entry.key.startsWith('SPENT#')).map((entry) => entry.versionId);
  expect(new Set(spentBy).size).toBe(spentBy.length);
  // What the verifier goes by: the replaced credential's grace is running.
  const previous = ledger.credentials.find((c) => c.versionId === replacedVersionId);
  if (replacedIssuedByRotor) expect(previous?.graceEndsAt).toBeGreaterThan(Date.now());
  const current = await documentAt(subject.arn, 'AWSCURRENT');
  expect(await subject.usable(current)).toBe(true);
  await subject.afterRecovery(replaced, current);
}

/**
 * For each write of `step` in turn: a rotation whose step is refused that write (the writes before
 * it happened), the verifier and the consumer checked meanwhile, then Secrets Manager's retry of the
 * step and the steps after it, and the healed state checked.
 */
async function enumerateFaults(
  subject: FaultSubject,
  step: RotationStep,
  writes: readonly string[],
  replacedCredentials: string[],
): Promise<void> {
  for (const [index, write] of writes.entries()) {
    const replaced = await documentAt(subject.arn, 'AWSCURRENT');
    replacedCredentials.push(String(replaced[subject.credentialField]));
    const replacedVersionId = currentVersionOf(await rotor.labels(subject.arn));
    const issuedBefore = subject.issued();
    const { versionId } = await beginRotation(rotor.local, subject.arn);
    const at = ROTATION_STEPS.indexOf(step);
    await runSteps(ROTATION_STEPS.slice(0, at), subject.arn, versionId);
    const operation = write.replace('{retirement}', retirementScheduleName(subject.arn, replacedVersionId));

    // Act: the write is refused, once.
    rotor.proxy.failNext(operation, 1, REFUSED);
    const faulty = await rotor.runStep(step, subject.arn, versionId);
    rotor.proxy.failNext(operation, 0);

    // Assess, meanwhile: the consumer's AWSCURRENT works at the issuer and the verifier allows it;
    // the new credential is allowed only once AWSCURRENT.
    const where = `${step} write ${index + 1} (${write}) refused, ok=${faulty.ok}`;
    const labels = await rotor.labels(subject.arn);
    const moved = labels[versionId]?.includes('AWSCURRENT') ?? false;
    const consumed = await documentAt(subject.arn, 'AWSCURRENT');
    expect([where, await subject.usable(consumed)]).toEqual([where, true]);
    // What the verifier goes by: a credential is `current` in the ledger only if it is AWSCURRENT,
    // or if it is about to leave AWSCURRENT with its grace already marked; the new one is `pending`
    // until it is AWSCURRENT.
    const currentVersionId = currentVersionOf(labels);
    const meanwhile = await ledgerOf(subject.arn);
    for (const credential of meanwhile.credentials.filter((c) => c.state === 'current')) {
      if (credential.versionId !== currentVersionId)
        expect([where, credential.supersessionGraceEndsAt]).toEqual([where, expect.any(Number)]);
    }
    const recorded = meanwhile.credentials.find((c) => c.versionId === versionId)?.state;
    if (!moved) expect([where, recorded]).toEqual([where, recorded === undefined ? undefined : 'pending']);

    // Act: Secrets Manager retries the step, then runs the ones after it.
    await runSteps(ROTATION_STEPS.slice(at), subject.arn, versionId);
    await clearPending(subject.arn, versionId);

    // Assess: one side effect at the issuer for the rotation (a lost answer is found in the
    // journal, never asked for again), and the state of a rotation that never failed.
    expect([where, subject.issued() - issuedBefore]).toEqual([where, 1]);
    await expectHealed(subject, replacedVersionId, versionId, replaced);
  }
}

/** The retirement sweep past every grace: only AWSCURRENT's credential is alive anywhere. */
async function expectOnlyCurrentAlive(subject: FaultSubject, retiredCount: number): Promise<void> {
  const current = await documentAt(subject.arn, 'AWSCURRENT');
  const currentVersionId = currentVersionOf(await rotor.labels(subject.arn));
  const ledger = await ledgerOf(subject.arn);
  expect(ledger.credentials.filter((c) => c.state === 'current').map((c) => c.versionId)).toEqual([currentVersionId]);
  expect(ledger.credentials.filter((c) => c.state === 'previous')).toEqual([]);
  // Every credential a rotation replaced (each case's, and the learning rotation's) is retired.
  const others = ledger.credentials.filter((c) => c.versionId !== currentVersionId);
  expect(others.map((c) => c.state)).toEqual(Array.from({ length: retiredCount + 1 }, () => 'retired'));
  expect(await subject.usable(current)).toBe(true);
  expect(await subject.othersAlive(current)).toEqual([]);
}

const PROVIDERS = [
  // An IdP that rotates refresh tokens cannot give a lost answer again: docs/providers.md.
  ['an OAuth 2.0 refresh', oauthSubject, false],
  ['a GitLab overlap rotation', gitlabSubject, true],
] as const;

/** Each provider's subject, and every credential a rotation replaced, for the check past every grace. */
const rotated = new Map<string, { subject: FaultSubject; replacedCredentials: string[] }>();

describe.each(PROVIDERS)('A fault before any write of %s', (name, makeSubject, recoversLostAnswer) => {
  let subject: FaultSubject;
  const writesOf: Partial<Record<RotationStep, string[]>> = {};
  const replacedCredentials: string[] = [];

  beforeAll(async () => {
    subject = await makeSubject();
    rotated.set(name, { subject, replacedCredentials });
    // A first rotation records the credential; the second, like every case, replaces a known one.
    await cleanRotation(subject);
    await cleanRotation(subject, writesOf);
  }, 60_000);

  it('learns the writes of each step from a fault-free rotation: the journal claim, AWSPENDING, the pending record; the grace mark, the move, the promotion, the retirement', () => {
    expect(writesOf).toEqual({
      createSecret: [
        'DynamoDB_20120810.PutItem',
        'secretsmanager.PutSecretValue',
        'DynamoDB_20120810.TransactWriteItems',
      ],
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

  it.each(['createSecret', 'finishSecret'] as const)(
    '%s: each write refused in turn loses nothing, and the retry heals',
    async (step) => {
      await enumerateFaults(subject, step, writesOf[step]!, replacedCredentials);
    },
    120_000,
  );

  if (recoversLostAnswer) {
    it('an answer lost for good (every AWSPENDING write refused): the retry revokes what it made and makes one more', async () => {
      // Prepare
      const replaced = await documentAt(subject.arn, 'AWSCURRENT');
      const replacedVersionId = currentVersionOf(await rotor.labels(subject.arn));
      const issuedBefore = subject.issued();
      const { versionId } = await beginRotation(rotor.local, subject.arn);

      // Act: the issuer answers, and no write of the answer gets through.
      rotor.proxy.failNext('secretsmanager.PutSecretValue', PENDING_WRITE_ATTEMPTS, REFUSED);
      const lost = await rotor.runStep('createSecret', subject.arn, versionId);
      rotor.proxy.failNext('secretsmanager.PutSecretValue', 0);
      const orphans = subject.unheld();
      const usableMeanwhile = await subject.usable(replaced);
      await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 500));
      replacedCredentials.push(String(replaced[subject.credentialField]));
      await runSteps(ROTATION_STEPS, subject.arn, versionId);
      await clearPending(subject.arn, versionId);

      // Assess: the lost token was alive until the retry revoked it; the consumer never lost AWSCURRENT.
      expect(lost.ok).toBe(false);
      expect(usableMeanwhile).toBe(true);
      expect(orphans).toHaveLength(1);
      expect(subject.issued() - issuedBefore).toBe(2);
      await expectHealed(subject, replacedVersionId, versionId, replaced);
      expect(subject.unheld()).toEqual([]);
      expect(gitlab.token((orphans[0] as { id: number }).id)?.revoked).toBe(true);
    }, 60_000);
  }
});

// After every provider's cases, so that only the last provider's grace is waited for.
describe.each(PROVIDERS)('Past every grace of %s', (name) => {
  it('the retirement sweep leaves only AWSCURRENT alive, and the health check finds it healthy', async () => {
    const { subject, replacedCredentials } = rotated.get(name)!;
    // Prepare: every grace is over.
    const graceEnds = (await ledgerOf(subject.arn)).credentials.map((c) => c.graceEndsAt ?? 0);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.max(...graceEnds) - Date.now()) + 500));

    // Act
    const swept = await rotor.retire({ sweep: true });
    const health = await rotor.healthCheck();

    // Assess
    expect(swept.ok).toBe(true);
    await expectOnlyCurrentAlive(subject, replacedCredentials.length);
    expect(health.logs.some((line) => line.includes(subject.name) && line.includes('"outcome":"healthy"'))).toBe(true);
  }, 60_000);
});
