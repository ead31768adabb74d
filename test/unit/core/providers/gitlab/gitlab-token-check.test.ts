import { CredentialTestFailedError } from '../../../../../lambda/core/errors';
import { gitlabAccessTokenProvider } from '../../../../../lambda/core/providers/gitlab/gitlab-access-token-provider';
import { parseGitLabAccessTokenDocument } from '../../../../../lambda/core/providers/gitlab/gitlab-document';
import type { ProviderHttpClient, ProviderHttpResponse } from '../../../../../lambda/core/providers/provider-http';

// The token check testSecret, the health check and rollback share: what GitLab says of the token
// (GET /personal_access_tokens/self), judged against the document.

const DAY_MS = 86_400_000;
const MADE_AT = Date.parse('2026-11-01T10:00:00Z');

const DOCUMENT = parseGitLabAccessTokenDocument({
  provider: 'gitlab-access-token',
  gitlabUrl: 'https://gitlab.example.com',
  tokenType: 'project',
  ownerId: 'example-group/app',
  managerSecret: 'rotor/test/gitlab-manager',
  tokenId: 42,
  token: 'glpat-secret-value',
  scopes: ['write_registry'],
  // A weekly rotation plus its grace.
  expiryHorizonSeconds: 7 * 86_400 + 900,
});

/** GitLab's description of token 42, made at MADE_AT with the expiry Rotor asked for then. */
const DESCRIPTION = JSON.stringify({
  id: 42,
  name: 'registry-push',
  active: true,
  revoked: false,
  scopes: ['write_registry'],
  created_at: new Date(MADE_AT).toISOString(),
  expires_at: '2026-11-10',
});

function gitlabAnswering(...answers: ProviderHttpResponse[]): ProviderHttpClient & { calls: number } {
  const client = {
    calls: 0,
    send: () => {
      const answer = answers[Math.min(client.calls, answers.length - 1)]!;
      client.calls += 1;
      return Promise.resolve(answer);
    },
    checkDestination: () => undefined,
  };
  return client;
}

function checkAt(http: ProviderHttpClient, now: number): Promise<void> {
  const provider = gitlabAccessTokenProvider({
    http,
    managerTokens: { load: () => Promise.reject(new Error('the check needs no manager')) },
    sleep: () => Promise.resolve(),
  });
  return provider.test(DOCUMENT, {
    secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rotor/test/registry-AbCdEf',
    secretName: 'rotor/test/registry',
    versionId: 'v2',
    now: () => new Date(now),
  });
}

const ok = (body: string): ProviderHttpResponse => ({ status: 200, headers: {}, body });

describe('GitLab token check', () => {
  it('holds a token to its lifetime from its creation, so a health check days later still passes', async () => {
    // Act + Assess: at creation and six days later, the token still lives past creation + horizon.
    await expect(checkAt(gitlabAnswering(ok(DESCRIPTION)), MADE_AT)).resolves.toBeUndefined();
    await expect(checkAt(gitlabAnswering(ok(DESCRIPTION)), MADE_AT + 6 * DAY_MS)).resolves.toBeUndefined();
  });

  it('fails a token that expires before its creation plus the horizon', async () => {
    // Prepare
    const short = JSON.stringify({ ...JSON.parse(DESCRIPTION), expires_at: '2026-11-05' });

    // Act
    const check = checkAt(gitlabAnswering(ok(short)), MADE_AT);

    // Assess
    await expect(check).rejects.toThrow(CredentialTestFailedError);
    await expect(checkAt(gitlabAnswering(ok(short)), MADE_AT)).rejects.toThrow(/expires on 2026-11-05/);
  });

  it.each([503, 429])('asks again after HTTP %i to a description, which changes nothing at GitLab', async (status) => {
    // Prepare
    const http = gitlabAnswering({ status, headers: {}, body: 'busy' }, ok(DESCRIPTION));

    // Act
    await checkAt(http, MADE_AT);

    // Assess
    expect(http.calls).toBe(2);
  });
});
