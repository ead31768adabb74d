/**
 * GitLab token expiries are dates: a token with `expires_at` D stops working at 00:00 UTC on D.
 * Rotor picks the first UTC midnight after the next rotation plus its grace plus a safety margin,
 * so a token never dies before its successor has replaced it, and never asks for more than
 * GitLab's one-year limit.
 */
import { MalformedSecretError } from '../../errors';
import {
  DEFAULT_EXPIRY_MARGIN_SECONDS,
  GITLAB_MAX_TOKEN_LIFETIME_DAYS,
  type GitLabAccessTokenDocument,
} from './gitlab-document';

const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of the first UTC midnight strictly after `instant`. */
export function firstMidnightAfter(instant: Date): string {
  return new Date(Math.floor(instant.getTime() / DAY_MS) * DAY_MS + DAY_MS).toISOString().slice(0, 10);
}

/** The instant a token with this `expires_at` stops working. */
export function expiryInstantOf(expiresAt: string): number {
  return Date.parse(`${expiresAt}T00:00:00Z`);
}

/**
 * The `expires_at` of a token made at `now` for `document`.
 * @throws MalformedSecretError when the horizon plus margin passes GitLab's one-year limit.
 */
export function expiryDateFor(document: GitLabAccessTokenDocument, now: Date, secretName: string): string {
  const margin = document.expiryMarginSeconds ?? DEFAULT_EXPIRY_MARGIN_SECONDS;
  const date = firstMidnightAfter(new Date(now.getTime() + (document.expiryHorizonSeconds + margin) * 1000));
  const limit = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS + GITLAB_MAX_TOKEN_LIFETIME_DAYS * DAY_MS);
  if (expiryInstantOf(date) > limit.getTime()) {
    throw new MalformedSecretError(
      `secret ${secretName}: fields 'expiryHorizonSeconds' and 'expiryMarginSeconds' ask for a token that lives ` +
        `beyond GitLab's ${GITLAB_MAX_TOKEN_LIFETIME_DAYS}-day limit; rotate more often`,
    );
  }
  return date;
}

/** The latest instant a token made at `madeAt` must still work at: the next rotation plus its grace. */
export function requiredLifetimeEnd(document: GitLabAccessTokenDocument, madeAt: Date): number {
  return madeAt.getTime() + document.expiryHorizonSeconds * 1000;
}
