import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { EventBridgeIncidents } from '../../../lambda/adapters/eventbridge-incidents';
import type { ReuseIncident } from '../../../lambda/core/verifier/reuse-response';
import { rejectionOf } from '../helpers/rejection';

const INCIDENT: ReuseIncident = {
  secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123',
  secretName: 'rotor/dev/ci-token',
  versionId: 'c0ffee00-1111-4222-8333-444455556666',
  fingerprintPrefix: '0123456789ab',
  credentialState: 'retired',
  detectedAt: '2025-01-15T10:15:00.000Z',
  response: 'revoke-and-rotate',
};

describe('Class: EventBridgeIncidents', () => {
  const eventBridge = mockClient(EventBridgeClient);
  const incidents = new EventBridgeIncidents(new EventBridgeClient({ region: 'eu-west-1' }), 'rotor-events');

  beforeEach(() => {
    eventBridge.reset();
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e-1' }] });
  });

  afterAll(() => {
    eventBridge.restore();
  });

  it('puts one "Token Reuse Detected" event from source rotor on the bus, about the secret', async () => {
    // Act
    await incidents.reuseDetected(INCIDENT);

    // Assess
    expect(eventBridge).toHaveReceivedCommandTimes(PutEventsCommand, 1);
    const input = eventBridge.commandCalls(PutEventsCommand)[0]!.args[0].input;
    expect(input).toEqual({
      Entries: [
        {
          EventBusName: 'rotor-events',
          Source: 'rotor',
          DetailType: 'Token Reuse Detected',
          Resources: [INCIDENT.secretArn],
          Detail: expect.any(String) as unknown,
        },
      ],
    });
    expect(JSON.parse(input.Entries![0]!.Detail!)).toEqual(INCIDENT);
  });

  it('succeeds when EventBridge reports no FailedEntryCount at all', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({});

    // Act
    const attempt = incidents.reuseDetected(INCIDENT);

    // Assess
    await expect(attempt).resolves.toBeUndefined();
  });

  it('fails, naming the error code, when EventBridge refuses the entry', async () => {
    // Prepare: PutEvents answers 200 with the refusal inside
    eventBridge.on(PutEventsCommand).resolves({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
    });

    // Act
    const error = await rejectionOf(incidents.reuseDetected(INCIDENT));

    // Assess
    expect(error.message).toBe('EventBridge refused the Token Reuse Detected event: ThrottlingException');
  });

  it('fails when EventBridge counts a failure without saying which', async () => {
    // Prepare
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 1 });

    // Act
    const error = await rejectionOf(incidents.reuseDetected(INCIDENT));

    // Assess
    expect(error.message).toBe('EventBridge refused the Token Reuse Detected event: unknown error');
  });
});
