import { createHmac } from 'node:crypto';
import { GetSecretValueCommand, InternalServiceError, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { pepperedFingerprinter } from '../../../lambda/adapters/pepper-source';
import { rejectionOf } from '../helpers/rejection';

const PEPPER_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor-internal/dev/fingerprint-pepper-XyZ789';
const PEPPER = 'Q'.repeat(64);
const TOKEN = 'rtr_85paEWcHsaLCYRbPIpw4jhcJNV56UuFl5TIPa3K9PAw26u7MF';
const metadata = { $metadata: {} };

describe('Function: pepperedFingerprinter', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  const client = new SecretsManagerClient({ region: 'eu-west-1' });

  beforeEach(() => {
    secretsManager.reset();
    secretsManager.on(GetSecretValueCommand).resolves({ SecretString: PEPPER });
  });

  afterAll(() => {
    secretsManager.restore();
  });

  it('reads the AWSCURRENT pepper and fingerprints with HMAC-SHA256 under its UTF-8 bytes', async () => {
    // Prepare
    const load = pepperedFingerprinter(client, PEPPER_ARN);

    // Act
    const fingerprint = (await load()).of(TOKEN);

    // Assess
    expect(secretsManager.commandCalls(GetSecretValueCommand).map((call) => call.args[0].input)).toEqual([
      { SecretId: PEPPER_ARN, VersionStage: 'AWSCURRENT' },
    ]);
    expect(fingerprint).toBe(createHmac('sha256', Buffer.from(PEPPER, 'utf8')).update(TOKEN).digest('hex'));
  });

  it('loads the pepper once for sequential and concurrent callers', async () => {
    // Prepare
    const load = pepperedFingerprinter(client, PEPPER_ARN);

    // Act
    const [first, second] = await Promise.all([load(), load()]);
    const third = await load();

    // Assess
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    expect(second).toBe(first);
    expect(third).toBe(first);
  });

  it('does not keep a failed load: the next call reads the pepper again', async () => {
    // Prepare
    const failure = new InternalServiceError({ message: 'An error occurred on the server side.', ...metadata });
    secretsManager.on(GetSecretValueCommand).rejectsOnce(failure).resolves({ SecretString: PEPPER });
    const load = pepperedFingerprinter(client, PEPPER_ARN);

    // Act
    const error = await rejectionOf(load());
    const fingerprinter = await load();

    // Assess
    expect(error).toBe(failure);
    expect(fingerprinter.of(TOKEN)).toHaveLength(64);
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('refuses a pepper shorter than 32 bytes, without showing it, and reads again next time', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: 'short-pepper' })
      .resolves({ SecretString: PEPPER });
    const load = pepperedFingerprinter(client, PEPPER_ARN);

    // Act
    const error = await rejectionOf(load());
    await load();

    // Assess
    expect(error.message).toBe('fingerprint pepper must be at least 32 bytes, got 12');
    expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
  });

  it('refuses a pepper secret that holds no string value', async () => {
    // Prepare
    secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array(64) });
    const load = pepperedFingerprinter(client, PEPPER_ARN);

    // Act
    const error = await rejectionOf(load());

    // Assess
    expect(error.message).toBe('the fingerprint pepper secret holds no string value');
  });
});
