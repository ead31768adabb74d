import { isSecretId, secretNameFromId } from '../../shared/secret-name';

/** Secrets Manager's own CloudTrail events that mean a rotation did not complete. */
export const SERVICE_ROTATION_FAILURES = ['RotationFailed', 'RotationAbandoned'] as const;
export type ServiceRotationFailure = (typeof SERVICE_ROTATION_FAILURES)[number];

/**
 * What a Secrets Manager rotation failure event says, as EventBridge delivers it from CloudTrail:
 *
 * ```json
 * { "source": "aws.secretsmanager", "detail-type": "AWS Service Event via CloudTrail",
 *   "detail": { "eventSource": "secretsmanager.amazonaws.com", "eventName": "RotationFailed",
 *     "eventType": "AwsServiceEvent", "errorMessage": "...during createSecret step",
 *     "requestParameters": null,
 *     "additionalEventData": { "SecretId": "arn:aws:secretsmanager:...:secret:NAME-AbCdEf" } } }
 * ```
 */
export type ServiceRotationEvent =
  | {
      readonly kind: 'failure';
      readonly eventName: ServiceRotationFailure;
      readonly secretId: string;
      /** The secret's name (the ARN's random suffix removed): the SecretName metric dimension. */
      readonly secretName: string;
      /** Secrets Manager's words (which step failed); never a secret value. */
      readonly errorMessage?: string;
    }
  | { readonly kind: 'ignored'; readonly reason: string };

/** Reads a RotationFailed / RotationAbandoned event of a secret under `secretNamePrefix`. */
export function readServiceRotationEvent(event: unknown, secretNamePrefix: string): ServiceRotationEvent {
  const fields = isRecord(event) ? event : {};
  const detail = isRecord(fields.detail) ? fields.detail : {};
  if (fields.source !== 'aws.secretsmanager' || fields['detail-type'] !== 'AWS Service Event via CloudTrail') {
    return ignored('not a Secrets Manager service event from CloudTrail');
  }
  const eventName = detail.eventName;
  if (typeof eventName !== 'string' || !(SERVICE_ROTATION_FAILURES as readonly string[]).includes(eventName)) {
    return ignored(`event ${typeof eventName === 'string' ? eventName : '(unnamed)'} is not a rotation failure`);
  }
  const extra = isRecord(detail.additionalEventData) ? detail.additionalEventData : {};
  const secretId = extra.SecretId;
  if (typeof secretId !== 'string' || secretId === '') return ignored(`${eventName} event names no SecretId`);
  if (!isSecretId(secretId)) return ignored(`${eventName} event's SecretId is not a secret name or ARN`);
  const secretName = secretNameFromId(secretId);
  if (!secretName.startsWith(secretNamePrefix)) {
    return ignored(`secret ${secretName} is outside this stage (names start with '${secretNamePrefix}')`);
  }
  return {
    kind: 'failure',
    eventName: eventName as ServiceRotationFailure,
    secretId,
    secretName,
    ...(typeof detail.errorMessage === 'string' ? { errorMessage: detail.errorMessage.slice(0, 500) } : {}),
  };
}

function ignored(reason: string): ServiceRotationEvent {
  return { kind: 'ignored', reason };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
