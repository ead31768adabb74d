import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SecretsManagerCatalog } from '../../../lambda/adapters/secrets-manager-catalog';

const arnOf = (name: string) => `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${name}-AbC123`;
const entry = (name: string, tags: Record<string, string>, extra: object = {}) => ({
  ARN: arnOf(name),
  Name: name,
  Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
  ...extra,
});

describe('Class: SecretsManagerCatalog', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  const catalog = new SecretsManagerCatalog(new SecretsManagerClient({ region: 'eu-west-1' }), {
    stage: 'development',
    secretNamePrefix: 'rotor/development/',
  });

  beforeEach(() => {
    secretsManager.reset();
  });

  afterAll(() => {
    secretsManager.restore();
  });

  it('lists with the name, tag-key and tag-value filters, page by page', async () => {
    // Prepare
    secretsManager
      .on(ListSecretsCommand)
      .resolvesOnce({
        SecretList: [entry('rotor/development/b', { 'rotor:stage': 'development' })],
        NextToken: 'page-2',
      })
      .resolvesOnce({ SecretList: [entry('rotor/development/a', { 'rotor:stage': 'development' })] });

    // Act
    const secrets = await catalog.list();

    // Assess
    expect(secrets).toEqual([
      { arn: arnOf('rotor/development/a'), name: 'rotor/development/a' },
      { arn: arnOf('rotor/development/b'), name: 'rotor/development/b' },
    ]);
    expect(secretsManager).toHaveReceivedCommandTimes(ListSecretsCommand, 2);
    expect(secretsManager.commandCalls(ListSecretsCommand)[0]!.args[0].input).toEqual({
      Filters: [
        { Key: 'name', Values: ['rotor/development/'] },
        { Key: 'tag-key', Values: ['rotor:stage'] },
        { Key: 'tag-value', Values: ['development'] },
      ],
      MaxResults: 100,
    });
    expect(secretsManager.commandCalls(ListSecretsCommand)[1]!.args[0].input.NextToken).toBe('page-2');
  });

  it('keeps only secrets whose stage tag is exactly the stage, under the prefix, not deleted (the filters are prefix matches)', async () => {
    // Prepare: what the filters let through on AWS
    secretsManager.on(ListSecretsCommand).resolves({
      SecretList: [
        entry('rotor/development/ok', { 'rotor:stage': 'development' }),
        entry('rotor/development/other-stage', { 'rotor:stage': 'development-2' }),
        entry('rotor/development/tags-apart', { 'rotor:stage': 'production', team: 'development' }),
        entry('rotor/development-old/x', { 'rotor:stage': 'development' }),
        entry('rotor/development/deleted', { 'rotor:stage': 'development' }, { DeletedDate: new Date() }),
        entry('rotor/development/untagged', {}),
      ],
    });

    // Act
    const secrets = await catalog.list();

    // Assess
    expect(secrets.map((secret) => secret.name)).toEqual(['rotor/development/ok']);
  });

  it('reads AWSCURRENT by its label, and answers undefined for a secret that is gone', async () => {
    // Prepare
    secretsManager
      .on(GetSecretValueCommand, { SecretId: arnOf('rotor/development/a') })
      .resolves({ VersionId: 'v1', SecretString: '{"provider":"managed-token"}' })
      .on(GetSecretValueCommand, { SecretId: arnOf('rotor/development/gone') })
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));

    // Act
    const current = await catalog.readCurrent(arnOf('rotor/development/a'));
    const gone = await catalog.readCurrent(arnOf('rotor/development/gone'));

    // Assess
    expect(current).toEqual({ versionId: 'v1', value: '{"provider":"managed-token"}' });
    expect(gone).toBeUndefined();
    expect(secretsManager).toHaveReceivedCommandWith(GetSecretValueCommand, {
      SecretId: arnOf('rotor/development/a'),
      VersionStage: 'AWSCURRENT',
    });
  });

  it('reads up to 20 secrets in one BatchGetSecretValue, by ARN', async () => {
    // Prepare
    const arns = ['a', 'b'].map((name) => arnOf(`rotor/development/${name}`));
    secretsManager.on(BatchGetSecretValueCommand).resolves({
      SecretValues: arns.map((ARN, index) => ({
        ARN,
        VersionId: `v${index}`,
        VersionStages: ['AWSCURRENT'],
        SecretString: `{"n":${index}}`,
      })),
      Errors: [],
    });

    // Act
    const read = await catalog.readCurrentBatch(arns);

    // Assess
    expect(secretsManager).toHaveReceivedCommandWith(BatchGetSecretValueCommand, { SecretIdList: arns });
    expect(secretsManager).not.toHaveReceivedCommand(GetSecretValueCommand);
    expect(read).toEqual(
      new Map([
        [arns[0], { versionId: 'v0', value: '{"n":0}' }],
        [arns[1], { versionId: 'v1', value: '{"n":1}' }],
      ]),
    );
  });

  it('reads on its own, by its label, a secret the batch refused or returned without AWSCURRENT', async () => {
    // Prepare: a refused, a stale and a missing secret
    const [refused, stale, gone] = ['a', 'b', 'c'].map((name) => arnOf(`rotor/development/${name}`));
    secretsManager.on(BatchGetSecretValueCommand).resolves({
      SecretValues: [{ ARN: stale, VersionId: 'old', VersionStages: ['AWSPREVIOUS'], SecretString: '{}' }],
      Errors: [
        { SecretId: refused, ErrorCode: 'AccessDeniedException', Message: 'not authorized' },
        { SecretId: gone, ErrorCode: 'ResourceNotFoundException', Message: 'gone' },
      ],
    });
    secretsManager
      .on(GetSecretValueCommand, { SecretId: refused })
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }))
      .on(GetSecretValueCommand, { SecretId: stale })
      .resolves({ VersionId: 'new', SecretString: '{"new":true}' })
      .on(GetSecretValueCommand, { SecretId: gone })
      .rejects(new ResourceNotFoundException({ message: 'gone', $metadata: {} }));

    // Act
    const read = await catalog.readCurrentBatch([refused!, stale!, gone!]);

    // Assess
    expect(secretsManager).toHaveReceivedCommandWith(GetSecretValueCommand, {
      SecretId: stale,
      VersionStage: 'AWSCURRENT',
    });
    expect(read.get(stale!)).toEqual({ versionId: 'new', value: '{"new":true}' });
    expect(read.get(refused!)).toMatchObject({ name: 'AccessDeniedException' });
    expect(read.has(gone!)).toBe(true);
    expect(read.get(gone!)).toBeUndefined();
  });

  it('refuses a batch of more than 20 secrets before calling anything', async () => {
    await expect(
      catalog.readCurrentBatch(Array.from({ length: 21 }, (_, index) => arnOf(`rotor/development/s${index}`))),
    ).rejects.toThrow('a batch reads at most 20 secrets, got 21');
    expect(secretsManager).not.toHaveReceivedCommand(BatchGetSecretValueCommand);
  });
});
