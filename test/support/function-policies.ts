import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as CdkAssertions from 'aws-cdk-lib/assertions';
import type { LocalEnvironment } from '../../cli/local/provision-local';
import type * as RotorConfigModule from '../../lib/config/rotor-config';
import type * as RotorStagesModule from '../../lib/rotor-stages';
import { LambdaBundle, RotorResourceName } from '../../lambda/shared/rotor-constants';
import type * as InfraTestAppModule from '../infra/infra-test-app';
import { TemplateResolver, type PolicyDocument, type SynthesizedTemplate } from '../infra/template-policies';

/**
 * The policies AWS would evaluate for Rotor's functions, taken from the stack synthesized for the
 * local stage and pointed at the emulator's resources: what the IAM-enforcing proxy checks every
 * request of a bundle against.
 */
export interface FunctionPolicies {
  readonly account: string;
  readonly region: string;
  /** Per bundle: the assumed-role ARN it calls as, and its role's identity policies. */
  readonly functions: Readonly<
    Record<
      LambdaBundle,
      {
        readonly principalArn: string;
        /** The role's ARN (`aws:PrincipalArn` of its sessions). */
        readonly roleArn: string;
        readonly policies: { name: string; policy: PolicyDocument }[];
      }
    >
  >;
  /** The stage key's key policy (KMS evaluates it with the caller's identity policies). */
  readonly keyPolicy: PolicyDocument;
  /** Resource policies of secrets, by the ARN they are evaluated under. */
  readonly secretPolicies: ReadonlyMap<string, PolicyDocument>;
  /**
   * The ARN of the stage's managed token: a secret the harness creates with the stage's tag that
   * stands for no other configured secret is evaluated as this one (the stack grants each
   * configured secret the same rotation, health-check, rollback and verifier actions).
   */
  readonly managedSecretArn: string;
  /**
   * The ARN of the stage's overlap-mode GitLab token: a harness secret whose document is an
   * overlap-mode `gitlab-access-token` is evaluated as this one (the retire function may read any
   * of its versions, to revoke a retired token at GitLab).
   */
  readonly gitlabOverlapSecretArn: string;
  /**
   * The ARN of the stage's self-mode GitLab token (not the manager): a harness secret whose
   * document is a self-mode `gitlab-access-token` is evaluated as this one (the retire function
   * reads its retired versions to learn that GitLab already revoked them).
   */
  readonly gitlabSelfSecretArn: string;
  /**
   * The ARN of each configured secret by its full name: a harness secret of that name is that
   * secret (the GitLab manager, whose AWSCURRENT version the retire function may read).
   */
  readonly configuredSecretArns: ReadonlyMap<string, string>;
  /** Names of secrets the stack grants by name (client certificates), evaluated under their own ARN. */
  readonly namedSecrets: readonly string[];
  /** The KMS key of each SNS topic the stack encrypts, by topic ARN. */
  readonly topicKeys: ReadonlyMap<string, string>;
}

const REPOSITORY_ROOT = join(__dirname, '..', '..');
/** moto's account and the region the local stage uses. */
const LOCAL_ACCOUNT = '123456789012';

/** The client certificate of the synthesized stage's OAuth 2.0 secret (tests create it with this name). */
export const LOCAL_CLIENT_CERTIFICATE_NAME = 'rotor/development/mtls-client';

/** The stage's GitLab manager token; tests create their manager secret with this name. */
export const LOCAL_GITLAB_MANAGER_NAME = 'gitlab-manager';
/** The configured overlap-mode GitLab token that harness overlap secrets stand for. */
const LOCAL_GITLAB_OVERLAP_NAME = 'gitlab-project-token';
/** The configured self-mode GitLab token that harness self-mode secrets stand for. */
const LOCAL_GITLAB_SELF_NAME = 'gitlab-personal-token';

/** The secrets of the local stage, by name within it. */
const STAGE_SECRETS: readonly Record<string, unknown>[] = [
  { name: 'deploy-token', provider: 'managed-token', schedule: 'rate(4 hours)', window: '1h' },
  {
    name: 'idp-token',
    provider: 'oauth2-refresh-token',
    schedule: 'rate(1 day)',
    window: '1h',
    oauth2: {
      tokenEndpoint: 'https://idp.example.com/token',
      clientId: 'rotor',
      accessTokenLifetimeSeconds: 900,
      refreshTokenLifetimeSeconds: 86_400,
      tls: { clientCertificateSecretName: LOCAL_CLIENT_CERTIFICATE_NAME },
    },
  },
  {
    name: LOCAL_GITLAB_MANAGER_NAME,
    provider: 'gitlab-access-token',
    schedule: 'rate(4 hours)',
    window: '1h',
    gitlab: { origin: 'https://gitlab.example.com', type: 'personal', scopes: ['api'] },
  },
  {
    name: LOCAL_GITLAB_SELF_NAME,
    provider: 'gitlab-access-token',
    schedule: 'rate(4 hours)',
    window: '1h',
    gitlab: { origin: 'https://gitlab.example.com', type: 'personal', scopes: ['read_api'] },
  },
  {
    name: LOCAL_GITLAB_OVERLAP_NAME,
    provider: 'gitlab-access-token',
    schedule: 'rate(4 hours)',
    window: '1h',
    gitlab: {
      origin: 'https://gitlab.example.com',
      type: 'project',
      owner: 'example-group/app',
      scopes: ['read_registry', 'write_registry'],
      accessLevel: 30,
      managerSecret: LOCAL_GITLAB_MANAGER_NAME,
    },
  },
];

/**
 * The config the local stage is synthesized from: a managed token, an OAuth 2.0 secret with a
 * client certificate, and a GitLab project token in overlap mode with its manager (a personal
 * token in self mode), so that every grant a function can have is in the template.
 */
function stageConfig(stage: string, secretNamePrefix: string, region: string): Record<string, unknown> {
  return {
    stages: [
      {
        name: stage,
        secretNamePrefix,
        logRetentionDays: 14,
        account: LOCAL_ACCOUNT,
        region,
        secrets: STAGE_SECRETS,
      },
    ],
  };
}

const ROLE_PREFIX: Record<LambdaBundle, string> = {
  [LambdaBundle.rotation]: 'RotationRole',
  [LambdaBundle.verifier]: 'VerifierRole',
  [LambdaBundle.retire]: 'RetireRole',
  [LambdaBundle.healthCheck]: 'HealthCheckRole',
  [LambdaBundle.rollback]: 'RollbackRole',
  [LambdaBundle.rotationEvents]: 'RotationEventsRole',
};

/** Every file the synthesized policies can depend on: a change to any of them synthesizes again. */
function sourceDigest(config: unknown): string {
  const hash = createHash('sha256').update(JSON.stringify(config));
  const walk = (directory: string): void => {
    for (const entry of readdirSync(directory, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) hash.update(path).update(readFileSync(path));
    }
  };
  walk(join(REPOSITORY_ROOT, 'lib'));
  walk(join(REPOSITORY_ROOT, 'lambda', 'shared'));
  for (const file of ['cdk.json', 'package-lock.json']) hash.update(readFileSync(join(REPOSITORY_ROOT, file)));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The stage's template, synthesized as `cdk synth` would (cdk.json's feature flags), and kept in
 * dist/ under a digest of its sources: synthesis takes seconds, a cached read milliseconds.
 */
function synthesizedTemplate(config: Record<string, unknown>): SynthesizedTemplate {
  const cacheDir = join(REPOSITORY_ROOT, 'dist', 'iam-templates');
  const cached = join(cacheDir, `${sourceDigest(config)}.json`);
  if (existsSync(cached)) return JSON.parse(readFileSync(cached, 'utf8')) as SynthesizedTemplate;
  // Loaded here only: aws-cdk-lib costs about a second to require.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { Template } = require('aws-cdk-lib/assertions') as typeof CdkAssertions;
  const { addRotorStages } = require('../../lib/rotor-stages') as typeof RotorStagesModule;
  const { parseRotorConfig } = require('../../lib/config/rotor-config') as typeof RotorConfigModule;
  const { newTestApp } = require('../infra/infra-test-app') as typeof InfraTestAppModule;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const [stack] = addRotorStages(newTestApp(), parseRotorConfig(config));
  const template = Template.fromStack(stack!).toJSON() as SynthesizedTemplate;
  mkdirSync(cacheDir, { recursive: true });
  // Written aside and renamed, so a concurrent reader never sees half a file.
  const partial = `${cached}.${process.pid}`;
  writeFileSync(partial, JSON.stringify(template));
  renameSync(partial, cached);
  return template;
}

/**
 * The policies of every Rotor function of the local stage, with each resource of the template
 * replaced by the emulator's (its key, pepper, alert topic, stand-in functions and scheduler role).
 */
export function functionPolicies(local: LocalEnvironment, secretNamePrefix: string): FunctionPolicies {
  const region = local.endpoint.region;
  const config = stageConfig(local.stage, secretNamePrefix, region);
  const template = synthesizedTemplate(config);
  const resolver = new TemplateResolver(`Rotor-${local.stage}`, template, { account: LOCAL_ACCOUNT, region });
  const getAtt = (logicalIdPrefix: string): string =>
    resolver.resolve({ 'Fn::GetAtt': [resolver.roleId({ logicalIdPrefix }), 'Arn'] }) as string;
  const [keyArn] = resolver.arnsOf('AWS::KMS::Key');
  const [topicArn] = resolver.arnsOf('AWS::SNS::Topic');
  const toLocal = new Map<string, string>([
    [keyArn!, local.kmsKeyArn],
    [resolver.secretArn(RotorResourceName.fingerprintPepper(local.stage)), local.pepperSecretArn],
    [topicArn!, local.alertTopicArn],
    [resolver.functionArn('RotationFunction'), local.rotationFunctionArn],
    [resolver.functionArn('RetireFunction'), local.retireFunctionArn],
    [getAtt('RetireSchedulerRole'), local.env.ROTOR_SCHEDULER_ROLE_ARN!],
  ]);
  const localized = <T>(value: T): T => {
    let text = JSON.stringify(value);
    for (const [synthesized, emulated] of toLocal) text = text.split(synthesized).join(emulated);
    return JSON.parse(text) as T;
  };

  const functions = Object.fromEntries(
    Object.values(LambdaBundle).map((bundle) => {
      const roleId = resolver.roleId({ logicalIdPrefix: ROLE_PREFIX[bundle] });
      return [
        bundle,
        {
          principalArn: `arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/${roleId}/${bundle}`,
          roleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/${roleId}`,
          policies: localized(resolver.rolePolicies(roleId)),
        },
      ];
    }),
  ) as FunctionPolicies['functions'];

  const secretPolicies = new Map<string, PolicyDocument>();
  for (const resource of Object.values(template.Resources)) {
    if (resource.Type !== 'AWS::SecretsManager::ResourcePolicy') continue;
    const secretArn = localized(resolver.resolve(resource.Properties!.SecretId)) as string;
    secretPolicies.set(secretArn, localized(resolver.resolve(resource.Properties!.ResourcePolicy)) as PolicyDocument);
  }

  const topicKeys = new Map<string, string>();
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    const key = resource.Properties?.KmsMasterKeyId;
    if (resource.Type !== 'AWS::SNS::Topic' || key === undefined) continue;
    topicKeys.set(
      localized(resolver.resolve({ Ref: logicalId })) as string,
      localized(resolver.resolve(key)) as string,
    );
  }

  return {
    account: LOCAL_ACCOUNT,
    region,
    functions,
    keyPolicy: localized(resolver.keyPolicy()),
    secretPolicies,
    managedSecretArn: resolver.secretArn(`${secretNamePrefix}deploy-token`),
    gitlabOverlapSecretArn: resolver.secretArn(`${secretNamePrefix}${LOCAL_GITLAB_OVERLAP_NAME}`),
    gitlabSelfSecretArn: resolver.secretArn(`${secretNamePrefix}${LOCAL_GITLAB_SELF_NAME}`),
    configuredSecretArns: new Map(
      STAGE_SECRETS.map(({ name }) => {
        const fullName = `${secretNamePrefix}${String(name)}`;
        return [fullName, resolver.secretArn(fullName)] as const;
      }),
    ),
    namedSecrets: [LOCAL_CLIENT_CERTIFICATE_NAME],
    topicKeys,
  };
}
