import { Command, Option } from 'commander';
import { UsageError } from './commands/cli-errors';

/** The options every command that reaches AWS or the emulator takes. */
function withTarget(command: Command, what: { stage?: boolean; table?: boolean } = {}): Command {
  command
    .option('--local', 'act on the local emulator instead of an AWS account')
    .option('--endpoint <url>', "the emulator's URL (default: AWS_ENDPOINT_URL)")
    .option('--region <region>', "AWS region (default: the SDK's; us-east-1 locally)");
  if (what.stage !== false) {
    command
      .option('--config <file>', 'Rotor config', 'rotor.config.json')
      .option('--stage <name>', 'stage from the config (default: the first)');
  }
  if (what.table) {
    command.option(
      '--table <name>',
      'against an account: the ledger table (stack output LedgerTableName; default: ROTOR_LEDGER_TABLE)',
    );
  }
  return command;
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}\n`;
}

// Commander fills a defaulted --config in; the commands tell an explicit file from the default.
function options<T extends object>(command: Command, values: T): T & { config?: string } {
  const config =
    command.getOptionValueSource('config') === 'default' ? undefined : (values as { config?: string }).config;
  return { ...values, config };
}

/**
 * The `rotor` command line: every command with its own help, arguments and examples. Each
 * command's module (and the SDK clients it needs) loads only when that command runs, so help,
 * usage errors and `--version` answer at once.
 */
export function rotorProgram(version: string): Command {
  const program = new Command('rotor')
    .description('Short-lived, rotating CI/CD credentials on AWS: rotate, inspect, repair and check Rotor secrets.')
    .version(version, '-V, --version', "print Rotor's version")
    .helpCommand('help [command]', 'show the help of a command')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 operation failed, 2 usage, 3 environment not ready, 4 not found.\nEach command has its own help: rotor <command> --help\n',
    );

  withTarget(
    program
      .command('rotate')
      .summary('start a rotation now')
      .description(
        'Start a rotation now. Against an account this calls RotateSecret (the console\'s "Rotate secret ' +
          'immediately"); Secrets Manager then runs the four steps. With --local, Rotor plays Secrets ' +
          "Manager's part against the emulator and prints every step.",
      )
      .argument('<secret>', 'secret name or ARN'),
  )
    .option('--max-attempts <n>', 'with --local: runs of the four steps before giving up', '3')
    .addHelpText(
      'after',
      examples(
        'rotor rotate rotor/production/deploy-token',
        'rotor rotate rotor/development/deploy-token --local --endpoint http://127.0.0.1:4566',
      ),
    )
    .action((secret: string, values: object, command: Command) =>
      import('./commands/rotate').then((m) => m.rotate(secret, options(command, values))),
    );

  withTarget(
    program
      .command('versions')
      .summary("a secret's versions and staging labels")
      .description("List a secret's versions and staging labels, oldest first.")
      .argument('<secret>', 'secret name or ARN'),
  )
    .option('--fingerprints', "show a short SHA-256 of each labelled version's credential (never the value)")
    .addHelpText('after', examples('rotor versions rotor/production/deploy-token --fingerprints'))
    .action((secret: string, values: object) => import('./commands/versions').then((m) => m.versions(secret, values)));

  withTarget(
    program
      .command('audit')
      .summary("the secret's lifecycle events from the ledger")
      .description(
        "Print the secret's lifecycle events from the ledger, oldest first (created, promoted, grace used, retired, revoked, reuse detected).",
      )
      .argument('<secret>', 'secret name or ARN'),
    { table: true },
  )
    .addHelpText('after', examples('rotor audit rotor/production/deploy-token --table rotor-production-ledger'))
    .action((secret: string, values: object, command: Command) =>
      import('./commands/audit').then((m) => m.audit(secret, options(command, values))),
    );

  withTarget(
    program
      .command('status')
      .summary('one row per managed secret of the stage')
      .description(
        'One row per managed secret of the stage: provider, status (active, rolling back, paused, compromised, ' +
          'unreadable), age, next rotation, grace, alarms. Paused secrets are explained below the table.',
      ),
    { table: true },
  )
    .addHelpText(
      'after',
      examples(
        'rotor status --stage production --table rotor-production-ledger',
        'rotor status --local --endpoint http://127.0.0.1:4566',
      ),
    )
    .action((values: object, command: Command) =>
      import('./commands/status').then((m) => m.status(options(command, values))),
    );

  withTarget(
    program
      .command('resume')
      .summary('lift a rotation pause after looking')
      .description(
        'Lift a rotation pause (set by automatic rollback) after a person has looked. A secret that is not paused is left as it is.',
      )
      .argument('<secret>', 'secret name or ARN'),
    { table: true },
  )
    .addHelpText(
      'after',
      examples('rotor resume rotor/production/deploy-token --stage production --table rotor-production-ledger'),
    )
    .action((secret: string, values: object, command: Command) =>
      import('./commands/resume').then((m) => m.resume(secret, options(command, values))),
    );

  withTarget(
    program
      .command('bootstrap')
      .summary('re-authorize an OAuth 2.0 secret from a fresh refresh token')
      .description(
        'Re-authorize an oauth2-refresh-token secret: reads a fresh refresh token (and with --client-secret a ' +
          'client secret, on the next line) from stdin, never echoed, and stores it as the current version.',
      )
      .argument('<secret>', 'secret name or ARN'),
    { table: true },
  )
    .option('--client-secret', 'also read a new client secret (second line of stdin)')
    .addHelpText(
      'after',
      examples('rotor bootstrap rotor/production/idp-token --table rotor-production-ledger < token.txt'),
    )
    .action((secret: string, values: object, command: Command) =>
      import('./commands/bootstrap').then((m) => m.bootstrap(secret, options(command, values))),
    );

  withTarget(
    program
      .command('repair')
      .summary('diagnose a stuck rotation and finish or cancel it safely')
      .description(
        'Diagnose a secret (labels, pending version and its value, ledger state, pause, side-effect journal) ' +
          'and say what would be done; then finish the unfinished rotation or cancel it, never losing a ' +
          'credential that may be in use. With --dry-run, only say.',
      )
      .argument('<secret>', 'secret name or ARN'),
    { table: true },
  )
    .option('--dry-run', 'diagnose and say what would be done, change nothing')
    .addHelpText(
      'after',
      examples(
        'rotor repair rotor/production/deploy-token --dry-run --stage production --table rotor-production-ledger',
        'rotor repair rotor/development/deploy-token --local --endpoint http://127.0.0.1:4566',
      ),
    )
    .action((secret: string, values: object, command: Command) =>
      import('./commands/repair').then((m) => m.repair(secret, options(command, values))),
    );

  withTarget(
    program
      .command('doctor')
      .summary('check a deployed stage end to end')
      .description(
        'Check a stage end to end: each secret wired to its rotation function, no stuck rotation, not paused, ' +
          'alarms present and reporting, schedules present, the pepper readable, the ledger reachable. ' +
          'Prints a table with a fix for each problem; exits 1 when there is one.',
      ),
  )
    .addHelpText(
      'after',
      examples('rotor doctor --stage production', 'rotor doctor --local --endpoint http://127.0.0.1:4566'),
    )
    .action((values: object, command: Command) =>
      import('./commands/doctor').then((m) => m.doctor(options(command, values))),
    );

  program
    .command('plan')
    .summary("simulate the fleet's peak Secrets Manager write rate per region")
    .description(
      'From the config alone (no AWS call): the simulated peak rate of Secrets Manager write calls and RotateSecret calls ' +
        "that the configured secrets' rotation windows and access-token refreshes make in each account and region, " +
        "against Secrets Manager's quotas (50 per second each). Exits 1 when a region is over 80% of a quota, as synth refuses it.",
    )
    .option('--config <file>', 'Rotor config', 'rotor.config.json')
    .addHelpText('after', examples('rotor plan', 'rotor plan --config teams/rotor.config.json'))
    .action((values: object, command: Command) =>
      import('./commands/plan').then((m) => m.plan(options(command, values))),
    );

  const local = program
    .command('local')
    .summary('run and provision the local emulator')
    .description('The local emulator: `rotor local emulator` runs it, `rotor local up` provisions a stage in it.')
    .argument('[subcommand]')
    .addHelpText(
      'after',
      examples('rotor local emulator --port 4566', 'rotor local up --endpoint http://127.0.0.1:4566'),
    )
    .action((subcommand: string | undefined) => {
      throw new UsageError(
        subcommand === undefined
          ? 'local needs a subcommand: `rotor local emulator` (run the emulator) or `rotor local up` (provision a stage)'
          : `unknown local command "${subcommand}"; expected \`rotor local emulator\` or \`rotor local up\``,
      );
    });
  local
    .command('emulator')
    .description('Run the local AWS emulator (moto) until Ctrl-C.')
    .addOption(new Option('--port <port>', 'TCP port').default('4566'))
    .addHelpText('after', examples('rotor local emulator --port 4566'))
    .action((values: { port: string }) => import('./commands/local-emulator').then((m) => m.localEmulator(values)));
  withTarget(
    local
      .command('up')
      .description(
        "Provision a stage's resources in the emulator (idempotent); prints the Lambdas' environment as JSON.",
      ),
  )
    .addHelpText('after', examples('rotor local up --endpoint http://127.0.0.1:4566 --stage development'))
    .action((values: object, command: Command) =>
      import('./commands/local-up').then((m) => m.localUp(options(command, values))),
    );

  return program;
}

/** Every command, its subcommands included, with its path (`local up`). */
export function allCommands(command: Command, path: string[] = []): { command: Command; path: string[] }[] {
  return command.commands.flatMap((sub) => [
    { command: sub, path: [...path, sub.name()] },
    ...allCommands(sub, [...path, sub.name()]),
  ]);
}
