import { checkCredentialHealth } from '../../../../lambda/core/health/credential-health';
import { managedTokenProvider } from '../../../../lambda/core/providers/managed-token/managed-token-provider';
import { ProviderRegistry } from '../../../../lambda/core/providers/provider-registry';
import { fingerprinter, LEDGER_SECRET, tokenNumber } from '../../helpers/ledger-harness';
import { RollbackWorld } from '../../helpers/rollback-harness';

describe('Function: checkCredentialHealth', () => {
  let world: RollbackWorld;

  beforeEach(() => {
    world = new RollbackWorld();
  });

  const check = (versionId: string, value: string | undefined) =>
    checkCredentialHealth(
      { secretArn: LEDGER_SECRET.arn, secretName: LEDGER_SECRET.name, versionId, stage: 'AWSCURRENT', value },
      {
        providers: new ProviderRegistry([managedTokenProvider]),
        ledger: world.ledger,
        fingerprinter: () => Promise.resolve(fingerprinter),
        now: world.clock.now,
      },
    );
  const documentOf = (token?: string) => JSON.stringify({ provider: 'managed-token', schemaVersion: 1, token });

  it('passes a well-formed token the ledger has current for this secret', async () => {
    // Prepare
    const current = await world.rotate();

    // Act & Assess
    expect(await check(current.versionId, documentOf(current.token))).toEqual({
      status: 'healthy',
      provider: 'managed-token',
    });
  });

  it('passes a token the ledger still has pending for the AWSCURRENT version (its promotion not recorded yet)', async () => {
    // Prepare: finishSecret moved the label and failed before the ledger recorded the promotion.
    const current = await world.rotate();
    world.ledger.forceState(current.fingerprint, 'pending');

    // Act & Assess
    expect(await check(current.versionId, documentOf(current.token))).toEqual({
      status: 'healthy',
      provider: 'managed-token',
    });
  });

  it('fails a token the ledger has pending for another version', async () => {
    // Prepare
    const current = await world.rotate();
    world.ledger.forceState(current.fingerprint, 'pending');

    // Act & Assess
    expect(await check('another-version', documentOf(current.token))).toMatchObject({ status: 'unhealthy' });
  });

  it.each(['previous', 'retired', 'revoked'] as const)('fails a token the ledger has %s', async (state) => {
    // Prepare
    const current = await world.rotate();
    world.ledger.forceState(current.fingerprint, state);

    // Act & Assess
    expect(await check(current.versionId, documentOf(current.token))).toEqual({
      status: 'unhealthy',
      provider: 'managed-token',
      reason: `the ledger has the credential of AWSCURRENT (version ${current.versionId}) ${state}, not current`,
    });
  });

  it('fails a well-formed token the ledger has never seen', async () => {
    expect(await check('v1', documentOf(tokenNumber(201)))).toEqual({
      status: 'unhealthy',
      provider: 'managed-token',
      reason: 'the ledger does not know the credential of AWSCURRENT (version v1)',
    });
  });

  it('fails a token of another secret', async () => {
    // Prepare: the same token recorded under another secret
    const current = await world.rotate();

    // Act
    const health = await checkCredentialHealth(
      {
        secretArn: 'arn:other',
        secretName: 'rotor/dev/other',
        versionId: 'v',
        stage: 'AWSCURRENT',
        value: documentOf(current.token),
      },
      {
        providers: new ProviderRegistry([managedTokenProvider]),
        ledger: world.ledger,
        fingerprinter: () => Promise.resolve(fingerprinter),
        now: world.clock.now,
      },
    );

    // Assess
    expect(health).toMatchObject({
      status: 'unhealthy',
      reason: expect.stringMatching(/under another secret$/) as unknown,
    });
  });

  it.each([
    ['a bad checksum', documentOf(`${tokenNumber(202).slice(0, -1)}x`), /token.*must be a Rotor token/],
    ['not JSON', 'rtr_not-json', /is not valid JSON/],
    [
      'another provider',
      JSON.stringify({ provider: 'gitlab' }),
      /names a provider this rotation function does not handle/,
    ],
    ['no value', undefined, /holds no value$/],
  ])('fails %s without showing the value', async (_label, value, reason) => {
    // Act
    const health = await check('v1', value);

    // Assess
    expect(health).toMatchObject({ status: 'unhealthy', reason: expect.stringMatching(reason) as unknown });
    expect(JSON.stringify(health)).not.toMatch(/rtr_[0-9A-Za-z]{20}/);
  });

  it('reports a document with no credential yet as not issued', async () => {
    expect(await check('v1', documentOf())).toEqual({ status: 'not-issued', provider: 'managed-token' });
  });
});
