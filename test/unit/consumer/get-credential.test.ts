import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import {
  CREDENTIAL_FIELDS,
  CredentialReader,
  CredentialReadError,
  isAuthenticationFailure,
} from '../../../consumer/get-credential';
import { generateManagedToken } from '../../../lambda/core/providers/managed-token/managed-token-format';
import { managedTokenProvider } from '../../../lambda/core/providers/managed-token/managed-token-provider';
import { ROTOR_PROVIDERS } from '../../../lambda/shared/rotor-constants';
import { rejectionOf } from '../helpers/rejection';

const SECRET = 'rotor/dev/deploy-token';
const metadata = { $metadata: {} };
const managed = (token: string) => JSON.stringify({ provider: 'managed-token', schemaVersion: 1, token });

describe('Class: CredentialReader', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  let time: number;
  let reader: CredentialReader;
  let first: string;
  let second: string;

  beforeEach(() => {
    secretsManager.reset();
    time = 1_700_000_000_000;
    first = generateManagedToken();
    second = generateManagedToken();
    reader = new CredentialReader({
      awsSdkV3Client: new SecretsManagerClient({ region: 'eu-west-1' }),
      maxAgeSeconds: 60,
      now: () => time,
    });
  });

  /** The secret answers `first` until `rotate()`, then `second`. */
  function serveRotation(): { rotate: () => void } {
    let current = first;
    secretsManager.on(GetSecretValueCommand).callsFake(() => ({ ...metadata, SecretString: managed(current) }));
    return { rotate: () => (current = second) };
  }

  describe('Method: getCredential', () => {
    it('reads the AWSCURRENT version by stage and returns its token', async () => {
      // Prepare
      serveRotation();

      // Act
      const credential = await reader.getCredential(SECRET);

      // Assess
      expect(credential).toBe(first);
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
      expect(secretsManager.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({
        SecretId: SECRET,
        VersionStage: 'AWSCURRENT',
      });
    });

    it("returns each provider's credential field: accessToken for oauth2-refresh-token", async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).resolves({
        ...metadata,
        SecretString: JSON.stringify({
          provider: 'oauth2-refresh-token',
          schemaVersion: 1,
          accessToken: 'access-1',
          refreshToken: 'refresh-1',
        }),
      });

      // Act & Assess
      expect(await reader.getCredential(SECRET)).toBe('access-1');
    });

    it('reuses a read for maxAgeSeconds, then reads again and sees a rotation', async () => {
      // Prepare
      const { rotate } = serveRotation();
      await reader.getCredential(SECRET);
      rotate();

      // Act
      time += 59_999;
      const cached = await reader.getCredential(SECRET);
      time += 1;
      const fresh = await reader.getCredential(SECRET);

      // Assess
      expect([cached, fresh]).toEqual([first, second]);
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    });

    it('reads again when asked to (forceFetch) or when maxAgeSeconds is 0', async () => {
      // Prepare
      serveRotation();
      await reader.getCredential(SECRET);

      // Act
      await reader.getCredential(SECRET, { forceFetch: true });
      await reader.getCredential(SECRET, { maxAgeSeconds: 0 });

      // Assess
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 3);
    });

    it('shares one read between concurrent callers, and keeps no failed read', async () => {
      // Prepare
      secretsManager
        .on(GetSecretValueCommand)
        .rejectsOnce(new ResourceNotFoundException({ ...metadata, message: 'not yet' }))
        .resolves({ ...metadata, SecretString: managed(first) });

      // Act
      const failed = await Promise.allSettled([reader.getCredential(SECRET), reader.getCredential(SECRET)]);
      const credential = await reader.getCredential(SECRET);

      // Assess
      expect(failed.map((result) => result.status)).toEqual(['rejected', 'rejected']);
      expect(credential).toBe(first);
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    });

    it.each([
      ['not JSON', 'token=rtr_not-json', /does not hold a JSON document: it is not a Rotor secret/],
      ['not an object', '["rtr_in-a-list"]', /does not hold a JSON object/],
      ['without a provider', '{"token":"rtr_no-provider"}', /has no "provider" field/],
      [
        'of a provider the reader does not know',
        '{"provider":"vault","token":"rtr_unknown"}',
        /is a "vault" secret, which this reader does not know \(managed-token, oauth2-refresh-token, gitlab-access-token\)/,
      ],
      [
        'not rotated yet',
        '{"provider":"managed-token","schemaVersion":1}',
        /has no credential yet \(its "token" field is missing or empty\): its first rotation has not finished/,
      ],
    ])('refuses a value %s, naming the secret and never the value', async (_case, secretString, message) => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).resolves({ ...metadata, SecretString: secretString });

      // Act
      const error = await rejectionOf(reader.getCredential(SECRET));

      // Assess
      expect(error).toBeInstanceOf(CredentialReadError);
      expect(error.name).toBe('CredentialReadError');
      expect(error.message).toMatch(new RegExp(`^${SECRET}`));
      expect(error.message).toMatch(message);
      expect(error.message).not.toMatch(/rtr_/);
    });

    it('wraps a failed read with the secret and the cause', async () => {
      // Prepare
      const cause = new ResourceNotFoundException({ ...metadata, message: "Secrets Manager can't find the secret." });
      secretsManager.on(GetSecretValueCommand).rejects(cause);

      // Act
      const error = await rejectionOf(reader.getCredential(SECRET));

      // Assess
      expect(error.message).toBe(
        `could not read the current version of ${SECRET}: ResourceNotFoundException: Secrets Manager can't find the secret.`,
      );
      expect(error.cause).toBe(cause);
    });
  });

  describe('Method: withCredential', () => {
    it.each([
      ['throws an error with status 401', (status: number) => Object.assign(new Error('unauthorized'), { status })],
      [
        'throws an error whose response has status 403',
        (status: number) => Object.assign(new Error('forbidden'), { response: { status } }),
      ],
      [
        'throws an error with statusCode 401',
        (status: number) => Object.assign(new Error('unauthorized'), { statusCode: status }),
      ],
    ])('when the callback %s, re-reads once and calls it again with the new credential', async (_case, failure) => {
      // Prepare
      const { rotate } = serveRotation();
      await reader.getCredential(SECRET);
      rotate(); // cached: first; current: second
      const calls: string[] = [];

      // Act
      const result = await reader.withCredential(SECRET, (credential) => {
        calls.push(credential);
        if (credential === first) throw failure(calls.length === 1 ? 401 : 403);
        return 'deployed';
      });

      // Assess
      expect(result).toBe('deployed');
      expect(calls).toEqual([first, second]);
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    });

    it('treats a returned response with status 401 or 403 the same way', async () => {
      // Prepare
      const { rotate } = serveRotation();
      await reader.getCredential(SECRET);
      rotate();

      // Act
      const response = await reader.withCredential(SECRET, (credential) => ({
        status: credential === first ? 403 : 200,
      }));

      // Assess
      expect(response).toEqual({ status: 200 });
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    });

    it('keeps the first outcome when the re-read gives the same credential: the failure is not a rotation', async () => {
      // Prepare
      serveRotation();
      const callback = jest.fn(() => Promise.reject(Object.assign(new Error('forbidden'), { status: 403 })));

      // Act
      const error = await rejectionOf(reader.withCredential(SECRET, callback));

      // Assess
      expect(error.message).toBe('forbidden');
      expect(callback).toHaveBeenCalledTimes(1);
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    });

    it('re-reads at most once: the second outcome is final', async () => {
      // Prepare
      const { rotate } = serveRotation();
      await reader.getCredential(SECRET);
      rotate();

      // Act
      const response = await reader.withCredential(SECRET, () => ({ status: 401 }));

      // Assess
      expect(response).toEqual({ status: 401 });
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    });

    it('does not re-read on other failures', async () => {
      // Prepare
      serveRotation();

      // Act
      const error = await rejectionOf(
        reader.withCredential(SECRET, () => Promise.reject(Object.assign(new Error('down'), { status: 503 }))),
      );
      const response = await reader.withCredential(SECRET, () => ({ status: 500 }));

      // Assess
      expect(error.message).toBe('down');
      expect(response).toEqual({ status: 500 });
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    });
  });

  describe('Options', () => {
    it('refuses both an SDK client and a client config', () => {
      expect(
        () =>
          new CredentialReader({
            awsSdkV3Client: new SecretsManagerClient({}),
            clientConfig: { region: 'eu-west-1' },
          } as never),
      ).toThrow('CredentialReader takes either awsSdkV3Client or clientConfig, not both');
    });

    it.each([900, 3600, -1, Number.NaN])(
      'refuses a reuse time of %s seconds: it must be from 0 to under the 900 s default grace',
      (seconds) => {
        expect(() => new CredentialReader({ maxAgeSeconds: seconds })).toThrow(
          new RegExp(`maxAgeSeconds must be from 0 to less than 900 \\(the default grace period\\), got ${seconds}`),
        );
      },
    );

    it('builds its own client from clientConfig', async () => {
      // Prepare
      serveRotation();
      const own = new CredentialReader({ clientConfig: { region: 'eu-west-1' } });

      // Act & Assess
      expect(await own.getCredential(SECRET)).toBe(first);
    });
  });

  it('never writes to the console', async () => {
    // Prepare
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
      jest.spyOn(console, method).mockImplementation(() => undefined),
    );
    const { rotate } = serveRotation();
    await reader.getCredential(SECRET);
    rotate();

    // Act
    await reader.withCredential(SECRET, (credential) => ({ status: credential === first ? 401 : 200 }));

    // Assess
    for (const spy of spies) {
      expect(spy).not.toHaveBeenCalled();
      spy.mockRestore();
    }
  });
});

describe('Function: isAuthenticationFailure', () => {
  it.each([
    [{ status: 401 }, true],
    [{ statusCode: 403 }, true],
    [{ response: { status: 401 } }, true],
    [{ response: { statusCode: 403 } }, true],
    [{ status: 404 }, false],
    [{ status: '401' }, false],
    [new Error('401'), false],
    [undefined, false],
    [null, false],
  ])('%j -> %s', (value, expected) => {
    expect(isAuthenticationFailure(value)).toBe(expected);
  });
});

describe('CREDENTIAL_FIELDS', () => {
  it("knows every provider Rotor rotates, and reads the field the provider's own credentialOf reads", () => {
    for (const provider of ROTOR_PROVIDERS) expect(CREDENTIAL_FIELDS).toHaveProperty(provider);
    const token = generateManagedToken();
    const document = managedTokenProvider.parse({ provider: 'managed-token', schemaVersion: 1, token });
    expect((document as unknown as Record<string, unknown>)[CREDENTIAL_FIELDS['managed-token']!]).toBe(
      managedTokenProvider.credentialOf(document),
    );
  });
});
