import { NotFoundError, UsageError } from '../../../cli/commands/cli-errors';
import { explainFailure } from '../../../cli/commands/explain-failure';

describe('Function: explainFailure', () => {
  it.each([
    ['a missing region', new Error('Region is missing'), 3, /^no AWS region: pass --region REGION or set AWS_REGION/],
    [
      'missing credentials',
      Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }),
      3,
      /^no AWS credentials: set AWS_PROFILE/,
    ],
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {
        code: 'ECONNREFUSED',
        address: '127.0.0.1',
        port: 1,
      }),
      3,
      /^nothing answers at 127\.0\.0\.1:1 \(ECONNREFUSED\): start the emulator/,
    ],
    [
      'a refused connection to localhost (IPv4 and IPv6)',
      Object.assign(
        new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED', address: '::1', port: 9 })]),
        {
          code: 'ECONNREFUSED',
        },
      ),
      3,
      /^nothing answers at/,
    ],
    [
      'an HTML answer',
      Object.assign(
        new SyntaxError(`Unexpected token '<', "<!doctype "... is not valid JSON\n  Deserialization error: ...`),
        {},
      ),
      3,
      /^the endpoint answered, but not as an AWS API does/,
    ],
    [
      'an expired token',
      Object.assign(new Error('expired'), { name: 'ExpiredTokenException' }),
      3,
      /^AWS refused the credentials/,
    ],
    ['a usage error', new UsageError('bad'), 2, /^bad$/],
    ['a missing secret', new NotFoundError('no secret x'), 4, /^no secret x$/],
    ['anything else', new Error('first line\nsecond line'), 1, /^first line$/],
  ])('explains %s in one line', (_name, error, exitCode, message) => {
    const explained = explainFailure(error);
    expect(explained.exitCode).toBe(exitCode);
    expect(explained.message).toMatch(message);
    expect(explained.message).not.toContain('\n');
  });
});
