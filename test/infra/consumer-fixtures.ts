import { parseRotorConfig, type RotorConfig } from '../../lib/config/rotor-config';

/** The account and region both fixture stages deploy to: one account, so only IAM keeps them apart. */
export const FIXTURE_ENV = { account: '111111111111', region: 'eu-west-1' } as const;

type Fields = Record<string, unknown>;

/**
 * Two stages in one account, independent of the committed example config: development with a
 * GitHub consumer (a branch and an environment) and a consumer on a self-managed GitLab (refs and
 * a tag pattern) reading different secrets; production importing the account's GitHub provider,
 * with an environment consumer and a tag-pattern consumer reading different secrets.
 * `development` and `production` override stage fields.
 */
export function twoStageConfigFile(overrides: { development?: Fields; production?: Fields } = {}): Fields {
  return {
    stages: [
      {
        name: 'development',
        secretNamePrefix: 'rotor/development/',
        logRetentionDays: 30,
        ...FIXTURE_ENV,
        secrets: [
          { name: 'deploy-token', provider: 'managed-token', schedule: 'rate(4 hours)', window: '1h' },
          { name: 'package-token', provider: 'managed-token', schedule: 'rate(1 day)', window: '1h' },
        ],
        oidcProviders: { 'gitlab-ci': { host: 'gitlab.example.com' } },
        consumers: [
          {
            name: 'app-deploy',
            platform: 'github-actions',
            repository: 'example-org/app',
            refs: ['refs/heads/main'],
            environments: ['development'],
            secrets: ['deploy-token'],
          },
          {
            name: 'packager',
            platform: 'gitlab-ci',
            project: 'example-group/packager',
            refs: ['refs/heads/main', 'refs/tags/v1.0.0'],
            refPatterns: ['refs/tags/release-*'],
            secrets: ['package-token'],
          },
        ],
        ...overrides.development,
      },
      {
        name: 'production',
        secretNamePrefix: 'rotor/production/',
        logRetentionDays: 365,
        ...FIXTURE_ENV,
        secrets: [
          { name: 'deploy-token', provider: 'managed-token', schedule: 'rate(12 hours)', window: '2h' },
          { name: 'release-token', provider: 'managed-token', schedule: 'rate(1 day)', window: '1h' },
        ],
        oidcProviders: { 'github-actions': { existing: true } },
        consumers: [
          {
            name: 'app-deploy',
            platform: 'github-actions',
            repository: 'example-org/app',
            environments: ['production'],
            secrets: ['deploy-token'],
          },
          {
            name: 'app-release',
            platform: 'github-actions',
            repository: 'example-org/app',
            refPatterns: ['refs/tags/v*'],
            secrets: ['release-token'],
          },
        ],
        ...overrides.production,
      },
    ],
  };
}

/** {@link twoStageConfigFile}, validated. */
export function twoStageConfig(): RotorConfig {
  return parseRotorConfig(twoStageConfigFile());
}
