import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { GetScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadRotorConfig, type RotorStageConfig } from '../../lib/config/rotor-config';
import { DEFAULT_DURATIONS, RotorAlarmKind, RotorEnv, RotorResourceName } from '../../lambda/shared/rotor-constants';
import { alarmGroupAlarms, watchingAlarms, type WatchingAlarm } from '../../lib/watching-alarms';
import { alarmContributors } from './alarm-contributors';
import { DynamoDbLedger } from '../../lambda/adapters/dynamodb-ledger';
import { LOCAL_CREDENTIALS } from '../local/local-clients';
import { pickStage, requireLocalEndpoint } from './cli-options';
import { OperationFailedError } from './cli-errors';
import type { OperatorOptions } from './operator-context';

/** One line of the doctor's table. */
export interface DoctorCheck {
  readonly check: string;
  readonly subject: string;
  readonly result: 'ok' | 'PROBLEM' | 'skipped';
  readonly detail: string;
  /** What to do about a problem (or why a check was skipped). */
  readonly fix: string;
}

interface DoctorClients {
  readonly secretsManager: SecretsManagerClient;
  readonly dynamodb: DynamoDBClient;
  readonly lambda: LambdaClient;
  readonly cloudWatch: CloudWatchClient;
  readonly scheduler: SchedulerClient;
}

// Schedules the stack creates, each in its purpose's group (lib/health-check-function.ts, lib/retire-function.ts).
const STAGE_SCHEDULES = [
  { name: 'health-check', group: RotorResourceName.healthCheckScheduleGroup },
  { name: 'sweep-overdue-retirements', group: RotorResourceName.scheduleGroup },
] as const;

/**
 * `rotor doctor`: checks a stage end to end without changing anything, and prints one row per
 * check with a fix for each problem. The emulator has no alarms or schedules (it cannot run
 * them), so locally those checks say `skipped`. In a sharded stage, a secret at the stage's
 * thresholds is watched by its alarm group's alarms, each checked once, and a group alarm in ALARM
 * names its secrets in ALARM (its contributors). Exits 1 when a check found a problem.
 */
export async function doctor(options: OperatorOptions): Promise<void> {
  const stage = pickStage(loadRotorConfig(options.config ?? 'rotor.config.json').stages, options.stage);
  const config = options.local
    ? { ...requireLocalEndpoint(options), credentials: LOCAL_CREDENTIALS }
    : options.region === undefined
      ? {}
      : { region: options.region };
  const clients: DoctorClients = {
    secretsManager: new SecretsManagerClient(config),
    dynamodb: new DynamoDBClient(config),
    lambda: new LambdaClient(config),
    cloudWatch: new CloudWatchClient(config),
    scheduler: new SchedulerClient(config),
  };
  const checks = await runChecks(stage, clients, options.local === true);
  printTable(checks);
  const problems = checks.filter((check) => check.result === 'PROBLEM').length;
  if (problems > 0) {
    throw new OperationFailedError(
      `${problems} problem(s) in stage ${stage.name}: apply the FIX column, then run doctor again`,
    );
  }
  process.stdout.write(`stage ${stage.name} is healthy\n`);
}

async function runChecks(stage: RotorStageConfig, clients: DoctorClients, local: boolean): Promise<DoctorCheck[]> {
  const deploy = local ? '`rotor local up`' : `\`cdk deploy Rotor-${stage.name}\``;
  const table = RotorResourceName.ledgerTable(stage.name);
  const checks: DoctorCheck[] = [];
  const ledgerOk = await probe(checks, 'ledger reachable', table, deploy, async () => {
    const described = await clients.dynamodb.send(new DescribeTableCommand({ TableName: table }));
    return `table ${described.Table?.TableStatus ?? 'unknown'}`;
  });
  const pepper = RotorResourceName.fingerprintPepper(stage.name);
  await probe(checks, 'pepper readable', pepper, deploy, async () => {
    const value = await clients.secretsManager.send(
      new GetSecretValueCommand({ SecretId: pepper, VersionStage: 'AWSCURRENT' }),
    );
    if ((value.SecretString ?? '').length < 32) throw new Error('the pepper is shorter than 32 characters');
    return 'readable';
  });
  if (local) {
    checks.push(skipped('schedules present', `group ${RotorResourceName.scheduleGroup(stage.name)}`));
  } else {
    for (const { name, group } of STAGE_SCHEDULES) {
      await probe(checks, 'schedule present', name, deploy, async () => {
        const schedule = await clients.scheduler.send(
          new GetScheduleCommand({ GroupName: group(stage.name), Name: name }),
        );
        if (schedule.State !== 'ENABLED') throw new Error(`schedule is ${schedule.State}`);
        return 'enabled';
      });
    }
  }
  const ledger = ledgerOk
    ? new DynamoDbLedger({
        client: clients.dynamodb,
        tableName: table,
        auditRetentionSeconds: DEFAULT_DURATIONS.auditRetentionSeconds,
      })
    : undefined;
  // An alarm group's alarms watch many secrets: each is checked once, after the secrets.
  const groupAlarms = alarmGroupAlarms(stage);
  for (const secret of stage.secrets) {
    const name = `${stage.secretNamePrefix}${secret.name}`;
    await checkSecret(checks, clients, ledger, stage, name, local, deploy);
    if (local) continue;
    const watching = watchingAlarms(stage, secret.name, secret.alarms);
    const own = watching.filter((alarm) => alarm.alarmGroup === undefined);
    await checkAlarms(checks, clients.cloudWatch, own, deploy, name);
  }
  if (!local) await checkAlarms(checks, clients.cloudWatch, groupAlarms, deploy);
  return checks;
}

/**
 * One row per alarm: missing, stuck in INSUFFICIENT_DATA or in ALARM is a problem. An alarm group's alarm
 * (no `secretName`) in ALARM gets a row per secret that is a contributor in ALARM.
 */
async function checkAlarms(
  checks: DoctorCheck[],
  cloudWatch: CloudWatchClient,
  watching: readonly Pick<WatchingAlarm, 'alarmName' | 'kind'>[],
  deploy: string,
  secretName?: string,
): Promise<void> {
  for (let start = 0; start < watching.length; start += 100) {
    const page = watching.slice(start, start + 100);
    const described = await cloudWatch.send(
      new DescribeAlarmsCommand({ AlarmNames: page.map((alarm) => alarm.alarmName) }),
    );
    for (const { alarmName, kind } of page) {
      const alarm = described.MetricAlarms?.find((candidate) => candidate.AlarmName === alarmName);
      if (alarm === undefined) checks.push(problem('alarm present', alarmName, 'missing', deploy));
      else if (alarm.StateValue === 'INSUFFICIENT_DATA')
        checks.push(
          problem(
            'alarm reporting',
            alarmName,
            'INSUFFICIENT_DATA: no metric data reaches it',
            'check the health-check schedule runs and the functions log EMF metrics (namespace Rotor)',
          ),
        );
      else if (alarm.StateValue !== 'ALARM')
        checks.push(ok('alarm reporting', alarmName, alarm.StateValue ?? 'unknown'));
      else if (secretName !== undefined)
        checks.push(
          problem('alarm reporting', alarmName, `ALARM: ${firstLine(alarm.StateReason)}`, fixFor(kind, secretName)),
        );
      else await checkContributors(checks, cloudWatch, alarmName, kind);
    }
  }
}

/** An alarm group's alarm in ALARM: which of its secrets are, each a problem of its own. */
async function checkContributors(
  checks: DoctorCheck[],
  cloudWatch: CloudWatchClient,
  alarmName: string,
  kind: RotorAlarmKind,
): Promise<void> {
  const contributors = await alarmContributors(cloudWatch, alarmName);
  if (!contributors.listed) {
    checks.push(
      problem(
        'alarm reporting',
        alarmName,
        `ALARM; its contributors could not be listed: ${contributors.why}`,
        `see which secrets are in ALARM in the CloudWatch console (Alarms, ${alarmName}, Contributors)`,
      ),
    );
    return;
  }
  const count = contributors.secrets.length;
  checks.push(ok('alarm reporting', alarmName, `ALARM, ${count} secret(s) in ALARM`));
  for (const { secretName, reason } of contributors.secrets) {
    checks.push(
      problem(
        'secret in ALARM',
        secretName,
        `contributor of ${alarmName}: ${firstLine(reason)}`,
        fixFor(kind, secretName),
      ),
    );
  }
}

/** What to do about a secret in ALARM, by the alarm's kind. */
function fixFor(kind: RotorAlarmKind, secretName: string): string {
  switch (kind) {
    case RotorAlarmKind.rotationFailures:
      return `rotation keeps failing: \`rotor audit ${secretName}\` and the rotation function's log say why (Rotor rolls back or pauses)`;
    case RotorAlarmKind.healthCheckFailures:
      return `its current credential fails its test: Rotor rolls back or pauses; \`rotor status\` shows which, \`rotor audit ${secretName}\` why`;
    default:
      return `a retired credential was presented (possible theft): \`rotor audit ${secretName}\`, then \`rotor rotate ${secretName}\``;
  }
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0]!;
}

async function checkSecret(
  checks: DoctorCheck[],
  clients: DoctorClients,
  ledger: DynamoDbLedger | undefined,
  stage: RotorStageConfig,
  name: string,
  local: boolean,
  deploy: string,
): Promise<void> {
  let described;
  try {
    described = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: name }));
  } catch (error) {
    checks.push(problem('secret exists', name, reason(error), deploy));
    return;
  }
  const functionArn = described.RotationLambdaARN;
  if (described.RotationEnabled !== true || functionArn === undefined) {
    checks.push(
      problem(
        'wired to rotation',
        name,
        'rotation is not enabled with a rotation function',
        local ? `\`rotor rotate ${name} --local\` (the emulator wires a secret at its first rotation)` : deploy,
      ),
    );
  } else {
    const rewire = local ? `\`rotor rotate ${name} --local\` (wires it to this stage's function)` : deploy;
    await probe(checks, 'wired to rotation', name, rewire, async () => {
      const fn = await clients.lambda.send(new GetFunctionCommand({ FunctionName: functionArn }));
      const functionName = fn.Configuration?.FunctionName ?? functionArn;
      // The stack's function names its stage in its environment; the emulator's stand-in, in its name.
      const stageOfFunction = local
        ? /^rotor-(.+)-rotation$/.exec(functionName)?.[1]
        : fn.Configuration?.Environment?.Variables?.[RotorEnv.stage];
      if (stageOfFunction !== stage.name) {
        throw new Error(`rotated by ${functionName}, the function of stage ${stageOfFunction ?? '(unknown)'}`);
      }
      return `function ${functionName}`;
    });
  }
  const labels = Object.entries(described.VersionIdsToStages ?? {});
  const pending = labels.find(([, stages]) => stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'));
  checks.push(
    pending === undefined
      ? ok('no stuck rotation', name, 'no unfinished AWSPENDING')
      : problem('no stuck rotation', name, `version ${pending[0]} is AWSPENDING`, `\`rotor repair ${name}\``),
  );
  await probe(
    checks,
    'current readable',
    name,
    `store a valid Rotor document; \`rotor rotate ${name}\` says what is wrong`,
    async () => {
      const current = await clients.secretsManager.send(
        new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSCURRENT' }),
      );
      const document = JSON.parse(current.SecretString ?? '') as { provider?: unknown };
      if (typeof document?.provider !== 'string') throw new Error('AWSCURRENT names no provider');
      return `provider ${document.provider}`;
    },
  );
  if (ledger !== undefined) {
    const state = await ledger.getSecretState(described.ARN ?? name);
    if (state?.status === 'paused') {
      checks.push(
        problem(
          'not paused',
          name,
          `paused: ${state.pause?.reason ?? ''}`,
          `look (\`rotor audit ${name}\`), then \`rotor resume ${name}\``,
        ),
      );
    } else if (state?.status === 'compromised') {
      checks.push(problem('not paused', name, 'compromised', `\`rotor bootstrap ${name}\``));
    } else {
      checks.push(ok('not paused', name, state === undefined ? 'never rotated' : state.status));
    }
  }
  if (local) checks.push(skipped('alarms reporting', name));
}

/** Runs one check: its detail when `run` resolves, a problem with the error's words when it throws. */
async function probe(
  checks: DoctorCheck[],
  check: string,
  subject: string,
  fix: string,
  run: () => Promise<string>,
): Promise<boolean> {
  try {
    checks.push(ok(check, subject, await run()));
    return true;
  } catch (error) {
    // An endpoint that is not there fails every check the same way: say that once, not per row.
    const code = (error as { code?: string }).code;
    if (code === 'ECONNREFUSED' || (error as { name?: string }).name === 'SyntaxError') throw error;
    checks.push(problem(check, subject, reason(error), fix));
    return false;
  }
}

function reason(error: unknown): string {
  const failure = error as { name?: string; message?: string };
  const message = String(failure.message ?? error).split('\n')[0]!;
  return failure.name === undefined || failure.name === 'Error' ? message : `${failure.name}: ${message}`;
}

const ok = (check: string, subject: string, detail: string): DoctorCheck => ({
  check,
  subject,
  result: 'ok',
  detail,
  fix: '',
});
const problem = (check: string, subject: string, detail: string, fix: string): DoctorCheck => ({
  check,
  subject,
  result: 'PROBLEM',
  detail,
  fix,
});
const skipped = (check: string, subject: string): DoctorCheck => ({
  check,
  subject,
  result: 'skipped',
  detail: 'the emulator has none',
  fix: '',
});

function printTable(checks: readonly DoctorCheck[]): void {
  const lines = [
    ['CHECK', 'SUBJECT', 'RESULT', 'DETAIL', 'FIX'],
    ...checks.map((c) => [c.check, c.subject, c.result, c.detail, c.fix]),
  ];
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
