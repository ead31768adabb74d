import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRotorConfig, parseRotorConfig, RotorConfigError } from '../../lib/config/rotor-config';
import { twoStageConfigFile } from './consumer-fixtures';
import { COMMITTED_CONFIG_PATH, REPOSITORY_ROOT } from './infra-test-app';

type Fields = Record<string, unknown>;

/** The fixture's development consumer `app-deploy` with `fields` changed (undefined removes one). */
function githubConsumer(fields: Fields = {}): Fields {
  return {
    name: 'app-deploy',
    platform: 'github-actions',
    repository: 'example-org/app',
    refs: ['refs/heads/main'],
    secrets: ['deploy-token'],
    ...fields,
  };
}

/** The fixture with development's consumers replaced by `consumers` (and its other fields by `stage`). */
function withDevelopmentConsumers(consumers: Fields[], stage: Fields = {}): Fields {
  return twoStageConfigFile({ development: { consumers, oidcProviders: undefined, ...stage } });
}

/** Every issue parseRotorConfig reports, or [] when the config is valid. */
function issues(value: unknown): readonly string[] {
  try {
    parseRotorConfig(value);
    return [];
  } catch (error) {
    if (!(error instanceof RotorConfigError)) throw error;
    return error.issues;
  }
}

describe('consumers in the config', () => {
  it('reads the committed rotor.config.json: both stages, every platform, providers created and imported', () => {
    const { stages } = loadRotorConfig(COMMITTED_CONFIG_PATH);
    expect(stages.map((stage) => [stage.name, stage.consumers.map((consumer) => consumer.name)])).toEqual([
      ['development', ['app-deploy', 'app-deploy-gitlab']],
      ['production', ['app-deploy', 'app-release', 'app-registry-gitlab']],
    ]);
    expect(stages.map((stage) => stage.oidcProviders)).toEqual([
      [
        {
          platform: 'github-actions',
          issuerHost: 'token.actions.githubusercontent.com',
          audience: 'sts.amazonaws.com',
          source: 'create',
        },
        { platform: 'gitlab-ci', issuerHost: 'gitlab.com', audience: 'sts.amazonaws.com', source: 'create' },
      ],
      [
        {
          platform: 'github-actions',
          issuerHost: 'token.actions.githubusercontent.com',
          audience: 'sts.amazonaws.com',
          source: 'import',
        },
        { platform: 'gitlab-ci', issuerHost: 'gitlab.com', audience: 'sts.amazonaws.com', source: 'import' },
      ],
    ]);
  });

  it('returns each consumer with its repository or project as repository and empty lists for what it leaves out', () => {
    const [development] = parseRotorConfig(twoStageConfigFile()).stages;
    expect(development!.consumers[1]).toEqual({
      name: 'packager',
      platform: 'gitlab-ci',
      repository: 'example-group/packager',
      refs: ['refs/heads/main', 'refs/tags/v1.0.0'],
      refPatterns: ['refs/tags/release-*'],
      environments: [],
      secrets: ['package-token'],
    });
  });

  it('defaults to no consumers and no providers', () => {
    const config = twoStageConfigFile({
      development: { consumers: undefined, oidcProviders: undefined },
      production: { consumers: undefined, oidcProviders: undefined },
    });
    expect(parseRotorConfig(config).stages.map((stage) => [stage.consumers, stage.oidcProviders])).toEqual([
      [[], []],
      [[], []],
    ]);
  });

  describe('wildcard subjects', () => {
    it.each([
      [
        { refs: ['refs/heads/*'] },
        'stages[0].consumers[0].refs[0]: must be an exact ref such as "refs/heads/main" (no * or ?); put a pattern in refPatterns, got "refs/heads/*"',
      ],
      [
        { refs: ['*'] },
        'stages[0].consumers[0].refs[0]: must be an exact ref such as "refs/heads/main" (no * or ?); put a pattern in refPatterns, got "*"',
      ],
      [
        { refs: undefined, environments: ['prod*'] },
        'stages[0].consumers[0].environments[0]: must be an exact environment name (no * or ?), got "prod*"',
      ],
      [
        { repository: 'example-org/*' },
        'stages[0].consumers[0].repository: must be a GitHub Actions repository such as "example-org/app", exactly (no wildcard), got "example-org/*"',
      ],
      [
        { platform: 'gitlab-ci', repository: undefined, project: 'example-group/?pp' },
        'stages[0].consumers[0].project: must be a GitLab CI project such as "example-group/app" (the full project path), exactly (no wildcard), got "example-group/?pp"',
      ],
    ])('refuses %j, naming the value', (fields, message) => {
      expect(issues(withDevelopmentConsumers([githubConsumer(fields)]))).toEqual([message]);
    });

    it.each([
      ['*', 'refs/heads/* or refs/tags/* needs a literal prefix'],
      ['refs/heads/*', 'every branch'],
      ['refs/tags/?*', 'every tag'],
      ['refs/*', 'every ref'],
      ['refs/heads/release:*', 'a ":" in the ref'],
    ])('refuses the ref pattern %j (%s)', (pattern) => {
      expect(issues(withDevelopmentConsumers([githubConsumer({ refPatterns: [pattern] })]))).toEqual([
        expect.stringMatching(
          new RegExp(
            `^stages\\[0\\]\\.consumers\\[0\\]\\.refPatterns\\[0\\]: must .*, got ${JSON.stringify(pattern).replace(/[*?]/g, '\\$&')}$`,
          ),
        ),
      ]);
    });

    it('accepts ref patterns with a literal branch or tag prefix', () => {
      const consumer = githubConsumer({ refPatterns: ['refs/tags/v*', 'refs/heads/release/*', 'refs/tags/v?.*'] });
      expect(issues(withDevelopmentConsumers([consumer]))).toEqual([]);
    });
  });

  describe('a secret shared between stages', () => {
    it('is refused, naming the full secret name, even when the prefixes are also refused', () => {
      // GIVEN two stages with one prefix: both would manage rotor/shared/deploy-token
      const config = twoStageConfigFile({
        development: { secretNamePrefix: 'rotor/shared/' },
        production: { secretNamePrefix: 'rotor/shared/' },
      });
      // THEN
      expect(issues(config)).toEqual([
        'stages[1].secrets[0].name: is the secret "rotor/shared/deploy-token", which stages[0].secrets[0] also is; a secret belongs to exactly one stage, got "deploy-token"',
        'stages[1].secretNamePrefix: "rotor/shared/" overlaps stages[0].secretNamePrefix "rotor/shared/": one starts with the other, so access scoped by name would reach both stages',
      ]);
    });

    it("is refused when a consumer names another stage's secret: a consumer reads only its own stage", () => {
      const consumer = githubConsumer({ secrets: ['rotor/production/deploy-token'] });
      expect(issues(withDevelopmentConsumers([consumer]))).toEqual([
        'stages[0].consumers[0].secrets[0]: must name a secret of this stage ("deploy-token", "package-token") by its name within the stage, got "rotor/production/deploy-token"',
      ]);
    });
  });

  describe('consumer fields', () => {
    it.each([
      [{ name: 'App_Deploy' }, /^stages\[0\]\.consumers\[0\]\.name: must be a lower-case slug .*, got "App_Deploy"$/],
      [
        { platform: 'jenkins' },
        /^stages\[0\]\.consumers\[0\]\.platform: must be one of "github-actions", "gitlab-ci", got "jenkins"$/,
      ],
      [{ platform: undefined }, /^stages\[0\]\.consumers\[0\]\.platform: is required$/],
      [
        { repository: undefined },
        /^stages\[0\]\.consumers\[0\]\.repository: is required for a GitHub Actions consumer$/,
      ],
      [
        { project: 'example-group/app' },
        /^stages\[0\]\.consumers\[0\]\.project: is not a field of a GitHub Actions consumer, which names its repository, got "example-group\/app"$/,
      ],
      [
        { refs: [] },
        /^stages\[0\]\.consumers\[0\]\.refs: must list at least one ref \(or refPatterns, or environments\) whose jobs may assume the role, got none$/,
      ],
      [
        { refs: ['main'] },
        /^stages\[0\]\.consumers\[0\]\.refs\[0\]: must be a branch or tag ref such as "refs\/heads\/main" .*, got "main"$/,
      ],
      [
        { refs: ['refs/heads/main', 'refs/heads/main'] },
        /^stages\[0\]\.consumers\[0\]\.refs\[1\]: "refs\/heads\/main" is also entry \[0\]$/,
      ],
      [{ secrets: [] }, /^stages\[0\]\.consumers\[0\]\.secrets: must name at least one secret of the stage, got \[\]$/],
      [{ sekrets: ['deploy-token'] }, /^stages\[0\]\.consumers\[0\]: has unknown field "sekrets"; check the spelling$/],
    ])('refuses %j', (fields, message) => {
      expect(issues(withDevelopmentConsumers([githubConsumer(fields)]))).toEqual([expect.stringMatching(message)]);
    });

    it('refuses GitLab environments: GitLab puts none in sub', () => {
      const consumer = githubConsumer({
        platform: 'gitlab-ci',
        repository: undefined,
        project: 'example-group/app',
        environments: ['production'],
      });
      expect(issues(withDevelopmentConsumers([consumer]))).toEqual([
        'stages[0].consumers[0].environments: GitLab CI puts no environment in its tokens\' sub claim, so a role cannot be limited to one; list the protected refs instead, got ["production"]',
      ]);
    });

    it('refuses a consumer name that makes the role name longer than IAM allows', () => {
      const config = withDevelopmentConsumers([githubConsumer({ name: 'a'.repeat(30) })], {
        name: 'development-and-integration-test',
      });
      expect(issues(config)).toEqual([
        `stages[0].consumers[0].name: makes the role name "rotor-development-and-integration-test-${'a'.repeat(30)}", longer than IAM's 64 characters, got "${'a'.repeat(30)}"`,
      ]);
    });

    it('refuses two consumers of one name in a stage', () => {
      expect(issues(withDevelopmentConsumers([githubConsumer(), githubConsumer()]))).toEqual([
        'stages[0].consumers[1].name: "app-deploy" is also the name of consumers[0]; consumer names must be unique within a stage',
      ]);
    });
  });

  describe('OIDC providers', () => {
    const gitlabConsumer = githubConsumer({
      platform: 'gitlab-ci',
      repository: undefined,
      project: 'example-group/app',
    });

    it('refuses a second stage that would create the same provider in a possibly shared account, naming the issuer', () => {
      const config = twoStageConfigFile({ production: { oidcProviders: undefined } });
      expect(issues(config)).toEqual([
        'stages[1].consumers[0].platform: needs the OIDC provider of "token.actions.githubusercontent.com", which stages[0] creates too; an account holds one provider per issuer and the two stages may deploy to one account: set stages[1].oidcProviders.github-actions.existing to true, or pin the stages to different accounts, got "github-actions"',
      ]);
    });

    it('lets stages pinned to different accounts each create their provider', () => {
      const config = twoStageConfigFile({ production: { oidcProviders: undefined, account: '222222222222' } });
      expect(issues(config)).toEqual([]);
    });

    it.each([
      [
        { 'github-actions': { host: 'github.example.com' } },
        'stages[0].oidcProviders.github-actions.host: GitHub Actions always issues from "token.actions.githubusercontent.com", got "github.example.com"',
      ],
      [
        {
          'github-actions': {
            existing: true,
            providerArn: 'arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com',
          },
        },
        'stages[0].oidcProviders.github-actions.providerArn: give either "existing": true (the account\'s provider for the issuer) or providerArn, not both, got "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"',
      ],
      [
        { 'github-actions': { providerArn: 'arn:aws:iam::111111111111:oidc-provider/gitlab.com' } },
        'stages[0].oidcProviders.github-actions.providerArn: must be the provider of the issuer "token.actions.githubusercontent.com" (ending in oidc-provider/token.actions.githubusercontent.com), got "arn:aws:iam::111111111111:oidc-provider/gitlab.com"',
      ],
      [
        {
          'github-actions': {
            providerArn: 'arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com',
          },
        },
        'stages[0].oidcProviders.github-actions.providerArn: must be in the stage\'s account 111111111111: a role trusts only a provider of its own account, got "arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com"',
      ],
      [
        { 'github-actions': { audience: 'sts.*' } },
        'stages[0].oidcProviders.github-actions.audience: must be exact (no * or ?), got "sts.*"',
      ],
      [
        { 'gitlab-ci': { host: 'https://gitlab.example.com' } },
        'stages[0].oidcProviders.gitlab-ci.host: must be the issuer\'s host name such as "gitlab.example.com" (lower case, no scheme, port or path), got "https://gitlab.example.com"',
      ],
      [{ jenkins: {} }, 'stages[0].oidcProviders: has unknown field "jenkins"; check the spelling'],
    ])('refuses %j', (oidcProviders, message) => {
      const consumers =
        'gitlab-ci' in oidcProviders ? [githubConsumer(), { ...gitlabConsumer, name: 'gitlab' }] : [githubConsumer()];
      expect(issues(withDevelopmentConsumers(consumers, { oidcProviders }))).toEqual([message]);
    });

    it('refuses settings for a platform no consumer of the stage uses', () => {
      const config = withDevelopmentConsumers([githubConsumer()], { oidcProviders: { 'gitlab-ci': {} } });
      expect(issues(config)).toEqual([
        'stages[0].oidcProviders.gitlab-ci: no consumer of this stage uses gitlab-ci; remove the entry, got {}',
      ]);
    });

    it('imports a provider by ARN, and takes a self-managed GitLab host and its own audience', () => {
      const config = withDevelopmentConsumers([githubConsumer(), { ...gitlabConsumer, name: 'gitlab' }], {
        oidcProviders: {
          'github-actions': {
            providerArn: 'arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com',
          },
          'gitlab-ci': { host: 'gitlab.example.com', audience: 'https://gitlab.example.com' },
        },
      });
      expect(parseRotorConfig(config).stages[0]!.oidcProviders).toEqual([
        {
          platform: 'github-actions',
          issuerHost: 'token.actions.githubusercontent.com',
          audience: 'sts.amazonaws.com',
          source: 'import',
          providerArn: 'arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com',
        },
        {
          platform: 'gitlab-ci',
          issuerHost: 'gitlab.example.com',
          audience: 'https://gitlab.example.com',
          source: 'create',
        },
      ]);
    });
  });
});

describe('cdk synth (bin/rotor-app.ts)', () => {
  /** Runs the CDK app on `config` as `cdk synth -c config=<file>` does. */
  function synth(config: unknown): { status: number | null; stderr: string } {
    const dir = mkdtempSync(join(tmpdir(), 'rotor-synth-'));
    const path = join(dir, 'rotor.config.json');
    writeFileSync(path, JSON.stringify(config));
    const result = spawnSync(
      process.execPath,
      [join(REPOSITORY_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPOSITORY_ROOT, 'bin', 'rotor-app.ts')],
      {
        cwd: REPOSITORY_ROOT,
        encoding: 'utf8',
        env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify({ config: path }), CDK_OUTDIR: join(dir, 'cdk.out') },
      },
    );
    return { status: result.status, stderr: result.stderr };
  }

  it('fails on a wildcard subject and a shared secret, naming both values, before building any stack', () => {
    // GIVEN both mistakes in one file
    const config = twoStageConfigFile({
      development: {
        secretNamePrefix: 'rotor/shared/',
        consumers: [githubConsumer({ refs: ['refs/heads/*'] })],
        oidcProviders: undefined,
      },
      production: { secretNamePrefix: 'rotor/shared/' },
    });
    // WHEN
    const { status, stderr } = synth(config);
    // THEN
    expect(status).toBe(1);
    expect(stderr).toContain(
      'stages[0].consumers[0].refs[0]: must be an exact ref such as "refs/heads/main" (no * or ?); put a pattern in refPatterns, got "refs/heads/*"',
    );
    expect(stderr).toContain(
      'stages[1].secrets[0].name: is the secret "rotor/shared/deploy-token", which stages[0].secrets[0] also is',
    );
  });
});
