import {
  CloudWatchClient,
  CloudWatchServiceException,
  DescribeAlarmContributorsCommand,
} from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import { alarmContributors } from '../../../cli/commands/alarm-contributors';

const cloudWatch = mockClient(CloudWatchClient);
const ALARM = 'rotor-fleet-health-check-failures.group-003';

function contributor(id: string, secretName: string | undefined, reason: string) {
  const attributes: Record<string, string> = secretName === undefined ? {} : { SecretName: secretName };
  return {
    ContributorId: id,
    ContributorAttributes: attributes,
    StateReason: reason,
  };
}

describe('Function: alarmContributors', () => {
  beforeEach(() => {
    cloudWatch.reset();
  });

  it('lists the secrets in ALARM of every page, each by its SecretName attribute', async () => {
    // Prepare
    cloudWatch
      .on(DescribeAlarmContributorsCommand, { AlarmName: ALARM, NextToken: undefined })
      .resolves({ AlarmContributors: [contributor('c-1', 'rotor/fleet/a', 'crossed')], NextToken: 'page-2' })
      .on(DescribeAlarmContributorsCommand, { AlarmName: ALARM, NextToken: 'page-2' })
      .resolves({ AlarmContributors: [contributor('c-2', 'rotor/fleet/b', 'crossed twice')] });

    // Act
    const answer = await alarmContributors(new CloudWatchClient({ region: 'us-east-1' }), ALARM);

    // Assess
    expect(answer).toEqual({
      listed: true,
      secrets: [
        { secretName: 'rotor/fleet/a', reason: 'crossed' },
        { secretName: 'rotor/fleet/b', reason: 'crossed twice' },
      ],
    });
    expect(cloudWatch.commandCalls(DescribeAlarmContributorsCommand)).toHaveLength(2);
  });

  it('names a contributor without a SecretName by its id, and lists none when no secret is in ALARM', async () => {
    // Prepare
    cloudWatch
      .on(DescribeAlarmContributorsCommand)
      .resolvesOnce({ AlarmContributors: [contributor('c-9', undefined, 'crossed')] })
      .resolvesOnce({ AlarmContributors: [] });
    const client = new CloudWatchClient({ region: 'us-east-1' });

    // Act
    const first = await alarmContributors(client, ALARM);
    const second = await alarmContributors(client, ALARM);

    // Assess
    expect(first).toEqual({ listed: true, secrets: [{ secretName: '(contributor c-9)', reason: 'crossed' }] });
    expect(second).toEqual({ listed: true, secrets: [] });
  });

  it.each([
    [
      'an endpoint without the operation (an HTML error page)',
      Object.assign(new SyntaxError('Unexpected token <'), { $metadata: { httpStatusCode: 500 } }),
      /^the endpoint does not answer DescribeAlarmContributors/,
    ],
    [
      'a role without the permission',
      new CloudWatchServiceException({
        name: 'AccessDeniedException',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'not authorized',
      }),
      /^not allowed to call cloudwatch:DescribeAlarmContributors$/,
    ],
    [
      'an unknown alarm',
      new CloudWatchServiceException({
        name: 'ResourceNotFoundException',
        $fault: 'client',
        $metadata: { httpStatusCode: 404 },
        message: 'no alarm\nsecond line',
      }),
      /^ResourceNotFoundException: no alarm$/,
    ],
  ])('never throws: %s gives why the contributors could not be listed', async (_case, error, why) => {
    // Prepare
    cloudWatch.on(DescribeAlarmContributorsCommand).rejects(error);

    // Act
    const answer = await alarmContributors(new CloudWatchClient({ region: 'us-east-1' }), ALARM);

    // Assess
    expect(answer).toEqual({ listed: false, why: expect.stringMatching(why) as unknown });
  });
});
