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

/** The Lambda bundles that `npm run build` writes to `dist/lambda/<name>/index.js`. */
export const LambdaBundle = {
  rotation: 'rotation',
} as const;
export type LambdaBundle = (typeof LambdaBundle)[keyof typeof LambdaBundle];

/** Tag that marks a secret as managed by Rotor, with the stage as its value. */
export const MANAGED_BY_TAG = 'rotor:stage';
