/**
 * The contract between the rotation engine and a kind of credential. The engine owns the
 * Secrets Manager protocol (guards, staging labels, idempotency of the writes); a provider
 * only knows how to make, register, prove and revoke its kind of credential.
 */

/** A parsed secret document: the JSON value of one secret version. */
export interface SecretDocument {
  /** Which provider owns this secret. */
  readonly provider: string;
  /** Version of the document layout; Rotor writes {@link SECRET_DOCUMENT_SCHEMA_VERSION}. */
  readonly schemaVersion: number;
}

/** What a provider may know about the rotation it takes part in. */
export interface ProviderContext {
  readonly secretArn: string;
  readonly secretName: string;
  /** Id of the version being created (the event's ClientRequestToken). */
  readonly versionId: string;
  /** The clock; injectable so that time-dependent rules can be tested in real time. */
  readonly now: () => Date;
}

/**
 * `none`: create only computes a value, so running it twice is harmless.
 * `external`: create changes state outside AWS (an IdP exchange, a GitLab rotate call); the
 * engine then journals the attempt before calling create, so a retry after a crash never
 * makes a second credential (see {@link SideEffectJournal}).
 */
export type ProviderSideEffects = 'none' | 'external';

export interface CredentialProvider<D extends SecretDocument = SecretDocument> {
  /** The value of `provider` in the documents this provider owns. */
  readonly name: string;
  readonly sideEffects: ProviderSideEffects;
  /**
   * Checks a document against this provider's schema.
   * @throws MalformedSecretError naming the failing fields, never their values.
   */
  parse(document: Readonly<Record<string, unknown>>): D;
  /**
   * Refuses, with no I/O, a document `create` could not act on (a setting it does not support, a
   * credential it needs and the document lacks, an endpoint or certificate location the stage does
   * not allow). The engine calls it before it writes anything for the rotation (its journal
   * claim), so a refused document changes nothing. @default none: `create` checks for itself
   * @throws the error `create` would throw for the same document.
   */
  checkCreate?(current: D, context: ProviderContext): void;
  /** Makes the next credential from the current document and returns the pending document. */
  create(current: D, context: ProviderContext): Promise<D>;
  /** Registers the pending credential with its target; must first check whether that was done already. */
  set?(pending: D, context: ProviderContext): Promise<void>;
  /**
   * Proves the pending credential works.
   * @throws CredentialTestFailedError when it does not.
   */
  test(pending: D, context: ProviderContext): Promise<void>;
  /** Invalidates a credential at its issuer, where the issuer can. */
  revoke?(retired: D, context: ProviderContext): Promise<void>;
  /** The credential consumers read, or undefined while the document holds none yet. */
  credentialOf(document: D): string | undefined;
  /**
   * When the credential stops working on its own (an OAuth access token's expiry), so that the
   * health check tests it again before then. @default none: it works until it is rotated or revoked
   */
  credentialExpiresAt?(document: D): Date | undefined;
  /**
   * The single-use credential `create` spends, for a provider whose issuer accepts each one once
   * (an OAuth refresh token). The engine journals its fingerprint before `create` runs, so no
   * rotation presents it twice. @default none: the journal is keyed by the rotation instead
   */
  spends?(current: D): string | undefined;
  /**
   * Seconds during which the issuer still accepts a spent credential again (an IdP's
   * refresh-token reuse interval). Only when an earlier attempt's result was lost does the engine
   * use it, to present the spent credential once more. @default none: never again
   */
  reuseIntervalSeconds?(current: D): number | undefined;
  /**
   * After an earlier attempt's result was lost: looks at the issuer for what that attempt made
   * (by name and creation time), undoes it where it can, and says whether making the credential
   * again is safe. @default none: the engine reports the outcome unknown
   */
  recoverLostCreate?(current: D, context: ProviderContext, attemptedAt: Date): Promise<LostCreateFinding>;
}

/** What a provider found at its issuer after a lost create. */
export interface LostCreateFinding {
  /** Whether the earlier attempt's effect was undone (or never happened), so that acting again is safe. */
  readonly safeToRetry: boolean;
  /** For operators: what was found and done (ids, never credentials). */
  readonly summary: string;
}

/*
 * How `create` reports failure, so the engine knows what happened to a spent credential:
 * - ProviderCallError with sideEffect `none`, ProviderRefusedError, or (thrown before sending)
 *   ReauthorizationRequiredError or MalformedSecretError: nothing happened at the provider; the
 *   journal claim is released and a later attempt may act.
 * - ProviderCallError with sideEffect `unknown`: the provider may have acted; the claim stays.
 * - UpstreamReuseSuspectedError: the provider refused a credential Rotor had not spent; the
 *   claim is marked rejected and the secret compromised.
 */
