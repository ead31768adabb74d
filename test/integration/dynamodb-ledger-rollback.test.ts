import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { randomBytes, randomUUID } from 'node:crypto';
import { ensureLedgerTable } from '../../cli/local/ledger-table';
import { LOCAL_CREDENTIALS } from '../../cli/local/local-clients';
import type { MotoServer } from '../../cli/local/moto-server';
import { workerMoto } from '../support/worker-moto';
import { DynamoDbLedger, type DynamoDbLedgerProps } from '../../lambda/adapters/dynamodb-ledger';
import { Fingerprinter } from '../../lambda/core/ledger/fingerprint';
import type {
  CredentialVersionRef,
  PauseRequest,
  RestoreRecord,
  RollbackClaimRequest,
  RollbackRecord,
} from '../../lambda/core/ledger/ledger';
import { MAX_HANDLED_ALARMS, type RollbackPlan } from '../../lambda/core/ledger/ledger-records';
import { generateManagedToken } from '../../lambda/core/providers/managed-token/managed-token-format';

// The rollback methods of DynamoDbLedger (issue 5) against a moto server this file starts: the
// claim (one conditional write on the secret state), the recorded rollback and the pause
// (transactions conditional on the claim), the release and the resume. Clocks are fixed.

const TABLE = 'rotor-test-ledger-rollback';
const REGION = 'us-east-1';
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const GRACE_MS = 15 * 60_000;
const REUSE_MEMORY_SECONDS = 3600;
const LEASE_MS = 90_000;

let moto: MotoServer;
let client: DynamoDBClient;
let documents: DynamoDBDocumentClient;
const fingerprinter = new Fingerprinter(randomBytes(32));
let secretCount = 0;

beforeAll(async () => {
  moto = await workerMoto();
  client = newClient();
  documents = DynamoDBDocumentClient.from(client);
  await ensureLedgerTable(client, TABLE);
});

afterAll(async () => {
  await moto?.stop();
});

interface TestSecret {
  readonly arn: string;
  readonly name: string;
}

function newClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: moto.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
}

function newLedger(options: Partial<DynamoDbLedgerProps> = {}): DynamoDbLedger {
  return new DynamoDbLedger({
    client,
    tableName: TABLE,
    auditRetentionSeconds: 400 * 24 * 3600,
    now: () => T0,
    ...options,
  });
}
const ledger = () => newLedger();

function newSecret(): TestSecret {
  secretCount += 1;
  const name = `rotor/development/rollback-${secretCount}`;
  return { arn: `arn:aws:secretsmanager:${REGION}:123456789012:secret:${name}-AbCdEf`, name };
}

function newCredential(): CredentialVersionRef {
  return { fingerprint: fingerprinter.of(generateManagedToken()), versionId: randomUUID() };
}

/** One rotation as the rotation handler records it. */
async function rotate(secret: TestSecret, previous?: CredentialVersionRef, now = T0): Promise<CredentialVersionRef> {
  const credential = newCredential();
  const base = { secretArn: secret.arn, secretName: secret.name, provider: 'managed-token' };
  await ledger().recordPending({ ...base, ...credential, now, expiresAt: seconds(now) + 86_400 });
  const graceEndsAt = now + GRACE_MS;
  await ledger().recordPromotion({
    ...base,
    current: credential,
    ...(previous === undefined ? {} : { previous }),
    now,
    graceEndsAt,
    previousExpiresAt: seconds(graceEndsAt) + REUSE_MEMORY_SECONDS,
    onReuse: 'revoke-and-rotate',
  });
  return credential;
}

/** A secret with two rotations behind it: `bad` current, `good` previous in grace. */
async function rotatedTwice(): Promise<{ secret: TestSecret; good: CredentialVersionRef; bad: CredentialVersionRef }> {
  const secret = newSecret();
  const good = await rotate(secret);
  const bad = await rotate(secret, good, T0 + 1000);
  return { secret, good, bad };
}

function seconds(epochMs: number): number {
  return Math.floor(epochMs / 1000);
}

function claimOf(
  secret: TestSecret,
  plan: RollbackPlan,
  expected: RollbackClaimRequest['expected'],
  overrides: Partial<RollbackClaimRequest> = {},
): RollbackClaimRequest {
  return {
    secretArn: secret.arn,
    claimId: randomUUID(),
    alarmKey: 'rotor-development-health-check-failures-x@2030-01-01T12:00:05.000+0000',
    alarmName: 'rotor-development-health-check-failures-x',
    plan,
    attempt: 1,
    incidentStartedAt: T0 + 5000,
    claimedAt: T0 + 5000,
    leaseUntil: T0 + 5000 + LEASE_MS,
    expected,
    ...overrides,
  };
}

function rollbackPlan(good: CredentialVersionRef, bad: CredentialVersionRef): RollbackPlan {
  return { action: 'rollback', from: bad, to: good };
}

const freshExpectation = (current: CredentialVersionRef): RollbackClaimRequest['expected'] => ({
  status: 'active',
  currentVersionId: current.versionId,
  lastAttemptAt: undefined,
  claimId: undefined,
});

function recordOf(secret: TestSecret, claim: RollbackClaimRequest, now = T0 + 6000): RollbackRecord {
  if (claim.plan.action !== 'rollback') throw new Error('not a rollback plan');
  return {
    secretArn: secret.arn,
    secretName: secret.name,
    claimId: claim.claimId,
    alarmKey: claim.alarmKey,
    alarmName: claim.alarmName,
    from: claim.plan.from,
    to: claim.plan.to,
    attempt: claim.attempt,
    incidentStartedAt: claim.incidentStartedAt,
    now,
    revokedExpiresAt: seconds(now) + REUSE_MEMORY_SECONDS,
  };
}

function pauseOf(secret: TestSecret, claim: RollbackClaimRequest, now = T0 + 6000): PauseRequest {
  return {
    secretArn: secret.arn,
    secretName: secret.name,
    claimId: claim.claimId,
    alarmKey: claim.alarmKey,
    reason: 'no usable previous credential',
    now,
  };
}

async function raw(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
  return (await documents.send(new GetCommand({ TableName: TABLE, Key: { pk, sk }, ConsistentRead: true }))).Item;
}
const rawState = (secret: TestSecret) => raw(`SECRET#${secret.arn}`, 'STATE');
const rawCredential = (credential: CredentialVersionRef) => raw(`TOKEN#${credential.fingerprint}`, 'TOKEN');

async function auditTypes(secret: TestSecret): Promise<string[]> {
  return (await ledger().readAudit(secret.arn)).map((event) => event.type);
}

async function partition(pk: string): Promise<Record<string, unknown>[]> {
  const result = await documents.send(
    new QueryCommand({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': pk },
      ConsistentRead: true,
    }),
  );
  return result.Items ?? [];
}

/** A client whose n-th `commandName` call commits and then loses its response (the SDK retries it). */
function clientLosingResponse(commandName: string): { client: DynamoDBClient; calls: () => number } {
  const hooked = newClient();
  let calls = 0;
  hooked.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== commandName) return next(args);
      calls += 1;
      const result = await next(args);
      if (calls === 1) {
        throw Object.assign(new Error('response lost (injected by the test)'), {
          name: 'InternalServerError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
        });
      }
      return result;
    },
    { step: 'deserialize', name: 'loseResponse' },
  );
  return { client: hooked, calls: () => calls };
}

describe('Class: DynamoDbLedger (rollback)', () => {
  describe('Method: claimRollback', () => {
    it('claims on the state as read: the claim, status rolling-back and a new revision', async () => {
      // Prepare
      const { secret, good, bad } = await rotatedTwice();
      const before = await rawState(secret);
      const claim = claimOf(secret, rollbackPlan(good, bad), freshExpectation(bad));

      // Act
      const outcome = await ledger().claimRollback(claim);

      // Assess
      expect(outcome).toBe('claimed');
      const state = await ledger().getSecretState(secret.arn);
      expect(state?.status).toBe('rolling-back');
      expect(state?.rollbackClaim).toEqual({
        claimId: claim.claimId,
        alarmKey: claim.alarmKey,
        alarmName: claim.alarmName,
        plan: rollbackPlan(good, bad),
        attempt: 1,
        incidentStartedAt: claim.incidentStartedAt,
        claimedAt: claim.claimedAt,
        leaseUntil: claim.leaseUntil,
      });
      expect((await rawState(secret))?.revision).toBe(Number(before?.revision) + 1);
    });

    it('claims a pause without touching the status', async () => {
      // Prepare
      const { secret, bad } = await rotatedTwice();

      // Act
      const outcome = await ledger().claimRollback(
        claimOf(secret, { action: 'pause', reason: 'no previous' }, freshExpectation(bad)),
      );

      // Assess
      expect(outcome).toBe('claimed');
      expect(await ledger().getSecretState(secret.arn)).toMatchObject({
        status: 'active',
        rollbackClaim: { plan: { action: 'pause', reason: 'no previous' } },
      });
    });

    it.each<[string, Partial<RollbackClaimRequest['expected']>]>([
      ['the status', { status: 'rolling-back' }],
      ['the current version', { currentVersionId: 'another-version' }],
      ['the last attempt', { lastAttemptAt: T0 }],
      ['a claim', { claimId: 'a-claim-that-is-not-there' }],
    ])('answers changed and writes nothing when %s is not as read', async (_what, expected) => {
      // Prepare
      const { secret, good, bad } = await rotatedTwice();
      const before = await rawState(secret);

      // Act
      const outcome = await ledger().claimRollback(
        claimOf(secret, rollbackPlan(good, bad), { ...freshExpectation(bad), ...expected }),
      );

      // Assess
      expect(outcome).toBe('changed');
      expect(await rawState(secret)).toEqual(before);
    });

    it('answers changed for a secret the ledger does not know, creating nothing', async () => {
      // Prepare
      const secret = newSecret();
      const credential = newCredential();

      // Act
      const outcome = await ledger().claimRollback(
        claimOf(secret, rollbackPlan(credential, credential), freshExpectation(credential)),
      );

      // Assess
      expect(outcome).toBe('changed');
      expect(await rawState(secret)).toBeUndefined();
    });

    it('gives exactly one of 20 concurrent claims of one alarm state change', async () => {
      // Prepare: twenty deliveries of one event, each with its own ledger client, as Lambdas would
      const { secret, good, bad } = await rotatedTwice();
      const claims = Array.from({ length: 20 }, () => claimOf(secret, rollbackPlan(good, bad), freshExpectation(bad)));

      // Act
      const outcomes = await Promise.all(
        claims.map((claim) => newLedger({ client: newClient() }).claimRollback(claim)),
      );

      // Assess
      expect(outcomes.filter((outcome) => outcome === 'claimed')).toHaveLength(1);
      const winner = claims[outcomes.indexOf('claimed')]!;
      expect((await ledger().getSecretState(secret.arn))?.rollbackClaim?.claimId).toBe(winner.claimId);
    });

    it('refuses an alarm state change already answered, and takes over a stale claim only by naming it', async () => {
      // Prepare: a claim answered and released, then a claim left by a dead attempt
      const { secret, good, bad } = await rotatedTwice();
      const answered = claimOf(secret, { action: 'pause', reason: 'x' }, freshExpectation(bad));
      await ledger().claimRollback(answered);
      await ledger().releaseRollbackClaim(secret.arn, answered.claimId, answered.alarmKey);
      const stale = claimOf(secret, rollbackPlan(good, bad), freshExpectation(bad), { alarmKey: 'other@1' });
      expect(await ledger().claimRollback(stale)).toBe('claimed');
      const takeOver = { ...freshExpectation(bad), status: 'rolling-back' as const, claimId: stale.claimId };

      // Act
      const again = await ledger().claimRollback(claimOf(secret, rollbackPlan(good, bad), takeOver));
      const blind = await ledger().claimRollback(
        claimOf(secret, rollbackPlan(good, bad), { ...takeOver, claimId: undefined }, { alarmKey: 'third@1' }),
      );
      const named = await ledger().claimRollback(
        claimOf(secret, rollbackPlan(good, bad), takeOver, { alarmKey: 'other@1' }),
      );

      // Assess
      expect(again).toBe('changed');
      expect(blind).toBe('changed');
      expect(named).toBe('claimed');
    });

    it('answers claimed to a claimer whose committed write lost its response and was retried', async () => {
      // Prepare
      const { secret, good, bad } = await rotatedTwice();
      const hooked = clientLosingResponse('UpdateItemCommand');

      // Act
      const outcome = await newLedger({ client: hooked.client }).claimRollback(
        claimOf(secret, rollbackPlan(good, bad), freshExpectation(bad)),
      );

      // Assess
      expect(outcome).toBe('claimed');
      expect(hooked.calls()).toBe(2);
    });
  });

  describe('Method: recordRollback', () => {
    it('restores the previous credential, revokes the bad one, releases the claim and records the event', async () => {
      // Prepare
      const { secret, good, bad } = await rotatedTwice();
      const claim = claimOf(secret, rollbackPlan(good, bad), freshExpectation(bad));
      await ledger().claimRollback(claim);
      const now = T0 + 6000;

      // Act
      const outcome = await ledger().recordRollback(recordOf(secret, claim, now));

      // Assess
      expect(outcome).toBe('recorded');
      const restored = await rawCredential(good);
      expect(restored).toMatchObject({ state: 'current', restoredAt: now, promotedAt: T0 });
      for (const gone of ['expiresAt', 'graceIndex', 'graceEndsAt', 'supersededAt']) {
        expect(restored).not.toHaveProperty(gone);
      }
      expect(await rawCredential(bad)).toMatchObject({
        state: 'revoked',
        revokedAt: now,
        revokedReason: 'rolled-back',
        expiresAt: seconds(now) + REUSE_MEMORY_SECONDS,
      });
      const state = await ledger().getSecretState(secret.arn);
      expect(state).toMatchObject({
        status: 'active',
        currentVersionId: good.versionId,
        currentFingerprint: good.fingerprint,
        previousVersionId: bad.versionId,
        previousFingerprint: bad.fingerprint,
        rollback: { attempts: 1, startedAt: claim.incidentStartedAt, lastAttemptAt: now },
        handledAlarms: [claim.alarmKey],
      });
      expect(state).not.toHaveProperty('rollbackClaim');
      expect(state).not.toHaveProperty('previousGraceEndsAt');
      const events = await ledger().readAudit(secret.arn);
      expect(events.at(-1)).toMatchObject({
        type: 'rolled-back',
        versionId: good.versionId,
        detail: { fromVersionId: bad.versionId, alarm: claim.alarmName, attempt: 1 },
      });
    });

    it('keeps an already revoked bad credential as it is, and still records', async () => {
      // Prepare: the bad credential was revoked before the rollback (why it failed its health check)
      const { secret, good, bad } = await rotatedTwice();
      const claim = claimOf(secret, rollbackPlan(good, bad), freshExpectation(bad));
      await ledger().claimRollback(claim);
      await documents.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { pk: `TOKEN#${bad.fingerprint}`, sk: 'TOKEN' },
          UpdateExpression: 'SET #state = :revoked, revokedAt = :at',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':revoked': 'revoked', ':at': T0 + 2000 },
        }),
      );

      // Act
      const outcome = await ledger().recordRollback(recordOf(secret, claim));

      // Assess
      expect(outcome).toBe('recorded');
      expect(await rawCredential(bad)).toMatchObject({ state: 'revoked', revokedAt: T0 + 2000 });
      expect((await ledger().getCredential(good.fingerprint))?.state).toBe('current');
    });

    it('answers already-recorded the second time, claim-lost to another claim, and changes nothing', async () => {
      // Prepare
      const { secret, good, bad } = await rotatedTwice();
      const claim = claimOf(secret, rollbackPlan(good, bad), freshExpectation(bad));
      await ledger().claimRollback(claim);
      await ledger().recordRollback(recordOf(secret, claim));
      const before = await partition(`SECRET#${secret.arn}`);

      // Act
      const again = await ledger().recordRollback(recordOf(secret, claim, T0 + 7000));
      const other = await ledger().recordRollback({
        ...recordOf(secret, claim),
        claimId: 'not-the-claim',
        alarmKey: 'x@1',
      });

      // Assess
      expect(again).toBe('already-recorded');
      expect(other).toBe('claim-lost');
      expect(await partition(`SECRET#${secret.arn}`)).toEqual(before);
    });

    it('answers claim-lost when a rotation promoted another version after the claim', async () => {
      // Prepare
      const { secret, good, bad } = await rotatedTwice();
      const claim = claimOf(secret, rollbackPlan(good, bad), freshExpectation(bad));
      await ledger().claimRollback(claim);
      const third = await rotate(secret, bad, T0 + 3000);

      // Act
      const outcome = await ledger().recordRollback(recordOf(secret, claim));

      // Assess
      expect(outcome).toBe('claim-lost');
      expect((await ledger().getSecretState(secret.arn))?.currentVersionId).toBe(third.versionId);
      expect((await ledger().getCredential(good.fingerprint))?.state).not.toBe('current');
    });

    it('answers recorded when its committed transaction lost its response and the SDK retried it', async () => {
      // Prepare
      const { secret, good, bad } = await rotatedTwice();
      const claim = claimOf(secret, rollbackPlan(good, bad), freshExpectation(bad));
      await ledger().claimRollback(claim);
      const hooked = clientLosingResponse('TransactWriteItemsCommand');

      // Act
      const outcome = await newLedger({ client: hooked.client }).recordRollback(recordOf(secret, claim));

      // Assess: the SDK's retry is either recognised by its token (AWS) or cancelled, and the state says the claim is answered
      expect(['recorded', 'already-recorded']).toContain(outcome);
      expect((await auditTypes(secret)).filter((type) => type === 'rolled-back')).toHaveLength(1);
      expect((await ledger().getSecretState(secret.arn))?.currentVersionId).toBe(good.versionId);
    });

    it('keeps at most the newest answered alarm state changes', async () => {
      // Prepare: more answered alarms than the state remembers
      const { secret, bad } = await rotatedTwice();
      for (let index = 0; index < MAX_HANDLED_ALARMS + 3; index += 1) {
        const claim = claimOf(secret, { action: 'pause', reason: 'x' }, freshExpectation(bad), {
          alarmKey: `alarm@${index}`,
        });
        expect(await ledger().claimRollback(claim)).toBe('claimed');
        await ledger().releaseRollbackClaim(secret.arn, claim.claimId, claim.alarmKey);
      }

      // Act
      const handled = (await ledger().getSecretState(secret.arn))?.handledAlarms;

      // Assess
      expect(handled).toHaveLength(MAX_HANDLED_ALARMS);
      expect(handled?.at(-1)).toBe(`alarm@${MAX_HANDLED_ALARMS + 2}`);
      expect(handled).not.toContain('alarm@0');
    });
  });

  describe('Method: recordRestore', () => {
    it('records an undone out-of-band change once, leaving every credential as it is', async () => {
      // Prepare: AWSCURRENT was overwritten outside Rotor; the claim names the version written by hand
      const { secret, good, bad } = await rotatedTwice();
      const plan: RollbackPlan = { action: 'restore', from: { versionId: 'written-by-hand' }, to: bad };
      const claim = claimOf(secret, plan, freshExpectation(bad));
      expect(await ledger().claimRollback(claim)).toBe('claimed');
      const claimed = await ledger().getSecretState(secret.arn);
      const credentialsBefore = [await rawCredential(good), await rawCredential(bad)];
      const now = T0 + 6000;
      const record: RestoreRecord = {
        secretArn: secret.arn,
        secretName: secret.name,
        claimId: claim.claimId,
        alarmKey: claim.alarmKey,
        alarmName: claim.alarmName,
        from: { versionId: 'written-by-hand' },
        to: bad,
        attempt: 1,
        incidentStartedAt: claim.incidentStartedAt,
        now,
      };

      // Act
      const outcome = await ledger().recordRestore(record);
      const after = await partition(`SECRET#${secret.arn}`);
      const again = await ledger().recordRestore({ ...record, now: now + 1000 });
      const other = await ledger().recordRestore({ ...record, claimId: 'not-the-claim', alarmKey: 'x@1' });

      // Assess
      expect(claimed).toMatchObject({ status: 'rolling-back', rollbackClaim: { plan } });
      expect(outcome).toBe('recorded');
      expect(again).toBe('already-recorded');
      expect(other).toBe('claim-lost');
      expect(await partition(`SECRET#${secret.arn}`)).toEqual(after);
      expect([await rawCredential(good), await rawCredential(bad)]).toEqual(credentialsBefore);
      const state = await ledger().getSecretState(secret.arn);
      expect(state).toMatchObject({
        status: 'active',
        currentVersionId: bad.versionId,
        previousVersionId: good.versionId,
        rollback: { attempts: 1, startedAt: claim.incidentStartedAt, lastAttemptAt: now },
        handledAlarms: [claim.alarmKey],
      });
      expect(state).not.toHaveProperty('rollbackClaim');
      expect((await ledger().readAudit(secret.arn)).at(-1)).toMatchObject({
        type: 'rolled-back',
        versionId: bad.versionId,
        detail: { cause: 'out-of-band-change', fromVersionId: 'written-by-hand', alarm: claim.alarmName, attempt: 1 },
      });
    });

    it('refuses to record a restore to a credential revoked after the claim, and changes nothing', async () => {
      // Prepare
      const { secret, bad } = await rotatedTwice();
      const plan: RollbackPlan = { action: 'restore', from: { versionId: 'written-by-hand' }, to: bad };
      const claim = claimOf(secret, plan, freshExpectation(bad));
      await ledger().claimRollback(claim);
      await documents.send(
        new UpdateCommand({
          TableName: TABLE,
          Key: { pk: `TOKEN#${bad.fingerprint}`, sk: 'TOKEN' },
          UpdateExpression: 'SET #state = :revoked',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':revoked': 'revoked' },
        }),
      );
      const before = await partition(`SECRET#${secret.arn}`);

      // Act
      const attempt = ledger().recordRestore({
        secretArn: secret.arn,
        secretName: secret.name,
        claimId: claim.claimId,
        alarmKey: claim.alarmKey,
        alarmName: claim.alarmName,
        from: { versionId: 'written-by-hand' },
        to: bad,
        attempt: 1,
        incidentStartedAt: claim.incidentStartedAt,
        now: T0 + 6000,
      });

      // Assess
      await expect(attempt).rejects.toThrow(/its credential is revoked in the ledger, no longer current$/);
      expect(await partition(`SECRET#${secret.arn}`)).toEqual(before);
    });
  });

  describe('Methods: pause, releaseRollbackClaim and resume', () => {
    it('pauses under the claim, keeps the claim until released, and records a paused event', async () => {
      // Prepare
      const { secret, bad } = await rotatedTwice();
      const claim = claimOf(
        secret,
        { action: 'pause', reason: 'no usable previous credential' },
        freshExpectation(bad),
      );
      await ledger().claimRollback(claim);

      // Act
      const paused = await ledger().pause(pauseOf(secret, claim));
      const claimedWhilePaused = (await ledger().getSecretState(secret.arn))?.rollbackClaim?.claimId;
      await ledger().releaseRollbackClaim(secret.arn, claim.claimId, claim.alarmKey);

      // Assess
      expect(paused).toBe('paused');
      expect(claimedWhilePaused).toBe(claim.claimId);
      const state = await ledger().getSecretState(secret.arn);
      expect(state).toMatchObject({
        status: 'paused',
        pause: { pausedAt: T0 + 6000, reason: 'no usable previous credential', pausedBy: claim.alarmKey },
        handledAlarms: [claim.alarmKey],
      });
      expect(state).not.toHaveProperty('rollbackClaim');
      expect((await ledger().readAudit(secret.arn)).at(-1)).toMatchObject({
        type: 'paused',
        detail: { reason: 'no usable previous credential', alarm: claim.alarmKey },
      });
    });

    it('answers already-paused to a retry of the same alarm and claim-lost without the claim', async () => {
      // Prepare
      const { secret, bad } = await rotatedTwice();
      const claim = claimOf(secret, { action: 'pause', reason: 'x' }, freshExpectation(bad));
      await ledger().claimRollback(claim);
      await ledger().pause(pauseOf(secret, claim));

      // Act
      const retry = await ledger().pause({ ...pauseOf(secret, claim), claimId: 'a-new-claim-of-the-retry' });
      const stranger = await ledger().pause({ ...pauseOf(secret, claim), claimId: 'nobody', alarmKey: 'other@1' });

      // Assess
      expect(retry).toBe('already-paused');
      expect(stranger).toBe('claim-lost');
      expect((await auditTypes(secret)).filter((type) => type === 'paused')).toHaveLength(1);
    });

    it('does nothing when asked to release a claim that is not the one held', async () => {
      // Prepare
      const { secret, good, bad } = await rotatedTwice();
      await ledger().claimRollback(claimOf(secret, rollbackPlan(good, bad), freshExpectation(bad)));
      const before = await rawState(secret);

      // Act
      await ledger().releaseRollbackClaim(secret.arn, 'not-the-claim', 'x@1');

      // Assess
      expect(await rawState(secret)).toEqual(before);
    });

    it('keeps a paused secret paused when a rotation that was past createSecret is promoted', async () => {
      // Prepare
      const { secret, bad } = await rotatedTwice();
      const claim = claimOf(secret, { action: 'pause', reason: 'x' }, freshExpectation(bad));
      await ledger().claimRollback(claim);
      await ledger().pause(pauseOf(secret, claim));

      // Act
      await rotate(secret, bad, T0 + 9000);

      // Assess
      expect(await ledger().getSecretState(secret.arn)).toMatchObject({
        status: 'paused',
        pause: { reason: 'no usable previous credential' },
        generation: 3,
      });
    });

    it('resumes a paused secret: active, incident and pause gone, a resumed event; then not-paused', async () => {
      // Prepare: one rollback, then a pause
      const { secret, good, bad } = await rotatedTwice();
      const rollback = claimOf(secret, rollbackPlan(good, bad), freshExpectation(bad));
      await ledger().claimRollback(rollback);
      await ledger().recordRollback(recordOf(secret, rollback));
      const pause = claimOf(
        secret,
        { action: 'pause', reason: 'x' },
        { status: 'active', currentVersionId: good.versionId, lastAttemptAt: T0 + 6000, claimId: undefined },
        { alarmKey: 'second@1' },
      );
      expect(await ledger().claimRollback(pause)).toBe('claimed');
      await ledger().pause(pauseOf(secret, pause, T0 + 8000));
      await ledger().releaseRollbackClaim(secret.arn, pause.claimId, pause.alarmKey);

      // Act
      const resumed = await ledger().resume({
        secretArn: secret.arn,
        secretName: secret.name,
        now: T0 + 9000,
        by: 'ops',
      });
      const again = await ledger().resume({
        secretArn: secret.arn,
        secretName: secret.name,
        now: T0 + 9500,
        by: 'ops',
      });

      // Assess
      expect([resumed, again]).toEqual(['resumed', 'not-paused']);
      const state = await ledger().getSecretState(secret.arn);
      expect(state?.status).toBe('active');
      for (const gone of ['pause', 'rollback', 'rollbackClaim']) expect(state).not.toHaveProperty(gone);
      expect(state?.handledAlarms).toEqual([rollback.alarmKey, 'second@1']);
      expect((await ledger().readAudit(secret.arn)).at(-1)).toMatchObject({
        type: 'resumed',
        detail: {
          by: 'ops',
          pausedAt: new Date(T0 + 8000).toISOString(),
          pauseReason: 'no usable previous credential',
        },
      });
      expect((await rawState(secret))?.resumedAt).toBe(T0 + 9000);
    });
  });
});
