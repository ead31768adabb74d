import { RotationNotAllowedError, UnexpectedVersionError } from '../../../../lambda/core/errors';
import { checkRotationGuards, findVersionWithStage } from '../../../../lambda/core/rotation/rotation-guards';
import {
  AWSCURRENT,
  AWSPENDING,
  AWSPREVIOUS,
  type SecretDescription,
} from '../../../../lambda/core/rotation/secret-store';

const CURRENT = 'c0ffee00-1111-4222-8333-444455556666';
const PENDING = '3f9b2c1e-7d4a-4e8b-9c6f-0a1b2c3d4e5f';
const PREVIOUS = 'dead0000-1111-4222-8333-444455556666';

function secretWith(overrides: Partial<SecretDescription> = {}): SecretDescription {
  return {
    arn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123',
    name: 'rotor/dev/ci-token',
    rotationEnabled: true,
    versionStages: { [CURRENT]: [AWSCURRENT], [PENDING]: [AWSPENDING], [PREVIOUS]: [AWSPREVIOUS] },
    ...overrides,
  };
}

describe('Function: checkRotationGuards', () => {
  it('lets a pending version proceed and names the current version', () => {
    // Act
    const verdict = checkRotationGuards(secretWith(), PENDING);

    // Assess
    expect(verdict).toEqual({ kind: 'proceed', currentVersionId: CURRENT });
  });

  it('lets a secret inside the name prefix proceed', () => {
    // Act
    const verdict = checkRotationGuards(secretWith(), PENDING, { secretNamePrefix: 'rotor/dev/' });

    // Assess
    expect(verdict.kind).toBe('proceed');
  });

  it('fails when rotation is not enabled on the secret', () => {
    // Prepare
    const secret = secretWith({ rotationEnabled: false });

    // Act & Assess
    expect(() => checkRotationGuards(secret, PENDING)).toThrow(RotationNotAllowedError);
    expect(() => checkRotationGuards(secret, PENDING)).toThrow(
      'secret rotor/dev/ci-token does not have rotation enabled',
    );
  });

  it('fails when rotation is disabled even for a version that is already AWSCURRENT', () => {
    // Act & Assess
    expect(() => checkRotationGuards(secretWith({ rotationEnabled: false }), CURRENT)).toThrow(RotationNotAllowedError);
  });

  it('fails when the secret name is outside the prefix', () => {
    // Prepare
    const secret = secretWith({ name: 'rotor/prod/ci-token' });

    // Act & Assess
    expect(() => checkRotationGuards(secret, PENDING, { secretNamePrefix: 'rotor/dev/' })).toThrow(
      new RotationNotAllowedError(
        "secret rotor/prod/ci-token is outside this Rotor stage (names must start with 'rotor/dev/')",
      ),
    );
  });

  it('fails when the token is not a version of the secret', () => {
    // Prepare
    const unknown = 'ffffffff-1111-4222-8333-444455556666';

    // Act & Assess
    expect(() => checkRotationGuards(secretWith(), unknown)).toThrow(UnexpectedVersionError);
    expect(() => checkRotationGuards(secretWith(), unknown)).toThrow(
      `version ${unknown} is not a labelled version of secret rotor/dev/ci-token`,
    );
  });

  it('returns already-current when the token is already AWSCURRENT', () => {
    // Prepare: a late retry after finishSecret; Secrets Manager may leave AWSPENDING on it
    const secret = secretWith({ versionStages: { [PENDING]: [AWSCURRENT, AWSPENDING], [CURRENT]: [AWSPREVIOUS] } });

    // Act
    const verdict = checkRotationGuards(secret, PENDING);

    // Assess
    expect(verdict).toEqual({ kind: 'already-current' });
  });

  it('refuses a secret outside the prefix even when the token is already AWSCURRENT', () => {
    // Prepare: a secret of another stage must never get an answer from this one, not even a no-op
    const secret = secretWith({ name: 'elsewhere/token', versionStages: { [PENDING]: [AWSCURRENT] } });

    // Act & Assess
    expect(() => checkRotationGuards(secret, PENDING, { secretNamePrefix: 'rotor/dev/' })).toThrow(
      RotationNotAllowedError,
    );
  });

  it('fails with a clear error when the token is neither AWSCURRENT nor AWSPENDING', () => {
    // Act & Assess
    expect(() => checkRotationGuards(secretWith(), PREVIOUS)).toThrow(
      new UnexpectedVersionError(
        `version ${PREVIOUS} of secret rotor/dev/ci-token is not AWSPENDING (labels: AWSPREVIOUS); ` +
          'only the pending version of a rotation in progress can be rotated',
      ),
    );
  });

  it('says "none" when the token version carries no label', () => {
    // Prepare
    const secret = secretWith({ versionStages: { [CURRENT]: [AWSCURRENT], [PENDING]: [] } });

    // Act & Assess
    expect(() => checkRotationGuards(secret, PENDING)).toThrow(/\(labels: none\)/);
  });

  it('fails when no version is AWSCURRENT', () => {
    // Prepare
    const secret = secretWith({ versionStages: { [PENDING]: [AWSPENDING] } });

    // Act & Assess
    expect(() => checkRotationGuards(secret, PENDING)).toThrow(
      new UnexpectedVersionError('secret rotor/dev/ci-token has no AWSCURRENT version to rotate from'),
    );
  });
});

describe('Function: findVersionWithStage', () => {
  it('finds the version carrying a label, or undefined', () => {
    // Prepare
    const secret = secretWith();

    // Act & Assess
    expect(findVersionWithStage(secret, AWSCURRENT)).toBe(CURRENT);
    expect(findVersionWithStage(secret, AWSPREVIOUS)).toBe(PREVIOUS);
    expect(findVersionWithStage(secret, 'CUSTOM')).toBeUndefined();
  });
});
