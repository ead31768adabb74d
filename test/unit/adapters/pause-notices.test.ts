import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EventBridgeRotationStatus } from '../../../lambda/adapters/eventbridge-rotation-status';
import { SnsPauseAlerts } from '../../../lambda/adapters/sns-pause-alerts';
import type { RotationPauseNotice, RotationResumeNotice } from '../../../lambda/core/rollback/rotation-pause-notices';
import { rejectionOf } from '../helpers/rejection';

const NOTICE: RotationPauseNotice = {
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123',
  secretName: 'rotor/dev/ci-token',
  reason: 'AWSCURRENT still fails after 3 rollbacks in this incident (at most 3)',
  pausedAt: '2025-01-15T10:15:00.000Z',
  alarmName: 'rotor-dev-health-check-failures-rotor-dev-ci-token',
  rollbacks: 3,
  maxRollbacks: 3,
  action: 'look, then run `rotor resume rotor/dev/ci-token`',
};
const RESUMED: RotationResumeNotice = {
  secretArn: NOTICE.secretArn,
  secretName: NOTICE.secretName,
  resumedAt: '2025-01-15T11:00:00.000Z',
  resumedBy: 'ops@laptop (rotor resume)',
};

describe('Class: SnsPauseAlerts', () => {
  const sns = mockClient(SNSClient);
  const alerts = new SnsPauseAlerts(
    new SNSClient({ region: 'eu-west-1' }),
    'arn:aws:sns:eu-west-1:123456789012:alerts',
  );

  beforeEach(() => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  afterAll(() => {
    sns.restore();
  });

  it('publishes one message to the topic: a subject naming the secret, the reason, the way out, and the notice', async () => {
    // Act
    await alerts.rotationPaused(NOTICE);

    // Assess
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const input = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(input.TopicArn).toBe('arn:aws:sns:eu-west-1:123456789012:alerts');
    expect(input.Subject).toBe('Rotor: rotation of rotor/dev/ci-token is paused');
    expect(input.Message).toContain(`Why: ${NOTICE.reason}`);
    expect(input.Message).toContain(NOTICE.action);
    expect(JSON.parse(input.Message!.split('\n').at(-1)!)).toEqual(NOTICE);
  });

  it('keeps the subject within SNS’s 100 printable ASCII characters', async () => {
    // Act
    await alerts.rotationPaused({ ...NOTICE, secretName: `rotor/dev/${'é'.repeat(120)}` });

    // Assess
    const subject = sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject!;
    expect(subject.length).toBe(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('Class: EventBridgeRotationStatus', () => {
  const eventBridge = mockClient(EventBridgeClient);
  const events = new EventBridgeRotationStatus(new EventBridgeClient({ region: 'eu-west-1' }), 'rotor-events');

  beforeEach(() => {
    eventBridge.reset();
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  });

  afterAll(() => {
    eventBridge.restore();
  });

  it.each<[string, () => Promise<void>, string, object]>([
    ['Rotation Paused', () => events.rotationPaused(NOTICE), 'Rotation Paused', NOTICE],
    ['Rotation Resumed', () => events.rotationResumed(RESUMED), 'Rotation Resumed', RESUMED],
  ])('puts one "%s" event from source rotor on the bus, about the secret', async (_label, act, detailType, detail) => {
    // Act
    await act();

    // Assess
    const input = eventBridge.commandCalls(PutEventsCommand)[0]!.args[0].input;
    expect(input.Entries).toEqual([
      {
        EventBusName: 'rotor-events',
        Source: 'rotor',
        DetailType: detailType,
        Resources: [NOTICE.secretArn],
        Detail: JSON.stringify(detail),
      },
    ]);
  });

  it('fails when EventBridge refuses the entry', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] });

    // Act
    const error = await rejectionOf(events.rotationPaused(NOTICE));

    // Assess
    expect(error.message).toBe('EventBridge refused the Rotation Paused event: ThrottlingException');
  });
});
