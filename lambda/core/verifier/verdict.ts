/**
 * Why a token was allowed or denied (DESIGN section 5). `malformed` is a token that fails the
 * format or checksum: refused before the ledger is asked. `unconfirmed`: the ledger lags Secrets
 * Manager for this token (a promotion not recorded yet) and Secrets Manager could not be asked.
 */
export type VerdictReason =
  'current' | 'grace' | 'unknown' | 'pending' | 'reuse' | 'revoked' | 'malformed' | 'unconfirmed';

/** The verifier's answer. Never carries the token. */
export interface Verdict {
  readonly allowed: boolean;
  readonly reason: VerdictReason;
  /** Set when the ledger knows the token. */
  readonly secretName?: string;
  readonly versionId?: string;
  /** For `grace`: epoch milliseconds when the token stops being accepted. */
  readonly graceEndsAt?: number;
  /** For `reuse` and `revoked`: whether this presentation opened the incident (the first of a burst). */
  readonly incidentOpened?: boolean;
  /** The incident response failed (and was released for the next presentation to retry); the token is denied all the same. */
  readonly responseFailed?: boolean;
}
