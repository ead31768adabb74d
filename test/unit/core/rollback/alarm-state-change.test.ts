import { readAlarmStateChange, scopeAlarm } from '../../../../lambda/core/rollback/alarm-state-change';
import { alarmEvent, STAGE } from '../../helpers/rollback-harness';

describe('Function: readAlarmStateChange', () => {
  it('reads the id, time, alarm, states and SecretName dimension of the documented event', () => {
    // Prepare
    const event = alarmEvent();

    // Act
    const change = readAlarmStateChange(event);

    // Assess
    const detail = event.detail as { state: { timestamp: string } };
    expect(change).toEqual({
      eventId: event.id,
      time: '2023-11-14T22:13:20Z',
      alarmName: 'rotor-dev-health-check-failures-rotor-dev-ci-token',
      alarmArn: 'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:rotor-dev-health-check-failures-rotor-dev-ci-token',
      state: 'ALARM',
      stateTimestamp: detail.state.timestamp,
      previousState: 'OK',
      secretNames: ['rotor/dev/ci-token'],
    });
  });

  it('collects the SecretName of every metric of a metric-math alarm once, skipping expressions', () => {
    // Prepare
    const event = alarmEvent();
    const detail = event.detail as { configuration: { metrics: unknown[] } };
    detail.configuration.metrics.push(
      { id: 'e1', expression: 'm1 + m2', returnData: true },
      structuredClone(detail.configuration.metrics[0]),
    );

    // Act
    const change = readAlarmStateChange(event);

    // Assess
    expect(change?.secretNames).toEqual(['rotor/dev/ci-token']);
  });

  it.each([
    ['another detail-type', { ...alarmEvent(), 'detail-type': 'Scheduled Event' }],
    ['no detail', { 'detail-type': 'CloudWatch Alarm State Change' }],
    ['no alarm name', { ...alarmEvent(), detail: { state: { value: 'ALARM' } } }],
    ['an array', []],
    ['a string', 'ALARM'],
  ])('answers undefined for %s', (_label, event) => {
    expect(readAlarmStateChange(event)).toBeUndefined();
  });
});

describe('Function: scopeAlarm', () => {
  const scope = (event: unknown) => scopeAlarm(readAlarmStateChange(event)!, STAGE);

  it('takes the health-check and rotation-failure alarms of a secret of the stage', () => {
    // Act
    const health = scope(alarmEvent());
    const rotation = scope(alarmEvent({ kind: 'rotation-failures' }));

    // Assess
    expect(health).toMatchObject({
      kind: 'ours',
      secretName: 'rotor/dev/ci-token',
      alarmKind: 'health-check-failures',
    });
    expect(rotation).toMatchObject({ kind: 'ours', alarmKind: 'rotation-failures' });
  });

  it('keys a state change by the alarm and the time of the change, the same for every delivery', () => {
    // Prepare
    const event = alarmEvent();
    const redelivered = { ...structuredClone(event), id: 'another-event-id' };

    // Act
    const [first, second] = [scope(event), scope(redelivered)];

    // Assess
    expect(first).toMatchObject({
      alarmKey: expect.stringMatching(
        /^rotor-dev-health-check-failures-rotor-dev-ci-token@2023-11-14T22:13:20\.\d{3}\+0000$/,
      ) as unknown,
    });
    expect(second).toEqual(first);
    expect(scope(alarmEvent())).not.toEqual(first);
  });

  it('keys by the event id when the state has no time', () => {
    // Prepare
    const event = alarmEvent();
    (event.detail as { state: Record<string, unknown> }).state = { value: 'ALARM' };
    event.time = '';

    // Act
    const result = scope(event);

    // Assess
    expect(result).toMatchObject({
      alarmKey: `rotor-dev-health-check-failures-rotor-dev-ci-token#${String(event.id)}`,
    });
  });

  it.each([
    ['OK', alarmEvent({ state: 'OK' }), /went to OK, not ALARM/],
    ['INSUFFICIENT_DATA', alarmEvent({ state: 'INSUFFICIENT_DATA' }), /not ALARM/],
    [
      'another stage',
      alarmEvent({ alarmName: 'rotor-prod-health-check-failures-rotor-dev-ci-token' }),
      /not one of stage dev's alarms/,
    ],
    [
      'a stage whose name starts like ours',
      alarmEvent({ alarmName: 'rotor-dev2-health-check-failures-x' }),
      /not one of stage dev's/,
    ],
    ['no dimension', alarmEvent({ dimensions: {} }), /has no SecretName dimension/],
    ['a reuse alarm', alarmEvent({ kind: 'reuse-detected' }), /reuse alarm: the verifier answers reuse/],
    [
      'a mismatching dimension',
      alarmEvent({ dimensions: { SecretName: 'rotor/dev/other' } }),
      /not the rotation or health-check alarm of its SecretName rotor\/dev\/other/,
    ],
    ['a secret outside the prefix', alarmEvent({ secretName: 'rotor/devx/ci-token' }), /outside stage dev/],
  ])('ignores %s, saying why', (_label, event, reason) => {
    expect(scope(event)).toEqual({ kind: 'ignored', reason: expect.stringMatching(reason) as unknown });
  });
});
