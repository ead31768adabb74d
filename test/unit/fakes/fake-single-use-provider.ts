import type { CredentialProvider, SecretDocument } from '../../../lambda/core/providers/credential-provider';
import { MalformedSecretError } from '../../../lambda/core/errors';

export const FAKE_SINGLE_USE_PROVIDER = 'fake-oauth';

/** Like an OAuth refresh-token document: `refresh` is spent by each create, `access` is what consumers read. */
export interface FakeSingleUseDocument extends SecretDocument {
  readonly refresh: string;
  readonly access?: string;
  readonly reuseIntervalSeconds?: number;
}

/**
 * A provider that spends a single-use credential on each create, as an IdP with refresh-token
 * rotation does: it records every credential presented, and can be told to fail the next call.
 */
export class FakeSingleUseProvider implements CredentialProvider<FakeSingleUseDocument> {
  readonly name = FAKE_SINGLE_USE_PROVIDER;
  readonly sideEffects = 'external' as const;
  /** Every refresh credential presented, in order. */
  readonly presented: string[] = [];
  /** Thrown by the next create, after the credential was presented. */
  failNext: Error | undefined;
  /** When false, create returns the same refresh credential (an issuer that does not rotate). */
  rotates = true;
  /** Awaited inside create after presenting, so a test can hold an invocation there. */
  afterPresent: () => Promise<void> = () => Promise.resolve();

  parse(document: Readonly<Record<string, unknown>>): FakeSingleUseDocument {
    if (document.provider !== FAKE_SINGLE_USE_PROVIDER) throw new MalformedSecretError("field 'provider' is wrong");
    if (typeof document.refresh !== 'string') throw new MalformedSecretError("field 'refresh' must be a string");
    return document as unknown as FakeSingleUseDocument;
  }

  async create(current: FakeSingleUseDocument): Promise<FakeSingleUseDocument> {
    this.presented.push(current.refresh);
    await this.afterPresent();
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure !== undefined) throw failure;
    const n = this.presented.length;
    return { ...current, refresh: this.rotates ? `refresh-${n}` : current.refresh, access: `access-${n}` };
  }

  test(): Promise<void> {
    return Promise.resolve();
  }

  credentialOf = (document: FakeSingleUseDocument): string | undefined => document.access;
  spends = (document: FakeSingleUseDocument): string => document.refresh;
  reuseIntervalSeconds = (document: FakeSingleUseDocument): number | undefined => document.reuseIntervalSeconds;
}
