import { MalformedSecretError, RotorError, UnsupportedProviderError } from '../errors';
import type { Fingerprinter } from '../ledger/fingerprint';
import type { Ledger } from '../ledger/ledger';
import type { ProviderRegistry } from '../providers/provider-registry';
import { parseSecretDocument, type ParsedSecretDocument } from '../secret-document';

/** What testing one version's credential found. Never carries the credential. */
export type CredentialHealth =
  | {
      readonly status: 'healthy';
      readonly provider: string;
      /** When the credential stops working on its own (epoch ms), if it does. */
      readonly credentialExpiresAt?: number;
    }
  /** The version holds no credential yet: the secret's first rotation has not run. Neither good nor bad. */
  | { readonly status: 'not-issued'; readonly provider: string }
  | { readonly status: 'unhealthy'; readonly reason: string; readonly provider?: string };

export interface CredentialHealthDependencies {
  readonly providers: ProviderRegistry;
  readonly ledger: Pick<Ledger, 'getCredential'>;
  readonly fingerprinter: () => Promise<Fingerprinter>;
  /** Epoch milliseconds. */
  readonly now: () => number;
}

/** The secret and the version being tested. */
export interface TestedVersion {
  readonly secretArn: string;
  readonly secretName: string;
  readonly versionId: string;
  /** The label it was read at (AWSCURRENT, AWSPREVIOUS), for messages. */
  readonly stage: string;
  /** The version's value; undefined when it has none. */
  readonly value: string | undefined;
}

/** A credential that passed its provider's test, with its document (for further checks). */
export type ProvenCredential =
  | {
      readonly ok: true;
      readonly parsed: ParsedSecretDocument;
      readonly credential: string;
      readonly fingerprint: string;
    }
  | { readonly ok: false; readonly health: CredentialHealth };

/**
 * The credential a version holds, proven by its provider: the value is a Rotor document, holds a
 * credential, and passes the provider's `test` (for a managed token: well formed, with a valid
 * checksum; for a provider with a target: the target accepts it).
 */
export async function proveCredential(
  version: TestedVersion,
  deps: CredentialHealthDependencies,
): Promise<ProvenCredential> {
  const where = `secret ${version.secretName} (${version.stage}, version ${version.versionId})`;
  if (version.value === undefined) return unhealthy(`${where} holds no value`);
  let parsed: ParsedSecretDocument;
  try {
    parsed = parseSecretDocument(version.value, deps.providers, where);
  } catch (error) {
    if (error instanceof MalformedSecretError || error instanceof UnsupportedProviderError) {
      return unhealthy(error.message);
    }
    throw error;
  }
  const provider = parsed.provider.name;
  const credential = parsed.provider.credentialOf(parsed.document);
  if (credential === undefined) return { ok: false, health: { status: 'not-issued', provider } };
  try {
    await parsed.provider.test(parsed.document, {
      secretArn: version.secretArn,
      secretName: version.secretName,
      versionId: version.versionId,
      now: () => new Date(deps.now()),
    });
  } catch (error) {
    // Provider errors are Rotor's own and never carry a credential; anything else is shown by name.
    const detail = error instanceof RotorError ? error.message : error instanceof Error ? error.name : 'error';
    return unhealthy(`${where} failed its ${provider} test: ${detail}`, provider);
  }
  return { ok: true, parsed, credential, fingerprint: (await deps.fingerprinter()).of(credential) };
}

/**
 * Tests the credential a secret's consumers read (its AWSCURRENT version): the provider's test,
 * and the ledger. Every credential Rotor issues is in the ledger, and only a `current` one of
 * this secret is accepted by the verifier, so a credential the ledger knows as pending, previous,
 * retired or revoked, or does not know, or knows under another secret, fails whatever its
 * provider says. This rule is the same for every provider.
 */
export async function checkCredentialHealth(
  version: TestedVersion,
  deps: CredentialHealthDependencies,
): Promise<CredentialHealth> {
  const proven = await proveCredential(version, deps);
  if (!proven.ok) return proven.health;
  const provider = proven.parsed.provider.name;
  const record = await deps.ledger.getCredential(proven.fingerprint);
  const whose = `the credential of ${version.stage} (version ${version.versionId})`;
  if (record === undefined) return { status: 'unhealthy', provider, reason: `the ledger does not know ${whose}` };
  if (record.secretArn !== version.secretArn) {
    return { status: 'unhealthy', provider, reason: `the ledger knows ${whose} under another secret` };
  }
  // The version was just read at AWSCURRENT: a credential the ledger still holds as pending for it
  // is one whose promotion the ledger has not recorded yet (the verifier asks Secrets Manager and
  // allows it; the next rotation step records it). Healthy, not a reason to roll back.
  const promotionUnrecorded = record.state === 'pending' && record.versionId === version.versionId;
  if (record.state !== 'current' && !(promotionUnrecorded && version.stage === 'AWSCURRENT')) {
    return { status: 'unhealthy', provider, reason: `the ledger has ${whose} ${record.state}, not current` };
  }
  const expiresAt = proven.parsed.provider.credentialExpiresAt?.(proven.parsed.document);
  return {
    status: 'healthy',
    provider,
    ...(expiresAt === undefined ? {} : { credentialExpiresAt: expiresAt.getTime() }),
  };
}

function unhealthy(reason: string, provider?: string): { ok: false; health: CredentialHealth } {
  return { ok: false, health: { status: 'unhealthy', reason, ...(provider === undefined ? {} : { provider }) } };
}
