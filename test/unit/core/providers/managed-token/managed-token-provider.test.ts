import { CredentialTestFailedError, MalformedSecretError } from '../../../../../lambda/core/errors';
import { isWellFormedManagedToken } from '../../../../../lambda/core/providers/managed-token/managed-token-format';
import {
  MANAGED_TOKEN_PROVIDER,
  managedTokenProvider,
  type ManagedTokenDocument,
} from '../../../../../lambda/core/providers/managed-token/managed-token-provider';
import type { ProviderContext } from '../../../../../lambda/core/providers/credential-provider';
import { CURRENT_TOKEN, managedTokenDocument } from '../../../helpers/rotation-harness';

const context: ProviderContext = {
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123',
  secretName: 'rotor/dev/ci-token',
  versionId: '3f9b2c1e-7d4a-4e8b-9c6f-0a1b2c3d4e5f',
  now: () => new Date('2025-01-15T10:00:00Z'),
};

describe('Object: managedTokenProvider', () => {
  it('is the managed-token provider, with no side effects outside AWS', () => {
    // Assess
    expect(managedTokenProvider.name).toBe(MANAGED_TOKEN_PROVIDER);
    expect(MANAGED_TOKEN_PROVIDER).toBe('managed-token');
    expect(managedTokenProvider.sideEffects).toBe('none');
    expect(managedTokenProvider.set).toBeUndefined();
  });

  describe('Method: parse', () => {
    it('keeps every field and fills in the schema version', () => {
      // Act
      const parsed = managedTokenProvider.parse({ provider: 'managed-token', token: CURRENT_TOKEN, owner: 'ops' });

      // Assess
      expect(parsed).toEqual({ provider: 'managed-token', schemaVersion: 1, token: CURRENT_TOKEN, owner: 'ops' });
    });

    it.each([
      ['another provider', { provider: 'gitlab-token', token: CURRENT_TOKEN }],
      ['a token with a bad checksum', { provider: 'managed-token', token: `${CURRENT_TOKEN.slice(0, -1)}0` }],
      ['a token that is not a string', { provider: 'managed-token', token: 12345 }],
      ['a foreign token', { provider: 'managed-token', token: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789' }],
    ])('fails on a document with %s, naming the field', (_label, document) => {
      // Act & Assess
      expect(() => managedTokenProvider.parse(document)).toThrow(MalformedSecretError);
      expect(() => managedTokenProvider.parse(document)).toThrow(/^managed-token document is invalid: field '/);
    });

    it('never quotes the token it refuses', () => {
      // Prepare
      const badToken = `${CURRENT_TOKEN.slice(0, -1)}0`;

      // Act & Assess
      expect(() => managedTokenProvider.parse({ provider: 'managed-token', token: badToken })).toThrow(
        "managed-token document is invalid: field 'token': must be a Rotor token (rtr_ prefix and a valid checksum)",
      );
    });
  });

  describe('Method: create', () => {
    it('issues a new well-formed token and keeps the other fields, leaving the current document alone', async () => {
      // Prepare
      const current = managedTokenProvider.parse(managedTokenDocument());
      const before = structuredClone(current);

      // Act
      const pending = await managedTokenProvider.create(current, context);

      // Assess
      expect(isWellFormedManagedToken(pending.token)).toBe(true);
      expect(pending.token).not.toBe(CURRENT_TOKEN);
      expect({ ...pending, token: CURRENT_TOKEN }).toEqual(current);
      expect(current).toEqual(before);
    });

    it('issues a token for a document that holds none yet', async () => {
      // Prepare
      const current = managedTokenProvider.parse({ provider: 'managed-token' });

      // Act
      const pending = await managedTokenProvider.create(current, context);

      // Assess
      expect(isWellFormedManagedToken(pending.token)).toBe(true);
    });
  });

  describe('Method: test', () => {
    it('passes a pending document with a well-formed token', async () => {
      // Prepare
      const pending: ManagedTokenDocument = { provider: 'managed-token', schemaVersion: 1, token: CURRENT_TOKEN };

      // Act & Assess
      await expect(managedTokenProvider.test(pending, context)).resolves.toBeUndefined();
    });

    it.each([
      ['no token', undefined],
      ['a bad token', `${CURRENT_TOKEN.slice(0, -1)}0`],
    ])('fails a pending document with %s', async (_label, token) => {
      // Prepare
      const pending: ManagedTokenDocument = {
        provider: 'managed-token',
        schemaVersion: 1,
        ...(token ? { token } : {}),
      };

      // Act & Assess
      await expect(managedTokenProvider.test(pending, context)).rejects.toThrow(CredentialTestFailedError);
    });
  });

  describe('Method: credentialOf', () => {
    it('returns the token, or undefined while there is none', () => {
      // Act & Assess
      expect(
        managedTokenProvider.credentialOf({ provider: 'managed-token', schemaVersion: 1, token: CURRENT_TOKEN }),
      ).toBe(CURRENT_TOKEN);
      expect(managedTokenProvider.credentialOf({ provider: 'managed-token', schemaVersion: 1 })).toBeUndefined();
    });
  });
});
