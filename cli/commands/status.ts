import { DescribeAlarmsCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SecretsManagerCatalog } from '../../lambda/adapters/secrets-manager-catalog';
import type { SecretLedgerState, SecretStatus } from '../../lambda/core/ledger/ledger-records';
import {
  HEALTH_AND_ROLLBACK_DEFAULTS,
  RotorAlarmKind,
  rotorAlarmName,
  RotorProviderName,
} from '../../lambda/shared/rotor-constants';
import { watchingAlarms, type WatchingAlarm } from '../../lib/watching-alarms';
import { alarmContributors, type AlarmContributors } from './alarm-contributors';
import { operatorContext, type OperatorContext, type OperatorOptions } from './operator-context';

const STATUS_WORDS: Record<SecretStatus, string> = {
  active: 'active',
  'rolling-back': 'rolling back',
  paused: 'paused',
  compromised: 'compromised',
};

// Short names of the alarm kinds for the ALARMS column.
const ALARM_COLUMNS: readonly (readonly [string, RotorAlarmKind])[] = [
  ['rotation', RotorAlarmKind.rotationFailures],
  ['health', RotorAlarmKind.healthCheckFailures],
  ['reuse', RotorAlarmKind.reuseDetected],
];

/**
 * `rotor status`: one row per managed secret of the stage: provider, status (active, rolling
 * back, paused, compromised), age of the current credential, next rotation, grace of the previous
 * credential, and the state of the secret's three alarms (`-` where there is no such alarm, as in
 * the local emulator); in a sharded stage, whether the secret is a contributor in ALARM of its
 * alarm group's alarms. Paused secrets are listed below the table with the reason and the way out.
 */
export async function status(options: OperatorOptions): Promise<void> {
  const context = await operatorContext('status', options, true);
  const now = Date.now();
  const secrets = await new SecretsManagerCatalog(context.secretsManager, {
    stage: context.stage,
    secretNamePrefix: context.secretNamePrefix,
  }).list();
  const watching = new Map(secrets.map((secret) => [secret.name, alarmsOf(context, secret.name)]));
  const alarms = await alarmStates(context.cloudWatch, [
    ...new Set([...watching.values()].flatMap((each) => each.map((alarm) => alarm.alarmName))),
  ]);
  // An alarm group's alarm in ALARM: which of its secrets are (its contributors in ALARM), asked once per alarm.
  const contributors = new Map<string, AlarmContributors>();
  for (const alarm of [...watching.values()].flat()) {
    if (
      alarm.alarmGroup !== undefined &&
      alarms.get(alarm.alarmName) === 'ALARM' &&
      !contributors.has(alarm.alarmName)
    ) {
      contributors.set(alarm.alarmName, await alarmContributors(context.cloudWatch, alarm.alarmName));
    }
  }
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const secret of secrets) {
    const [described, state, document] = await Promise.all([
      context.secretsManager.send(new DescribeSecretCommand({ SecretId: secret.arn })),
      context.ledger.getSecretState(secret.arn),
      currentRotorDocument(context.secretsManager, secret.arn),
    ]);
    const readable = document === undefined ? undefined : document !== false;
    const noOverlap = document !== false && document !== undefined && hasNoOverlapAtIssuer(document);
    const current =
      state?.currentFingerprint === undefined
        ? undefined
        : await context.ledger.getCredential(state.currentFingerprint);
    rows.push([
      secret.name,
      current?.provider ?? context.configuredProviders.get(secret.name) ?? '-',
      readable === false ? 'unreadable' : statusOf(state, context, now),
      current === undefined ? '-' : age(now - current.createdAt),
      described.NextRotationDate?.toISOString() ?? '-',
      noOverlap ? 'none (self)' : await graceOf(state, context, now),
      ALARM_COLUMNS.map(([label, kind]) => {
        const alarm = watching.get(secret.name)!.find((each) => each.kind === kind)!;
        return `${label}:${stateOf(alarm, secret.name, alarms, contributors)}`;
      }).join(' '),
    ]);
    for (const alarm of watching.get(secret.name)!) {
      const answer = contributors.get(alarm.alarmName);
      const alarming = answer?.listed ? answer.secrets.find((each) => each.secretName === secret.name) : undefined;
      if (alarming !== undefined) {
        notes.push(`${secret.name} is in ALARM in its alarm group's alarm ${alarm.alarmName}: ${alarming.reason}`);
      }
    }
    if (readable === false) {
      notes.push(
        `${secret.name}: AWSCURRENT does not hold a Rotor document, so rotation refuses it and consumers get no credential\n` +
          `  store a valid document (see the provider's fields) or let \`rotor rotate ${secret.name}\` report what is wrong`,
      );
    }
    if (noOverlap) {
      notes.push(
        `${secret.name}: a GitLab token in self mode has no overlap at GitLab: each rotation revokes the old token ` +
          'at once, so a job still holding it fails; use overlap mode (a manager token) for project and group tokens',
      );
    }
    if (state?.status === 'paused') {
      notes.push(
        `${secret.name} is paused since ${iso(state.pause?.pausedAt)}: ${state.pause?.reason ?? '(no reason recorded)'}\n` +
          `  look (rotor audit ${secret.name}), fix the cause, then: rotor resume ${secret.name}`,
      );
    }
  }
  for (const [alarmName, answer] of contributors) {
    if (!answer.listed) {
      notes.push(
        `${alarmName} is in ALARM, and which of its secrets are could not be listed (${answer.why}); ` +
          'its secrets show ALARM? in the ALARMS column\n' +
          `  see the alarm's contributors in the CloudWatch console (Alarms, ${alarmName}, Contributors)`,
      );
    }
  }
  printTable([['SECRET', 'PROVIDER', 'STATUS', 'AGE', 'NEXT ROTATION', 'GRACE', 'ALARMS'], ...rows]);
  if (secrets.length === 0) process.stdout.write(`  (no managed secrets in stage ${context.stage})\n`);
  for (const note of notes) process.stdout.write(`\n${note}\n`);
}

/**
 * AWSCURRENT's document when it is a JSON object naming a provider, `false` when it is not, and
 * undefined when the caller may not read values (status then shows the ledger's word alone).
 */
async function currentRotorDocument(
  client: SecretsManagerClient,
  secretArn: string,
): Promise<Record<string, unknown> | false | undefined> {
  try {
    const current = await client.send(new GetSecretValueCommand({ SecretId: secretArn, VersionStage: 'AWSCURRENT' }));
    const document = JSON.parse(current.SecretString ?? '') as unknown;
    return typeof document === 'object' &&
      document !== null &&
      typeof (document as { provider?: unknown }).provider === 'string'
      ? (document as Record<string, unknown>)
      : false;
  } catch (error) {
    if (error instanceof SyntaxError) return false;
    const name = (error as { name?: string }).name;
    if (name === 'AccessDeniedException' || name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** A GitLab token that rotates itself: GitLab revokes the old token at each rotation, so Rotor's grace does not apply. */
function hasNoOverlapAtIssuer(document: Record<string, unknown>): boolean {
  if (document.provider !== RotorProviderName.gitlabAccessToken) return false;
  return document.mode === 'self' || (document.mode === undefined && document.tokenType === 'personal');
}

function statusOf(state: SecretLedgerState | undefined, context: OperatorContext, now: number): string {
  if (state === undefined) return 'not rotated yet';
  const word = STATUS_WORDS[state.status] ?? state.status;
  const incident = state.rollback;
  // The stage's window is the functions' setting; the CLI shows the incident with the default one.
  const windowMs = HEALTH_AND_ROLLBACK_DEFAULTS.rollbackIncidentWindowSeconds * 1000;
  const open = incident !== undefined && now - incident.lastAttemptAt < windowMs;
  return open ? `${word} (${incident.attempts}/${context.maxRollbackAttempts} rollbacks)` : word;
}

async function graceOf(state: SecretLedgerState | undefined, context: OperatorContext, now: number): Promise<string> {
  if (state?.previousFingerprint === undefined || state.previousGraceEndsAt === undefined) return '-';
  if (state.previousGraceEndsAt <= now) return 'over';
  const previous = await context.ledger.getCredential(state.previousFingerprint);
  return previous?.state === 'previous'
    ? `until ${iso(state.previousGraceEndsAt)}`
    : `previous ${previous?.state ?? 'gone'}`;
}

/**
 * The alarms that watch a secret: its own, or in a sharded stage its alarm group's (from the stage's
 * config; without it, the secret's own names, as a stage that is not sharded has).
 */
function alarmsOf(context: OperatorContext, secretName: string): WatchingAlarm[] {
  const stage = context.stageConfig;
  if (stage === undefined || !secretName.startsWith(stage.secretNamePrefix)) {
    return ALARM_COLUMNS.map(([, kind]) => ({ kind, alarmName: rotorAlarmName(context.stage, kind, secretName) }));
  }
  const nameInStage = secretName.slice(stage.secretNamePrefix.length);
  const configured = stage.secrets.find((secret) => secret.name === nameInStage);
  return watchingAlarms(stage, nameInStage, configured?.alarms);
}

/**
 * A secret's word in the ALARMS column: its own alarm's state; for an alarm group's alarm, ALARM when the
 * secret is one of its contributors in ALARM, OK when it is not, ALARM? when they could not be listed.
 */
function stateOf(
  alarm: WatchingAlarm,
  secretName: string,
  states: ReadonlyMap<string, string>,
  contributors: ReadonlyMap<string, AlarmContributors>,
): string {
  const state = states.get(alarm.alarmName) ?? '-';
  if (alarm.alarmGroup === undefined || state !== 'ALARM') return state;
  const answer = contributors.get(alarm.alarmName);
  if (answer === undefined || !answer.listed) return 'ALARM?';
  return answer.secrets.some((each) => each.secretName === secretName) ? 'ALARM' : 'OK';
}

/** Alarm name to state value, for the alarms that exist (DescribeAlarms takes 100 names at a time). */
async function alarmStates(client: CloudWatchClient, names: readonly string[]): Promise<Map<string, string>> {
  const states = new Map<string, string>();
  for (let start = 0; start < names.length; start += 100) {
    const page = await client.send(new DescribeAlarmsCommand({ AlarmNames: names.slice(start, start + 100) }));
    for (const alarm of page.MetricAlarms ?? []) {
      if (alarm.AlarmName !== undefined && alarm.StateValue !== undefined)
        states.set(alarm.AlarmName, alarm.StateValue);
    }
  }
  return states;
}

/** `3d4h`, `2h5m`, `4m10s`, `12s`. */
export function age(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const [d, h, m, s] = [
    Math.floor(seconds / 86400),
    Math.floor(seconds / 3600) % 24,
    Math.floor(seconds / 60) % 60,
    seconds % 60,
  ];
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

function iso(epochMs: number | undefined): string {
  return epochMs === undefined ? '(unknown)' : new Date(epochMs).toISOString();
}

function printTable(lines: readonly (readonly string[])[]): void {
  const widths = lines[0]!.map((_, column) => Math.max(...lines.map((line) => line[column]!.length)));
  for (const line of lines) {
    process.stdout.write(
      `  ${line
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}
