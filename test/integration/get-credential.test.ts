import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { DEFAULT_LOCAL_REGION, LOCAL_CREDENTIALS } from '../../cli/local/local-clients';
import type { MotoServer } from '../../cli/local/moto-server';
import { workerMoto } from '../support/worker-moto';
import { CredentialReader } from '../../consumer/get-credential';
import { generateManagedToken } from '../../lambda/core/providers/managed-token/managed-token-format';

// The consumer helper against a moto server: real GetSecretValue calls, a real rotation of the
// staging labels between reads, real time for the cache. moto's unqualified GetSecretValue does
// not follow AWSCURRENT after a rotation, so these tests also prove the helper reads by stage.

let moto: MotoServer;
let admin: SecretsManagerClient;

beforeAll(async () => {
  moto = await workerMoto();
  admin = new SecretsManagerClient({
    endpoint: moto.endpoint,
    region: DEFAULT_LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
});

afterAll(async () => {
  await moto?.stop();
});

const document = (token: string) => JSON.stringify({ provider: 'managed-token', schemaVersion: 1, token });

/** A new secret whose AWSCURRENT holds `token`. */
async function createSecret(token: string): Promise<string> {
  const name = `rotor/consumer/${randomUUID()}`;
  await admin.send(new CreateSecretCommand({ Name: name, SecretString: document(token) }));
  return name;
}

/** What finishSecret leaves behind: a new version holding `token` is AWSCURRENT, the old one AWSPREVIOUS. */
async function rotate(secretId: string, token: string): Promise<void> {
  const versionId = randomUUID();
  await admin.send(
    new PutSecretValueCommand({
      SecretId: secretId,
      ClientRequestToken: versionId,
      SecretString: document(token),
      VersionStages: ['AWSPENDING'],
    }),
  );
  const { VersionIdsToStages } = await admin.send(new DescribeSecretCommand({ SecretId: secretId }));
  const current = Object.entries(VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))![0];
  await admin.send(
    new UpdateSecretVersionStageCommand({
      SecretId: secretId,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: versionId,
      RemoveFromVersionId: current,
    }),
  );
}

/** A client for the helper that counts the GetSecretValue calls it sends. */
function countingClient(): { client: SecretsManagerClient; reads: () => number } {
  let reads = 0;
  const client = new SecretsManagerClient({
    endpoint: moto.endpoint,
    region: DEFAULT_LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'GetSecretValueCommand') reads += 1;
      return next(args);
    },
    { step: 'initialize', name: 'countGetSecretValue' },
  );
  return { client, reads: () => reads };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Function: getCredential (moto)', () => {
  it('sees a rotation between two reads once the cache has expired, and not before', async () => {
    // Prepare
    const [first, second] = [generateManagedToken(), generateManagedToken()];
    const secretId = await createSecret(first);
    const { client, reads } = countingClient();
    const reader = new CredentialReader({ awsSdkV3Client: client, maxAgeSeconds: 1 });

    // Act
    const before = await reader.getCredential(secretId);
    await rotate(secretId, second);
    const cached = await reader.getCredential(secretId);
    await sleep(1100);
    const after = await reader.getCredential(secretId);

    // Assess
    expect([before, cached, after]).toEqual([first, first, second]);
    expect(reads()).toBe(2);
  });
});

describe('Function: withCredential (moto)', () => {
  it('re-reads exactly once when the callback gets a 401, and succeeds with the rotated credential', async () => {
    // Prepare: the helper has cached the first token, then a rotation makes the second current
    const [first, second] = [generateManagedToken(), generateManagedToken()];
    const secretId = await createSecret(first);
    const { client, reads } = countingClient();
    const reader = new CredentialReader({ awsSdkV3Client: client, maxAgeSeconds: 60 });
    await reader.getCredential(secretId);
    await rotate(secretId, second);
    const presented: string[] = [];

    // Act
    const response = await reader.withCredential(secretId, (credential) => {
      presented.push(credential);
      return { status: credential === second ? 200 : 401 };
    });

    // Assess
    expect(response).toEqual({ status: 200 });
    expect(presented).toEqual([first, second]);
    expect(reads()).toBe(2);
  });

  it('gives up after that one re-read when the 401 persists', async () => {
    // Prepare
    const [first, second] = [generateManagedToken(), generateManagedToken()];
    const secretId = await createSecret(first);
    const { client, reads } = countingClient();
    const reader = new CredentialReader({ awsSdkV3Client: client, maxAgeSeconds: 60 });
    await reader.getCredential(secretId);
    await rotate(secretId, second);

    // Act
    const error = await reader
      .withCredential(secretId, () => Promise.reject(Object.assign(new Error('unauthorized'), { status: 401 })))
      .catch((caught: unknown) => caught as Error);

    // Assess
    expect(error.message).toBe('unauthorized');
    expect(reads()).toBe(2);
  });
});
