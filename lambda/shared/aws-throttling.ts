/**
 * Throttling by Secrets Manager and DynamoDB: how the rotation function's SDK clients back off,
 * and how a call that stayed throttled is recognised.
 *
 * Secrets Manager allows 50 write calls per second per region (PutSecretValue,
 * UpdateSecretVersionStage and others combined) and 50 RotateSecret per second; a burst of
 * rotations can meet that limit. Throttling says nothing about the credential, so a throttled
 * step backs off and runs again, and is never counted as a failed rotation.
 */

/**
 * Attempts of a throttled SDK call of the rotation function (the first and 5 retries, see
 * ThrottleTolerantRetryStrategy): a random wait of up to 0.5, 1, 2, 4 and 8 seconds before each
 * retry, at most 15.5 seconds in all, well within the function's 1-minute timeout.
 */
export const THROTTLED_CALL_MAX_ATTEMPTS = 6;

/** The names AWS services give a throttled request (Secrets Manager, DynamoDB, Lambda, the SDK's own). */
const THROTTLING_ERROR_NAMES: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'SlowDown',
]);

/**
 * Whether `error`, or an error it was caused by, is a throttled AWS call: one of AWS's throttling
 * error names, or an HTTP 429.
 */
export function isThrottlingError(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const { name, $metadata, cause } = current as {
      name?: unknown;
      $metadata?: { httpStatusCode?: unknown };
      cause?: unknown;
    };
    if (typeof name === 'string' && THROTTLING_ERROR_NAMES.has(name)) return true;
    if ($metadata?.httpStatusCode === 429) return true;
    current = cause;
  }
  return false;
}

/**
 * Whether Secrets Manager's words about a failed rotation (the `errorMessage` of its
 * `RotationFailed` event) say it was throttled.
 */
export function saysThrottled(message: string | undefined): boolean {
  return message !== undefined && /throttl|rate exceeded|too many requests/i.test(message);
}
