import type { RetryErrorType, RetryToken } from '@smithy/types';
import { ThrottleTolerantRetryStrategy } from '../../../lambda/adapters/throttle-tolerant-retry';

/** How many attempts a call makes whose every attempt fails with `errorType`, and the waits before each retry. */
async function attemptsOf(errorType: RetryErrorType): Promise<{ attempts: number; delays: number[] }> {
  // The longest wait each time: the ceiling of the full jitter.
  const strategy = new ThrottleTolerantRetryStrategy(() => 0.999_999);
  let token: RetryToken = await strategy.acquireInitialRetryToken();
  const delays: number[] = [];
  for (;;) {
    try {
      token = await strategy.refreshRetryTokenForRetry(token, { errorType });
      delays.push(token.getRetryDelay());
    } catch {
      return { attempts: token.getRetryCount() + 1, delays };
    }
  }
}

describe('ThrottleTolerantRetryStrategy', () => {
  it('makes a throttled call 6 times, waiting up to 0.5, 1, 2, 4 and 8 seconds before the retries', async () => {
    expect(await attemptsOf('THROTTLING')).toEqual({ attempts: 6, delays: [499, 999, 1999, 3999, 7999] });
  });

  it('makes a call that failed for another passing reason 3 times, as the SDK does by default', async () => {
    expect(await attemptsOf('TRANSIENT')).toEqual({ attempts: 3, delays: [99, 199] });
  });

  it.each(['CLIENT_ERROR', 'SERVER_ERROR'] as const)('never retries a %s', async (errorType) => {
    expect(await attemptsOf(errorType)).toEqual({ attempts: 1, delays: [] });
  });
});
