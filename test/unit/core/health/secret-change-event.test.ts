import { readSecretChangeEvent } from '../../../../lambda/core/health/secret-change-event';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123';

/** The EventBridge event of a Secrets Manager API call recorded by CloudTrail, as documented. */
function apiCall(eventName: string, detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.secretsmanager',
    account: '123456789012',
    time: '2026-12-03T10:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventVersion: '1.08',
      eventTime: '2026-12-03T10:00:00Z',
      eventSource: 'secretsmanager.amazonaws.com',
      eventName,
      requestParameters: { secretId: 'rotor/dev/ci-token', clientRequestToken: 'a1b2' },
      responseElements: { arn: ARN },
      eventType: 'AwsApiCall',
      ...detail,
    },
  };
}

describe('Function: readSecretChangeEvent', () => {
  it.each([
    'PutSecretValue',
    'UpdateSecret',
    'UpdateSecretVersionStage',
    'RotateSecret',
    'CancelRotateSecret',
    'RestoreSecret',
  ])('reads %s of a secret of the stage by the ARN in its response', (eventName) => {
    expect(readSecretChangeEvent(apiCall(eventName), 'rotor/dev/')).toEqual({
      kind: 'change',
      eventName,
      secretName: 'rotor/dev/ci-token',
    });
  });

  it('reads the aRN of older events, and the secretId of a call with no response', () => {
    expect(
      readSecretChangeEvent(apiCall('RotateSecret', { responseElements: { aRN: ARN } }), 'rotor/dev/'),
    ).toMatchObject({ secretName: 'rotor/dev/ci-token' });
    expect(readSecretChangeEvent(apiCall('PutSecretValue', { responseElements: null }), 'rotor/dev/')).toMatchObject({
      secretName: 'rotor/dev/ci-token',
    });
  });

  it("reads Secrets Manager's RotationFailed service event", () => {
    const event = {
      ...apiCall('RotationFailed', {
        additionalEventData: { SecretId: ARN },
        requestParameters: null,
        responseElements: null,
      }),
      'detail-type': 'AWS Service Event via CloudTrail',
    };
    expect(readSecretChangeEvent(event, 'rotor/dev/')).toMatchObject({ kind: 'change', eventName: 'RotationFailed' });
  });

  it('ignores reads, secrets outside the stage, and events of other services', () => {
    expect(readSecretChangeEvent(apiCall('GetSecretValue'), 'rotor/dev/')).toEqual({
      kind: 'ignored',
      reason: "API call GetSecretValue changes no secret's value or labels",
    });
    expect(readSecretChangeEvent(apiCall('PutSecretValue'), 'rotor/prod/')).toEqual({
      kind: 'ignored',
      reason: "secret rotor/dev/ci-token is outside this stage (names start with 'rotor/prod/')",
    });
    expect(readSecretChangeEvent({ ...apiCall('PutSecretValue'), source: 'aws.kms' }, 'rotor/dev/')).toMatchObject({
      kind: 'ignored',
    });
    expect(
      readSecretChangeEvent(
        apiCall('PutSecretValue', { responseElements: null, requestParameters: null }),
        'rotor/dev/',
      ),
    ).toEqual({ kind: 'ignored', reason: 'PutSecretValue event names no secret' });
  });
});
