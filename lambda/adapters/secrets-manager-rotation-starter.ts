import {
  DescribeSecretCommand,
  RotateSecretCommand,
  type RotationRulesType,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { RotationStarter } from '../core/verifier/reuse-response';

/**
 * Starts a rotation now with RotateSecret, restating the secret's own rotation function and
 * schedule, or reports the rotation already under way. On AWS that is the same as the console's "Rotate secret immediately"; stating the
 * configuration keeps a secret whose rotation settings were lost from silently rotating
 * without its function.
 */
export class SecretsManagerRotationStarter implements RotationStarter {
  constructor(private readonly client: SecretsManagerClient) {}

  async startRotation(secretArn: string): Promise<string> {
    const secret = await this.client.send(new DescribeSecretCommand({ SecretId: secretArn }));
    if (secret.RotationLambdaARN === undefined || secret.RotationLambdaARN === '') {
      throw new Error(`secret ${secret.Name ?? secretArn} has no rotation function; cannot rotate it`);
    }
    const inFlight = rotationInProgress(secret.VersionIdsToStages ?? {});
    if (inFlight !== undefined) return inFlight;
    const started = await this.client.send(
      new RotateSecretCommand({
        SecretId: secretArn,
        RotationLambdaARN: secret.RotationLambdaARN,
        ...(secret.RotationRules === undefined ? {} : { RotationRules: restatable(secret.RotationRules) }),
        RotateImmediately: true,
      }),
    );
    if (started.VersionId === undefined) throw new Error(`RotateSecret on ${secretArn} returned no version`);
    return started.VersionId;
  }
}

// A rotation already under way (AWSPENDING on a version that is not AWSCURRENT) will issue a
// fresh credential; RotateSecret would be refused until it ends.
function rotationInProgress(versions: Record<string, string[]>): string | undefined {
  return Object.entries(versions).find(
    ([, stages]) => stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'),
  )?.[0];
}

// DescribeSecret reports AutomaticallyAfterDays alongside a ScheduleExpression; RotateSecret
// accepts only one of the two.
function restatable(rules: RotationRulesType): RotationRulesType {
  if (rules.ScheduleExpression !== undefined) {
    return {
      ScheduleExpression: rules.ScheduleExpression,
      ...(rules.Duration === undefined ? {} : { Duration: rules.Duration }),
    };
  }
  return rules;
}
