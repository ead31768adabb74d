import {
  EndpointRefusedError,
  MalformedSecretError,
  ReauthorizationRequiredError,
} from '../../../../../lambda/core/errors';
import { oauth2RefreshTokenProvider } from '../../../../../lambda/core/providers/oauth2/oauth2-refresh-token-provider';
import { runRotationStep } from '../../../../../lambda/core/rotation/run-rotation-step';
import { AWSCURRENT } from '../../../../../lambda/core/rotation/secret-store';
import { InMemorySecretStore } from '../../../fakes/in-memory-secret-store';
import { InMemorySideEffectJournal } from '../../../fakes/in-memory-side-effect-journal';
import { rejectionOf } from '../../../helpers/rejection';
import {
  CURRENT_VERSION,
  depsFor,
  HARNESS_NOW,
  PENDING_VERSION,
  rotationEvent,
  SECRET_NAME,
} from '../../../helpers/rotation-harness';
import {
  CLIENT_CERTIFICATE,
  FakeClientCertificates,
  rawDocument,
  ScriptedHttpClient,
  SECRETS,
  tokenBody,
} from './oauth2-test-kit';

// The checks of createSecret that need no I/O run before the journal claim: a document the
// provider refuses changes nothing, not even the journal, and nothing is sent.

function rotationOf(document: Record<string, unknown>) {
  const http = new ScriptedHttpClient();
  const certificates = new FakeClientCertificates({ 'rotor/dev/idp-client-certificate': CLIENT_CERTIFICATE });
  const journal = new InMemorySideEffectJournal([], () => HARNESS_NOW.getTime());
  const store = new InMemorySecretStore(SECRET_NAME)
    .addVersion(CURRENT_VERSION, JSON.stringify(document), [AWSCURRENT])
    .startRotation(PENDING_VERSION);
  const deps = depsFor(store, {
    providers: [oauth2RefreshTokenProvider({ http, clientCertificates: certificates })],
    journal,
    fingerprint: (credential) => Promise.resolve(`fp(${credential.length})`),
  });
  return { http, certificates, journal, store, deps };
}

describe('Function: createSecret, with an oauth2-refresh-token document it refuses', () => {
  it.each([
    [
      'a token endpoint at another origin',
      { tokenEndpoint: 'https://attacker.example/token' },
      EndpointRefusedError,
      /^field 'tokenEndpoint': provider URL https:\/\/attacker\.example\/token is refused: origin https:\/\/attacker\.example is not one/,
    ],
    [
      'an introspection endpoint at another origin',
      { introspectionEndpoint: 'https://idp.example.com.attacker.example/introspect' },
      EndpointRefusedError,
      /^field 'introspectionEndpoint': /,
    ],
    [
      'a test URL at another port',
      { testUrl: 'https://api.example.com:444/me' },
      EndpointRefusedError,
      /^field 'testUrl': /,
    ],
    [
      'a token endpoint on the instance metadata address',
      { tokenEndpoint: 'https://169.254.169.254/latest' },
      EndpointRefusedError,
      /^field 'tokenEndpoint': /,
    ],
    [
      'an unsupported client authentication',
      { clientAuthentication: 'private_key_jwt' },
      MalformedSecretError,
      /private_key_jwt is not supported yet/,
    ],
    ['no client secret', { clientSecret: undefined }, ReauthorizationRequiredError, /holds no client secret/],
    ['no refresh token', { refreshToken: undefined }, ReauthorizationRequiredError, /holds no refresh token yet/],
    [
      'a client certificate outside the stage',
      { tls: { clientCertificateSecretId: 'rotor/prod/idp-client-certificate' } },
      MalformedSecretError,
      /outside this stage's prefix/,
    ],
  ])('refuses %s before its journal claim: nothing written, nothing sent', async (_, overrides, type, message) => {
    // Prepare
    const { http, certificates, journal, store, deps } = rotationOf(rawDocument(overrides));
    const before = store.snapshot();

    // Act
    const error = await rejectionOf(runRotationStep(rotationEvent('createSecret'), deps));

    // Assess
    expect(error).toBeInstanceOf(type);
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/\n/);
    for (const secret of SECRETS) expect(error.message).not.toContain(secret);
    expect(journal.claims).toEqual([]);
    expect(http.requests).toEqual([]);
    expect(certificates.loaded).toEqual([]);
    expect(store.snapshot()).toEqual(before);
  });

  it('claims and exchanges a document whose endpoints are all pinned', async () => {
    // Prepare
    const { http, journal, deps } = rotationOf(
      rawDocument({ introspectionEndpoint: 'https://idp.example.com/introspect' }),
    );
    http.answer(200, tokenBody());

    // Act
    const result = await runRotationStep(rotationEvent('createSecret'), deps);

    // Assess
    expect(result.outcome).toBe('created');
    expect(journal.claims).toHaveLength(1);
    expect(http.requests).toHaveLength(1);
  });
});
