import { managedTokenProvider } from '../../../../lambda/core/providers/managed-token/managed-token-provider';
import { ProviderRegistry } from '../../../../lambda/core/providers/provider-registry';
import { FakeExternalProvider } from '../../fakes/fake-external-provider';

describe('Class: ProviderRegistry', () => {
  it('finds providers by name and lists their names in registration order', () => {
    // Prepare
    const fake = new FakeExternalProvider();

    // Act
    const registry = new ProviderRegistry([managedTokenProvider, fake]);

    // Assess
    expect(registry.get('managed-token')).toBe(managedTokenProvider);
    expect(registry.get('fake-idp')).toBe(fake);
    expect(registry.get('gitlab-token')).toBeUndefined();
    expect(registry.names()).toEqual(['managed-token', 'fake-idp']);
  });

  it('fails when two providers share a name', () => {
    // Act & Assess
    expect(() => new ProviderRegistry([managedTokenProvider, managedTokenProvider])).toThrow(
      "provider 'managed-token' is registered twice",
    );
  });
});
