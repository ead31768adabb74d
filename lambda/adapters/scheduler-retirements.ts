import { createHash } from 'node:crypto';
import { CreateScheduleCommand, DeleteScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import type { Retirement, RetirementCanceller, RetirementScheduler } from '../core/ledger/retirement-scheduler';
import { RETIREMENT_SCHEDULE_NAME_PREFIX } from '../shared/rotor-constants';

export interface SchedulerRetirementsOptions {
  readonly groupName: string;
  readonly retireFunctionArn: string;
  /** Role EventBridge Scheduler assumes to invoke the retire function. */
  readonly roleArn: string;
}

/** What a retirement schedule sends to the retire function. */
export interface RetirementRequest {
  readonly secretArn: string;
  readonly versionId: string;
  readonly fingerprint: string;
}

/**
 * One-time EventBridge Scheduler schedules (`at(...)`, deleted after they run) that invoke the
 * retire function at a credential's grace end. The schedule name derives from the secret and
 * version, so scheduling twice finds the first schedule (ConflictException) and adds none, and a
 * rollback that makes the version current again finds the schedule to delete.
 */
export class SchedulerRetirements implements RetirementScheduler, RetirementCanceller {
  constructor(
    private readonly client: SchedulerClient,
    private readonly options: SchedulerRetirementsOptions,
  ) {}

  async schedule(retirement: Retirement): Promise<void> {
    const request: RetirementRequest = {
      secretArn: retirement.secretArn,
      versionId: retirement.versionId,
      fingerprint: retirement.fingerprint,
    };
    try {
      await this.client.send(
        new CreateScheduleCommand({
          Name: retirementScheduleName(retirement.secretArn, retirement.versionId),
          GroupName: this.options.groupName,
          ScheduleExpression: `at(${atExpression(retirement.at)})`,
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          Target: {
            Arn: this.options.retireFunctionArn,
            RoleArn: this.options.roleArn,
            Input: JSON.stringify(request),
            RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 3600 },
          },
        }),
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'ConflictException') return;
      throw error;
    }
  }

  /** DeleteSchedule of the version's schedule in the group; a schedule that is gone is fine. */
  async cancel(secretArn: string, versionId: string): Promise<'cancelled' | 'not-found'> {
    try {
      await this.client.send(
        new DeleteScheduleCommand({
          Name: retirementScheduleName(secretArn, versionId),
          GroupName: this.options.groupName,
        }),
      );
      return 'cancelled';
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return 'not-found';
      throw error;
    }
  }
}

/** `retire-<40 hex>`: Scheduler names allow 64 characters; the hash keeps ARNs out of them. The rollback's role may delete only schedules with this prefix. */
export function retirementScheduleName(secretArn: string, versionId: string): string {
  return `${RETIREMENT_SCHEDULE_NAME_PREFIX}${createHash('sha256').update(`${secretArn}\n${versionId}`).digest('hex').slice(0, 40)}`;
}

// Scheduler's one-time format, UTC. Scheduler fires anywhere within the minute an expression
// names (60-second precision), seconds included: rounded up to a whole minute, it never fires
// before the grace end (a retirement that fires early finds it not due, and the schedule is gone).
function atExpression(epochMs: number): string {
  return new Date(Math.ceil(epochMs / 60_000) * 60_000).toISOString().slice(0, 19);
}
