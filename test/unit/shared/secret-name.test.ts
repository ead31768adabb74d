import { secretNameFromId } from '../../../lambda/shared/secret-name';

describe('Function: secretNameFromId', () => {
  it.each([
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123', 'rotor/dev/ci-token'],
    ['arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-deploy-AbC123', 'rotor/dev/ci-deploy'],
    ['arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:token-x1Y2z3', 'token'],
    ['rotor/dev/ci-token', 'rotor/dev/ci-token'],
    ['rotor/dev/ci-AbC123', 'rotor/dev/ci-AbC123'],
  ])('maps %s to the secret name %s', (secretId, name) => {
    // Act & Assess
    expect(secretNameFromId(secretId)).toBe(name);
  });
});
