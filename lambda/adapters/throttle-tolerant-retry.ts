import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import { THROTTLED_CALL_MAX_ATTEMPTS } from '../shared/aws-throttling';

/** Attempts of a call that failed for another passing reason (a 5xx, a timeout): the SDK's default. */
export const TRANSIENT_CALL_MAX_ATTEMPTS = 3;

// The SDK's standard retry mode: full jitter over an exponential base, longer for throttling.
const THROTTLING_BASE_DELAY_MS = 500;
const TRANSIENT_BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 20_000;

/**
 * The SDK's standard retry mode, except that a throttled call is made up to
 * {@link THROTTLED_CALL_MAX_ATTEMPTS} times (a random wait of up to 0.5, 1, 2, 4 and 8 seconds
 * before each retry: 15.5 seconds at most) while any other passing failure keeps the standard
 * {@link TRANSIENT_CALL_MAX_ATTEMPTS}. Secrets Manager's write quota is shared by the whole region,
 * so a burst of rotations is throttled for seconds, not milliseconds; an outage is not made
 * longer by it. A client error is never retried.
 */
export class ThrottleTolerantRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';

  constructor(private readonly random: () => number = Math.random) {}

  acquireInitialRetryToken(): Promise<RetryToken> {
    return Promise.resolve(retryToken(0, 0));
  }

  refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const throttled = errorInfo.errorType === 'THROTTLING';
    const retryable = throttled || errorInfo.errorType === 'TRANSIENT';
    const attempts = token.getRetryCount() + 1;
    const maxAttempts = throttled ? THROTTLED_CALL_MAX_ATTEMPTS : TRANSIENT_CALL_MAX_ATTEMPTS;
    // Rejecting makes the SDK throw the call's own error.
    if (!retryable || attempts >= maxAttempts) return Promise.reject(new Error('no retry left'));
    const ceiling = Math.min(
      MAX_DELAY_MS,
      (throttled ? THROTTLING_BASE_DELAY_MS : TRANSIENT_BASE_DELAY_MS) * 2 ** token.getRetryCount(),
    );
    let delay = Math.floor(this.random() * ceiling);
    if (errorInfo.retryAfterHint instanceof Date) {
      delay = Math.max(delay, Math.min(errorInfo.retryAfterHint.getTime() - Date.now(), delay + 5_000));
    }
    return Promise.resolve(retryToken(attempts, delay));
  }

  recordSuccess(): void {}
}

function retryToken(retryCount: number, delay: number): RetryToken {
  return { getRetryCount: () => retryCount, getRetryDelay: () => delay };
}

/** Configuration of the rotation function's Secrets Manager and DynamoDB clients. */
export function throttleTolerantClientConfig(): { retryStrategy: RetryStrategyV2; maxAttempts: number } {
  return { retryStrategy: new ThrottleTolerantRetryStrategy(), maxAttempts: THROTTLED_CALL_MAX_ATTEMPTS };
}
