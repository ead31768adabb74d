import { createHash } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  SchedulerClient,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { retirementScheduleName, SchedulerRetirements } from '../../../lambda/adapters/scheduler-retirements';
import type { Retirement } from '../../../lambda/core/ledger/retirement-scheduler';
import { rejectionOf } from '../helpers/rejection';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123';
const VERSION = 'c0ffee00-1111-4222-8333-444455556666';
const FINGERPRINT = 'ab'.repeat(32);
const OPTIONS = {
  groupName: 'rotor-development',
  retireFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:rotor-development-retire',
  roleArn: 'arn:aws:iam::123456789012:role/rotor-development-scheduler',
};
const metadata = { $metadata: {} };

function retirementAt(iso: string): Retirement {
  return { secretArn: ARN, versionId: VERSION, fingerprint: FINGERPRINT, at: Date.parse(iso) };
}

describe('Class: SchedulerRetirements', () => {
  const scheduler = mockClient(SchedulerClient);
  const retirements = new SchedulerRetirements(new SchedulerClient({ region: 'eu-west-1' }), OPTIONS);

  beforeEach(() => {
    scheduler.reset();
    scheduler
      .on(CreateScheduleCommand)
      .resolves({ ScheduleArn: 'arn:aws:scheduler:eu-west-1:123456789012:schedule/x' });
  });

  afterAll(() => {
    scheduler.restore();
  });

  it('creates one one-time schedule, deleted after it runs, that invokes the retire function with the retirement', async () => {
    // Act
    await retirements.schedule(retirementAt('2025-01-15T10:15:00.000Z'));

    // Assess
    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input;
    expect(input).toEqual({
      Name: retirementScheduleName(ARN, VERSION),
      GroupName: 'rotor-development',
      ScheduleExpression: 'at(2025-01-15T10:15:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Target: {
        Arn: OPTIONS.retireFunctionArn,
        RoleArn: OPTIONS.roleArn,
        Input: expect.any(String) as unknown,
        RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
      },
    });
    expect(JSON.parse(input.Target!.Input!)).toEqual({ secretArn: ARN, versionId: VERSION, fingerprint: FINGERPRINT });
  });

  // Scheduler has 60-second precision: a time within a minute may fire anywhere in that minute.
  it.each([
    ['a whole minute', '2025-01-15T10:15:00.000Z', 'at(2025-01-15T10:15:00)'],
    ['one millisecond past a minute', '2025-01-15T10:15:00.001Z', 'at(2025-01-15T10:16:00)'],
    ['seconds into a minute', '2025-01-15T10:15:42.000Z', 'at(2025-01-15T10:16:00)'],
    ['the last millisecond of a day', '2025-12-31T23:59:59.999Z', 'at(2026-01-01T00:00:00)'],
  ])('rounds a grace end at %s up to the next whole minute, so it never fires early', async (_label, iso, expected) => {
    // Act
    await retirements.schedule(retirementAt(iso));

    // Assess
    const input = scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input;
    expect(input.ScheduleExpression).toBe(expected);
    expect(Date.parse(`${/^at\((.+)\)$/.exec(input.ScheduleExpression!)![1]}Z`)).toBeGreaterThanOrEqual(
      Date.parse(iso),
    );
  });

  it('succeeds when the schedule already exists (ConflictException): scheduling twice leaves one', async () => {
    // Prepare
    scheduler.on(CreateScheduleCommand).rejects(
      new ConflictException({
        message: 'Schedule retire-x already exists.',
        Message: 'Schedule retire-x already exists.',
        ...metadata,
      }),
    );

    // Act
    await retirements.schedule(retirementAt('2025-01-15T10:15:00.000Z'));

    // Assess
    expect(scheduler).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
  });

  it('passes on any other failure as it is', async () => {
    // Prepare
    const failure = new ValidationException({
      message: 'The schedule expression is invalid.',
      Message: 'The schedule expression is invalid.',
      ...metadata,
    });
    scheduler.on(CreateScheduleCommand).rejects(failure);

    // Act
    const error = await rejectionOf(retirements.schedule(retirementAt('2025-01-15T10:15:00.000Z')));

    // Assess
    expect(error).toBe(failure);
  });
});

describe('Function: retirementScheduleName', () => {
  it('is retire- and the first 40 hex digits of SHA-256 over the secret ARN and version, within 64 characters', () => {
    // Act
    const name = retirementScheduleName(ARN, VERSION);

    // Assess
    const digest = createHash('sha256').update(`${ARN}\n${VERSION}`).digest('hex');
    expect(name).toBe(`retire-${digest.slice(0, 40)}`);
    expect(name).toMatch(/^[0-9a-zA-Z-_.]{1,64}$/);
    expect(name).not.toContain('rotor');
  });

  it('is the same for the same retirement and differs for another version or secret', () => {
    // Act
    const names = [
      retirementScheduleName(ARN, VERSION),
      retirementScheduleName(ARN, VERSION),
      retirementScheduleName(ARN, 'd0ffee00-1111-4222-8333-444455556666'),
      retirementScheduleName(`${ARN}x`, VERSION),
    ];

    // Assess
    expect(names[0]).toBe(names[1]);
    expect(new Set(names).size).toBe(3);
  });
});
