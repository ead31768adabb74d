import { request } from 'node:https';
import { startTestIdp, type TestIdp } from '../support/oidc-idp';
import { createTestPki, type TestPki } from '../support/test-pki';

// The harness that Rotor's oauth2-refresh-token tests run against: a real oidc-provider over
// HTTPS on loopback. These tests pin the IdP behaviour those tests rely on: rotation, reuse
// detection that revokes the whole grant, refresh counting, and what happens when two refreshes
// of one token overlap in time.

let pki: TestPki;
/** Every token any IdP handed out in this file: none may appear in an event. */
const tokensSeen = new Set<string>();
const allEvents: { name: string; detail?: string }[] = [];

function remember(...tokens: (string | undefined)[]): void {
  for (const token of tokens) if (token !== undefined) tokensSeen.add(token);
}

beforeAll(() => {
  pki = createTestPki();
});

describe('a test IdP without storage latency', () => {
  let idp: TestIdp;

  beforeAll(async () => {
    idp = await startTestIdp({ tls: pki.server, caPem: pki.caPem });
  });

  afterAll(async () => {
    allEvents.push(...(idp?.events() ?? []));
    await idp?.stop();
  });

  test('serves HTTPS on 127.0.0.1 with a random client secret', () => {
    expect(idp.issuer).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(idp.tokenEndpoint).toBe(`${idp.issuer}/token`);
    expect(idp.introspectionEndpoint).toBe(`${idp.issuer}/token/introspection`);
    expect(idp.clientId).toBe('rotor-ci');
    expect(idp.clientSecret.length).toBeGreaterThanOrEqual(32);
  });

  test('a seeded refresh token exchanges once; the old one is then refused and that revokes the grant', async () => {
    const seeded = await idp.issueRefreshToken();
    remember(seeded.refreshToken, seeded.accessToken);
    expect(await idp.introspect(seeded.accessToken)).toMatchObject({
      active: true,
      client_id: 'rotor-ci',
      sub: 'ci-bot',
      scope: 'api:deploy',
      aud: idp.apiAudience,
      token_type: 'Bearer',
    });
    const before = idp.refreshRequests();

    const first = await idp.exchange(seeded.refreshToken);
    remember(first.body.refresh_token, first.body.access_token, first.body.id_token);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'api:deploy' });
    expect(first.body.refresh_token).toEqual(expect.any(String));
    expect(first.body.refresh_token).not.toBe(seeded.refreshToken);
    expect(await idp.introspect(first.body.access_token!)).toMatchObject({ active: true, scope: 'api:deploy' });
    expect(await idp.introspect(first.body.refresh_token!)).toMatchObject({ active: true, client_id: 'rotor-ci' });
    expect(await idp.introspect(seeded.refreshToken)).toEqual({ active: false });

    const replay = await idp.exchange(seeded.refreshToken);
    expect(replay).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } }); // prettier-ignore
    expect(idp.events()).toEqual(
      expect.arrayContaining([
        { name: 'refresh_token.consumed' },
        { name: 'grant.success', detail: 'refresh_token' },
        { name: 'grant.error', detail: 'InvalidGrant: refresh token already used' },
        { name: 'grant.revoked' },
      ]),
    );

    // The replay revoked the grant: the rotated refresh token and its access token are dead too.
    const afterRevocation = await idp.exchange(first.body.refresh_token!);
    expect(afterRevocation.status).toBe(400);
    expect(afterRevocation.body.error).toBe('invalid_grant');
    expect(await idp.introspect(first.body.refresh_token!)).toEqual({ active: false });
    expect(await idp.introspect(first.body.access_token!)).toEqual({ active: false });
    expect(idp.events().at(-1)).toEqual({ name: 'grant.error', detail: 'InvalidGrant: refresh token not found' });

    expect(idp.refreshRequests() - before).toBe(3);
  });

  test('counts refresh requests that fail before the grant is looked at', async () => {
    const before = idp.refreshRequests();
    const unknown = await idp.exchange('not-a-refresh-token');
    expect(unknown).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });
    expect(idp.refreshRequests() - before).toBe(1);
  });

  test('counts refresh requests that fail client authentication', async () => {
    const before = idp.refreshRequests();
    const { refreshToken } = await idp.issueRefreshToken();
    remember(refreshToken);
    const status = await postWithWrongSecret(idp, refreshToken);
    expect(status).toBe(401);
    expect(idp.refreshRequests() - before).toBe(1);
    expect(idp.events().at(-1)).toEqual({ name: 'grant.error', detail: 'InvalidClientAuth: invalid secret provided' });
  });

  test('two refreshes of one token sent at once: one wins, the other is reuse and kills the winner too', async () => {
    const seeded = await idp.issueRefreshToken();
    remember(seeded.refreshToken, seeded.accessToken);
    const before = idp.refreshRequests();

    // Without storage latency each refresh runs from lookup to consume without yielding to I/O,
    // so the IdP handles the two one after the other.
    const answers = await Promise.all([idp.exchange(seeded.refreshToken), idp.exchange(seeded.refreshToken)]);
    for (const { body } of answers) remember(body.refresh_token, body.access_token, body.id_token);
    expect(idp.refreshRequests() - before).toBe(2);
    const winner = answers.find(({ status }) => status === 200);
    const loser = answers.find(({ status }) => status !== 200);
    expect(loser).toEqual({ status: 400, body: { error: 'invalid_grant', error_description: 'grant request is invalid' } }); // prettier-ignore
    expect(idp.events()).toContainEqual({ name: 'grant.error', detail: 'InvalidGrant: refresh token already used' });
    expect((await idp.exchange(winner!.body.refresh_token!)).body.error).toBe('invalid_grant');
  });

  test('a seeded access token expires with the configured lifetime', async () => {
    const { accessToken, refreshToken } = await idp.issueRefreshToken();
    remember(accessToken, refreshToken);
    const introspection = await idp.introspect(accessToken);
    expect(introspection.exp! - introspection.iat!).toBe(900);
  });
});

describe('a test IdP with 200 ms storage latency', () => {
  let idp: TestIdp;

  beforeAll(async () => {
    idp = await startTestIdp({ tls: pki.server, caPem: pki.caPem, storageLatencyMs: 200 });
  });

  afterAll(async () => {
    allEvents.push(...(idp?.events() ?? []));
    await idp?.stop();
  });

  test('two concurrent refreshes of one token both reach the IdP, and both are granted', async () => {
    const seeded = await idp.issueRefreshToken();
    remember(seeded.refreshToken, seeded.accessToken);
    const before = idp.refreshRequests();

    const answers = await Promise.all([idp.exchange(seeded.refreshToken), idp.exchange(seeded.refreshToken)]);
    for (const { body } of answers) remember(body.refresh_token, body.access_token, body.id_token);

    expect(idp.refreshRequests() - before).toBe(2);
    // Both requests read the token before either consumed it (a refresh makes five storage calls:
    // find token, find grant, consume, save refresh token, save access token), so the IdP's reuse
    // detection does not see this double spend, and the one grant now has two live refresh tokens.
    // Served one after the other, the second would have been refused.
    expect(answers.map(({ status }) => status)).toEqual([200, 200]);
    const [a, b] = answers.map(({ body }) => body.refresh_token!);
    expect(a).not.toBe(b);
    expect(idp.events().filter(({ name }) => name === 'refresh_token.consumed')).toHaveLength(2);
    expect(idp.events().some(({ name }) => name === 'grant.revoked')).toBe(false);

    // Either branch keeps working until the first token is presented again, which kills both.
    const branch = await idp.exchange(a!);
    expect(branch.status).toBe(200);
    remember(branch.body.refresh_token, branch.body.access_token, branch.body.id_token);
    const replay = await idp.exchange(seeded.refreshToken);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await idp.exchange(b!)).body.error).toBe('invalid_grant');
    expect((await idp.exchange(branch.body.refresh_token!)).body.error).toBe('invalid_grant');
    expect(idp.refreshRequests() - before).toBe(6);
  });
});

test('no event detail carries a token', () => {
  expect(tokensSeen.size).toBeGreaterThan(10);
  expect(allEvents.length).toBeGreaterThan(20);
  const serialised = JSON.stringify(allEvents);
  for (const token of tokensSeen) expect(serialised).not.toContain(token);
});

/** A refresh with a wrong client secret, which the harness's own `exchange` never sends. */
function postWithWrongSecret(idp: TestIdp, refreshToken: string): Promise<number> {
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString();
  return new Promise((resolve, reject) => {
    const outgoing = request(
      idp.tokenEndpoint,
      {
        method: 'POST',
        ca: pki.caPem,
        agent: false,
        headers: {
          authorization: `Basic ${Buffer.from(`${idp.clientId}:wrong-secret`).toString('base64')}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
      },
      (incoming) => {
        incoming.resume();
        incoming.on('end', () => resolve(incoming.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.end(form);
  });
}
