import { isSecretId, MAX_SECRET_ID_LENGTH } from '../../shared/secret-name';
import { InvalidRotationEventError } from '../errors';

/** The four steps of Secrets Manager's rotation contract, in the order they run. */
export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** A validated rotation event, as Secrets Manager sends it to the rotation function. */
export interface RotationEvent {
  readonly step: RotationStep;
  readonly secretId: string;
  /** The id of the AWSPENDING version Secrets Manager created for this rotation. */
  readonly clientRequestToken: string;
  /** Passed back to PutSecretValue so Secrets Manager can tie the write to this rotation. Never logged. */
  readonly rotationToken?: string;
}

// Secrets Manager's own limits: SecretId up to 2048 characters, ClientRequestToken 32-64.
const CLIENT_REQUEST_TOKEN = /^[A-Za-z0-9_-]{32,64}$/;
const MAX_ROTATION_TOKEN_LENGTH = 4096;

/**
 * Checks that `event` is a Secrets Manager rotation event and returns it typed.
 * @throws InvalidRotationEventError naming the field that is wrong; nothing has been called yet.
 */
export function parseRotationEvent(event: unknown): RotationEvent {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new InvalidRotationEventError(
      'rotation event must be a JSON object with Step, SecretId and ClientRequestToken',
    );
  }
  const { Step, SecretId, ClientRequestToken, RotationToken } = event as Record<string, unknown>;
  if (typeof Step !== 'string' || !(ROTATION_STEPS as readonly string[]).includes(Step)) {
    throw new InvalidRotationEventError(
      `rotation event has unknown Step ${describeValue(Step)}; expected one of ${ROTATION_STEPS.join(', ')}`,
    );
  }
  // Its name becomes a metric dimension when DescribeSecret fails: only a real name or ARN passes.
  if (!isSecretId(SecretId)) {
    throw new InvalidRotationEventError(
      `rotation event SecretId must be a secret name (1-512 of A-Z a-z 0-9 /_+=.@-) or a secret ARN of at most ${MAX_SECRET_ID_LENGTH} characters`,
    );
  }
  if (typeof ClientRequestToken !== 'string' || !CLIENT_REQUEST_TOKEN.test(ClientRequestToken)) {
    throw new InvalidRotationEventError('rotation event ClientRequestToken must be a version id of 32-64 characters');
  }
  if (
    RotationToken !== undefined &&
    (typeof RotationToken !== 'string' ||
      RotationToken.length === 0 ||
      RotationToken.length > MAX_ROTATION_TOKEN_LENGTH)
  ) {
    throw new InvalidRotationEventError('rotation event RotationToken, when present, must be a non-empty string');
  }
  return {
    step: Step as RotationStep,
    secretId: SecretId,
    clientRequestToken: ClientRequestToken,
    ...(RotationToken === undefined ? {} : { rotationToken: RotationToken }),
  };
}

// Only the type and a short printable form: an unknown field could hold anything.
function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return value === null ? 'null' : typeof value;
}
