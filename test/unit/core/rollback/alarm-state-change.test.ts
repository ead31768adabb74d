import { readAlarmStateChange, scopeAlarm } from '../../../../lambda/core/rollback/alarm-state-change';
import { alarmGroupOf } from '../../../../lambda/shared/alarm-group-of';
import { RotorAlarmKind, rotorAlarmGroupAlarmName } from '../../../../lambda/shared/rotor-constants';
import { contributorStateChangeEvent } from '../../../support/contributor-event';
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

describe('Function: readAlarmStateChange and scopeAlarm on an alarm group alarm’s contributor state change', () => {
  // GIVEN a stage of 4 alarm groups and the secret rotor/dev/ci-token in the group its name hashes to
  const SHARDED = { ...STAGE, alarmGroupCount: 4 };
  const secretName = 'rotor/dev/ci-token';
  const group = alarmGroupOf('ci-token', 4);
  const alarmOf = (kind: RotorAlarmKind, index = group) => rotorAlarmGroupAlarmName('dev', kind, index);
  const at = new Date('2030-01-01T12:00:00.250Z');

  it('reads the alarm, the state and the secret from the contributor’s SecretName attribute of the documented event', () => {
    // Prepare
    const event = contributorStateChangeEvent({
      alarmName: alarmOf(RotorAlarmKind.healthCheckFailures),
      secretName,
      at,
    });

    // Act
    const change = readAlarmStateChange(event);

    // Assess
    const contributor = (event.detail as { alarmContributor: { id: string } }).alarmContributor;
    expect(change).toEqual({
      eventId: event.id,
      time: '2030-01-01T12:00:00Z',
      alarmName: `rotor-dev-health-check-failures.group-00${group}`,
      alarmArn: `arn:aws:cloudwatch:us-east-1:123456789012:alarm:rotor-dev-health-check-failures.group-00${group}`,
      state: 'ALARM',
      stateTimestamp: '2030-01-01T12:00:00.250+0000',
      secretNames: [secretName],
      contributorId: contributor.id,
    });
  });

  it('takes the rotation and health-check alarms of the secret’s own alarm group, keyed by alarm and time', () => {
    // Act
    const health = scopeAlarm(
      readAlarmStateChange(
        contributorStateChangeEvent({ alarmName: alarmOf(RotorAlarmKind.healthCheckFailures), secretName, at }),
      )!,
      SHARDED,
    );
    const rotation = scopeAlarm(
      readAlarmStateChange(
        contributorStateChangeEvent({ alarmName: alarmOf(RotorAlarmKind.rotationFailures), secretName, at }),
      )!,
      SHARDED,
    );

    // Assess
    expect(health).toEqual({
      kind: 'ours',
      secretName,
      alarmKind: 'health-check-failures',
      alarmKey: `rotor-dev-health-check-failures.group-00${group}@2030-01-01T12:00:00.250+0000`,
    });
    expect(rotation).toMatchObject({ kind: 'ours', secretName, alarmKind: 'rotation-failures' });
  });

  it.each([
    ['OK', { state: 'OK' }, SHARDED, /went to OK, not ALARM/],
    [
      'another alarm group’s alarm',
      { alarmName: alarmOf(RotorAlarmKind.healthCheckFailures, (group + 1) % 4) },
      SHARDED,
      /is not the rotation or health-check alarm of alarm group \d, which holds rotor\/dev\/ci-token/,
    ],
    [
      'the reuse alarm',
      { alarmName: alarmOf(RotorAlarmKind.reuseDetected) },
      SHARDED,
      /reuse alarm: the verifier answers reuse/,
    ],
    ['a secret outside the stage', { secretName: 'rotor/prod/ci-token' }, SHARDED, /outside stage dev/],
    [
      'another stage’s alarm',
      { alarmName: `rotor-prod-health-check-failures.group-00${group}` },
      SHARDED,
      /not one of stage dev's alarms/,
    ],
    ['no SecretName attribute', { secretName: '' }, SHARDED, /has no contributor with a SecretName attribute/],
    ['a stage that is not sharded', {}, STAGE, /is an alarm group's alarm, but stage dev is not sharded/],
  ])('ignores %s, saying why', (_label, overrides, stage, reason) => {
    // Prepare
    const event = contributorStateChangeEvent({
      alarmName: alarmOf(RotorAlarmKind.healthCheckFailures),
      secretName,
      at,
      ...overrides,
    });

    // Act
    const result = scopeAlarm(readAlarmStateChange(event)!, stage);

    // Assess
    expect(result).toEqual({ kind: 'ignored', reason: expect.stringMatching(reason) as unknown });
  });

  it('answers undefined for a contributor event without a contributor id', () => {
    // Prepare
    const event = contributorStateChangeEvent({ alarmName: alarmOf(RotorAlarmKind.healthCheckFailures), secretName });
    (event.detail as { alarmContributor: Record<string, unknown> }).alarmContributor = {
      attributes: { SecretName: secretName },
    };

    // Act, Assess
    expect(readAlarmStateChange(event)).toBeUndefined();
  });
});
