import { parseArgs } from 'node:util';
import { audit } from './commands/audit';
import { bootstrap } from './commands/bootstrap';
import { UsageError } from './commands/cli-options';
import { localEmulator } from './commands/local-emulator';
import { localUp } from './commands/local-up';
import { resume } from './commands/resume';
import { rotate } from './commands/rotate';
import { status } from './commands/status';
import { versions } from './commands/versions';

const USAGE = `rotor: short-lived, rotating CI/CD credentials on AWS

Usage:
  rotor rotate SECRET                          start a rotation now (RotateSecret, like the console button)
  rotor rotate SECRET --local --endpoint URL   play Secrets Manager's part against a local emulator
  rotor versions SECRET [--fingerprints]       versions and staging labels (with --local --endpoint URL locally)
  rotor audit SECRET [--table NAME]            the secret's lifecycle events from the ledger (or --local --endpoint URL)
  rotor status [--table NAME]                  one row per managed secret: provider, status, age, next rotation,
                                               grace, alarms (or --local --endpoint URL)
  rotor resume SECRET [--table NAME]           lift a rotation pause after looking (or --local --endpoint URL)
  rotor bootstrap SECRET [--client-secret]     re-authorize an OAuth secret: reads a fresh refresh token (and with
                                               --client-secret a client secret, next line) from stdin, never
                                               echoed, and stores it as the current version (--table or --local)
  rotor local emulator [--port 4566]           run the local AWS emulator (moto) until Ctrl-C
  rotor local up --endpoint URL                provision a stage in the emulator; prints the Lambdas' environment

Options:
  --local               act on the local emulator instead of an AWS account
  --endpoint URL        the emulator's URL (default: AWS_ENDPOINT_URL)
  --config FILE         Rotor config (default: rotor.config.json)
  --stage NAME          stage from the config (default: the first)
  --region REGION       AWS region (default: the SDK's; us-east-1 locally)
  --max-attempts N      local rotation: runs of the four steps before giving up (default: 3)
  --fingerprints        versions: show a short SHA-256 of each labelled version's credential
  --table NAME          audit, status, resume: the ledger table (stack output LedgerTableName; default:
                        ROTOR_LEDGER_TABLE); status and resume read the stage from --config and --stage
`;

async function main(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      local: { type: 'boolean' },
      endpoint: { type: 'string' },
      config: { type: 'string' },
      stage: { type: 'string' },
      region: { type: 'string' },
      port: { type: 'string' },
      'max-attempts': { type: 'string' },
      fingerprints: { type: 'boolean' },
      table: { type: 'string' },
      'client-secret': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const common = { endpoint: values.endpoint, region: values.region, config: values.config, stage: values.stage };
  switch (command) {
    case 'rotate':
      return rotate(rest[0], { ...common, local: values.local, maxAttempts: values['max-attempts'] });
    case 'versions':
      return versions(rest[0], { ...common, local: values.local, fingerprints: values.fingerprints });
    case 'audit':
      return audit(rest[0], { ...common, local: values.local, table: values.table });
    case 'status':
      return status({ ...common, local: values.local, table: values.table });
    case 'resume':
      return resume(rest[0], { ...common, local: values.local, table: values.table });
    case 'bootstrap':
      return bootstrap(rest[0], {
        ...common,
        local: values.local,
        table: values.table,
        clientSecret: values['client-secret'],
      });
    case 'local':
      if (rest[0] === 'up') return localUp(common);
      if (rest[0] === 'emulator') return localEmulator({ port: values.port });
      throw new UsageError(`unknown command "local ${rest[0] ?? ''}"; expected "local up" or "local emulator"`);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  () => {
    process.exitCode ??= 0;
  },
  (error: unknown) => {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`rotor: ${(error as Error).message ?? String(error)}\n${usage ? `\n${USAGE}` : ''}`);
    process.exitCode = usage ? 2 : 1;
  },
);
