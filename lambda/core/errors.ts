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

/** The secret's document is not a Rotor document: not JSON, wrong shape, or failing its provider's schema. */
export class MalformedSecretError extends RotorError {}

/** The document names a provider this function does not handle. */
export class UnsupportedProviderError extends RotorError {}

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
