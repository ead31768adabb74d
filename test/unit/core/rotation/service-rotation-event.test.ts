import { readServiceRotationEvent } from '../../../../lambda/core/rotation/service-rotation-event';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123';

/** The EventBridge event of Secrets Manager's CloudTrail entry, as documented. */
function serviceEvent(eventName: string, secretId: unknown = ARN, overrides: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: 'd82e0a2d-f36e-11fd-37cb-cba423a71196',
    'detail-type': 'AWS Service Event via CloudTrail',
    source: 'aws.secretsmanager',
    account: '123456789012',
    time: '2025-01-15T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventVersion: '1.08',
      userIdentity: { accountId: '123456789012', invokedBy: 'secretsmanager.amazonaws.com' },
      eventTime: '2025-01-15T10:00:00Z',
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      errorMessage:
        'Error when executing lambda arn:aws:lambda:eu-west-1:123456789012:function:x during createSecret step',
      requestParameters: null,
      responseElements: null,
      additionalEventData: { SecretId: secretId },
      eventType: 'AwsServiceEvent',
    },
    ...overrides,
  };
}

describe('Function: readServiceRotationEvent', () => {
  it.each(['RotationFailed', 'RotationAbandoned'])('reads %s of a secret of the stage, by its name', (eventName) => {
    expect(readServiceRotationEvent(serviceEvent(eventName), 'rotor/dev/')).toEqual({
      kind: 'failure',
      eventName,
      secretId: ARN,
      secretName: 'rotor/dev/ci-token',
      errorMessage:
        'Error when executing lambda arn:aws:lambda:eu-west-1:123456789012:function:x during createSecret step',
    });
  });

  it('accepts a SecretId that is a name', () => {
    expect(readServiceRotationEvent(serviceEvent('RotationFailed', 'rotor/dev/ci-token'), 'rotor/dev/')).toMatchObject({
      kind: 'failure',
      secretName: 'rotor/dev/ci-token',
    });
  });

  it.each([
    ['a success', serviceEvent('RotationSucceeded'), /RotationSucceeded is not a rotation failure/],
    [
      'a secret of another stage',
      serviceEvent('RotationFailed', ARN.replace('rotor/dev/', 'rotor/prod/')),
      /outside this stage/,
    ],
    ['no SecretId', serviceEvent('RotationFailed', null), /names no SecretId/],
    [
      'a SecretId of 2,048 characters, too long for a metric dimension',
      serviceEvent('RotationFailed', `rotor/dev/${'a'.repeat(2038)}`),
      /SecretId is not a secret name or ARN/,
    ],
    [
      'an API call',
      serviceEvent('RotationFailed', ARN, { 'detail-type': 'AWS API Call via CloudTrail' }),
      /not a Secrets Manager service event/,
    ],
    [
      'another source',
      serviceEvent('RotationFailed', ARN, { source: 'aws.cloudwatch' }),
      /not a Secrets Manager service event/,
    ],
    ['nothing', undefined, /not a Secrets Manager service event/],
  ])('ignores %s, saying why', (_label, event, reason) => {
    expect(readServiceRotationEvent(event, 'rotor/dev/')).toEqual({
      kind: 'ignored',
      reason: expect.stringMatching(reason) as unknown,
    });
  });
});
