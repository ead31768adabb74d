import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRotorConfig, RotorConfigError } from '../../lib/config/rotor-config';
import {
  defaultRefreshIntervalSeconds,
  effectiveRefreshIntervalSeconds,
  MIN_REFRESH_INTERVAL_SECONDS,
} from '../../lib/config/oauth2-config';
import { IDP_TOKEN_OAUTH2, oauth2TestStage, REPOSITORY_ROOT } from './infra-test-app';

type Fields = Record<string, unknown>;

const MINIMAL = {
  tokenEndpoint: 'https://idp.example.com/token',
  clientId: 'rotor',
  accessTokenLifetimeSeconds: 900,
  refreshTokenLifetimeSeconds: 86_400,
};

/** One stage with one secret; `oauth2` fields override {@link MINIMAL} (undefined removes one), `secret` the secret's. */
function config(overrides: { oauth2?: Fields; secret?: Fields; stage?: Fields } = {}): unknown {
  return {
    stages: [
      {
        name: 'development',
        secretNamePrefix: 'rotor/development/',
        logRetentionDays: 30,
        secrets: [
          {
            name: 'idp-token',
            provider: 'oauth2-refresh-token',
            schedule: 'rate(1 day)',
            window: '1h',
            oauth2: { ...MINIMAL, ...overrides.oauth2 },
            ...overrides.secret,
          },
        ],
        ...overrides.stage,
      },
    ],
  };
}

/** The problems `parseRotorConfig` reports, one line each; [] when it accepts the config. */
function issues(value: unknown): readonly string[] {
  try {
    parseRotorConfig(value);
    return [];
  } catch (error) {
    if (!(error instanceof RotorConfigError)) throw error;
    return error.issues;
  }
}

const AT = 'stages[0].secrets[0].oauth2';
const BOTH_BOUNDS =
  'at least 600 seconds (Secrets Manager advises at most one new version of a secret every 10 minutes) and shorter than accessTokenLifetimeSeconds';

describe('the oauth2 block of a secret', () => {
  it('is accepted with only its required fields, and gets the defaults', () => {
    const { stages } = parseRotorConfig(config());
    expect(stages[0]!.secrets[0]!.oauth2).toEqual({
      ...MINIMAL,
      clientAuthentication: 'client_secret_basic',
      refreshIntervalSeconds: 600,
    });
  });

  it('keeps every optional field', () => {
    const oauth2 = {
      ...IDP_TOKEN_OAUTH2,
      tls: { minVersion: 'TLSv1.2', clientCertificateSecretName: 'rotor/development/idp-client-certificate' },
    };
    const { stages } = parseRotorConfig(config({ oauth2: { ...oauth2, refreshIntervalSeconds: 780 } }));
    expect(stages[0]!.secrets[0]!.oauth2).toEqual({
      ...oauth2,
      clientAuthentication: 'client_secret_basic',
      refreshIntervalSeconds: 780,
    });
  });

  it('is required for an oauth2-refresh-token secret', () => {
    expect(issues(config({ secret: { oauth2: undefined } }))).toEqual([
      `${AT}: is required for provider "oauth2-refresh-token": it names the token endpoint, the client and the token lifetimes`,
    ]);
  });

  it('is refused on a managed-token secret', () => {
    expect(issues(config({ secret: { provider: 'managed-token' } }))).toEqual([
      `${AT}: is only for provider "oauth2-refresh-token"; remove it from this "managed-token" secret, got {"tokenEndpoint":"https://idp.example.com/token","clientId":"rotor","accessTo...`,
    ]);
  });

  it('refuses unknown fields, in the block and in tls', () => {
    expect(issues(config({ oauth2: { tokenEndpiont: 'https://x/', tls: { minVersoin: 'TLSv1.3' } } }))).toEqual([
      `${AT}.tls: has unknown field "minVersoin"; check the spelling`,
      `${AT}: has unknown field "tokenEndpiont"; check the spelling`,
    ]);
  });

  it('names each missing required field', () => {
    expect(
      issues(
        config({
          oauth2: {
            tokenEndpoint: undefined,
            clientId: undefined,
            accessTokenLifetimeSeconds: undefined,
            refreshTokenLifetimeSeconds: undefined,
          },
        }),
      ),
    ).toEqual([
      `${AT}.tokenEndpoint: is required`,
      `${AT}.clientId: is required`,
      `${AT}.accessTokenLifetimeSeconds: is required`,
      `${AT}.refreshTokenLifetimeSeconds: is required`,
    ]);
  });

  describe('endpoints', () => {
    it.each([
      ['tokenEndpoint', 'http://idp.example.com/token'],
      ['tokenEndpoint', 'https://rotor:s3cret@idp.example.com/token'],
      ['tokenEndpoint', 'https://idp.example.com/token#x'],
      ['tokenEndpoint', 'idp.example.com/token'],
      ['introspectionEndpoint', 'http://idp.example.com/introspect'],
      ['testUrl', 'ftp://api.example.com/'],
    ])('refuses %s %j: https only, no credentials or fragment', (field, url) => {
      expect(issues(config({ oauth2: { [field]: url } }))).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${AT.replace(/[[\].]/g, '\\$&')}\\.${field}: must be the .* as an https:// URL without a user name, password or fragment, .*must not carry a secret\\), got ${JSON.stringify(url).replace(/[.?*+()[\]]/g, '\\$&')}$`,
          ),
        ),
      ]);
    });

    it('refuses an introspection endpoint and a test URL together', () => {
      expect(
        issues(
          config({ oauth2: { introspectionEndpoint: 'https://idp.example.com/introspect', testUrl: 'https://api/' } }),
        ),
      ).toEqual([
        `${AT}.testUrl: must not be set with introspectionEndpoint: testSecret checks a new access token with one of them, got "https://api/"`,
      ]);
    });
  });

  describe('client', () => {
    it.each(['', 'rotör', 'x'.repeat(256)])('refuses the client id %j', (clientId) => {
      expect(issues(config({ oauth2: { clientId } }))).toEqual([
        expect.stringMatching(
          new RegExp(`^${AT.replace(/[[\].]/g, '\\$&')}\\.clientId: must be the client id, 1 to 255 printable ASCII`),
        ),
      ]);
    });

    it.each(['client_secret_basic', 'client_secret_post', 'none'])('accepts clientAuthentication %s', (method) => {
      expect(issues(config({ oauth2: { clientAuthentication: method } }))).toEqual([]);
      expect(
        parseRotorConfig(config({ oauth2: { clientAuthentication: method } })).stages[0]!.secrets[0]!.oauth2!
          .clientAuthentication,
      ).toBe(method);
    });

    it('refuses private_key_jwt as reserved, and any other method', () => {
      expect(issues(config({ oauth2: { clientAuthentication: 'private_key_jwt' } }))).toEqual([
        `${AT}.clientAuthentication: is reserved and not supported yet; use one of "client_secret_basic", "client_secret_post", "none", got "private_key_jwt"`,
      ]);
      expect(issues(config({ oauth2: { clientAuthentication: 'tls_client_auth' } }))).toEqual([
        `${AT}.clientAuthentication: must be one of "client_secret_basic", "client_secret_post", "none", got "tls_client_auth"`,
      ]);
    });

    it.each(['a  b', ' a', 'a "b"', ''])('refuses the scope %j', (scope) => {
      expect(issues(config({ oauth2: { scope } }))).toEqual([
        `${AT}.scope: must be scopes separated by single spaces (RFC 6749 3.3: no quotes or backslashes), at most 1024 characters, got ${JSON.stringify(scope)}`,
      ]);
    });
  });

  describe('token lifetimes', () => {
    it.each([59, 1801, 900.5])('refuses an access token lifetime of %j (60 to 1800 seconds)', (seconds) => {
      expect(issues(config({ oauth2: { accessTokenLifetimeSeconds: seconds } }))).toEqual([
        `${AT}.accessTokenLifetimeSeconds: must be a whole number of seconds from 60 to 1800, got ${seconds}`,
      ]);
    });

    it.each([900, 300])('refuses a refresh token lifetime of %j, not longer than the access token', (seconds) => {
      expect(issues(config({ oauth2: { refreshTokenLifetimeSeconds: seconds } }))).toEqual([
        `${AT}.refreshTokenLifetimeSeconds: must be longer than accessTokenLifetimeSeconds (900): each refresh spends the refresh token to get the next access token, so it must outlive the access token, got ${seconds}`,
      ]);
    });

    it('accepts a refresh token that lives one second longer than the access token', () => {
      expect(issues(config({ oauth2: { refreshTokenLifetimeSeconds: 901 } }))).toEqual([]);
    });

    it.each([0, 1.5, '1d'])('refuses a refresh token lifetime of %j', (seconds) => {
      expect(issues(config({ oauth2: { refreshTokenLifetimeSeconds: seconds } }))).toEqual([
        typeof seconds === 'string'
          ? `${AT}.refreshTokenLifetimeSeconds: must be a number, got "1d"`
          : `${AT}.refreshTokenLifetimeSeconds: must be a whole number of seconds, at least 1, got ${seconds}`,
      ]);
    });

    it.each([-1, 86_401, 1.5])('refuses a refresh-token reuse interval of %j (0 to 86400)', (seconds) => {
      expect(issues(config({ oauth2: { refreshTokenReuseIntervalSeconds: seconds } }))).toEqual([
        `${AT}.refreshTokenReuseIntervalSeconds: must be a whole number of seconds from 0 to 86400, got ${seconds}`,
      ]);
    });
  });

  describe('refresh interval', () => {
    it.each([
      [900, 600],
      [1800, 1200],
      [1000, 660],
      [1200, 780],
      [1799, 1140],
    ])('defaults, for access tokens of %i s, to %i s: 2/3 rounded down to whole minutes', (access, interval) => {
      expect(defaultRefreshIntervalSeconds(access)).toBe(interval);
      expect(effectiveRefreshIntervalSeconds({ accessTokenLifetimeSeconds: access })).toBe(interval);
      expect(
        parseRotorConfig(config({ oauth2: { accessTokenLifetimeSeconds: access } })).stages[0]!.secrets[0]!.oauth2!
          .refreshIntervalSeconds,
      ).toBe(interval);
    });

    it('takes a configured interval over the default', () => {
      expect(effectiveRefreshIntervalSeconds({ accessTokenLifetimeSeconds: 1800, refreshIntervalSeconds: 900 })).toBe(
        900,
      );
      expect(
        parseRotorConfig(config({ oauth2: { accessTokenLifetimeSeconds: 1800, refreshIntervalSeconds: 900 } }))
          .stages[0]!.secrets[0]!.oauth2!.refreshIntervalSeconds,
      ).toBe(900);
    });

    it('refuses an interval under 600 seconds, Secrets Manager’s advice', () => {
      expect(MIN_REFRESH_INTERVAL_SECONDS).toBe(600);
      expect(issues(config({ oauth2: { accessTokenLifetimeSeconds: 1800, refreshIntervalSeconds: 540 } }))).toEqual([
        `${AT}.refreshIntervalSeconds: must be ${BOTH_BOUNDS}, 1800 (so that the secret holds a new access token before the old one expires): a whole number of minutes from 600 to 1740 seconds, got 540`,
      ]);
    });

    it('refuses an interval as long as the access token lives', () => {
      expect(issues(config({ oauth2: { refreshIntervalSeconds: 900 } }))).toEqual([
        `${AT}.refreshIntervalSeconds: must be ${BOTH_BOUNDS}, 900 (so that the secret holds a new access token before the old one expires): a whole number of minutes from 600 to 840 seconds, got 900`,
      ]);
    });

    it.each([630, 0, -60])('refuses an interval of %j, not whole minutes', (seconds) => {
      expect(issues(config({ oauth2: { refreshIntervalSeconds: seconds } }))).toEqual([
        `${AT}.refreshIntervalSeconds: must be whole minutes in seconds (a multiple of 60: the schedule is "rate(N minutes)"), got ${seconds}`,
      ]);
    });

    it.each([600, 300, 60])(
      'refuses access tokens of %i s, for which no interval exists, explaining both bounds',
      (access) => {
        expect(issues(config({ oauth2: { accessTokenLifetimeSeconds: access } }))).toEqual([
          `${AT}.accessTokenLifetimeSeconds: must be longer than 600 seconds: the refresh interval must be ${BOTH_BOUNDS}, ${access} (so that the secret holds a new access token before the old one expires), and no whole number of minutes is both, got ${access}`,
        ]);
        // Setting an interval does not help.
        expect(issues(config({ oauth2: { accessTokenLifetimeSeconds: access, refreshIntervalSeconds: 600 } }))).toEqual(
          [expect.stringMatching(/\.accessTokenLifetimeSeconds: must be longer than 600 seconds/)],
        );
      },
    );

    it('asks for an interval when the default would be under 600 seconds but one exists', () => {
      expect(issues(config({ oauth2: { accessTokenLifetimeSeconds: 899 } }))).toEqual([
        `${AT}.refreshIntervalSeconds: is required when accessTokenLifetimeSeconds is 899: its default (2/3 of the access token lifetime, rounded down to whole minutes) would be 540, and the interval must be ${BOTH_BOUNDS}, 899 (so that the secret holds a new access token before the old one expires); set a whole number of minutes from 600 to 840 seconds, got the default 540`,
      ]);
      expect(issues(config({ oauth2: { accessTokenLifetimeSeconds: 899, refreshIntervalSeconds: 600 } }))).toEqual([]);
      expect(issues(config({ oauth2: { accessTokenLifetimeSeconds: 601, refreshIntervalSeconds: 600 } }))).toEqual([]);
    });
  });

  describe('tls', () => {
    it('refuses a TLS version other than 1.3 and 1.2', () => {
      expect(issues(config({ oauth2: { tls: { minVersion: 'TLSv1.1' } } }))).toEqual([
        `${AT}.tls.minVersion: must be "TLSv1.3" or "TLSv1.2", got "TLSv1.1"`,
      ]);
    });

    it("refuses a client certificate secret outside the stage's prefix", () => {
      for (const name of ['rotor/production/idp-client-certificate', 'idp-client-certificate', 'rotor/developmentx']) {
        expect(issues(config({ oauth2: { tls: { clientCertificateSecretName: name } } }))).toEqual([
          `${AT}.tls.clientCertificateSecretName: must start with the stage's secretNamePrefix "rotor/development/": the rotation function may read no secret of another stage, got ${JSON.stringify(name)}`,
        ]);
      }
    });

    it('refuses a client certificate secret that is not a Secrets Manager name', () => {
      expect(issues(config({ oauth2: { tls: { clientCertificateSecretName: 'rotor/development/cert*' } } }))).toEqual([
        `${AT}.tls.clientCertificateSecretName: must be the full name of a Secrets Manager secret under the stage's secretNamePrefix, such as "rotor/development/idp-client-certificate", got "rotor/development/cert*"`,
      ]);
    });

    it('refuses a client certificate secret that Rotor rotates', () => {
      expect(
        issues(config({ oauth2: { tls: { clientCertificateSecretName: 'rotor/development/idp-token' } } })),
      ).toEqual([
        `${AT}.tls.clientCertificateSecretName: is secrets[0], a secret Rotor rotates; the client certificate must be a secret of its own, got "rotor/development/idp-token"`,
      ]);
    });
  });

  it('lets two secrets share a client certificate (the test stage)', () => {
    const stage = oauth2TestStage();
    expect(stage.secrets.map((secret) => secret.oauth2?.tls?.clientCertificateSecretName)).toEqual([
      undefined,
      'rotor/test/idp-client-certificate',
      'rotor/test/idp-client-certificate',
    ]);
    expect(stage.secrets.map((secret) => [secret.name, secret.oauth2?.refreshIntervalSeconds])).toEqual([
      ['deploy-token', undefined],
      ['idp-token', 600],
      ['partner/api-token', 1200],
    ]);
  });
});

describe('the configuration reference', () => {
  const readme = (): string => readFileSync(join(REPOSITORY_ROOT, 'docs', 'configuration.md'), 'utf8');

  it('shows an oauth2 secret that the config accepts, with the settings it documents', () => {
    const section = readme().split('### The `oauth2` block')[1]!;
    const example = /```json\n([\s\S]*?)\n```/.exec(section)![1]!;
    const { stages } = parseRotorConfig({
      stages: [
        {
          name: 'development',
          secretNamePrefix: 'rotor/development/',
          logRetentionDays: 30,
          secrets: [JSON.parse(example)],
        },
      ],
    });
    expect(stages[0]!.secrets[0]!.oauth2).toMatchObject({
      clientAuthentication: 'client_secret_basic',
      refreshIntervalSeconds: 600,
    });
  });

  it('states the default refresh intervals that effectiveRefreshIntervalSeconds computes', () => {
    const stated = /the default is (\d+) for (\d+)-second tokens, (\d+) for (\d+), (\d+) for (\d+)/.exec(readme());
    expect(stated).not.toBeNull();
    const numbers = stated!.slice(1).map(Number);
    for (let i = 0; i < numbers.length; i += 2) {
      expect([
        numbers[i + 1],
        effectiveRefreshIntervalSeconds({ accessTokenLifetimeSeconds: numbers[i + 1]! }),
      ]).toEqual([numbers[i + 1], numbers[i]]);
    }
  });
});
