import { CommanderError, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CliError } from './commands/cli-errors';
import { ExitCode } from './commands/exit-codes';
import { explainFailure } from './commands/explain-failure';
import { allCommands, rotorProgram } from './rotor-program';

// The AWS SDK warns on every Node below 22 in eight lines. Rotor supports Node 20 until the SDK
// drops it (docs/cli.md says so); the SDK's own switch keeps a person's terminal to Rotor's lines.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** package.json sits two folders up from dist/cli/rotor.js (and from cli/rotor.ts). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

/**
 * Runs the command line. A usage error is one line plus a pointer to the command's help; any other
 * failure is one line that says what to do; the exit code says which kind (docs/cli.md).
 */
async function main(argv: readonly string[]): Promise<number> {
  const program = rotorProgram(packageVersion());
  const pointers = new Map<Command, string>([[program, 'rotor --help']]);
  for (const { command, path } of allCommands(program)) pointers.set(command, `rotor ${path.join(' ')} --help`);
  let current: Command = program;
  for (const command of [program, ...allCommands(program).map((entry) => entry.command)]) {
    command
      .exitOverride()
      .configureOutput({ outputError: (text, write) => write(`rotor: ${text.replace(/^error: /, '')}`) })
      .showHelpAfterError(`see \`${pointers.get(command)}\``)
      .hook('preAction', (_parent, actionCommand) => {
        current = actionCommand;
      });
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; commander has already printed every other message.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const explained = explainFailure(error, { endpoint: current.opts<{ endpoint?: string }>().endpoint });
    process.stderr.write(`rotor: ${explained.message}\n`);
    if (error instanceof CliError && explained.exitCode === ExitCode.usage) {
      process.stderr.write(`see \`${pointers.get(current) ?? 'rotor --help'}\`\n`);
    }
    return explained.exitCode;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`rotor: ${String(error)}\n`);
    process.exitCode = ExitCode.failed;
  },
);
