import * as z from 'zod/mini';
import type { CredentialProvider, SecretDocument } from '../credential-provider';
import { CredentialTestFailedError, MalformedSecretError } from '../../errors';
import { describeSchemaIssues } from '../../schema-issues';
import { RotorProviderName } from '../../../shared/rotor-constants';
import { generateManagedToken, isWellFormedManagedToken } from './managed-token-format';

export const MANAGED_TOKEN_PROVIDER = RotorProviderName.managedToken;

/**
 * `{"provider":"managed-token","schemaVersion":1,"token":"rtr_..."}`. Consumers read `token`.
 * Other fields are kept as they are across rotations, so operators may annotate a secret.
 */
export interface ManagedTokenDocument extends SecretDocument {
  readonly provider: typeof MANAGED_TOKEN_PROVIDER;
  /** Absent until the first rotation issues one. */
  readonly token?: string;
}

const TOKEN_RULE = 'must be a Rotor token (rtr_ prefix and a valid checksum)';
const ManagedTokenDocumentSchema = z.looseObject({
  provider: z.literal(MANAGED_TOKEN_PROVIDER, `must be ${MANAGED_TOKEN_PROVIDER}`),
  schemaVersion: z.optional(z.literal(1, 'must be 1')),
  token: z.optional(z.string({ error: TOKEN_RULE }).check(z.refine(isWellFormedManagedToken, TOKEN_RULE))),
});

/** Rotor issues these credentials itself: nothing outside AWS changes when one is made. */
export const managedTokenProvider: CredentialProvider<ManagedTokenDocument> = {
  name: MANAGED_TOKEN_PROVIDER,
  sideEffects: 'none',

  parse(document) {
    const result = ManagedTokenDocumentSchema.safeParse(document);
    if (!result.success) {
      throw new MalformedSecretError(`managed-token document is invalid: ${describeSchemaIssues(result.error.issues)}`);
    }
    return { ...result.data, schemaVersion: 1 };
  },

  create(current) {
    return Promise.resolve({ ...current, token: generateManagedToken() });
  },

  // The consumer of a managed token is whoever checks it against Rotor; what it needs is a
  // pending document that parses and a token with a valid checksum.
  test(pending) {
    if (!isWellFormedManagedToken(pending.token)) {
      return Promise.reject(new CredentialTestFailedError('pending managed-token document holds no well-formed token'));
    }
    return Promise.resolve();
  },

  credentialOf: (document) => document.token,
};
