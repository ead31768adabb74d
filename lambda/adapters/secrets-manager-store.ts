import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { VersionLabelMovedError } from '../core/errors';
import { AWSCURRENT, AWSPENDING, type SecretDescription, type SecretStore } from '../core/rotation/secret-store';
import { VersionValueCache } from './version-value-cache';

/**
 * {@link SecretStore} over the Secrets Manager API.
 *
 * Reads by version id go through a {@link VersionValueCache}: the engine checks labels with
 * DescribeSecret before every read, and a version's value never changes, so a cached value is
 * the stored one.
 */
export class SecretsManagerStore implements SecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly cache: VersionValueCache = new VersionValueCache(),
  ) {}

  async describe(secretId: string): Promise<SecretDescription> {
    const secret = await this.client.send(new DescribeSecretCommand({ SecretId: secretId }));
    if (secret.ARN === undefined || secret.Name === undefined) {
      throw new Error(`DescribeSecret returned no ARN or name for ${secretId}`);
    }
    return {
      arn: secret.ARN,
      name: secret.Name,
      rotationEnabled: secret.RotationEnabled === true,
      versionStages: secret.VersionIdsToStages ?? {},
    };
  }

  /**
   * {@link describe}, or undefined when there is no such secret (the rollback's look-up by alarm
   * dimension). The role is granted its stage's secrets by ARN, and for any other name, existing
   * or not, Secrets Manager answers AccessDeniedException rather than ResourceNotFoundException:
   * both mean "not a secret this function manages".
   */
  async find(secretId: string): Promise<SecretDescription | undefined> {
    try {
      return await this.describe(secretId);
    } catch (error) {
      if (isAwsError(error, 'ResourceNotFoundException') || isAwsError(error, 'AccessDeniedException'))
        return undefined;
      throw error;
    }
  }

  async readVersion(secretArn: string, versionId: string, stage: string | undefined): Promise<string | undefined> {
    const cached = this.cache.get(secretArn, versionId);
    if (cached !== undefined) return cached;
    try {
      const version = await this.client.send(
        new GetSecretValueCommand({
          SecretId: secretArn,
          VersionId: versionId,
          ...(stage === undefined ? {} : { VersionStage: stage }),
        }),
      );
      if (version.SecretString === undefined) return undefined;
      this.cache.set(secretArn, versionId, version.SecretString);
      return version.SecretString;
    } catch (error) {
      // A version that RotateSecret created but nobody has written yet has no value.
      if (isAwsError(error, 'ResourceNotFoundException')) return undefined;
      // Asked by id and label after another caller moved the label away from that version. Secrets
      // Manager says InvalidRequestException for other things too (a secret being deleted): only
      // a version that no longer has the label, described afresh, is a moved label.
      if (stage !== undefined && isAwsError(error, 'InvalidRequestException')) {
        if (await this.labelMovedAway(secretArn, versionId, stage)) {
          throw new VersionLabelMovedError(`version ${versionId} of ${secretArn} no longer has the label ${stage}`);
        }
      }
      throw error;
    }
  }

  private async labelMovedAway(secretArn: string, versionId: string, stage: string): Promise<boolean> {
    try {
      const secret = await this.describe(secretArn);
      return !(secret.versionStages[versionId] ?? []).includes(stage);
    } catch {
      return false;
    }
  }

  async putPendingVersion(
    secretArn: string,
    versionId: string,
    value: string,
    rotationToken: string | undefined,
  ): Promise<'created' | 'already-exists'> {
    try {
      await this.client.send(
        new PutSecretValueCommand({
          SecretId: secretArn,
          ClientRequestToken: versionId,
          SecretString: value,
          VersionStages: [AWSPENDING],
          ...(rotationToken === undefined ? {} : { RotationToken: rotationToken }),
        }),
      );
    } catch (error) {
      // Same version id, different value: another invocation stored its value first.
      if (isAwsError(error, 'ResourceExistsException')) return 'already-exists';
      throw error;
    }
    this.cache.set(secretArn, versionId, value);
    return 'created';
  }

  async moveCurrent(secretArn: string, toVersionId: string, fromVersionId: string): Promise<'moved' | 'stale'> {
    try {
      await this.client.send(
        new UpdateSecretVersionStageCommand({
          SecretId: secretArn,
          VersionStage: AWSCURRENT,
          MoveToVersionId: toVersionId,
          RemoveFromVersionId: fromVersionId,
        }),
      );
      return 'moved';
    } catch (error) {
      // Secrets Manager refuses a RemoveFromVersionId that no longer holds the label.
      if (isAwsError(error, 'InvalidParameterException')) return 'stale';
      throw error;
    }
  }
}

// By name rather than instanceof: the check must hold whichever copy of the SDK threw.
function isAwsError(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}
