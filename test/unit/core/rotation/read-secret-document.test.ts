import { MalformedSecretError, UnexpectedVersionError } from '../../../../lambda/core/errors';
import { readSecretDocument } from '../../../../lambda/core/rotation/read-secret-document';
import { AWSCURRENT, AWSPENDING } from '../../../../lambda/core/rotation/secret-store';
import { rejectionOf } from '../../helpers/rejection';
import {
  contextFor,
  CURRENT_VERSION,
  depsFor,
  managedTokenDocument,
  PENDING_VERSION,
  rotationEvent,
  storeMidRotation,
} from '../../helpers/rotation-harness';

describe('Function: readSecretDocument', () => {
  it('reads and parses the version carrying the stage', async () => {
    // Prepare
    const store = storeMidRotation();
    const context = await contextFor(rotationEvent('createSecret'), depsFor(store));

    // Act
    const parsed = await readSecretDocument(context, CURRENT_VERSION, AWSCURRENT);

    // Assess
    expect(parsed.provider.name).toBe('managed-token');
    expect(parsed.document).toEqual(managedTokenDocument());
    expect(store.reads).toEqual([{ versionId: CURRENT_VERSION, stage: AWSCURRENT, found: true }]);
  });

  it('says createSecret must run first when the pending version holds no value', async () => {
    // Prepare
    const store = storeMidRotation();
    const context = await contextFor(rotationEvent('setSecret'), depsFor(store));

    // Act
    const error = await rejectionOf(readSecretDocument(context, PENDING_VERSION, AWSPENDING));

    // Assess
    expect(error).toBeInstanceOf(UnexpectedVersionError);
    expect(error.message).toBe(
      `pending version ${PENDING_VERSION} of secret rotor/dev/ci-token holds no value yet; createSecret must run first`,
    );
  });

  it('calls a current version without a value malformed', async () => {
    // Prepare
    const store = storeMidRotation();
    const context = await contextFor(rotationEvent('createSecret'), depsFor(store));

    // Act: the pending version does not carry AWSCURRENT, so it reads as empty
    const error = await rejectionOf(readSecretDocument(context, PENDING_VERSION, AWSCURRENT));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toBe('secret rotor/dev/ci-token has no value in its AWSCURRENT version');
  });

  it('names the secret and the stage when the value is not a Rotor document', async () => {
    // Prepare
    const store = storeMidRotation();
    store.addVersion(PENDING_VERSION, '[]', [AWSPENDING]);
    const context = await contextFor(rotationEvent('testSecret'), depsFor(store));

    // Act
    const error = await rejectionOf(readSecretDocument(context, PENDING_VERSION, AWSPENDING));

    // Assess
    expect(error.message).toMatch(/^secret rotor\/dev\/ci-token \(AWSPENDING\) is not a JSON object/);
  });
});
