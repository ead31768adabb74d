import { DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { retirementScheduleName, SchedulerRetirements } from '../../../lambda/adapters/scheduler-retirements';
import { RETIREMENT_SCHEDULE_NAME_PREFIX } from '../../../lambda/shared/rotor-constants';
import { rejectionOf } from '../helpers/rejection';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123';
const VERSION = 'c0ffee00-1111-4222-8333-444455556666';
const OPTIONS = {
  groupName: 'rotor-development',
  retireFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:rotor-development-retire',
  roleArn: 'arn:aws:iam::123456789012:role/rotor-development-scheduler',
};

describe('Method: SchedulerRetirements.cancel', () => {
  const scheduler = mockClient(SchedulerClient);
  const retirements = new SchedulerRetirements(new SchedulerClient({ region: 'eu-west-1' }), OPTIONS);

  beforeEach(() => {
    scheduler.reset();
  });

  afterAll(() => {
    scheduler.restore();
  });

  it('deletes the version’s retirement schedule in the stage’s group', async () => {
    // Prepare
    scheduler.on(DeleteScheduleCommand).resolves({});

    // Act
    const outcome = await retirements.cancel(ARN, VERSION);

    // Assess
    expect(outcome).toBe('cancelled');
    expect(scheduler).toHaveReceivedCommandWith(DeleteScheduleCommand, {
      Name: retirementScheduleName(ARN, VERSION),
      GroupName: 'rotor-development',
    });
    expect(retirementScheduleName(ARN, VERSION).startsWith(RETIREMENT_SCHEDULE_NAME_PREFIX)).toBe(true);
  });

  it('answers not-found for a schedule that is gone', async () => {
    // Prepare
    scheduler
      .on(DeleteScheduleCommand)
      .rejects(new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} }));

    // Act & Assess
    expect(await retirements.cancel(ARN, VERSION)).toBe('not-found');
  });

  it('passes any other error on', async () => {
    // Prepare
    scheduler.on(DeleteScheduleCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));

    // Act
    const error = await rejectionOf(retirements.cancel(ARN, VERSION));

    // Assess
    expect(error.name).toBe('AccessDeniedException');
  });
});
