import { CliError } from './cli-errors';
import { ExitCode } from './exit-codes';

/** What the CLI prints for a failure (one line, after `rotor: `) and the exit code it ends with. */
export interface ExplainedFailure {
  readonly message: string;
  readonly exitCode: ExitCode;
}

/** Where the command was talking to, for messages about an endpoint that is not there. */
export interface FailureContext {
  readonly endpoint?: string | undefined;
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN']);
const REFUSED_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);
const EMULATOR_HINT = 'against the local emulator, add --local --endpoint URL';

/**
 * Turns what a command threw into one line that says what to do. The SDK's own wording for a
 * missing region, missing credentials, a refused connection or a non-AWS answer names the
 * symptom, not the fix; Rotor's own errors already say what to do and keep their words.
 */
export function explainFailure(error: unknown, context: FailureContext = {}): ExplainedFailure {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  const failure = (error ?? {}) as { name?: string; message?: string; code?: string; errors?: unknown[] };
  const name = failure.name ?? '';
  const message = String(failure.message ?? error);

  if (name === 'RotorConfigError') return { message, exitCode: ExitCode.environment };
  if (message === 'Region is missing') {
    return {
      message: `no AWS region: pass --region REGION or set AWS_REGION (${EMULATOR_HINT})`,
      exitCode: ExitCode.environment,
    };
  }
  if (name === 'CredentialsProviderError' || /Could not load credentials/.test(message)) {
    return {
      message:
        'no AWS credentials: set AWS_PROFILE (after `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY ' +
        `(${EMULATOR_HINT})`,
      exitCode: ExitCode.environment,
    };
  }
  if (REFUSED_CREDENTIALS.has(name)) {
    return {
      message: `AWS refused the credentials (${name}): renew them (\`aws sso login\`) or check AWS_PROFILE and the region`,
      exitCode: ExitCode.environment,
    };
  }
  if (name === 'AccessDeniedException' || name === 'AccessDenied') {
    return {
      message: `AWS denied the call: ${firstLine(message)}; run with a role that may operate the stage`,
      exitCode: ExitCode.environment,
    };
  }
  const connection = connectionFailure(failure);
  if (connection !== undefined) {
    const where = context.endpoint ?? connection.where;
    return {
      message:
        `nothing answers at ${where} (${connection.code}): start the emulator (\`rotor local emulator\`) ` +
        'or point --endpoint (or AWS_ENDPOINT_URL) at it',
      exitCode: ExitCode.environment,
    };
  }
  if (isNotAwsAnswer(name, message)) {
    return {
      message:
        `${context.endpoint ?? 'the endpoint'} answered, but not as an AWS API does (an HTML page?): ` +
        'point --endpoint (or AWS_ENDPOINT_URL) at the emulator, e.g. http://127.0.0.1:4566',
      exitCode: ExitCode.environment,
    };
  }
  if (name === 'ResourceNotFoundException') {
    return {
      message: `${firstLine(message)} Check the name: \`rotor status\` lists the stage's secrets`,
      exitCode: ExitCode.notFound,
    };
  }
  return { message: firstLine(message), exitCode: ExitCode.failed };
}

function connectionFailure(failure: {
  code?: string;
  message?: string;
  errors?: unknown[];
}): { code: string; where: string } | undefined {
  // Node reports a failed connection to `localhost` (IPv4 and IPv6 tried) as an AggregateError.
  const candidates = [failure, ...(Array.isArray(failure.errors) ? failure.errors : [])] as {
    code?: string;
    address?: string;
    port?: number;
    hostname?: string;
  }[];
  for (const candidate of candidates) {
    if (candidate.code !== undefined && CONNECTION_CODES.has(candidate.code)) {
      const where =
        candidate.address !== undefined
          ? `${candidate.address}${candidate.port === undefined ? '' : `:${candidate.port}`}`
          : (candidate.hostname ?? 'the endpoint');
      return { code: candidate.code, where };
    }
  }
  return undefined;
}

// The SDK parses every answer as the service's JSON or XML; a web server's page fails that parse.
function isNotAwsAnswer(name: string, message: string): boolean {
  return (
    (name === 'SyntaxError' && /not valid JSON|Unexpected token/.test(message)) || /Deserialization error/.test(message)
  );
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
