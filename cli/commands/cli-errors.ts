import { ExitCode } from './exit-codes';

/** A failure the CLI explains in one line and ends with a given exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A wrong command line: printed with a pointer to the command's help, exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** The machine or account is not ready for the command (region, credentials, endpoint, build), exit code 3. */
export class EnvironmentError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.environment);
  }
}

/** The named secret or resource does not exist, exit code 4. */
export class NotFoundError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.notFound);
  }
}

/** The operation ran and failed; the message says what to do next. Exit code 1. */
export class OperationFailedError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.failed);
  }
}
