import { GetSecretValueCommand, InternalServiceError, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SecretsManagerClientCertificates } from '../../../lambda/adapters/secrets-manager-client-certificates';
import { MalformedSecretError, RotorConfigurationError } from '../../../lambda/core/errors';
import { createTestPki } from '../../support/test-pki';
import { rejectionOf } from '../helpers/rejection';

const PREFIX = 'rotor/development/';
const NAME = 'rotor/development/idp-client-certificate';
const ARN = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${NAME}-AbC123`;
const pki = createTestPki();
const VALUE = JSON.stringify({ certificate: pki.client.certificatePem, privateKey: pki.client.privateKeyPem });
const metadata = { $metadata: {} };

describe('Class: SecretsManagerClientCertificates', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  const client = new SecretsManagerClient({ region: 'eu-west-1' });
  let time: number;
  let certificates: SecretsManagerClientCertificates;

  beforeEach(() => {
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: VALUE });
    time = 1_700_000_000_000;
    certificates = new SecretsManagerClientCertificates({ client, secretNamePrefix: PREFIX, now: () => time });
  });

  afterAll(() => {
    secretsManager.restore();
  });

  function readsMade(): unknown[] {
    return secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input);
  }

  it('reads the AWSCURRENT value and returns its certificate and key', async () => {
    // Act
    const certificate = await certificates.load(NAME);

    // Assess
    expect(certificate).toEqual({
      certificatePem: pki.client.certificatePem,
      privateKeyPem: pki.client.privateKeyPem,
    });
    expect(readsMade()).toEqual([{ SecretId: NAME, VersionStage: 'AWSCURRENT' }]);
  });

  it('accepts a full ARN whose secret name is under the prefix', async () => {
    // Act
    await certificates.load(ARN);

    // Assess
    expect(readsMade()).toEqual([{ SecretId: ARN, VersionStage: 'AWSCURRENT' }]);
  });

  it('reads a secret once per TTL, for sequential and concurrent callers, and again after it', async () => {
    // Prepare
    certificates = new SecretsManagerClientCertificates({
      client,
      secretNamePrefix: PREFIX,
      cacheTtlMs: 60_000,
      now: () => time,
    });

    // Act
    const [first, second] = await Promise.all([certificates.load(NAME), certificates.load(NAME)]);
    time += 59_999;
    const third = await certificates.load(NAME);
    const readsWithinTtl = readsMade().length;
    time += 1;
    await certificates.load(NAME);

    // Assess
    expect(second).toBe(first);
    expect(third).toBe(first);
    expect(readsWithinTtl).toBe(1);
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('keeps each secret apart', async () => {
    // Act
    await certificates.load(NAME);
    await certificates.load(`${PREFIX}gitlab-client-certificate`);

    // Assess
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('does not keep a failed read: the next call reads again', async () => {
    // Prepare
    const failure = new InternalServiceError({ message: 'An error occurred on the server side.', ...metadata });
    secretsManager.on(GetSecretValueCommand).rejectsOnce(failure).resolves({ SecretString: VALUE });

    // Act
    const error = await rejectionOf(certificates.load(NAME));
    const certificate = await certificates.load(NAME);

    // Assess
    expect(error).toBe(failure);
    expect(certificate.certificatePem).toBe(pki.client.certificatePem);
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it.each([
    ['another stage', 'rotor/production/idp-client-certificate'],
    ['the prefix without its slash', 'rotor/development'],
    ['a sibling of the prefix', 'rotor/development-other/idp-client-certificate'],
    ['an ARN of another stage', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/production/cert-AbC123'],
    ['an ARN without its suffix', `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${NAME}`],
  ])('refuses a secret outside the stage prefix (%s) without reading it', async (_name, secretId) => {
    // Act
    const error = await rejectionOf(certificates.load(secretId));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toMatch(/is outside this stage's prefix rotor\/development\//);
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 0);
  });

  it('refuses an empty prefix, which would allow any secret', () => {
    // Act
    const construct = () => new SecretsManagerClientCertificates({ client, secretNamePrefix: '' });

    // Assess
    expect(construct).toThrow(RotorConfigurationError);
  });

  const SENTINEL = 'SENTINEL-VALUE-7f3a';
  const keyOfStranger = pki.strangerClient.privateKeyPem;
  const malformed: [string, string | undefined, RegExp][] = [
    ['a binary secret', undefined, /holds no string value/],
    ['not JSON', `{"certificate": ${SENTINEL}`, /is not JSON$/],
    ['a document without privateKey', JSON.stringify({ certificate: pki.client.certificatePem }), /field 'privateKey'/],
    [
      'a certificate that is not PEM',
      JSON.stringify({ certificate: SENTINEL, privateKey: pki.client.privateKeyPem }),
      /field 'certificate': must be a PEM certificate/,
    ],
    [
      'a certificate that does not parse',
      JSON.stringify({
        certificate: `-----BEGIN CERTIFICATE-----\n${SENTINEL}\n-----END CERTIFICATE-----\n`,
        privateKey: pki.client.privateKeyPem,
      }),
      /field 'certificate': must be a PEM certificate/,
    ],
    [
      'a private key that is not PEM',
      JSON.stringify({ certificate: pki.client.certificatePem, privateKey: SENTINEL }),
      /field 'privateKey': must be an unencrypted PEM private key/,
    ],
    [
      'a key of another certificate',
      JSON.stringify({ certificate: pki.client.certificatePem, privateKey: keyOfStranger }),
      /field 'privateKey': is not the key of field 'certificate'/,
    ],
    ['a number as certificate', JSON.stringify({ certificate: 42, privateKey: SENTINEL }), /field 'certificate'/],
  ];

  it.each(malformed)('refuses %s, naming the field and never the value', async (_name, secretString, expected) => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .resolves(secretString === undefined ? { SecretBinary: Buffer.from(SENTINEL) } : { SecretString: secretString });

    // Act
    const error = await rejectionOf(certificates.load(NAME));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toMatch(new RegExp(`^client certificate secret ${NAME} `));
    expect(error.message).toMatch(expected);
    expect(error.message).not.toContain(SENTINEL);
    for (const pem of [pki.client.certificatePem, pki.client.privateKeyPem, keyOfStranger]) {
      expect(error.message).not.toContain(pem.split('\n')[1]);
    }
    expect(error.message).not.toContain('42');
    expect(error.cause).toBeUndefined();
  });
});
