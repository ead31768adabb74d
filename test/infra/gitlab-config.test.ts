import type { CfnResource } from 'aws-cdk-lib';
import { type Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { parseRotorConfig, RotorConfigError, type RotorStageConfig } from '../../lib/config/rotor-config';
import { longestRotationGapSeconds } from '../../lib/config/gitlab-config';
import { RotorStack } from '../../lib/rotor-stack';
import { secretFirstDocument } from '../../lib/secret-first-document';
import { newTestApp } from './infra-test-app';

type Fields = Record<string, unknown>;

const MANAGER = {
  name: 'gitlab-manager',
  provider: 'gitlab-access-token',
  schedule: 'rate(7 days)',
  window: '2h',
  gitlab: { origin: 'https://gitlab.example.com', type: 'personal', scopes: ['api'] },
};

/** A stage with a manager and a project registry token; `registry` fields override the token's `gitlab` block. */
function stageFile(registry: Fields = {}, secret: Fields = {}): unknown {
  return {
    stages: [
      {
        name: 'test',
        secretNamePrefix: 'rotor/test/',
        logRetentionDays: 14,
        graceSeconds: 600,
        secrets: [
          MANAGER,
          {
            name: 'registry-token',
            provider: 'gitlab-access-token',
            schedule: 'rate(1 day)',
            window: '2h',
            gitlab: {
              origin: 'https://gitlab.example.com',
              type: 'project',
              owner: 'example-group/app',
              scopes: ['read_registry', 'write_registry'],
              accessLevel: 30,
              managerSecret: 'gitlab-manager',
              ...registry,
            },
            ...secret,
          },
        ],
      },
    ],
  };
}

function issues(value: unknown): readonly string[] {
  try {
    parseRotorConfig(value);
    return [];
  } catch (error) {
    if (!(error instanceof RotorConfigError)) throw error;
    return error.issues;
  }
}

function stage(value: unknown): RotorStageConfig {
  return parseRotorConfig(value).stages[0]!;
}

describe('the gitlab block of a secret', () => {
  it('is accepted with overlap as the default mode for a project token, self for a personal one', () => {
    // WHEN
    const [manager, registry] = stage(stageFile()).secrets;

    // THEN
    expect(manager!.gitlab).toMatchObject({ type: 'personal', mode: 'self' });
    expect(registry!.gitlab).toEqual({
      origin: 'https://gitlab.example.com',
      type: 'project',
      owner: 'example-group/app',
      scopes: ['read_registry', 'write_registry'],
      accessLevel: 30,
      mode: 'overlap',
      managerSecret: 'rotor/test/gitlab-manager',
      // One day between windows, plus a 2-hour window, plus the stage's 10-minute grace.
      expiryHorizonSeconds: 86_400 + 7_200 + 600,
      expiryMarginSeconds: 86_400,
    });
  });

  it('goes into the first document without a token', () => {
    // WHEN
    const registry = stage(stageFile()).secrets[1]!;
    const document = secretFirstDocument(registry.provider, undefined, registry.gitlab);

    // THEN
    expect(document).toEqual({
      provider: 'gitlab-access-token',
      schemaVersion: 1,
      gitlabUrl: 'https://gitlab.example.com',
      tokenType: 'project',
      ownerId: 'example-group/app',
      mode: 'overlap',
      managerSecret: 'rotor/test/gitlab-manager',
      scopes: ['read_registry', 'write_registry'],
      accessLevel: 30,
      expiryHorizonSeconds: 94_200,
      expiryMarginSeconds: 86_400,
    });
  });

  it('fails a schedule that GitLab cannot serve within its one-year token limit', () => {
    expect(issues(stageFile({}, { schedule: 'cron(0 6 1 JAN ? *)' }))).toEqual([
      expect.stringMatching(
        /^stages\[0\]\.secrets\[1\]\.schedule: cannot be served within GitLab's one-year token limit: a token must live 369 days/,
      ),
    ]);
  });

  it.each<[string, Fields, RegExp]>([
    [
      'an overlap token without a manager',
      { managerSecret: undefined },
      /gitlab\.managerSecret: is required in overlap mode/,
    ],
    [
      'a manager that is not a secret of the stage',
      { managerSecret: 'nobody' },
      /must name another "gitlab-access-token" secret/,
    ],
    ['a project token without its project', { owner: undefined }, /gitlab\.owner: is required for a project token/],
    [
      'an origin with a path',
      { origin: 'https://gitlab.example.com/api' },
      /gitlab\.origin: must be the GitLab instance's https origin/,
    ],
    [
      'a personal token in overlap mode',
      { type: 'personal', owner: undefined, accessLevel: undefined, mode: 'overlap' },
      /gitlab\.mode: must be "self" for personal tokens/,
    ],
  ])('fails %s', (_case, registry, message) => {
    expect(issues(stageFile(registry)).join('\n')).toMatch(message);
  });

  it('bounds the gap between cron rotations from above', () => {
    expect(longestRotationGapSeconds('cron(0 6 ? * MON-FRI *)', 3)).toBe(3 * 86_400 + 3 * 3600);
    expect(longestRotationGapSeconds('rate(4 hours)', 1)).toBe(5 * 3600);
  });
});

describe('RotorStack with GitLab secrets', () => {
  // GIVEN
  let stack: Stack;
  let template: Template;
  beforeAll(() => {
    stack = new RotorStack(newTestApp(), 'Rotor-test', { stage: stage(stageFile()) });
    template = Template.fromStack(stack);
  });

  it('pins the GitLab origin among the provider endpoints of every function', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'rotor-test-retire',
      Environment: { Variables: Match.objectLike({ ROTOR_PROVIDER_ORIGINS: 'https://gitlab.example.com' }) },
    });
  });

  it('waits for rotor bootstrap before the first rotation', () => {
    template.resourcePropertiesCountIs(
      'AWS::SecretsManager::RotationSchedule',
      { RotateImmediatelyOnUpdate: false },
      2,
    );
  });

  it('lets the retire function read every GitLab secret and its manager, and nothing else of Secrets Manager', () => {
    // THEN
    const role = (stack as RotorStack).retireFunction.role.node.defaultChild as CfnResource;
    const secrets = (stack as RotorStack).secrets;
    const ref = (index: number) => ({
      Ref: stack.getLogicalId(secrets[index]!.secret.node.defaultChild as CfnResource),
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: stack.getLogicalId(role) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          // Any version of each GitLab secret, self-mode ones (the manager) included: the retired
          // version's document says whether there is anything left to revoke at GitLab.
          { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: [ref(0), ref(1)] },
          {
            Action: 'secretsmanager:GetSecretValue',
            Condition: { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } },
            Effect: 'Allow',
            Resource: ref(0),
          },
        ]),
      },
    });
  });

  it('alarms on the stage when a rotated-out token could not be revoked at GitLab', () => {
    // THEN
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: Match.stringLikeRegexp('-revocation-failed$'),
      MetricName: 'RevocationFailed',
      Dimensions: [{ Name: 'Stage', Value: Match.anyValue() }],
      Threshold: 1,
      TreatMissingData: 'notBreaching',
      AlarmActions: Match.anyValue(),
    });
  });
});
