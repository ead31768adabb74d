/**
 * Names that the Lambda code and the CDK constructs must agree on. This module has no
 * dependencies so that `lib/` can import it without pulling in handler code: an alarm and
 * the code that emits its metric cannot drift apart.
 */

/** CloudWatch namespace of every metric Rotor emits (EMF). */
export const METRICS_NAMESPACE = 'Rotor';

/** The one dimension on Rotor's per-secret metrics. */
export const SECRET_NAME_DIMENSION = 'SecretName';

/** Metric names, shared by the emitting handlers and the alarms. */
export const MetricName = {
  RotationSucceeded: 'RotationSucceeded',
  RotationFailed: 'RotationFailed',
  RotationStepLatency: 'RotationStepLatency',
} as const;
export type MetricName = (typeof MetricName)[keyof typeof MetricName];

/** Environment variables the Lambdas read; the stack and `rotor local up` set exactly these. */
export const RotorEnv = {
  /** Name of the deployment stage (for example `development`), added to every log line. */
  stage: 'ROTOR_STAGE',
  /** Secrets whose name does not start with this prefix are refused, whatever IAM allows. */
  secretNamePrefix: 'ROTOR_SECRET_NAME_PREFIX',
} as const;

/**
 * The environment of the rotation function: the stack sets exactly this, and
 * `rotor local up` prints it (plus the emulator endpoint) for local runs.
 */
export function rotationFunctionEnvironment(settings: {
  readonly stage: string;
  readonly secretNamePrefix: string;
  /** Powertools logger level. @default 'INFO' */
  readonly logLevel?: string;
}): Record<string, string> {
  return {
    [RotorEnv.stage]: settings.stage,
    [RotorEnv.secretNamePrefix]: settings.secretNamePrefix,
    POWERTOOLS_LOG_LEVEL: settings.logLevel ?? 'INFO',
  };
}

/** The Lambda bundles that `npm run build` writes to `dist/lambda/<name>/index.js`. */
export const LambdaBundle = {
  rotation: 'rotation',
} as const;
export type LambdaBundle = (typeof LambdaBundle)[keyof typeof LambdaBundle];

/** Tag that marks a secret as managed by Rotor, with the stage as its value. */
export const MANAGED_BY_TAG = 'rotor:stage';

/**
 * Credential providers a secret's config may name. The rotation function registers a provider
 * under each of these names; the CDK config refuses any other name at synth.
 */
export const ROTOR_PROVIDERS = ['managed-token'] as const;
export type RotorProvider = (typeof ROTOR_PROVIDERS)[number];

/**
 * Layout version of the JSON document in every Rotor secret. The stack writes it into each new
 * secret's first value; it must equal `SECRET_DOCUMENT_SCHEMA_VERSION` in lambda/core (a test
 * in test/infra pins the two together).
 */
export const SECRET_DOCUMENT_SCHEMA_VERSION = 1;

/** Names of the outputs each `Rotor-<stage>` stack exports, for the CLI and operators. */
export const RotorStackOutput = {
  /** Name of the Lambda function Secrets Manager invokes to rotate the stage's secrets. */
  rotationFunctionName: 'RotationFunctionName',
  /** CloudWatch log group of the rotation function. */
  rotationLogGroupName: 'RotationLogGroupName',
  /** Comma-separated full names of the stage's rotated secrets. */
  secretNames: 'SecretNames',
} as const;
