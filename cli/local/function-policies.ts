import type { RotorStageConfig } from '../../lib/config/rotor-config';
import { LambdaBundle, RotorResourceName } from '../../lambda/shared/rotor-constants';
import type { LocalEnvironment } from './provision-local';
import { TemplateResolver, type PolicyDocument, type SynthesizedTemplate } from './template-policies';

/**
 * The policies AWS would evaluate for Rotor's functions, taken from the stack synthesized for a
 * stage and pointed at the emulator's resources: what the local IAM gate checks every request of a
 * bundle against.
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
   * The ARN of the stage's first managed token: a secret with the stage's prefix and tag that is
   * not configured and stands for no other configured secret is evaluated as this one (the stack
   * grants each configured secret the same rotation, health-check, rollback and verifier actions).
   * Undefined when the stage has none: such a secret is evaluated under its own ARN.
   */
  readonly managedSecretArn?: string;
  /**
   * The ARN of the stage's first overlap-mode GitLab token: an unconfigured secret whose document
   * is an overlap-mode `gitlab-access-token` is evaluated as this one (the retire function may read
   * any of its versions, to revoke a retired token at GitLab).
   */
  readonly gitlabOverlapSecretArn?: string;
  /**
   * The ARN of the stage's first self-mode GitLab token that manages no other: an unconfigured
   * secret whose document is a self-mode `gitlab-access-token` is evaluated as this one (the retire
   * function reads its retired versions to learn that GitLab already revoked them).
   */
  readonly gitlabSelfSecretArn?: string;
  /** The ARN of each configured secret by its full name: a secret of that name is that secret. */
  readonly configuredSecretArns: ReadonlyMap<string, string>;
  /** Names of secrets the stack grants by name (client certificates), evaluated under their own ARN. */
  readonly namedSecrets: readonly string[];
  /** The KMS key of each SNS topic the stack encrypts, by topic ARN. */
  readonly topicKeys: ReadonlyMap<string, string>;
}

/** moto's account: the stage is synthesized for it, so that the template's ARNs are the emulator's. */
export const LOCAL_ACCOUNT = '123456789012';

const ROLE_PREFIX: Record<LambdaBundle, string> = {
  [LambdaBundle.rotation]: 'RotationRole',
  [LambdaBundle.verifier]: 'VerifierRole',
  [LambdaBundle.retire]: 'RetireRole',
  [LambdaBundle.healthCheck]: 'HealthCheckRole',
  [LambdaBundle.rollback]: 'RollbackRole',
  [LambdaBundle.rotationEvents]: 'RotationEventsRole',
};

/**
 * The policies of every Rotor function of `stage`, from `template` (the stage synthesized for
 * {@link LOCAL_ACCOUNT} and the emulator's region), with each resource of the template replaced
 * by the emulator's (its key, pepper, alert topic, stand-in functions and scheduler role).
 */
export function functionPolicies(
  local: LocalEnvironment,
  template: SynthesizedTemplate,
  stage: Pick<RotorStageConfig, 'secretNamePrefix' | 'secrets'>,
): FunctionPolicies {
  const region = local.endpoint.region;
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

  const arnOf = (secret: { readonly name: string } | undefined): string | undefined =>
    secret === undefined ? undefined : resolver.secretArn(`${stage.secretNamePrefix}${secret.name}`);
  const managers = new Set(stage.secrets.flatMap((secret) => secret.gitlab?.managerSecret ?? []));
  const managedSecretArn = arnOf(stage.secrets.find((secret) => secret.provider === 'managed-token'));
  const gitlabOverlapSecretArn = arnOf(stage.secrets.find((secret) => secret.gitlab?.mode === 'overlap'));
  const gitlabSelfSecretArn = arnOf(
    stage.secrets.find(
      (secret) => secret.gitlab?.mode === 'self' && !managers.has(`${stage.secretNamePrefix}${secret.name}`),
    ),
  );
  return {
    account: LOCAL_ACCOUNT,
    region,
    functions,
    keyPolicy: localized(resolver.keyPolicy()),
    secretPolicies,
    ...(managedSecretArn === undefined ? {} : { managedSecretArn }),
    ...(gitlabOverlapSecretArn === undefined ? {} : { gitlabOverlapSecretArn }),
    ...(gitlabSelfSecretArn === undefined ? {} : { gitlabSelfSecretArn }),
    configuredSecretArns: new Map(
      stage.secrets.map(({ name }) => {
        const fullName = `${stage.secretNamePrefix}${name}`;
        return [fullName, resolver.secretArn(fullName)] as const;
      }),
    ),
    namedSecrets: stage.secrets.flatMap((secret) => secret.oauth2?.tls?.clientCertificateSecretName ?? []),
    topicKeys,
  };
}
