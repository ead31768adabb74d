import { DescribeAlarmContributorsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SECRET_NAME_DIMENSION } from '../../lambda/shared/rotor-constants';

/** A secret that is a contributor in ALARM of an alarm group's Metrics Insights alarm. */
export interface AlarmingSecret {
  readonly secretName: string;
  /** CloudWatch's words for why the contributor is in ALARM. */
  readonly reason: string;
}

/** The contributors in ALARM, or why they could not be listed. */
export type AlarmContributors =
  | { readonly listed: true; readonly secrets: readonly AlarmingSecret[] }
  | { readonly listed: false; readonly why: string };

/**
 * The secrets that are contributors in ALARM of a multi-time-series alarm (DescribeAlarmContributors,
 * every page), each named by its SecretName attribute. Never throws: an endpoint that does not
 * answer the call (the emulator) or a role that may not make it gives `listed: false` and why, so
 * that the caller can still show the alarm's own state.
 */
export async function alarmContributors(client: CloudWatchClient, alarmName: string): Promise<AlarmContributors> {
  const secrets: AlarmingSecret[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await client.send(
        new DescribeAlarmContributorsCommand({ AlarmName: alarmName, NextToken: nextToken }),
      );
      for (const contributor of page.AlarmContributors ?? []) {
        secrets.push({
          secretName:
            contributor.ContributorAttributes?.[SECRET_NAME_DIMENSION] ?? `(contributor ${contributor.ContributorId})`,
          reason: contributor.StateReason ?? '',
        });
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
  } catch (error) {
    return { listed: false, why: whyNotListed(error) };
  }
  return { listed: true, secrets };
}

function whyNotListed(error: unknown): string {
  const failure = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = failure.$metadata?.httpStatusCode;
  // moto 5.2 answers an operation it lacks with an HTML error page (status 500).
  if (
    failure.name === 'SyntaxError' ||
    status === 500 ||
    status === 501 ||
    failure.name === 'UnknownOperationException'
  ) {
    return 'the endpoint does not answer DescribeAlarmContributors (the emulator has no alarm contributors)';
  }
  if (failure.name === 'AccessDeniedException' || failure.name === 'AccessDenied') {
    return 'not allowed to call cloudwatch:DescribeAlarmContributors';
  }
  return `${failure.name ?? 'Error'}: ${String(failure.message ?? error).split('\n')[0]}`;
}
