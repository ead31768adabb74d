import { loadRotorConfig } from '../../lib/config/rotor-config';
import {
  planWriteQuotas,
  QUOTA_SHARE_LIMIT,
  SECRETS_MANAGER_QUOTAS,
  writeQuotaProblem,
  type RegionWritePlan,
  type SimulatedPeak,
} from '../../lib/write-quota-plan';
import { OperationFailedError } from './cli-errors';

export interface PlanOptions {
  readonly config?: string | undefined;
}

/**
 * `rotor plan`: from the config alone (no AWS call), the simulated peak rate of Secrets Manager
 * write calls and RotateSecret calls that the configured fleet's schedules make in each account
 * and region, against Secrets Manager's quotas, as synth checks it. Exits 1, with the line synth
 * would print, when a region is over 80% of a quota.
 */
export function plan(options: PlanOptions, write: (text: string) => void = (text) => process.stdout.write(text)): void {
  const plans = planWriteQuotas(loadRotorConfig(options.config ?? 'rotor.config.json').stages);
  write(
    `Simulated peak Secrets Manager calls per second, per account and region (quotas: ${SECRETS_MANAGER_QUOTAS.writesPerSecond} writes/s, ` +
      `${SECRETS_MANAGER_QUOTAS.rotateSecretPerSecond} RotateSecret/s; synth refuses over ${QUOTA_SHARE_LIMIT * 100}%)\n\n`,
  );
  write(table(plans));
  const problems = plans.flatMap((each) => {
    const problem = writeQuotaProblem(each);
    return problem === undefined ? [] : [problem];
  });
  if (problems.length > 0) throw new OperationFailedError(problems.join('\n'));
}

function table(plans: readonly RegionWritePlan[]): string {
  const header = [
    'account/region',
    'stages',
    'secrets',
    'rotations/day',
    'refreshes/day',
    'peak writes/s',
    'peak RotateSecret/s',
  ];
  const rows = plans.map((each) => [
    each.region,
    each.stages.join(','),
    String(each.secrets),
    String(each.rotationsPerDay),
    String(each.refreshesPerDay),
    peak(each.writes, SECRETS_MANAGER_QUOTAS.writesPerSecond),
    peak(each.rotateSecret, SECRETS_MANAGER_QUOTAS.rotateSecretPerSecond),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  return [header, ...rows]
    .map(
      (row) =>
        `${row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}

/** `12 (24%) at 04:13:07 UTC`, or `0` when nothing calls it. */
function peak(simulated: SimulatedPeak, quota: number): string {
  if (simulated.perSecond === 0) return '0';
  return `${simulated.perSecond} (${Math.round((100 * simulated.perSecond) / quota)}%) at ${simulated.at} UTC`;
}
