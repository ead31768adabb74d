import {
  DecryptionFailure,
  DescribeSecretCommand,
  GetSecretValueCommand,
  InternalServiceError,
  InvalidParameterException,
  InvalidRequestException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SecretsManagerStore } from '../../../lambda/adapters/secrets-manager-store';
import { VersionValueCache } from '../../../lambda/adapters/version-value-cache';
import { VersionLabelMovedError } from '../../../lambda/core/errors';
import { rejectionOf } from '../helpers/rejection';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123';
const CURRENT = 'c0ffee00-1111-4222-8333-444455556666';
const PENDING = '3f9b2c1e-7d4a-4e8b-9c6f-0a1b2c3d4e5f';
const VALUE =
  '{"provider":"managed-token","schemaVersion":1,"token":"rtr_42un7GJ8wIAbHDnhePy2Mqo9gkXYFS7sXjeCn1f4haT2qvsPP"}';
const metadata = { $metadata: {} };

describe('Class: SecretsManagerStore', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  let time: number;
  let store: SecretsManagerStore;

  beforeEach(() => {
    secretsManager.reset();
    time = 1_700_000_000_000;
    store = new SecretsManagerStore(
      new SecretsManagerClient({ region: 'eu-west-1' }),
      new VersionValueCache(32, 60_000, () => time),
    );
  });

  describe('Method: describe', () => {
    it('sends DescribeSecret and returns the name, rotation flag and version labels', async () => {
      // Prepare
      secretsManager.on(DescribeSecretCommand).resolves({
        ARN,
        Name: 'rotor/dev/ci-token',
        RotationEnabled: true,
        VersionIdsToStages: { [CURRENT]: ['AWSCURRENT'], [PENDING]: ['AWSPENDING'] },
      });

      // Act
      const description = await store.describe('rotor/dev/ci-token');

      // Assess
      expect(secretsManager).toHaveReceivedCommandTimes(DescribeSecretCommand, 1);
      expect(secretsManager.commandCalls(DescribeSecretCommand)[0]!.args[0].input).toEqual({
        SecretId: 'rotor/dev/ci-token',
      });
      expect(description).toEqual({
        arn: ARN,
        name: 'rotor/dev/ci-token',
        rotationEnabled: true,
        versionStages: { [CURRENT]: ['AWSCURRENT'], [PENDING]: ['AWSPENDING'] },
      });
    });

    it('reads a missing rotation flag as off and missing versions as none', async () => {
      // Prepare
      secretsManager.on(DescribeSecretCommand).resolves({ ARN, Name: 'rotor/dev/ci-token' });

      // Act
      const description = await store.describe(ARN);

      // Assess
      expect(description.rotationEnabled).toBe(false);
      expect(description.versionStages).toEqual({});
    });

    it('fails when DescribeSecret returns no ARN', async () => {
      // Prepare
      secretsManager.on(DescribeSecretCommand).resolves({ Name: 'rotor/dev/ci-token' });

      // Act & Assess
      await expect(store.describe('rotor/dev/ci-token')).rejects.toThrow(
        'DescribeSecret returned no ARN or name for rotor/dev/ci-token',
      );
    });

    it('passes on the SDK error when the secret does not exist', async () => {
      // Prepare
      const failure = new ResourceNotFoundException({ message: "Secrets Manager can't find the secret", ...metadata });
      secretsManager.on(DescribeSecretCommand).rejects(failure);

      // Act & Assess
      await expect(store.describe('rotor/dev/missing')).rejects.toBe(failure);
    });
  });

  describe('Method: find', () => {
    it('returns undefined for a secret that does not exist, and for one the role has no grant on (AccessDenied)', async () => {
      // Prepare: AWS answers AccessDenied for a name outside the role's grants, existing or not
      const denied = Object.assign(new Error('User: ... is not authorized to perform: secretsmanager:DescribeSecret'), {
        name: 'AccessDeniedException',
        ...metadata,
      });
      secretsManager
        .on(DescribeSecretCommand, { SecretId: 'rotor/dev/missing' })
        .rejects(new ResourceNotFoundException({ message: "Secrets Manager can't find the secret", ...metadata }))
        .on(DescribeSecretCommand, { SecretId: 'rotor/dev/not-granted' })
        .rejects(denied);

      // Act & Assess
      expect(await store.find('rotor/dev/missing')).toBeUndefined();
      expect(await store.find('rotor/dev/not-granted')).toBeUndefined();
    });

    it('passes on any other error', async () => {
      // Prepare
      const failure = new InternalServiceError({ message: 'try again', ...metadata });
      secretsManager.on(DescribeSecretCommand).rejects(failure);

      // Act & Assess
      await expect(store.find('rotor/dev/ci-token')).rejects.toBe(failure);
    });
  });

  describe('Method: readVersion', () => {
    it('sends GetSecretValue with both the version id and the stage', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).resolves({ ARN, VersionId: CURRENT, SecretString: VALUE });

      // Act
      const value = await store.readVersion(ARN, CURRENT, 'AWSCURRENT');

      // Assess
      expect(value).toBe(VALUE);
      expect(secretsManager.commandCalls(GetSecretValueCommand)[0]!.args[0].input).toEqual({
        SecretId: ARN,
        VersionId: CURRENT,
        VersionStage: 'AWSCURRENT',
      });
    });

    it('answers a second read of the same version from the cache', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: VALUE });
      await store.readVersion(ARN, CURRENT, 'AWSCURRENT');

      // Act
      const again = await store.readVersion(ARN, CURRENT, 'AWSCURRENT');

      // Assess
      expect(again).toBe(VALUE);
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    });

    it('reads a version again once its cache entry expired', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: VALUE });
      await store.readVersion(ARN, CURRENT, 'AWSCURRENT');
      time += 60_001;

      // Act
      await store.readVersion(ARN, CURRENT, 'AWSCURRENT');

      // Assess
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    });

    it('returns undefined for a version that holds no value yet, and does not cache that', async () => {
      // Prepare: the empty AWSPENDING version RotateSecret created
      secretsManager
        .on(GetSecretValueCommand)
        .rejectsOnce(
          new ResourceNotFoundException({
            message: "Secrets Manager can't find the specified secret value for staging label: AWSPENDING",
            ...metadata,
          }),
        )
        .resolves({ SecretString: VALUE });

      // Act
      const first = await store.readVersion(ARN, PENDING, 'AWSPENDING');
      const second = await store.readVersion(ARN, PENDING, 'AWSPENDING');

      // Assess
      expect(first).toBeUndefined();
      expect(second).toBe(VALUE);
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    });

    it('returns undefined for a binary secret, and does not cache that', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).resolves({ SecretBinary: new Uint8Array([1, 2, 3]) });

      // Act
      const first = await store.readVersion(ARN, CURRENT, 'AWSCURRENT');
      await store.readVersion(ARN, CURRENT, 'AWSCURRENT');

      // Assess
      expect(first).toBeUndefined();
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 2);
    });

    it.each([
      ['DecryptionFailure', new DecryptionFailure({ message: 'KMS key is disabled', ...metadata })],
      [
        'InvalidRequestException',
        new InvalidRequestException({ message: 'secret is scheduled for deletion', ...metadata }),
      ],
      ['a network error', new Error('socket hang up')],
    ])('passes on %s', async (_label, failure) => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).rejects(failure);

      // Act & Assess
      await expect(store.readVersion(ARN, CURRENT, 'AWSCURRENT')).rejects.toBe(failure);
    });
  });

  describe('Method: readVersion, after the labels moved', () => {
    const moved = () =>
      new InvalidRequestException({
        message: "You can't access a secret version by VersionId and VersionStage that don't match",
        ...metadata,
      });

    it('says VersionLabelMovedError when the version, described afresh, no longer has the label', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).rejects(moved());
      secretsManager.on(DescribeSecretCommand).resolves({
        ARN,
        Name: 'rotor/dev/ci-token',
        VersionIdsToStages: { [CURRENT]: ['AWSPREVIOUS'], [PENDING]: ['AWSCURRENT'] },
      });

      // Act
      const error = await rejectionOf(store.readVersion(ARN, CURRENT, 'AWSCURRENT'));

      // Assess
      expect(error).toBeInstanceOf(VersionLabelMovedError);
      expect(error.message).toBe(`version ${CURRENT} of ${ARN} no longer has the label AWSCURRENT`);
    });

    it('passes the InvalidRequestException on when the version still has the label', async () => {
      // Prepare
      const failure = moved();
      secretsManager.on(GetSecretValueCommand).rejects(failure);
      secretsManager.on(DescribeSecretCommand).resolves({
        ARN,
        Name: 'rotor/dev/ci-token',
        VersionIdsToStages: { [CURRENT]: ['AWSCURRENT'] },
      });

      // Act & Assess
      await expect(store.readVersion(ARN, CURRENT, 'AWSCURRENT')).rejects.toBe(failure);
    });
  });

  describe('Method: putPendingVersion', () => {
    it('sends PutSecretValue under AWSPENDING with the version id as ClientRequestToken and the RotationToken', async () => {
      // Prepare
      secretsManager.on(PutSecretValueCommand).resolves({ ARN, VersionId: PENDING, VersionStages: ['AWSPENDING'] });

      // Act
      const result = await store.putPendingVersion(ARN, PENDING, VALUE, 'rotation-token-123');

      // Assess
      expect(result).toBe('created');
      expect(secretsManager).toHaveReceivedCommandTimes(PutSecretValueCommand, 1);
      expect(secretsManager.commandCalls(PutSecretValueCommand)[0]!.args[0].input).toEqual({
        SecretId: ARN,
        ClientRequestToken: PENDING,
        SecretString: VALUE,
        VersionStages: ['AWSPENDING'],
        RotationToken: 'rotation-token-123',
      });
    });

    it('leaves RotationToken out when there is none', async () => {
      // Prepare
      secretsManager.on(PutSecretValueCommand).resolves({});

      // Act
      await store.putPendingVersion(ARN, PENDING, VALUE, undefined);

      // Assess
      expect(secretsManager.commandCalls(PutSecretValueCommand)[0]!.args[0].input).not.toHaveProperty('RotationToken');
    });

    it('caches the value it stored, so the next steps read nothing', async () => {
      // Prepare
      secretsManager.on(PutSecretValueCommand).resolves({});
      await store.putPendingVersion(ARN, PENDING, VALUE, undefined);

      // Act
      const value = await store.readVersion(ARN, PENDING, 'AWSPENDING');

      // Assess
      expect(value).toBe(VALUE);
      expect(secretsManager).not.toHaveReceivedCommand(GetSecretValueCommand);
    });

    it('returns already-exists when another value holds the version id, and caches nothing', async () => {
      // Prepare
      secretsManager.on(PutSecretValueCommand).rejects(
        new ResourceExistsException({
          message: 'A resource with the ID you requested already exists.',
          ...metadata,
        }),
      );
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: 'the value stored first' });

      // Act
      const result = await store.putPendingVersion(ARN, PENDING, VALUE, 'rotation-token-123');
      const stored = await store.readVersion(ARN, PENDING, 'AWSPENDING');

      // Assess
      expect(result).toBe('already-exists');
      expect(stored).toBe('the value stored first');
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    });

    it.each([
      ['InternalServiceError', new InternalServiceError({ message: 'internal', ...metadata })],
      ['a timeout', new Error('Connection timed out')],
    ])('passes on %s and caches nothing', async (_label, failure) => {
      // Prepare
      secretsManager.on(PutSecretValueCommand).rejects(failure);
      secretsManager
        .on(GetSecretValueCommand)
        .rejects(new ResourceNotFoundException({ message: 'no value', ...metadata }));

      // Act
      const error = await rejectionOf(store.putPendingVersion(ARN, PENDING, VALUE, undefined));
      const afterwards = await store.readVersion(ARN, PENDING, 'AWSPENDING');

      // Assess
      expect(error).toBe(failure);
      expect(afterwards).toBeUndefined();
      expect(secretsManager).toHaveReceivedCommandTimes(GetSecretValueCommand, 1);
    });
  });

  describe('Method: moveCurrent', () => {
    it('sends one UpdateSecretVersionStage moving AWSCURRENT from the old version to the new', async () => {
      // Prepare
      secretsManager.on(UpdateSecretVersionStageCommand).resolves({ ARN });

      // Act
      const result = await store.moveCurrent(ARN, PENDING, CURRENT);

      // Assess
      expect(result).toBe('moved');
      expect(secretsManager).toHaveReceivedCommandTimes(UpdateSecretVersionStageCommand, 1);
      expect(secretsManager.commandCalls(UpdateSecretVersionStageCommand)[0]!.args[0].input).toEqual({
        SecretId: ARN,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: PENDING,
        RemoveFromVersionId: CURRENT,
      });
    });

    it('returns stale when the old version no longer holds AWSCURRENT', async () => {
      // Prepare
      secretsManager.on(UpdateSecretVersionStageCommand).rejects(
        new InvalidParameterException({
          message: `The staging label AWSCURRENT is currently attached to version ${PENDING}, not ${CURRENT}`,
          ...metadata,
        }),
      );

      // Act & Assess
      await expect(store.moveCurrent(ARN, PENDING, CURRENT)).resolves.toBe('stale');
    });

    it.each([
      ['ResourceNotFoundException', new ResourceNotFoundException({ message: 'no such version', ...metadata })],
      ['InternalServiceError', new InternalServiceError({ message: 'internal', ...metadata })],
    ])('passes on %s', async (_label, failure) => {
      // Prepare
      secretsManager.on(UpdateSecretVersionStageCommand).rejects(failure);

      // Act & Assess
      await expect(store.moveCurrent(ARN, PENDING, CURRENT)).rejects.toBe(failure);
    });
  });
});
