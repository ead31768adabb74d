import type { CredentialProvider, SecretDocument } from './credential-provider';

// Providers are invariant in their document type; the registry only hands a provider the
// documents its own parse() produced, so erasing the type here is sound.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCredentialProvider = CredentialProvider<any>;

/** The providers one rotation function handles, by the name that secret documents carry. */
export class ProviderRegistry {
  private readonly byName: ReadonlyMap<string, CredentialProvider<SecretDocument>>;

  constructor(providers: readonly AnyCredentialProvider[]) {
    const byName = new Map<string, CredentialProvider<SecretDocument>>();
    for (const provider of providers) {
      if (byName.has(provider.name)) throw new Error(`provider '${provider.name}' is registered twice`);
      byName.set(provider.name, provider as CredentialProvider<SecretDocument>);
    }
    this.byName = byName;
  }

  get(name: string): CredentialProvider<SecretDocument> | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}
