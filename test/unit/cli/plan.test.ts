import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperationFailedError } from '../../../cli/commands/cli-errors';
import { plan } from '../../../cli/commands/plan';

function configFile(stages: readonly Record<string, unknown>[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'rotor-plan-')), 'rotor.config.json');
  writeFileSync(path, JSON.stringify({ stages }));
  return path;
}

function managedTokens(name: string, count: number, region: string): Record<string, unknown> {
  return {
    name,
    secretNamePrefix: `rotor/${name}/`,
    logRetentionDays: 30,
    region,
    ...(count > 400 ? { shards: Math.ceil(count / 150) } : {}),
    secrets: Array.from({ length: count }, (_, index) => ({
      name: `token-${index}`,
      provider: 'managed-token',
      schedule: 'rate(4 hours)',
      window: '1h',
    })),
  };
}

const OAUTH2 = {
  tokenEndpoint: 'https://idp.example.com/oauth2/token',
  clientId: 'rotor',
  clientAuthentication: 'client_secret_post',
  testUrl: 'https://api.example.com/v1/whoami',
  accessTokenLifetimeSeconds: 1800,
  refreshTokenLifetimeSeconds: 7 * 86_400,
  refreshIntervalSeconds: 600,
};

describe('Function: plan', () => {
  it("prints one row per account and region with the fleet's simulated peaks against the quotas", () => {
    // Prepare
    const path = configFile([managedTokens('a', 3, 'eu-west-1'), managedTokens('b', 2, 'us-east-1')]);
    let out = '';

    // Act
    plan({ config: path }, (text) => (out += text));

    // Assess
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'Simulated peak Secrets Manager calls per second, per account and region (quotas: 50 writes/s, 50 RotateSecret/s; synth refuses over 80%)',
    );
    expect(lines[2]).toMatch(
      /^account\/region\s+stages\s+secrets\s+rotations\/day\s+refreshes\/day\s+peak writes\/s\s+peak RotateSecret\/s$/,
    );
    expect(lines[3]).toMatch(/^\(any\)\/eu-west-1\s+a\s+3\s+18\s+0\s+2 \(4%\) at \d\d:\d\d:\d\d UTC\s+0$/);
    expect(lines[4]).toMatch(/^\(any\)\/us-east-1\s+b\s+2\s+12\s+0\s+2 \(4%\) at \d\d:\d\d:\d\d UTC\s+0$/);
  });

  it('fails, with the line synth would print, when a region is over 80% of a quota', () => {
    // Prepare: 8,000 OAuth 2.0 secrets refreshed every 10 minutes
    const path = configFile([
      {
        name: 'idp',
        secretNamePrefix: 'rotor/idp/',
        logRetentionDays: 30,
        shards: 100,
        secrets: Array.from({ length: 8000 }, (_, index) => ({
          name: `client-${index}`,
          provider: 'oauth2-refresh-token',
          schedule: 'rate(1 day)',
          window: '2h',
          oauth2: OAUTH2,
        })),
      },
    ]);
    let out = '';

    // Act
    let error: unknown;
    try {
      plan({ config: path }, (text) => (out += text));
    } catch (caught) {
      error = caught;
    }

    // Assess: the table still shows where the load comes from
    expect(out).toMatch(/\(any\)\/\(any\)\s+idp\s+8000\s+8000\s+1152000\s+\d+ \(\d+%\) at /);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect((error as Error).message).toMatch(
      /^stages "idp" .*over 80% of the 50-per-second quota \(40\); lengthen "refreshIntervalSeconds"/,
    );
  });
});
