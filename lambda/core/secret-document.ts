import * as z from 'zod/mini';
import type { CredentialProvider, SecretDocument } from './providers/credential-provider';
import type { ProviderRegistry } from './providers/provider-registry';
import { MalformedSecretError, UnsupportedProviderError } from './errors';
import { describeSchemaIssues } from './schema-issues';
import { REUSE_RESPONSES, type ReuseResponse } from './ledger/ledger-records';
import { SECRET_DOCUMENT_SCHEMA_VERSION } from '../shared/rotor-constants';

/** Layout version Rotor writes into every document it stores (defined with the shared constants). */
export { SECRET_DOCUMENT_SCHEMA_VERSION };

/** Secrets Manager's own limit on a secret value. */
export const MAX_SECRET_DOCUMENT_BYTES = 65_536;

/** Longest grace period a secret may ask for: one day. */
export const MAX_GRACE_SECONDS = 86_400;

const PROVIDER_NAME_RULE = 'must be a provider name such as managed-token';
const Envelope = z.looseObject({
  provider: z.string({ error: PROVIDER_NAME_RULE }).check(z.regex(/^[a-z0-9][a-z0-9-]{0,63}$/, PROVIDER_NAME_RULE)),
  schemaVersion: z.optional(z.literal(SECRET_DOCUMENT_SCHEMA_VERSION, `must be ${SECRET_DOCUMENT_SCHEMA_VERSION}`)),
  graceSeconds: z.optional(
    z
      .int(`must be a whole number of seconds from 0 to ${MAX_GRACE_SECONDS}`)
      .check(
        z.minimum(0, `must be a whole number of seconds from 0 to ${MAX_GRACE_SECONDS}`),
        z.maximum(MAX_GRACE_SECONDS, `must be a whole number of seconds from 0 to ${MAX_GRACE_SECONDS}`),
      ),
  ),
  onReuse: z.optional(
    z.enum(REUSE_RESPONSES as [ReuseResponse, ...ReuseResponse[]], `must be ${REUSE_RESPONSES.join(' or ')}`),
  ),
});

/**
 * A secret's own settings, from its document (fields every provider's document may carry):
 * `graceSeconds` (how long the previous credential stays valid after a rotation) and
 * `onReuse` (what Rotor does when a rotated-out credential is presented again).
 */
export interface SecretPolicy {
  readonly graceSeconds?: number;
  readonly onReuse?: ReuseResponse;
}

export interface ParsedSecretDocument {
  readonly provider: CredentialProvider<SecretDocument>;
  readonly document: SecretDocument;
  readonly policy: SecretPolicy;
}

/**
 * Parses a secret value into a Rotor document and finds its provider.
 *
 * A document written before Rotor ever rotated it may omit `schemaVersion`
 * (`{"provider":"managed-token"}` is a valid first version); Rotor always writes it.
 *
 * @param where names the secret and version in error messages, e.g. `secret app/token (AWSCURRENT)`.
 * @throws MalformedSecretError when the value is not a Rotor document; the message names fields, never values.
 * @throws UnsupportedProviderError when no registered provider owns the document.
 */
export function parseSecretDocument(raw: string, providers: ProviderRegistry, where: string): ParsedSecretDocument {
  if (Buffer.byteLength(raw, 'utf8') > MAX_SECRET_DOCUMENT_BYTES) {
    throw new MalformedSecretError(`${where} is larger than ${MAX_SECRET_DOCUMENT_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    // The parser's own message quotes the input, which may be a credential: keep it out.
    throw new MalformedSecretError(`${where} is not valid JSON; Rotor stores one JSON document per secret`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MalformedSecretError(`${where} is not a JSON object; Rotor stores one JSON document per secret`);
  }
  const envelope = Envelope.safeParse(value);
  if (!envelope.success) {
    throw new MalformedSecretError(`${where} is not a Rotor document: ${describeSchemaIssues(envelope.error.issues)}`);
  }
  const provider = providers.get(envelope.data.provider);
  if (provider === undefined) {
    // The value itself is not shown: a document is not Rotor's until a provider accepts it,
    // and any of its fields may hold a credential.
    throw new UnsupportedProviderError(
      `${where} names a provider this rotation function does not handle (it handles: ${providers.names().join(', ')})`,
    );
  }
  const policy: SecretPolicy = {
    ...(envelope.data.graceSeconds === undefined ? {} : { graceSeconds: envelope.data.graceSeconds }),
    ...(envelope.data.onReuse === undefined ? {} : { onReuse: envelope.data.onReuse }),
  };
  try {
    return { provider, document: provider.parse(value as Record<string, unknown>), policy };
  } catch (error) {
    if (error instanceof MalformedSecretError) {
      throw new MalformedSecretError(`${where}: ${error.message}`, { cause: error });
    }
    throw error;
  }
}

/** The string Rotor stores for `document`: always with the current schema version. */
export function serializeSecretDocument(document: SecretDocument): string {
  return JSON.stringify({ ...document, schemaVersion: SECRET_DOCUMENT_SCHEMA_VERSION });
}
