import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { parseDocument } from 'yaml';
import { loadRotorConfig, type RotorConfig } from '../../lib/config/rotor-config';
import { addRotorStages } from '../../lib/rotor-stages';
import { COMMITTED_CONFIG_PATH, newTestApp, REPOSITORY_ROOT } from './infra-test-app';

// The example pipelines in examples/: they parse, they assume only roles the committed config
// creates, from jobs whose OIDC subject that role trusts, read only secrets that role may read,
// always at AWSCURRENT; and their scripts, run with a stand-in `aws` against a local endpoint,
// mask the token, and re-read it exactly once after a 401.

const GITHUB_DIR = join(REPOSITORY_ROOT, 'examples', 'github-actions');
const GITLAB_FILE = join(REPOSITORY_ROOT, 'examples', 'gitlab-ci', '.gitlab-ci.yml');

/** What the synthesized app lets each consumer role do. */
interface ConsumerRoleFacts {
  readonly audience: string;
  readonly subjects: readonly string[];
  readonly subjectPatterns: readonly string[];
  readonly secretNames: readonly string[];
}

/** Parses a YAML file, failing on any syntax error or duplicate key. */
function loadYaml(path: string): Record<string, unknown> {
  const document = parseDocument(readFileSync(path, 'utf8'), { uniqueKeys: true });
  expect(document.errors.map((error) => error.message)).toEqual([]);
  return document.toJS() as Record<string, unknown>;
}

/** The role name at the end of a role ARN in a pipeline (`...:role/<name>`). */
function roleNameOf(arn: string): string {
  const match = /:role\/([\w+=,.@-]+)$/.exec(arn);
  if (!match) throw new Error(`not a role ARN: ${arn}`);
  return match[1]!;
}

/** Consumer roles of the committed config's synthesized stacks, by role name. */
function synthesizedConsumerRoles(config: RotorConfig): Map<string, ConsumerRoleFacts> {
  const roles = new Map<string, ConsumerRoleFacts>();
  for (const stack of addRotorStages(newTestApp(), config)) {
    const resources = Template.fromStack(stack).toJSON().Resources as Record<
      string,
      { Type: string; Properties: Record<string, unknown> }
    >;
    const secretName = (logicalId: string): string => resources[logicalId]!.Properties.Name as string;
    for (const [logicalId, resource] of Object.entries(resources)) {
      const roleName = resource.Properties.RoleName as string | undefined;
      if (resource.Type !== 'AWS::IAM::Role' || roleName === undefined) continue;
      const trust = (
        resource.Properties.AssumeRolePolicyDocument as {
          Statement: { Condition: Record<string, Record<string, string | string[]>> }[];
        }
      ).Statement;
      const values = (operator: string, suffix: string): string[] =>
        trust.flatMap((statement) =>
          Object.entries(statement.Condition[operator] ?? {})
            .filter(([key]) => key.endsWith(suffix))
            .flatMap(([, value]) => value),
        );
      const secretNames = Object.values(resources)
        .filter(
          (policy) =>
            policy.Type === 'AWS::IAM::Policy' &&
            (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === logicalId),
        )
        .flatMap((policy) => (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement)
        .filter((statement) => statement.Action === 'secretsmanager:GetSecretValue')
        .flatMap((statement) => [statement.Resource].flat() as { Ref: string }[])
        .map((resource) => secretName(resource.Ref));
      roles.set(roleName, {
        audience: [...new Set(values('StringEquals', ':aud'))].join(','),
        subjects: values('StringEquals', ':sub'),
        subjectPatterns: values('StringLike', ':sub'),
        secretNames,
      });
    }
  }
  return roles;
}

interface GitHubStep {
  readonly uses?: string;
  readonly id?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, string>;
  readonly run?: string;
  readonly shell?: string;
}
interface GitHubJob {
  readonly environment?: string;
  readonly env?: Record<string, string>;
  readonly steps: GitHubStep[];
}
interface GitHubWorkflow {
  readonly on: { push?: { branches?: string[]; tags?: string[] }; schedule?: unknown };
  readonly jobs: Record<string, GitHubJob>;
}

interface GitLabJob {
  readonly rules?: { if?: string }[];
  readonly id_tokens?: Record<string, { aud: string }>;
  readonly variables?: Record<string, string>;
  readonly before_script?: string[];
  readonly script?: string[];
}

const githubWorkflows = (): [string, GitHubWorkflow][] =>
  readdirSync(GITHUB_DIR)
    .filter((file) => file.endsWith('.yml'))
    .sort()
    .map((file) => [file, loadYaml(join(GITHUB_DIR, file)) as unknown as GitHubWorkflow]);

const gitlabJobs = (): [string, GitLabJob][] =>
  Object.entries(loadYaml(GITLAB_FILE)).filter(
    (entry): entry is [string, GitLabJob] => typeof entry[1] === 'object' && entry[1] !== null && 'script' in entry[1],
  );

describe('example pipelines', () => {
  let config: RotorConfig;
  let roles: Map<string, ConsumerRoleFacts>;

  beforeAll(() => {
    config = loadRotorConfig(COMMITTED_CONFIG_PATH);
    roles = synthesizedConsumerRoles(config);
  });

  /** The consumer config behind a role name. */
  const consumerOf = (roleName: string) => {
    for (const stage of config.stages) {
      for (const consumer of stage.consumers) {
        if (`rotor-${stage.name}-${consumer.name}` === roleName) return consumer;
      }
    }
    throw new Error(`no consumer of the committed config has the role ${roleName}`);
  };

  it('are valid YAML: the GitHub workflows and the GitLab pipeline', () => {
    expect(githubWorkflows().map(([file]) => file)).toEqual(['deploy.yml', 'release.yml']);
    expect(gitlabJobs().map(([name]) => name)).toEqual(['deploy-development', 'push-image']);
  });

  it('GitHub: each job assumes a role the config creates, that trusts the subject the job presents, and reads a secret that role may read', () => {
    const seen: string[] = [];
    for (const [file, workflow] of githubWorkflows()) {
      // Rotation belongs to Rotor's schedule, not to a pipeline cron.
      expect([file, workflow.on.schedule]).toEqual([file, undefined]);
      for (const [jobName, job] of Object.entries(workflow.jobs)) {
        const credentials = job.steps.find((step) => step.uses?.startsWith('aws-actions/configure-aws-credentials@'));
        const roleName = roleNameOf(String(credentials?.with?.['role-to-assume']));
        const role = roles.get(roleName);
        expect([file, jobName, roleName, role !== undefined]).toEqual([file, jobName, roleName, true]);
        const consumer = consumerOf(roleName);
        // The action requests the audience sts.amazonaws.com unless told otherwise.
        expect(credentials?.with?.audience ?? 'sts.amazonaws.com').toBe(role!.audience);
        expect(Number(credentials?.with?.['role-duration-seconds'])).toBeLessThanOrEqual(3600);
        // A job in an environment presents the environment; otherwise the ref that triggered it.
        const presented =
          job.environment !== undefined
            ? [`repo:${consumer.repository}:environment:${job.environment}`]
            : [
                ...(workflow.on.push?.branches ?? []).map((b) => `repo:${consumer.repository}:ref:refs/heads/${b}`),
                ...(workflow.on.push?.tags ?? []).map((t) => `repo:${consumer.repository}:ref:refs/tags/${t}`),
              ];
        expect(presented.length).toBeGreaterThan(0);
        for (const subject of presented) {
          const trusted = /[*?]/.test(subject)
            ? role!.subjectPatterns.includes(subject)
            : role!.subjects.includes(subject);
          expect([roleName, subject, trusted]).toEqual([roleName, subject, true]);
        }
        expect(role!.secretNames).toContain(job.env?.ROTOR_SECRET_ID);
        seen.push(`${jobName}:${roleName}:${job.env?.ROTOR_SECRET_ID}`);
      }
    }
    expect(seen).toEqual([
      'development:rotor-development-app-deploy:rotor/development/deploy-token',
      'production:rotor-production-app-deploy:rotor/production/deploy-token',
      'publish:rotor-production-app-release:rotor/production/release-token',
    ]);
  });

  it('GitLab: the job assumes a role the config creates, that trusts its branch and ID token audience, and reads a secret that role may read', () => {
    for (const [jobName, job] of gitlabJobs()) {
      const roleName = roleNameOf(String(job.variables?.ROTOR_ROLE_ARN));
      const role = roles.get(roleName);
      expect([jobName, roleName, role !== undefined]).toEqual([jobName, roleName, true]);
      const consumer = consumerOf(roleName);
      expect(Object.values(job.id_tokens ?? {}).map((token) => token.aud)).toEqual([role!.audience]);
      const branches = (job.rules ?? []).map((rule) => /^\$CI_COMMIT_BRANCH == "([^"]+)"$/.exec(rule.if ?? '')?.[1]);
      expect(branches).toEqual(['main']);
      for (const branch of branches) {
        expect(role!.subjects).toContain(`project_path:${consumer.repository}:ref_type:branch:ref:${branch}`);
      }
      expect(role!.secretNames).toContain(job.variables?.ROTOR_SECRET_ID);
    }
  });

  it('read the secret only with --version-stage AWSCURRENT, and mask it on GitHub', () => {
    const scripts = [
      ...githubWorkflows().flatMap(([, workflow]) =>
        Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((step) => step.run ?? [])),
      ),
      ...gitlabJobs().flatMap(([, job]) => [...(job.before_script ?? []), ...(job.script ?? [])]),
    ];
    const reads = scripts.flatMap((script) =>
      [...script.replace(/\\\n\s*/g, '').matchAll(/aws secretsmanager get-secret-value[^\n]*/g)].map((m) => m[0]),
    );
    expect(reads).toHaveLength(5);
    for (const read of reads) expect(read).toMatch(/ --version-stage AWSCURRENT /);
    // Every GitHub script masks each token it reads, right after reading it; GitLab cannot mask.
    const githubReaders = githubWorkflows().flatMap(([, workflow]) =>
      Object.values(workflow.jobs).flatMap((job) => job.steps.flatMap((step) => step.run ?? [])),
    );
    expect(githubReaders).toHaveLength(3);
    for (const script of githubReaders) {
      expect(script.match(/token="\$\(read_token\)"\n\s*echo "::add-mask::\$token"/g)).toHaveLength(2);
      expect(script.match(/\$\(read_token\)/g)).toHaveLength(2);
    }
  });
});

describe('example pipeline scripts, run', () => {
  // GIVEN a stand-in `aws` that answers get-secret-value from a file and records its arguments,
  // and a deploy endpoint that accepts only the current token
  let dir: string;
  let server: Server;
  let endpoint: string;
  let behaviour: 'rotated-meanwhile' | 'always-401';
  let presented: string[];
  let first: string;
  let second: string;

  const secretFile = () => join(dir, 'current.json');
  const document = (token: string) => JSON.stringify({ provider: 'managed-token', schemaVersion: 1, token });

  beforeAll(async () => {
    for (const tool of ['bash', 'sh', 'jq', 'curl']) {
      const probe = spawnSync('sh', ['-c', `command -v ${tool}`]);
      if (probe.status !== 0)
        throw new Error(`${tool} is not installed: the example scripts need it (apt-get install ${tool})`);
    }
    dir = mkdtempSync(join(tmpdir(), 'rotor-examples-'));
    writeFileSync(
      join(dir, 'aws'),
      [
        '#!/bin/sh',
        'printf "%s\\n" "$*" >> "$STUB_DIR/aws-calls"',
        'if [ "$1 $2" = "secretsmanager get-secret-value" ]; then cat "$STUB_DIR/current.json"; exit 0; fi',
        'echo "unexpected aws call: $*" >&2',
        'exit 2',
        '',
      ].join('\n'),
    );
    chmodSync(join(dir, 'aws'), 0o755);
    server = createServer((request, response) => {
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
      presented.push(token);
      if (behaviour === 'rotated-meanwhile' && token === first) {
        // A rotation finished (and the grace ended) after the job read the token.
        writeFileSync(secretFile(), document(second));
        response.writeHead(401).end();
      } else if (behaviour === 'rotated-meanwhile' && token === second) {
        response.writeHead(200).end();
      } else {
        response.writeHead(401).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/deploy`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  beforeEach(() => {
    first = `rtr_first${randomBytes(8).toString('hex')}`;
    second = `rtr_second${randomBytes(8).toString('hex')}`;
    presented = [];
    writeFileSync(secretFile(), document(first));
    writeFileSync(join(dir, 'aws-calls'), '');
  });

  /** Runs `script` as the platform runs it, with the stand-in `aws` first on PATH. */
  function run(
    shell: string[],
    script: string,
    env: Record<string, string>,
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        shell[0]!,
        [...shell.slice(1), script],
        { env: { PATH: `${dir}:${process.env.PATH ?? ''}`, STUB_DIR: dir, ROTOR_DEPLOY_URL: endpoint, ...env } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
  }

  const awsCalls = () => readFileSync(join(dir, 'aws-calls'), 'utf8').trim().split('\n');
  const read = (secretId: string) =>
    `secretsmanager get-secret-value --secret-id ${secretId} --version-stage AWSCURRENT --query SecretString --output text`;

  // GitHub runs `shell: bash` steps as `bash --noprofile --norc -eo pipefail {0}`.
  const githubSteps = () =>
    githubWorkflows().flatMap(([file, workflow]) =>
      Object.entries(workflow.jobs).map(([jobName, job]) => {
        const step = job.steps.find((s) => s.id === 'deploy')!;
        expect(step.shell).toBe('bash');
        return { name: `${file} ${jobName}`, script: step.run!, secretId: job.env!.ROTOR_SECRET_ID! };
      }),
    );

  it('GitHub: after a 401 the job re-reads the current token once and succeeds with it; every token is masked before use', async () => {
    behaviour = 'rotated-meanwhile';
    for (const step of githubSteps()) {
      // Prepare
      writeFileSync(secretFile(), document(first));
      writeFileSync(join(dir, 'aws-calls'), '');
      presented = [];
      // Act
      const result = await run(['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c'], step.script, {
        ROTOR_SECRET_ID: step.secretId,
      });
      // Assess
      expect([step.name, result.code, result.stderr]).toEqual([step.name, 0, '']);
      expect(awsCalls()).toEqual([read(step.secretId), read(step.secretId)]);
      expect(presented).toEqual([first, second]);
      const lines = result.stdout.trim().split('\n');
      expect(lines.filter((line) => line.includes(first) || line.includes(second))).toEqual([
        `::add-mask::${first}`,
        `::add-mask::${second}`,
      ]);
      expect(lines[0]).toBe(`::add-mask::${first}`);
      expect(lines.at(-1)).toMatch(/^(deployed|published) \(HTTP 200\)$/);
    }
  });

  it('GitHub: a 401 that a re-read does not cure fails the job after exactly one retry', async () => {
    behaviour = 'always-401';
    const [step] = githubSteps();
    const result = await run(['bash', '--noprofile', '--norc', '-eo', 'pipefail', '-c'], step!.script, {
      ROTOR_SECRET_ID: step!.secretId,
    });
    expect(result.code).toBe(1);
    expect(awsCalls()).toHaveLength(2);
    expect(presented).toEqual([first, first]);
    expect(result.stdout).toContain('::error::deploy failed: the endpoint answered 401');
  });

  it('GitLab: after a 401 the job re-reads the current token once and succeeds, never printing a token', async () => {
    behaviour = 'rotated-meanwhile';
    const job = gitlabJobs().find(([name]) => name === 'deploy-development')![1];
    const result = await run(['sh', '-e', '-c'], job.script!.join('\n'), {
      ROTOR_SECRET_ID: job.variables!.ROTOR_SECRET_ID!,
    });
    expect([result.code, result.stderr]).toEqual([0, '']);
    expect(awsCalls()).toEqual([read('rotor/development/deploy-token'), read('rotor/development/deploy-token')]);
    expect(presented).toEqual([first, second]);
    expect(result.stdout).not.toContain(first);
    expect(result.stdout).not.toContain(second);
    expect(result.stdout.trim().split('\n').at(-1)).toBe('deployed (HTTP 200)');
  });

  it('GitLab: refuses to run with CI_DEBUG_TRACE, before it reads anything', async () => {
    const job = gitlabJobs().find(([name]) => name === 'deploy-development')![1];
    const result = await run(['sh', '-e', '-c'], job.before_script![0]!, { CI_DEBUG_TRACE: 'true' });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^refusing to run with CI_DEBUG_TRACE/);
    expect(awsCalls()).toEqual(['']);
  });
});
