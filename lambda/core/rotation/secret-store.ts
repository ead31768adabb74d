/** Staging labels of Secrets Manager's rotation contract. */
export const AWSCURRENT = 'AWSCURRENT';
export const AWSPENDING = 'AWSPENDING';
export const AWSPREVIOUS = 'AWSPREVIOUS';

/** What the rotation engine needs to know about a secret (DescribeSecret). */
export interface SecretDescription {
  readonly arn: string;
  readonly name: string;
  readonly rotationEnabled: boolean;
  /** Version id to its staging labels. */
  readonly versionStages: Readonly<Record<string, readonly string[]>>;
}

/**
 * The Secrets Manager operations the rotation engine uses: exactly the four actions its
 * role is allowed (DescribeSecret, GetSecretValue, PutSecretValue, UpdateSecretVersionStage).
 */
export interface SecretStore {
  describe(secretId: string): Promise<SecretDescription>;
  /**
   * The value of version `versionId`, which the caller has just seen carry the label `stage`
   * (DescribeSecret). A version's value never changes, so an implementation may answer from
   * a cache keyed by version id alone.
   * With `stage` undefined, reads the version whatever its labels (an earlier rotation's
   * version that lost AWSPENDING), and answers undefined if it no longer exists.
   * @returns undefined when that version holds no value yet.
   */
  readVersion(secretArn: string, versionId: string, stage: string | undefined): Promise<string | undefined>;
  /**
   * Stores `value` as version `versionId` labelled AWSPENDING.
   * @returns `already-exists` when that version already holds a different value: a concurrent
   * or earlier invocation stored it first, and this value was not stored.
   */
  putPendingVersion(
    secretArn: string,
    versionId: string,
    value: string,
    rotationToken: string | undefined,
  ): Promise<'created' | 'already-exists'>;
  /**
   * Moves AWSCURRENT from `fromVersionId` to `toVersionId` in one call.
   * @returns `stale` when `fromVersionId` no longer holds AWSCURRENT (someone moved it first).
   */
  moveCurrent(secretArn: string, toVersionId: string, fromVersionId: string): Promise<'moved' | 'stale'>;
}
