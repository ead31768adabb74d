/**
 * The `rotor` exit codes, documented in docs/cli.md. Scripts branch on them, so each names a
 * kind of failure a person can act on, not the command that failed.
 */
export const ExitCode = {
  /** The command did what it said. */
  ok: 0,
  /** The operation ran and failed (a rotation refused or failed, a repair that could not finish, doctor found problems). */
  failed: 1,
  /** The command line is wrong: unknown command or option, missing or extra argument, bad value. */
  usage: 2,
  /** The environment is not ready: no region, no credentials, nothing (or not AWS) at the endpoint, a bad config file, no build. */
  environment: 3,
  /** The secret (or another named resource) does not exist where the command looked. */
  notFound: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
