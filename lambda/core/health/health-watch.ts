/**
 * What the ledger remembers about a secret's health between health-check runs: the few secrets
 * whose failure is likely now. Every other secret is checked at the idle cadence. All times are
 * epoch seconds.
 */
export interface HealthWatch {
  /** Secrets Manager reported a change to the secret (a new value, a moved label, a rotation): watch until then. */
  readonly changedUntil?: number;
  /** The last check failed: the secret is checked every run until a check passes. */
  readonly failing?: boolean;
  /** The last failure passed: watch until then, so that a credential that flaps is still caught. */
  readonly recoveredUntil?: number;
  /** When the credential stops working on its own (an OAuth access token's expiry), as last read. */
  readonly credentialExpiresAt?: number;
}

/** The ledger's watch list, which the health check reads once per run and writes on what it finds. */
export interface HealthWatchStore {
  /** Every remembered watch, by secret name (one query, whatever the size of the stage). */
  list(): Promise<Map<string, HealthWatch>>;
  /** The secret's check failed at `nowSeconds`. */
  recordFailing(secretName: string, nowSeconds: number): Promise<void>;
  /** A check of a failing secret passed at `nowSeconds`: watch it until `untilSeconds`. */
  recordRecovered(secretName: string, untilSeconds: number): Promise<void>;
  /** The AWSCURRENT credential stops working at `expiresAtSeconds`. */
  recordCredentialExpiry(secretName: string, expiresAtSeconds: number): Promise<void>;
}

/** What Secrets Manager's events write: a change to the secret, to be watched until `untilSeconds`. */
export interface HealthWatchMarker {
  markChanged(secretName: string, untilSeconds: number, cause: string): Promise<void>;
}
