import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  beginRotation,
  LocalRotationFailedError,
  rotateLocally,
  type StepAttempt,
} from '../../cli/local/local-rotation';
import { ROTATION_STEPS } from '../../lambda/core/rotation/rotation-event';
import { LambdaBundle, MetricName, RotorEvents } from '../../lambda/shared/rotor-constants';
import { startTestIdp, type TestIdp } from '../support/oidc-idp';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';
import { startAwsProxy, type StandInAnswer } from '../../cli/local/aws-proxy';
import { invokeBundle } from '../../cli/local/invoke-bundle';
import { createTestPki, type TestPki } from '../support/test-pki';

// The bundled rotation handler (each step in a fresh process, as Lambda runs it) against moto and
// a real OAuth 2.0 IdP (oidc-provider, refresh-token rotation on) behind HTTPS with a CA made here.

const PREFIX = 'rotor/development/';
const LEASE_SECONDS = 3;
const CLI = join(__dirname, '..', '..', 'dist', 'cli', 'rotor.js');

let pki: TestPki;
let idp: TestIdp;
let slowIdp: TestIdp;
let rotor: LocalRotor;
let secretCount = 0;
/** Every step's logs, for the check that no credential was ever logged. */
const logs: string[] = [];
/** Every token an IdP issued to this file's secrets or to its bootstrap, spent ones included. */
const issued = new Set<string>();

beforeAll(async () => {
  pki = createTestPki();
  [idp, slowIdp, rotor] = await Promise.all([
    startTestIdp({ tls: pki.server, caPem: pki.caPem }),
    // Storage that answers slowly, so that concurrent refreshes really overlap at the IdP.
    startTestIdp({ tls: pki.server, caPem: pki.caPem, storageLatencyMs: 300 }),
    startLocalRotor({ env: { ROTOR_SIDE_EFFECT_LEASE_SECONDS: String(LEASE_SECONDS) } }),
  ]);
  rotor.allowProviderOrigins(idp.issuer, slowIdp.issuer);
});

afterAll(async () => {
  await Promise.all([idp?.stop(), slowIdp?.stop(), rotor?.stop()]);
});

beforeEach(() => {
  rotor.proxy.resetCounts();
});

interface OAuthSecret {
  readonly arn: string;
  readonly name: string;
  readonly refreshToken: string;
}

async function newOAuthSecret(at: TestIdp, extra: Record<string, unknown> = {}): Promise<OAuthSecret> {
  secretCount += 1;
  const name = `${PREFIX}oauth-${secretCount}`;
  const { refreshToken, accessToken } = await at.issueRefreshToken();
  issued.add(refreshToken).add(accessToken);
  const document = {
    provider: 'oauth2-refresh-token',
    schemaVersion: 1,
    tokenEndpoint: at.tokenEndpoint,
    introspectionEndpoint: at.introspectionEndpoint,
    clientId: at.clientId,
    clientSecret: at.clientSecret,
    refreshToken,
    accessToken,
    tls: { caBundle: pki.caPem },
    ...extra,
  };
  return { arn: await rotor.createSecret(name, JSON.stringify(document)), name, refreshToken };
}

async function documentAt(arn: string, stage: string): Promise<Record<string, string>> {
  const value = await rotor.valueAt(arn, stage);
  if (value === undefined) throw new Error(`no value at ${stage}`);
  return JSON.parse(value) as Record<string, string>;
}

function keepLogs(attempt: StepAttempt): void {
  logs.push(...attempt.logs);
}

async function rotate(arn: string, maxAttempts = 1) {
  return rotateLocally(rotor.local, arn, { maxAttempts, retryDelayMs: 10, onStep: keepLogs });
}

async function failedRotation(arn: string): Promise<LocalRotationFailedError> {
  try {
    await rotate(arn);
  } catch (error) {
    if (error instanceof LocalRotationFailedError) return error;
    throw error;
  }
  throw new Error('the rotation succeeded');
}

async function ledgerItemsOf(arn: string): Promise<Record<string, unknown>[]> {
  return (await rotor.scanLedger()).filter((item) => item.pk === `SECRET#${arn}` || item.secretArn === arn);
}

function eventsOfType(detailType: string): Record<string, unknown>[] {
  return rotor.proxy
    .requests()
    .filter((request) => request.operation === 'AWSEvents.PutEvents')
    .flatMap((request) => (JSON.parse(request.body) as { Entries: { DetailType: string; Detail: string }[] }).Entries)
    .filter((entry) => entry.DetailType === detailType)
    .map((entry) => JSON.parse(entry.Detail) as Record<string, unknown>);
}

function metricCount(lines: readonly string[], metric: string): number {
  return lines.filter((line) => line.includes('"_aws"') && line.includes(`"${metric}":1`)).length;
}

describe('OAuth 2.0 refresh-token rotation against a real IdP', () => {
  it('exchanges once per rotation, proves the new access token, and leaves the spent refresh token dead', async () => {
    // Prepare
    const secret = await newOAuthSecret(idp);
    const before = idp.refreshRequests();
    const refreshTokens = [secret.refreshToken];

    // Act: two rotations in a row
    for (let rotation = 0; rotation < 2; rotation += 1) {
      const result = await rotate(secret.arn);
      expect(result.attempts.map((attempt) => [attempt.step, attempt.ok])).toEqual(
        ROTATION_STEPS.map((step) => [step, true]),
      );
      refreshTokens.push((await documentAt(secret.arn, 'AWSCURRENT')).refreshToken!);
    }

    // Assess
    expect(idp.refreshRequests() - before).toBe(2);
    const current = await documentAt(secret.arn, 'AWSCURRENT');
    expect(new Set(refreshTokens).size).toBe(3);
    expect(await idp.introspect(current.accessToken!)).toMatchObject({ active: true, client_id: idp.clientId });
    expect(current.accessTokenExpiresAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect((await idp.introspect(refreshTokens[0]!)).active).toBe(false);
    expect((await idp.introspect(refreshTokens[1]!)).active).toBe(false);
    expect((await idp.introspect(refreshTokens[2]!)).active).toBe(true);
    const spent = (await ledgerItemsOf(secret.arn)).filter((item) => String(item.sk).startsWith('SPENT#'));
    expect(spent).toHaveLength(2);
    expect(spent.every((item) => item.outcome === 'in-flight' && item.action === 'oauth2-refresh-token:create')).toBe(
      true,
    );
  });

  it('lets exactly one of two concurrent createSecret invocations refresh, and the grant survives', async () => {
    // Prepare
    const secret = await newOAuthSecret(slowIdp);
    const { versionId } = await beginRotation(rotor.local, secret.arn);
    const before = slowIdp.refreshRequests();

    // Act: two Lambda containers run the same step at once
    const twins = await Promise.all([
      rotor.runStep('createSecret', secret.arn, versionId),
      rotor.runStep('createSecret', secret.arn, versionId),
    ]);
    const rest = await rotor.runSteps(['setSecret', 'testSecret', 'finishSecret'], secret.arn, versionId);
    expect(rest.map((run) => run.error)).toEqual([undefined, undefined, undefined]);

    // Assess
    expect(twins.map((twin) => twin.ok)).toEqual([true, true]);
    expect(slowIdp.refreshRequests() - before).toBe(1);
    expect(slowIdp.events().filter((event) => event.name === 'grant.revoked')).toEqual([]);
    const current = await documentAt(secret.arn, 'AWSCURRENT');
    expect((await slowIdp.introspect(current.refreshToken!)).active).toBe(true);
    expect((await slowIdp.introspect(current.accessToken!)).active).toBe(true);
    logs.push(...twins.flatMap((twin) => twin.logs));
  });

  it('reports possible theft upstream when someone else spent the refresh token, and overwrites nothing', async () => {
    // Prepare: Rotor rotates once; an attacker then replays the refresh token Rotor spent
    const secret = await newOAuthSecret(idp);
    await rotate(secret.arn);
    const replay = await idp.exchange(secret.refreshToken);
    expect(replay.status).toBe(400);
    const currentBefore = await rotor.valueAt(secret.arn, 'AWSCURRENT');
    const before = idp.refreshRequests();
    rotor.proxy.resetCounts();

    // Act: the next rotation presents the current refresh token, which the IdP revoked with the grant
    const theft = await failedRotation(secret.arn);
    const retry = await failedRotation(secret.arn);

    // Assess
    const [failedCreate] = theft.attempts;
    expect(failedCreate?.error?.errorType).toBe('UpstreamReuseSuspectedError');
    expect(failedCreate?.error?.errorMessage).toContain('possible theft upstream');
    expect(failedCreate?.error?.errorMessage).toContain(`rotor bootstrap ${secret.name}`);
    expect(retry.attempts[0]?.error?.errorType).toBe('ReauthorizationRequiredError');
    expect(idp.refreshRequests() - before).toBe(1);
    expect(await rotor.valueAt(secret.arn, 'AWSCURRENT')).toBe(currentBefore);
    // The refused attempt stored nothing: its empty AWSPENDING is gone, as a cancelled rotation's.
    const labels = await rotor.labels(secret.arn);
    expect(Object.values(labels).flat()).not.toContain('AWSPENDING');
    expect(theft.permanent && retry.permanent).toBe(true);

    const items = await ledgerItemsOf(secret.arn);
    expect(items.find((item) => item.sk === 'STATE')).toMatchObject({ status: 'compromised' });
    expect(items.filter((item) => item.kind === 'credential' && item.state === 'revoked')).not.toHaveLength(0);
    const audit = items.filter((item) => item.type === 'reuse-detected');
    expect(audit).toHaveLength(1);
    expect(audit[0]!.detail).toMatchObject({ reason: 'possible theft upstream', response: 'reauthorization-required' });
    expect(eventsOfType(RotorEvents.reuseDetected)).toEqual([
      expect.objectContaining({
        secretName: secret.name,
        reason: 'possible theft upstream',
        response: 'reauthorization-required',
      }),
    ]);
    expect(metricCount(failedCreate!.logs, MetricName.ReuseDetected)).toBe(1);
  });

  it('re-authorizes a compromised secret with rotor bootstrap, reading the token from stdin without echoing it', async () => {
    // Prepare: a secret whose grant an attacker revoked
    const secret = await newOAuthSecret(idp);
    await rotate(secret.arn);
    await idp.exchange(secret.refreshToken);
    await failedRotation(secret.arn);
    const fresh = await idp.issueRefreshToken();
    issued.add(fresh.refreshToken).add(fresh.accessToken);

    // Act
    const bootstrap = await runCli(['bootstrap', secret.name, ...localCliOptions()], `${fresh.refreshToken}\n`);
    if (bootstrap.code !== 0) throw new Error(`rotor bootstrap failed: ${bootstrap.stderr}`);
    const afterwards = await rotate(secret.arn);

    // Assess
    expect(bootstrap.code).toBe(0);
    expect(bootstrap.stdout + bootstrap.stderr).not.toContain(fresh.refreshToken);
    expect(afterwards.attempts.every((attempt) => attempt.ok)).toBe(true);
    const current = await documentAt(secret.arn, 'AWSCURRENT');
    expect((await idp.introspect(current.accessToken!)).active).toBe(true);
    const items = await ledgerItemsOf(secret.arn);
    expect(items.find((item) => item.sk === 'STATE')).toMatchObject({ status: 'active' });
    expect(items.filter((item) => item.type === 'reauthorized')).toHaveLength(1);
  });

  it('stores the exchange result despite PutSecretValue failing, without a second exchange', async () => {
    // Prepare: every attempt the SDK makes at the first write fails
    const secret = await newOAuthSecret(idp);
    const before = idp.refreshRequests();
    rotor.proxy.failNext('secretsmanager.PutSecretValue', 3);

    // Act
    const result = await rotate(secret.arn);

    // Assess
    expect(result.attempts.every((attempt) => attempt.ok)).toBe(true);
    expect(idp.refreshRequests() - before).toBe(1);
    expect(rotor.proxy.counts()['secretsmanager.PutSecretValue']).toBe(4);
    const current = await documentAt(secret.arn, 'AWSCURRENT');
    expect((await idp.introspect(current.accessToken!)).active).toBe(true);
  });

  it('says clearly when an exchange result was lost, and never presents the spent token again', async () => {
    // Prepare: the first attempt's writes all fail, as if the function died after the IdP answered
    const secret = await newOAuthSecret(idp);
    const before = idp.refreshRequests();
    rotor.proxy.failNext('secretsmanager.PutSecretValue', 1_000);
    const { versionId } = await beginRotation(rotor.local, secret.arn);
    const crashed = await rotor.runStep('createSecret', secret.arn, versionId);
    rotor.proxy.failNext('secretsmanager.PutSecretValue', 0);
    await new Promise((resolve) => setTimeout(resolve, LEASE_SECONDS * 1000 + 200));
    rotor.proxy.resetCounts();

    // Act: Secrets Manager retries the step after the first attempt's lease
    const retried = await rotor.runStep('createSecret', secret.arn, versionId);

    // Assess
    expect(crashed.ok).toBe(false);
    expect(retried.error?.errorType).toBe('SideEffectOutcomeUnknownError');
    expect(retried.error?.errorMessage).toContain('its result never reached AWSPENDING');
    expect(retried.error?.errorMessage).toContain(`rotor bootstrap ${secret.name}`);
    expect(idp.refreshRequests() - before).toBe(1);
    expect(eventsOfType(RotorEvents.sideEffectOutcomeUnknown)).toEqual([
      expect.objectContaining({ secretName: secret.name, spentBy: versionId, retrying: false }),
    ]);
    expect(metricCount(retried.logs, MetricName.SideEffectOutcomeUnknown)).toBe(1);
    const audit = (await ledgerItemsOf(secret.arn)).filter((item) => item.type === 'outcome-unknown');
    expect(audit).toHaveLength(1);
    logs.push(...crashed.logs, ...retried.logs);
  });

  it('rotor repair finishes, never cancels, a rotation that spent the refresh token', async () => {
    // Prepare: createSecret spent the refresh token and stored its result; the rotation then stopped
    const secret = await newOAuthSecret(idp);
    const { versionId } = await beginRotation(rotor.local, secret.arn);
    const created = await rotor.runStep('createSecret', secret.arn, versionId);
    expect(created.ok).toBe(true);
    const pending = await documentAt(secret.arn, 'AWSPENDING');
    issued.add(pending.refreshToken!).add(pending.accessToken!);
    const before = idp.refreshRequests();

    // Act
    const options = localCliOptions(idp);
    const dryRun = await runCli(['repair', secret.name, ...options, '--dry-run'], '');
    const repaired = await runCli(['repair', secret.name, ...options], '');

    // Assess
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toMatch(/journal +oauth2-refresh-token:create by rotation .*spent a single-use credential/);
    expect(dryRun.stdout).toMatch(/action: finish the rotation .*never cancel it/);
    expect(repaired.code).toBe(0);
    expect(repaired.stdout).toContain(`repaired: rotation ${versionId} finished, it is AWSCURRENT`);
    const labels = await rotor.labels(secret.arn);
    expect(labels[versionId]).toEqual(['AWSCURRENT']);
    expect(idp.refreshRequests() - before).toBe(0);
    const current = await documentAt(secret.arn, 'AWSCURRENT');
    expect(current.refreshToken).toBe(pending.refreshToken);
    expect((await idp.introspect(current.accessToken!)).active).toBe(true);
    for (const token of issued) expect(dryRun.stdout + repaired.stdout + repaired.stderr).not.toContain(token);
  });

  /** A stuck OAuth rotation: createSecret spent the refresh token and stored its result, then the rotation stopped. */
  async function stuckRotation(): Promise<{ secret: OAuthSecret; versionId: string; pending: Record<string, string> }> {
    const secret = await newOAuthSecret(idp);
    const { versionId } = await beginRotation(rotor.local, secret.arn);
    const created = await rotor.runStep('createSecret', secret.arn, versionId);
    expect(created.ok).toBe(true);
    const pending = await documentAt(secret.arn, 'AWSPENDING');
    issued.add(pending.refreshToken!).add(pending.accessToken!);
    return { secret, versionId, pending };
  }

  /**
   * The account as the CLI reaches it without --local: the default credential chain from the
   * environment and AWS_ENDPOINT_URL, here a proxy in front of the emulator whose Lambda Invoke
   * of the secret's rotation function runs `invoke` (the emulator cannot run functions).
   */
  async function accountWithLambda(invoke: (event: unknown) => Promise<StandInAnswer>) {
    const account = await startAwsProxy(rotor.moto.endpoint);
    const invoked: string[] = [];
    account.standIn(
      (operation) => /^POST \/2015-03-31\/functions\/[^/]+\/invocations$/.test(operation),
      (body, operation) => {
        invoked.push(decodeURIComponent(operation.split('/')[3]!));
        return invoke(JSON.parse(body));
      },
    );
    const env = {
      AWS_ENDPOINT_URL: account.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'rotor-operator',
      AWS_SECRET_ACCESS_KEY: 'rotor-operator',
      ROTOR_LEDGER_TABLE: rotor.local.ledgerTableName,
    };
    return { account, invoked, env };
  }

  it('rotor repair against an account (no --local) finishes the rotation through the function the secret names', async () => {
    // Prepare
    const { secret, versionId, pending } = await stuckRotation();
    const { account, invoked, env } = await accountWithLambda(async (event) => {
      const run = await invokeBundle(LambdaBundle.rotation, event, { env: rotor.local.env });
      logs.push(...run.logs);
      return run.ok
        ? { status: 200, body: JSON.stringify(run.result) }
        : { status: 200, headers: { 'x-amz-function-error': 'Unhandled' }, body: JSON.stringify(run.error) };
    });
    const before = idp.refreshRequests();
    const labelsBefore = await rotor.labels(secret.arn);

    try {
      // Act
      const dryRun = await runCli(['repair', secret.name, '--dry-run'], '', env);
      const afterDryRun = { labels: await rotor.labels(secret.arn), invoked: invoked.length };
      const repaired = await runCli(['repair', secret.name], '', env);

      // Assess: the dry run diagnoses as locally and changes nothing
      expect(dryRun.code).toBe(0);
      expect(dryRun.stdout).toContain(`AWSPENDING  ${versionId}  holds a value (provider oauth2-refresh-token)`);
      expect(dryRun.stdout).toMatch(/journal +oauth2-refresh-token:create by rotation .*spent a single-use credential/);
      expect(dryRun.stdout).toMatch(/dry run: nothing changed\n$/);
      expect(afterDryRun).toEqual({ labels: labelsBefore, invoked: 0 });
      // Assess: the repair invoked the secret's own rotation function for each step (createSecret finds its value)
      expect(repaired.code).toBe(0);
      expect(repaired.stdout).toMatch(/finishSecret +ok/);
      expect(repaired.stdout).toContain(`repaired: rotation ${versionId} finished, it is AWSCURRENT`);
      expect(invoked).toEqual(ROTATION_STEPS.map(() => rotor.local.rotationFunctionArn));
      const labels = await rotor.labels(secret.arn);
      expect(labels[versionId]).toEqual(['AWSCURRENT']);
      expect(idp.refreshRequests() - before).toBe(0);
      const current = await documentAt(secret.arn, 'AWSCURRENT');
      expect(current.refreshToken).toBe(pending.refreshToken);
      expect((await idp.introspect(current.accessToken!)).active).toBe(true);
      for (const token of issued) expect(dryRun.stdout + repaired.stdout + repaired.stderr).not.toContain(token);
    } finally {
      await account.stop();
    }
  });

  it('rotor repair against an account keeps AWSPENDING when the function answers every step but AWSCURRENT does not move', async () => {
    // Prepare: a function that answers success without running (as the emulator's own Invoke does)
    const { secret, versionId } = await stuckRotation();
    const { account, invoked, env } = await accountWithLambda(() => Promise.resolve({ status: 200, body: 'null' }));

    try {
      // Act
      const repaired = await runCli(['repair', secret.name], '', env);

      // Assess
      expect(invoked).toHaveLength(ROTATION_STEPS.length);
      expect(repaired.code).toBe(1);
      expect(repaired.stderr).toMatch(
        new RegExp(
          `^rotor: ${secret.name}: .* answered every step without error, but rotation ${versionId} is not AWSCURRENT; AWSPENDING is kept`,
        ),
      );
      expect((await rotor.labels(secret.arn))[versionId]).toEqual(['AWSPENDING']);
    } finally {
      await account.stop();
    }
  });

  it('refuses an IdP whose certificate the secret does not trust, before presenting the token', async () => {
    // Prepare
    const secret = await newOAuthSecret(idp, { tls: {} });
    const before = idp.refreshRequests();

    // Act
    const failure = await failedRotation(secret.arn);

    // Assess
    expect(failure.attempts[0]?.error?.errorMessage).toMatch(/certificate/i);
    expect(idp.refreshRequests() - before).toBe(0);
    const spent = (await ledgerItemsOf(secret.arn)).filter((item) => String(item.sk).startsWith('SPENT#'));
    expect(spent).toEqual([]);
  });
});

describe('mTLS to a provider, with the client certificate held in a secret', () => {
  let server: Server;
  let testUrl: string;
  const clientNames: string[] = [];

  beforeAll(async () => {
    // A test URL that only answers callers presenting a certificate the test CA signed.
    server = createServer(
      {
        key: pki.server.privateKeyPem,
        cert: pki.server.certificatePem,
        ca: pki.caPem,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.3',
      },
      (request, response) => {
        const peer = (request.socket as TLSSocket).getPeerCertificate();
        clientNames.push(String(peer.subject?.CN ?? ''));
        response.writeHead(request.headers.authorization?.startsWith('Bearer ') ? 200 : 401).end();
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    testUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}/whoami`;
    rotor.allowProviderOrigins(testUrl);
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('proves the new access token through the mTLS endpoint with Rotor’s client certificate', async () => {
    // Prepare
    const certificateSecret = `${PREFIX}mtls-client`;
    await rotor.createSecret(
      certificateSecret,
      JSON.stringify({ certificate: pki.client.certificatePem, privateKey: pki.client.privateKeyPem }),
    );
    const secret = await newOAuthSecret(idp, {
      introspectionEndpoint: undefined,
      testUrl,
      tls: { caBundle: pki.caPem, clientCertificateSecretId: certificateSecret },
    });

    // Act
    const result = await rotate(secret.arn);

    // Assess
    expect(result.attempts.every((attempt) => attempt.ok)).toBe(true);
    expect(clientNames).toContain('rotor-rotation');
  });

  it('fails testSecret, promoting nothing, when the secret names no client certificate', async () => {
    // Prepare
    const secret = await newOAuthSecret(idp, { introspectionEndpoint: undefined, testUrl });
    const currentBefore = await rotor.valueAt(secret.arn, 'AWSCURRENT');

    // Act
    const failure = await failedRotation(secret.arn);

    // Assess
    const failedStep = failure.attempts.find((attempt) => !attempt.ok);
    expect(failedStep?.step).toBe('testSecret');
    expect(failedStep?.error?.errorMessage).toContain(
      'the server requires a client certificate and the secret sets no tls.clientCertificateSecretId',
    );
    expect(await rotor.valueAt(secret.arn, 'AWSCURRENT')).toBe(currentBefore);
  });
});

describe('An IdP that rate-limits the refresh', () => {
  let server: Server;
  let tokenEndpoint: string;
  let limited = 0;

  beforeAll(async () => {
    // A token endpoint that answers the first request with HTTP 429 and passes later ones to the IdP.
    server = createServer({ key: pki.server.privateKeyPem, cert: pki.server.certificatePem }, (incoming, outgoing) => {
      if (limited === 0) {
        limited += 1;
        incoming.resume();
        outgoing.writeHead(429, { 'retry-after': '1' }).end();
        return;
      }
      const forwarded = httpsRequest(
        idp.tokenEndpoint,
        {
          method: incoming.method,
          headers: { ...incoming.headers, host: new URL(idp.tokenEndpoint).host },
          ca: pki.caPem,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      incoming.pipe(forwarded);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    tokenEndpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
    rotor.allowProviderOrigins(tokenEndpoint);
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('releases the journal claim with the rotation role’s own permissions, so the next attempt refreshes', async () => {
    // Prepare
    const secret = await newOAuthSecret(idp, { tokenEndpoint });

    // Act: the first attempt meets the 429, the retry (same version) gets through
    const result = await rotate(secret.arn, 2);

    // Assess: the claim was released (DeleteItem allowed by the synthesized role), not left in place
    const [limitedAttempt, ...rest] = result.attempts;
    expect(limitedAttempt).toMatchObject({
      step: 'createSecret',
      ok: false,
      error: { errorType: 'ProviderRefusedError' },
    });
    expect(rest.map((attempt) => [attempt.step, attempt.ok])).toEqual(ROTATION_STEPS.map((step) => [step, true]));
    expect(rotor.proxy.refusals()).toEqual([]);
    const current = await documentAt(secret.arn, 'AWSCURRENT');
    expect(current.refreshToken).not.toBe(secret.refreshToken);
    expect((await idp.introspect(current.accessToken!)).active).toBe(true);
  });
});

describe('What leaves the rotation function', () => {
  it('never carries a refresh token, access token or client secret in logs, events, metrics or the ledger', async () => {
    // Prepare: every credential the IdPs issued to this file's secrets, spent or current
    const secretValues: string[] = [idp.clientSecret, slowIdp.clientSecret, ...issued];
    for (const arn of (await rotor.scanLedger()).map((item) => item.secretArn).filter(isString)) {
      for (const stage of ['AWSCURRENT', 'AWSPREVIOUS']) {
        const value = await rotor.valueAt(arn, stage).catch(() => undefined);
        if (value === undefined) continue;
        const document = JSON.parse(value) as Record<string, unknown>;
        for (const field of ['refreshToken', 'accessToken', 'clientSecret']) {
          if (typeof document[field] === 'string') secretValues.push(document[field]);
        }
      }
    }

    // Act
    const ledger = JSON.stringify(await rotor.scanLedger());
    const nonSecretsManagerCalls = rotor.proxy
      .requests()
      .filter((request) => !request.operation.startsWith('secretsmanager.'))
      .map((request) => request.body)
      .join('\n');
    const logText = logs.join('\n');

    // Assess
    expect(issued.size).toBeGreaterThanOrEqual(20);
    expect(secretValues.length).toBeGreaterThan(issued.size + 10);
    for (const value of new Set(secretValues)) {
      expect(ledger).not.toContain(value);
      expect(nonSecretsManagerCalls).not.toContain(value);
      expect(logText).not.toContain(value);
    }
    expect(logText).toContain('rotation step completed');
  });
});

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

/** The CLI's options for the emulator; with `idp`, the stage's config names its endpoints (ROTOR_PROVIDER_ORIGINS). */
function localCliOptions(idpOfStage?: TestIdp): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'rotor-oauth-cli-'));
  const config = join(dir, 'rotor.config.json');
  writeFileSync(
    config,
    JSON.stringify({
      stages: [
        {
          name: 'development',
          secretNamePrefix: PREFIX,
          logRetentionDays: 30,
          secrets: [
            { name: 'unused', provider: 'managed-token', schedule: 'rate(4 hours)', window: '1h' },
            ...(idpOfStage === undefined
              ? []
              : [
                  {
                    name: 'idp-endpoints',
                    provider: 'oauth2-refresh-token',
                    schedule: 'rate(1 day)',
                    window: '1h',
                    oauth2: {
                      tokenEndpoint: idpOfStage.tokenEndpoint,
                      introspectionEndpoint: idpOfStage.introspectionEndpoint,
                      clientId: idpOfStage.clientId,
                      accessTokenLifetimeSeconds: 900,
                      refreshTokenLifetimeSeconds: 86_400,
                    },
                  },
                ]),
          ],
        },
      ],
    }),
  );
  return ['--local', '--endpoint', rotor.moto.endpoint, '--config', config];
}

function runCli(
  args: string[],
  stdin: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, ...args],
      { env: { PATH: process.env.PATH ?? '', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), stdout, stderr });
      },
    );
    child.stdin?.end(stdin);
  });
}
