import { MalformedSecretError } from '../../../../../lambda/core/errors';
import {
  parseGitLabAccessTokenDocument,
  rotationModeOf,
} from '../../../../../lambda/core/providers/gitlab/gitlab-document';
import { expiryDateFor, firstMidnightAfter } from '../../../../../lambda/core/providers/gitlab/token-expiry';

const PROJECT = {
  provider: 'gitlab-access-token',
  gitlabUrl: 'https://gitlab.example.com',
  tokenType: 'project',
  ownerId: 'example-group/app',
  managerSecret: 'rotor/test/gitlab-manager',
  tokenId: 42,
  token: 'glpat-secret-value',
  scopes: ['write_registry'],
  expiryHorizonSeconds: 94_200,
};

describe('Function: parseGitLabAccessTokenDocument', () => {
  it('accepts a project token document, in overlap mode by default', () => {
    // Act
    const document = parseGitLabAccessTokenDocument(PROJECT);

    // Assess
    expect(rotationModeOf(document)).toBe('overlap');
    expect(document.schemaVersion).toBe(1);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['a URL with a path', { gitlabUrl: 'https://gitlab.example.com/api' }, /field 'gitlabUrl'/],
    ['plain http', { gitlabUrl: 'http://gitlab.example.com' }, /field 'gitlabUrl'/],
    ['overlap without a manager', { managerSecret: undefined }, /field 'managerSecret'/],
    ['a token without its id', { tokenId: undefined }, /fields 'token' and 'tokenId'/],
    ['a personal token with an owner', { tokenType: 'personal', managerSecret: undefined }, /field 'ownerId'/],
    ['a project token without its project', { ownerId: undefined }, /field 'ownerId'/],
  ])('refuses %s, naming the field and never a value', (_case, change, message) => {
    // Act
    const attempt = () => parseGitLabAccessTokenDocument({ ...PROJECT, ...change });

    // Assess
    expect(attempt).toThrow(MalformedSecretError);
    expect(attempt).toThrow(message);
    expect(attempt).not.toThrow(/glpat-secret-value/);
  });
});

describe('Function: expiryDateFor', () => {
  const document = parseGitLabAccessTokenDocument(PROJECT);

  it('is the first UTC midnight after the horizon plus the default one-day margin', () => {
    // 2026-03-10T23:30Z + 94 200 s + 86 400 s = 2026-03-13T01:40Z: the token must work until then.
    expect(expiryDateFor(document, new Date('2026-03-10T23:30:00Z'), 'rotor/test/token')).toBe('2026-03-14');
  });

  it('is the next day when the instant is midnight itself', () => {
    expect(firstMidnightAfter(new Date('2026-03-10T00:00:00Z'))).toBe('2026-03-11');
  });

  it("fails beyond GitLab's one-year limit", () => {
    const long = parseGitLabAccessTokenDocument({ ...PROJECT, expiryHorizonSeconds: 364 * 86_400 });
    expect(() => expiryDateFor(long, new Date('2026-03-10T12:00:00Z'), 'rotor/test/token')).toThrow(
      /beyond GitLab's 365-day limit/,
    );
  });
});
