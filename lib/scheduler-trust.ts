import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';

/**
 * The principal a schedule's execution role trusts: EventBridge Scheduler acting for this account,
 * for a schedule in `group` only (confused-deputy protection).
 *
 * Scheduler sets `aws:SourceArn` to the ARN of the schedule's group, never to the schedule's own
 * (AWS documents that a condition on a schedule ARN or name prefix makes the role unassumable).
 * So the group is the finest scope a trust can name, and Rotor gives each purpose its own group:
 * a role trusts only the group of the schedules it serves, and no schedule of another purpose can
 * assume it.
 */
export function schedulerPrincipalFor(group: scheduler.CfnScheduleGroup): iam.IPrincipal {
  return new iam.ServicePrincipal('scheduler.amazonaws.com', {
    conditions: {
      StringEquals: {
        'aws:SourceAccount': Stack.of(group).account,
        'aws:SourceArn': group.attrArn,
      },
    },
  });
}
