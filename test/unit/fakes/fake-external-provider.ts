import type {
  CredentialProvider,
  ProviderContext,
  SecretDocument,
} from '../../../lambda/core/providers/credential-provider';
import { MalformedSecretError } from '../../../lambda/core/errors';

export const FAKE_EXTERNAL_PROVIDER = 'fake-idp';

export interface FakeIdpDocument extends SecretDocument {
  readonly credential?: string;
}

/**
 * A provider whose `create` acts outside AWS (like an IdP exchange): it counts its calls and
 * writes `create` into the shared `log`, so tests can see whether and when it acted.
 */
export class FakeExternalProvider implements CredentialProvider<FakeIdpDocument> {
  readonly name = FAKE_EXTERNAL_PROVIDER;
  readonly sideEffects = 'external' as const;
  createCalls = 0;
  /** Awaited inside `create` after the provider acted, so a test can hold an invocation there. */
  afterAct: () => Promise<void> = () => Promise.resolve();

  constructor(private readonly log: string[] = []) {}

  parse(document: Readonly<Record<string, unknown>>): FakeIdpDocument {
    if (document.provider !== FAKE_EXTERNAL_PROVIDER) throw new MalformedSecretError("field 'provider' is wrong");
    if (document.credential !== undefined && typeof document.credential !== 'string') {
      throw new MalformedSecretError("field 'credential' must be a string");
    }
    return document as unknown as FakeIdpDocument;
  }

  async create(current: FakeIdpDocument): Promise<FakeIdpDocument> {
    this.createCalls += 1;
    const credential = `issued-${this.createCalls}`;
    this.log.push('create');
    await this.afterAct();
    return { ...current, credential };
  }

  /** Every `set` call with what it was given. */
  readonly setCalls: { readonly pending: FakeIdpDocument; readonly context: ProviderContext }[] = [];

  set(pending: FakeIdpDocument, context: ProviderContext): Promise<void> {
    this.setCalls.push({ pending, context });
    return Promise.resolve();
  }

  test(): Promise<void> {
    return Promise.resolve();
  }

  credentialOf(document: FakeIdpDocument): string | undefined {
    return document.credential;
  }
}
