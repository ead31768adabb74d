import { isThrottlingError, saysThrottled } from '../../../lambda/shared/aws-throttling';

describe('isThrottlingError', () => {
  it.each([
    ['ThrottlingException', { name: 'ThrottlingException' }],
    ['TooManyRequestsException', { name: 'TooManyRequestsException' }],
    ["DynamoDB's ProvisionedThroughputExceededException", { name: 'ProvisionedThroughputExceededException' }],
    ['an HTTP 429', { name: 'Unknown', $metadata: { httpStatusCode: 429 } }],
    ['a throttled cause', new Error('step failed', { cause: { name: 'ThrottlingException' } })],
  ])('recognises %s', (_label, error) => {
    expect(isThrottlingError(error)).toBe(true);
  });

  it.each([
    ['an access denial', { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }],
    ['a server error', { name: 'InternalServiceError', $metadata: { httpStatusCode: 500 } }],
    ['a plain error', new Error('Rate exceeded')],
    ['no error at all', undefined],
  ])('does not take %s for throttling', (_label, error) => {
    expect(isThrottlingError(error)).toBe(false);
  });

  it('ends on a cause that refers back to itself', () => {
    const error = new Error('loop') as Error & { cause?: unknown };
    error.cause = error;
    expect(isThrottlingError(error)).toBe(false);
  });
});

describe('saysThrottled', () => {
  it.each(['Rate exceeded', 'ThrottlingException during createSecret', 'Too Many Requests'])(
    'reads %j as throttling',
    (message) => {
      expect(saysThrottled(message)).toBe(true);
    },
  );

  it.each(['An error occurred during createSecret step', undefined])('reads %j as a failure', (message) => {
    expect(saysThrottled(message)).toBe(false);
  });
});
