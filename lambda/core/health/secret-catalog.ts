/** A secret the stage manages. */
export interface ManagedSecret {
  readonly arn: string;
  readonly name: string;
}

/** The AWSCURRENT version of a secret. */
export interface CurrentVersion {
  readonly versionId: string;
  /** Undefined when the version holds no string value. */
  readonly value: string | undefined;
}

/** What the health check reads from Secrets Manager. */
export interface SecretCatalog {
  /** The stage's managed secrets: tagged with the stage and named under its prefix. */
  list(): Promise<ManagedSecret[]>;
  /** The secret's AWSCURRENT version, read by its label; undefined when the secret has none. */
  readCurrent(secretArn: string): Promise<CurrentVersion | undefined>;
  /**
   * The AWSCURRENT versions of up to {@link MAX_BATCH_READ} secrets in one call where Secrets
   * Manager can: each ARN maps to its version, undefined when it has none, or the error reading
   * it raised (which fails that secret only).
   */
  readCurrentBatch(secretArns: readonly string[]): Promise<Map<string, CurrentVersion | undefined | Error>>;
}

/** Secrets Manager's BatchGetSecretValue reads at most 20 secrets by id per call. */
export const MAX_BATCH_READ = 20;
