import * as z from 'zod';
import {
  CI_PLATFORM,
  CI_PLATFORMS,
  DEFAULT_OIDC_AUDIENCE,
  exactRefProblem,
  hasWildcard,
  refPatternProblem,
  type CiPlatformName,
} from '../oidc-trust';
import { show } from './show-value';

/** A CI job identity that may read some of its stage's secrets, through a role of its own. */
export interface RotorConsumerConfig {
  /** Lower-case slug, unique within the stage; the role is `rotor-<stage>-<name>`. */
  readonly name: string;
  /** The CI platform whose OIDC tokens the role trusts. */
  readonly platform: CiPlatformName;
  /** GitHub repository (`owner/name`) or GitLab project path (`group/sub/project`): the file's `repository` or `project`. */
  readonly repository: string;
  /** Exact refs whose jobs may assume the role, e.g. `refs/heads/main`. */
  readonly refs: readonly string[];
  /** Ref patterns (StringLike), e.g. `refs/tags/v*`; each keeps a literal branch or tag prefix. */
  readonly refPatterns: readonly string[];
  /** GitHub environments whose jobs may assume the role, e.g. `production`. */
  readonly environments: readonly string[];
  /** Names within the stage of the secrets the role may read. */
  readonly secrets: readonly string[];
}

/** The IAM OIDC provider of one platform in a stage. */
export interface RotorOidcProviderConfig {
  readonly platform: CiPlatformName;
  /** Issuer host: `token.actions.githubusercontent.com`, `gitlab.com` or a self-managed GitLab host. */
  readonly issuerHost: string;
  /** The `aud` the role requires and the provider lists as client id. */
  readonly audience: string;
  /**
   * `create`: the stack creates the provider. `import`: it exists already, at `providerArn` or,
   * without one, as the account's provider for `issuerHost`.
   */
  readonly source: 'create' | 'import';
  /** ARN of an existing provider; only with `source: 'import'`. */
  readonly providerArn?: string;
}

/** IAM role names are at most 64 characters. */
const MAX_ROLE_NAME_LENGTH = 64;

/** Name of a consumer's role: `rotor-<stage>-<consumer>`, what a pipeline puts in its role ARN. */
export function consumerRoleName(stage: string, consumer: string): string {
  return `rotor-${stage}-${consumer}`;
}

const CONSUMER_NAME = /^(?=.{1,40}$)[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
// GitHub environment names: letters, digits, spaces and ._- (the name goes into `sub` as is).
const ENVIRONMENT = /^(?=.{1,255}$)[A-Za-z0-9_.-](?:[A-Za-z0-9 _.-]*[A-Za-z0-9_.-])?$/;
const HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const AUDIENCE = /^[\x21-\x7e]{1,255}$/;
const OIDC_PROVIDER_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::(\d{12}):oidc-provider\/(.+)$/;

/** A list of strings each checked by `problem` (a message, or undefined when fine). */
function listOf(problem: (value: string) => string | undefined) {
  return z.array(
    z.string().superRefine((value, ctx) => {
      const found = problem(value);
      if (found) ctx.addIssue({ code: 'custom', message: `${found}, got ${show(value)}` });
    }),
  );
}

function environmentProblem(environment: string): string | undefined {
  if (hasWildcard(environment)) return 'must be an exact environment name (no * or ?)';
  return ENVIRONMENT.test(environment)
    ? undefined
    : 'must be a GitHub environment name such as "production" (letters, digits, spaces and ._-, at most 255 characters)';
}

/** Adds an issue at `path` for every repeated value in `values`. */
function refuseDuplicates(values: readonly string[], path: (string | number)[], ctx: z.RefinementCtx): void {
  values.forEach((value, index) => {
    const first = values.indexOf(value);
    if (first !== index) {
      ctx.addIssue({ code: 'custom', path: [...path, index], message: `${show(value)} is also entry [${first}]` });
    }
  });
}

export const ConsumerSchema = z
  .strictObject({
    name: z.string().regex(CONSUMER_NAME, {
      error: (iss) =>
        `must be a lower-case slug such as "app-deploy" (a-z, 0-9 and inner hyphens, at most 40 characters), got ${show(iss.input)}`,
    }),
    platform: z.enum(CI_PLATFORMS, {
      error: (iss) =>
        iss.input === undefined
          ? undefined
          : `must be one of ${CI_PLATFORMS.map((p) => `"${p}"`).join(', ')}, got ${show(iss.input)}`,
    }),
    repository: z.string().optional(),
    project: z.string().optional(),
    refs: listOf(exactRefProblem).optional(),
    refPatterns: listOf(refPatternProblem).optional(),
    environments: listOf(environmentProblem).optional(),
    secrets: z.array(z.string()).min(1, { error: 'must name at least one secret of the stage, got []' }),
  })
  .superRefine((consumer, ctx) => {
    const platform = CI_PLATFORM[consumer.platform];
    const field = platform.repositoryField;
    const other = field === 'repository' ? 'project' : 'repository';
    const repository = consumer[field];
    if (repository === undefined) {
      ctx.addIssue({ code: 'custom', path: [field], message: `is required for a ${platform.title} consumer` });
    } else if (!platform.isRepository(repository)) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `must be a ${platform.title} ${field} such as ${platform.repositoryExample}, exactly (no wildcard), got ${show(repository)}`,
      });
    }
    if (consumer[other] !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [other],
        message: `is not a field of a ${platform.title} consumer, which names its ${field}, got ${show(consumer[other])}`,
      });
    }
    const environments = consumer.environments ?? [];
    if (environments.length > 0 && platform.environmentSubject === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['environments'],
        message: `${platform.title} puts no environment in its tokens' sub claim, so a role cannot be limited to one; list the protected refs instead, got ${show(environments)}`,
      });
    }
    const trusted = (consumer.refs ?? []).length + (consumer.refPatterns ?? []).length + environments.length;
    if (trusted === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['refs'],
        message:
          'must list at least one ref (or refPatterns, or environments) whose jobs may assume the role, got none',
      });
    }
    refuseDuplicates(consumer.refs ?? [], ['refs'], ctx);
    refuseDuplicates(consumer.refPatterns ?? [], ['refPatterns'], ctx);
    refuseDuplicates(environments, ['environments'], ctx);
    refuseDuplicates(consumer.secrets, ['secrets'], ctx);
  });

const OidcProviderSchema = z.strictObject({
  host: z
    .string()
    .regex(HOST, {
      error: (iss) =>
        `must be the issuer's host name such as "gitlab.example.com" (lower case, no scheme, port or path), got ${show(iss.input)}`,
    })
    .optional(),
  audience: z
    .string()
    .regex(AUDIENCE, {
      error: (iss) =>
        `must be the token's aud, such as "sts.amazonaws.com" (1-255 printable characters, no spaces), got ${show(iss.input)}`,
    })
    .refine((audience) => !hasWildcard(audience), {
      error: (iss) => `must be exact (no * or ?), got ${show(iss.input)}`,
    })
    .optional(),
  existing: z.boolean().optional(),
  providerArn: z
    .string()
    .regex(OIDC_PROVIDER_ARN, {
      error: (iss) =>
        `must be an IAM OIDC provider ARN such as "arn:aws:iam::123456789012:oidc-provider/gitlab.com", got ${show(iss.input)}`,
    })
    .optional(),
});

export const OidcProvidersSchema = z.strictObject(
  Object.fromEntries(CI_PLATFORMS.map((platform) => [platform, OidcProviderSchema.optional()])) as Record<
    CiPlatformName,
    z.ZodOptional<typeof OidcProviderSchema>
  >,
);

type ConsumerFile = z.infer<typeof ConsumerSchema>;
type OidcProvidersFile = z.infer<typeof OidcProvidersSchema>;

/** The parts of a parsed stage that the consumer rules read. */
interface StageWithConsumers {
  readonly name: string;
  readonly secretNamePrefix: string;
  readonly account?: string | undefined;
  readonly secrets: readonly { readonly name: string }[];
  readonly consumers?: readonly ConsumerFile[] | undefined;
  readonly oidcProviders?: OidcProvidersFile | undefined;
}

/** Rules within one stage: unique consumer names, role name length, secrets of the stage, providers. */
export function checkStageConsumers(stage: StageWithConsumers, ctx: z.RefinementCtx): void {
  const consumers = stage.consumers ?? [];
  const secretNames = stage.secrets.map((secret) => secret.name);
  consumers.forEach((consumer, index) => {
    const path = ['consumers', index];
    const first = consumers.findIndex((c) => c.name === consumer.name);
    if (first !== index) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'name'],
        message: `${show(consumer.name)} is also the name of consumers[${first}]; consumer names must be unique within a stage`,
      });
    }
    const roleName = consumerRoleName(stage.name, consumer.name);
    if (roleName.length > MAX_ROLE_NAME_LENGTH) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'name'],
        message: `makes the role name ${show(roleName)}, longer than IAM's ${MAX_ROLE_NAME_LENGTH} characters, got ${show(consumer.name)}`,
      });
    }
    consumer.secrets.forEach((secret, secretIndex) => {
      if (!secretNames.includes(secret)) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'secrets', secretIndex],
          message: `must name a secret of this stage (${secretNames.map((name) => show(name)).join(', ')}) by its name within the stage, got ${show(secret)}`,
        });
      }
    });
  });

  const used = new Set(consumers.map((consumer) => consumer.platform));
  for (const platform of CI_PLATFORMS) {
    const settings = stage.oidcProviders?.[platform];
    if (settings === undefined) continue;
    const path = ['oidcProviders', platform];
    if (!used.has(platform)) {
      ctx.addIssue({
        code: 'custom',
        path,
        message: `no consumer of this stage uses ${platform}; remove the entry, got ${show(settings)}`,
      });
    }
    if (settings.host !== undefined && !CI_PLATFORM[platform].issuerHostConfigurable) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'host'],
        message: `${CI_PLATFORM[platform].title} always issues from "${CI_PLATFORM[platform].defaultIssuerHost}", got ${show(settings.host)}`,
      });
    }
    if (settings.existing === true && settings.providerArn !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'providerArn'],
        message: `give either "existing": true (the account's provider for the issuer) or providerArn, not both, got ${show(settings.providerArn)}`,
      });
    }
    const arn = settings.providerArn === undefined ? undefined : OIDC_PROVIDER_ARN.exec(settings.providerArn);
    if (arn) {
      const host = settings.host ?? CI_PLATFORM[platform].defaultIssuerHost;
      if (arn[2] !== host) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'providerArn'],
          message: `must be the provider of the issuer "${host}" (ending in oidc-provider/${host}), got ${show(settings.providerArn)}`,
        });
      }
      if (stage.account !== undefined && arn[1] !== stage.account) {
        ctx.addIssue({
          code: 'custom',
          path: [...path, 'providerArn'],
          message: `must be in the stage's account ${stage.account}: a role trusts only a provider of its own account, got ${show(settings.providerArn)}`,
        });
      }
    }
  }
}

/** The OIDC providers one stage needs: one per platform its consumers use, with the file's settings. */
export function stageOidcProviders(stage: StageWithConsumers): RotorOidcProviderConfig[] {
  const used = new Set((stage.consumers ?? []).map((consumer) => consumer.platform));
  return CI_PLATFORMS.filter((platform) => used.has(platform)).map((platform) => {
    const settings = stage.oidcProviders?.[platform] ?? {};
    const imported = settings.existing === true || settings.providerArn !== undefined;
    return {
      platform,
      issuerHost: settings.host ?? CI_PLATFORM[platform].defaultIssuerHost,
      audience: settings.audience ?? DEFAULT_OIDC_AUDIENCE,
      source: imported ? 'import' : 'create',
      ...(settings.providerArn === undefined ? {} : { providerArn: settings.providerArn }),
    };
  });
}

/**
 * Rules across stages: a secret belongs to one stage (its full name appears once), and two stages
 * that may share an account do not both create the provider of one issuer.
 */
export function checkStagesApart(stages: readonly StageWithConsumers[], ctx: z.RefinementCtx): void {
  const owners = new Map<string, { stage: number; secret: number }>();
  stages.forEach((stage, stageIndex) => {
    stage.secrets.forEach((secret, secretIndex) => {
      const fullName = `${stage.secretNamePrefix}${secret.name}`;
      const owner = owners.get(fullName);
      if (owner === undefined) {
        owners.set(fullName, { stage: stageIndex, secret: secretIndex });
      } else if (owner.stage !== stageIndex) {
        ctx.addIssue({
          code: 'custom',
          path: ['stages', stageIndex, 'secrets', secretIndex, 'name'],
          message: `is the secret ${show(fullName)}, which stages[${owner.stage}].secrets[${owner.secret}] also is; a secret belongs to exactly one stage, got ${show(secret.name)}`,
        });
      }
    });
  });

  const created = stages.map((stage) => stageOidcProviders(stage).filter((provider) => provider.source === 'create'));
  stages.forEach((stage, stageIndex) => {
    for (const provider of created[stageIndex]!) {
      const earlier = stages.findIndex(
        (other, otherIndex) =>
          otherIndex < stageIndex &&
          !(other.account !== undefined && stage.account !== undefined && other.account !== stage.account) &&
          created[otherIndex]!.some((p) => p.issuerHost === provider.issuerHost),
      );
      if (earlier === -1) continue;
      const consumerIndex = (stage.consumers ?? []).findIndex((c) => c.platform === provider.platform);
      ctx.addIssue({
        code: 'custom',
        path: ['stages', stageIndex, 'consumers', consumerIndex, 'platform'],
        message:
          `needs the OIDC provider of "${provider.issuerHost}", which stages[${earlier}] creates too; an account holds one provider per issuer ` +
          `and the two stages may deploy to one account: set stages[${stageIndex}].oidcProviders.${provider.platform}.existing to true, ` +
          `or pin the stages to different accounts, got ${show(provider.platform)}`,
      });
    }
  });
}

/** A parsed consumer as the stack takes it. */
export function toConsumerConfig(consumer: ConsumerFile): RotorConsumerConfig {
  return {
    name: consumer.name,
    platform: consumer.platform,
    // Checked above: the platform's own field is present.
    repository: consumer[CI_PLATFORM[consumer.platform].repositoryField]!,
    refs: consumer.refs ?? [],
    refPatterns: consumer.refPatterns ?? [],
    environments: consumer.environments ?? [],
    secrets: consumer.secrets,
  };
}
