import { CredentialTestFailedError } from '../../../../lambda/core/errors';
import type { CredentialProvider, SecretDocument } from '../../../../lambda/core/providers/credential-provider';
import { managedTokenProvider } from '../../../../lambda/core/providers/managed-token/managed-token-provider';
import { ProviderRegistry } from '../../../../lambda/core/providers/provider-registry';
import { findUsablePrevious, GRACE_MARGIN_MS } from '../../../../lambda/core/rollback/usable-previous';
import { AWSCURRENT, AWSPREVIOUS } from '../../../../lambda/core/rotation/secret-store';
import { fingerprinter, LEDGER_SECRET, tokenNumber } from '../../helpers/ledger-harness';
import { ROLLBACK_GRACE_MS, RollbackWorld } from '../../helpers/rollback-harness';

describe('Function: findUsablePrevious', () => {
  let world: RollbackWorld;

  beforeEach(() => {
    world = new RollbackWorld();
  });

  async function verdict(providers = new ProviderRegistry([managedTokenProvider])) {
    const secret = await world.store.describe(LEDGER_SECRET.arn);
    const state = (await world.ledger.getSecretState(LEDGER_SECRET.arn))!;
    return findUsablePrevious(secret, state, {
      store: world.store,
      providers,
      ledger: world.ledger,
      fingerprinter: () => Promise.resolve(fingerprinter),
      now: world.clock.now,
    });
  }

  it('finds the previous credential usable: previous in the ledger, in grace, AWSPREVIOUS, passing its test', async () => {
    // Prepare
    const { good, bad } = await world.badCurrent();

    // Act & Assess
    expect(await verdict()).toEqual({
      usable: true,
      from: { versionId: bad.versionId, fingerprint: bad.fingerprint },
      to: { versionId: good.versionId, fingerprint: good.fingerprint },
    });
  });

  it('refuses when the grace is over, or ends within the margin', async () => {
    // Prepare
    await world.badCurrent();
    world.clock.current += ROLLBACK_GRACE_MS - GRACE_MARGIN_MS;

    // Act & Assess
    expect(await verdict()).toEqual({
      usable: false,
      reason: expect.stringMatching(/grace .* is over or about to be: it ends 20/) as unknown,
    });
    world.clock.current -= 1;
    expect((await verdict()).usable).toBe(true);
  });

  it.each(['revoked', 'retired', 'current'] as const)(
    'refuses a previous credential the ledger has %s',
    async (state) => {
      // Prepare
      const { good } = await world.badCurrent();
      world.ledger.forceState(good.fingerprint, state);

      // Act & Assess
      expect(await verdict()).toEqual({
        usable: false,
        reason: `the previous credential (version ${good.versionId}) is ${state}`,
      });
    },
  );

  it('refuses when AWSPREVIOUS is not the ledger’s previous version', async () => {
    // Prepare
    const { good } = await world.badCurrent();
    world.store.addVersion('elsewhere', world.store.valueOf(good.versionId), [AWSPREVIOUS]);

    // Act & Assess
    expect(await verdict()).toEqual({
      usable: false,
      reason: `AWSPREVIOUS is version elsewhere, but the ledger's previous is ${good.versionId}`,
    });
  });

  it('refuses when AWSCURRENT is not the ledger’s current version', async () => {
    // Prepare
    const { bad } = await world.badCurrent();
    world.store.addVersion('hand-made', world.store.valueOf(bad.versionId), [AWSCURRENT]);

    // Act & Assess
    expect(await verdict()).toEqual({
      usable: false,
      reason: `the ledger's current version is ${bad.versionId}, but AWSCURRENT is hand-made`,
    });
  });

  it('refuses when there is no previous version at all', async () => {
    // Prepare: one rotation only
    await world.rotate();

    // Act & Assess
    expect(await verdict()).toEqual({ usable: false, reason: 'the secret has no AWSPREVIOUS version' });
  });

  it('refuses when AWSPREVIOUS holds another credential than the ledger’s previous one', async () => {
    // Prepare: AWSPREVIOUS's document rewritten (a version's value never changes on AWS; a fake can)
    const { good } = await world.badCurrent();
    world.store.addVersion(good.versionId, JSON.stringify({ provider: 'managed-token', token: tokenNumber(249) }), [
      AWSPREVIOUS,
    ]);

    // Act & Assess
    expect(await verdict()).toEqual({
      usable: false,
      reason: `AWSPREVIOUS (version ${good.versionId}) holds another credential than the ledger's previous one`,
    });
  });

  it('refuses when the previous credential fails its provider’s test', async () => {
    // Prepare: a managed-token provider whose target rejects the previous credential
    await world.badCurrent();
    const rejecting: CredentialProvider<SecretDocument> = {
      ...(managedTokenProvider as unknown as CredentialProvider<SecretDocument>),
      test: () => Promise.reject(new CredentialTestFailedError('the target answered 401')),
    };

    // Act & Assess
    expect(await verdict(new ProviderRegistry([rejecting]))).toEqual({
      usable: false,
      reason: expect.stringMatching(
        /\(AWSPREVIOUS, version .*\) failed its managed-token test: the target answered 401$/,
      ) as unknown,
    });
  });

  it('refuses a malformed previous document without showing it', async () => {
    // Prepare
    const { good } = await world.badCurrent();
    world.store.addVersion(good.versionId, `{"provider":"managed-token","token":"${good.token}"`, [AWSPREVIOUS]);

    // Act
    const result = await verdict();

    // Assess
    expect(result).toEqual({ usable: false, reason: expect.stringMatching(/is not valid JSON/) as unknown });
    expect(JSON.stringify(result)).not.toContain(good.token);
  });
});
