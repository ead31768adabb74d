import { SECRET_CHANGE_API_CALLS } from '../../shared/rotor-constants';
import { isSecretId, secretNameFromId } from '../../shared/secret-name';

/** Secrets Manager's own rotation events that leave a secret worth watching (`AWS Service Event via CloudTrail`). */
export const SECRET_CHANGE_SERVICE_EVENTS = ['RotationFailed', 'RotationAbandoned'] as const;

/**
 * What a Secrets Manager CloudTrail event says about a change to a secret of the stage:
 *
 * ```json
 * { "source": "aws.secretsmanager", "detail-type": "AWS API Call via CloudTrail",
 *   "detail": { "eventSource": "secretsmanager.amazonaws.com", "eventName": "PutSecretValue",
 *     "requestParameters": { "secretId": "rotor/production/ci-token", "clientRequestToken": "..." },
 *     "responseElements": { "arn": "arn:aws:secretsmanager:...:secret:rotor/production/ci-token-AbCdEf" } } }
 * ```
 *
 * The secret is `responseElements.arn` (`aRN` in some operations' events before 2024), else the
 * `secretId` the caller sent (a failed call has no response), or, for a service event,
 * `additionalEventData.SecretId`. Never a secret value: CloudTrail does not record them.
 */
export type SecretChangeEvent =
  | { readonly kind: 'change'; readonly eventName: string; readonly secretName: string }
  | { readonly kind: 'ignored'; readonly reason: string };

export function readSecretChangeEvent(event: unknown, secretNamePrefix: string): SecretChangeEvent {
  const fields = isRecord(event) ? event : {};
  const detail = isRecord(fields.detail) ? fields.detail : {};
  if (fields.source !== 'aws.secretsmanager' || detail.eventSource !== 'secretsmanager.amazonaws.com') {
    return ignored('not a Secrets Manager event from CloudTrail');
  }
  const eventName = typeof detail.eventName === 'string' ? detail.eventName : '(unnamed)';
  let secretId: unknown;
  if (fields['detail-type'] === 'AWS API Call via CloudTrail') {
    if (!(SECRET_CHANGE_API_CALLS as readonly string[]).includes(eventName)) {
      return ignored(`API call ${eventName} changes no secret's value or labels`);
    }
    const response = isRecord(detail.responseElements) ? detail.responseElements : {};
    const request = isRecord(detail.requestParameters) ? detail.requestParameters : {};
    secretId = response.arn ?? response.aRN ?? request.secretId;
  } else if (fields['detail-type'] === 'AWS Service Event via CloudTrail') {
    if (!(SECRET_CHANGE_SERVICE_EVENTS as readonly string[]).includes(eventName)) {
      return ignored(`service event ${eventName} changes no secret's value or labels`);
    }
    const extra = isRecord(detail.additionalEventData) ? detail.additionalEventData : {};
    secretId = extra.SecretId;
  } else {
    return ignored('not a Secrets Manager event from CloudTrail');
  }
  if (!isSecretId(secretId)) return ignored(`${eventName} event names no secret`);
  const secretName = secretNameFromId(secretId);
  if (!secretName.startsWith(secretNamePrefix)) {
    return ignored(`secret ${secretName} is outside this stage (names start with '${secretNamePrefix}')`);
  }
  return { kind: 'change', eventName, secretName };
}

function ignored(reason: string): SecretChangeEvent {
  return { kind: 'ignored', reason };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
