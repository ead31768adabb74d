/**
 * Errors the rotation engine raises. Each names what was wrong in words an operator can act
 * on, and none ever carries a secret value: messages end up in logs and in Secrets Manager's
 * rotation failure reason.
 */
export class RotorError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The Lambda event is not a Secrets Manager rotation event. */
export class InvalidRotationEventError extends RotorError {}

/** The secret is not in a state in which Rotor may rotate it (rotation off, outside Rotor's prefix). */
export class RotationNotAllowedError extends RotorError {}

/** The ClientRequestToken names no version of the secret, or a version that is not AWSPENDING. */
export class UnexpectedVersionError extends RotorError {}

/**
 * A version was read at a staging label it no longer has: someone moved the labels between
 * DescribeSecret and GetSecretValue (a twin delivery's rollback, a rotation).
 */
export class VersionLabelMovedError extends RotorError {}

/** The secret's document is not a Rotor document: not JSON, wrong shape, or failing its provider's schema. */
export class MalformedSecretError extends RotorError {}

/** The document names a provider this function does not handle. */
export class UnsupportedProviderError extends RotorError {}

/**
 * Secrets Manager or DynamoDB kept throttling a call of the step after the SDK backed off: the
 * step did nothing wrong and is safe to run again, which Secrets Manager's retry of the rotation
 * does. Not a failed rotation: it never counts towards the rotation-failure alarm.
 */
export class RotationThrottledError extends RotorError {}

/** The pending credential failed its provider's test. */
export class CredentialTestFailedError extends RotorError {}

/**
 * An earlier attempt of this rotation already acted outside AWS (for example spent a refresh
 * token) and its result never reached AWSPENDING. Acting again could lose or double-spend a
 * credential, so the engine stops and says so.
 */
export class SideEffectOutcomeUnknownError extends RotorError {}

/** Wiring error: a provider with external side effects was registered without a journal. */
export class MissingJournalError extends RotorError {}

/** The function's own settings are missing or wrong (its environment). */
export class RotorConfigurationError extends RotorError {}

/**
 * Rotation of the secret is paused (automatic rollback gave up): no new rotation starts until an
 * operator has looked and run `rotor resume`. A rotation already past createSecret may finish.
 */
export class RotationPausedError extends RotorError {}

/**
 * A call to a provider outside AWS got no HTTP response. `sideEffect` says whether the
 * provider may have acted: `none` when the request never left (refused connection, failed TLS
 * handshake, bad URL), `unknown` when it may have arrived (timeout, reset after sending).
 */
export class ProviderCallError extends RotorError {
  constructor(
    message: string,
    readonly sideEffect: 'none' | 'unknown',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The provider answered and refused the call without acting (for example an OAuth error other
 * than invalid_grant, or a 4xx): the credential that was presented is not spent.
 */
export class ProviderRefusedError extends RotorError {}

/**
 * The provider refused a single-use credential that Rotor had not spent (an OAuth
 * `invalid_grant` on the current refresh token): someone else used it. The secret is marked
 * compromised and needs re-authorization (`rotor bootstrap`).
 */
export class UpstreamReuseSuspectedError extends RotorError {}

/**
 * The secret's single-use credential was already spent and cannot be presented again (its
 * exchange was refused, or its result was lost and the issuer allows no reuse): the secret
 * needs re-authorization (`rotor bootstrap`).
 */
export class ReauthorizationRequiredError extends RotorError {}

/**
 * Another invocation of this rotation is acting at the provider right now (its journal claim
 * is fresh and no pending value is stored yet). Retrying later is safe.
 */
export class SideEffectInProgressError extends RotorError {}

/**
 * A provider call was refused before anything was sent: its URL's origin is not one of the stage's
 * provider endpoints, or its host is (or resolves only to) a loopback, link-local or private
 * address the stage does not allow. Nothing reached the provider.
 */
export class EndpointRefusedError extends ProviderCallError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'none', options);
  }
}
