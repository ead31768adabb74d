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
}
