import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { consumerRoleName, type RotorConsumerConfig, type RotorOidcProviderConfig } from './config/consumer-config';
import { ConsumerRole } from './consumer-role';
import { CI_PLATFORM, type CiPlatformName } from './oidc-trust';
import type { RotatedSecret } from './rotated-secret';

/** Stack output listing each consumer's role: `<consumer>=<role ARN>`, comma-separated. */
export const CONSUMER_ROLE_ARNS_OUTPUT = 'ConsumerRoleArns';

/** Properties of {@link CiConsumers}. */
export interface CiConsumersProps {
  /** Deployment stage; names the roles `rotor-<stage>-<consumer>`. */
  readonly stage: string;
  /** The stage's consumers, as validated by the config. */
  readonly consumers: readonly RotorConsumerConfig[];
  /** One provider per platform the consumers use, created or imported. */
  readonly oidcProviders: readonly RotorOidcProviderConfig[];
  /** The stage's secrets by their name within the stage; a consumer reads only these. */
  readonly secrets: ReadonlyMap<string, RotatedSecret>;
}

/** The subjects a consumer's jobs present, built by its platform's rules. */
export function consumerSubjects(consumer: RotorConsumerConfig): {
  repositorySubjectPrefix: string;
  subjects: string[];
  subjectPatterns: string[];
} {
  const platform = CI_PLATFORM[consumer.platform];
  const environmentSubject = platform.environmentSubject;
  if (consumer.environments.length > 0 && environmentSubject === undefined) {
    throw new Error(
      `${platform.title} consumer ${consumer.name} cannot be limited to environments, got ${consumer.environments.join(', ')}`,
    );
  }
  return {
    repositorySubjectPrefix: platform.repositorySubjectPrefix(consumer.repository),
    subjects: [
      ...consumer.refs.map((ref) => platform.refSubject(consumer.repository, ref)),
      ...consumer.environments.map((environment) => environmentSubject!(consumer.repository, environment)),
    ],
    subjectPatterns: consumer.refPatterns.map((pattern) => platform.refSubject(consumer.repository, pattern)),
  };
}

/**
 * The CI consumers of one stage: the IAM OIDC provider of each platform they use (created, or
 * imported when the account already has it) and one {@link ConsumerRole} per consumer, named
 * `rotor-<stage>-<consumer>`, that reads only the consumer's secrets of this stage.
 */
export class CiConsumers extends Construct {
  /** The OIDC provider of each platform in use. */
  readonly oidcProviders: ReadonlyMap<CiPlatformName, iam.IOidcProvider>;
  /** Each consumer's role, by consumer name. */
  readonly roles: ReadonlyMap<string, ConsumerRole>;

  constructor(scope: Construct, id: string, props: CiConsumersProps) {
    super(scope, id);
    const providers = new Map<CiPlatformName, iam.IOidcProvider>();
    for (const provider of props.oidcProviders) {
      const constructId = `Provider-${provider.platform}`;
      providers.set(
        provider.platform,
        provider.source === 'create'
          ? new iam.OidcProviderNative(this, constructId, {
              url: `https://${provider.issuerHost}`,
              clientIds: [provider.audience],
            })
          : iam.OidcProviderNative.fromOidcProviderArn(
              this,
              constructId,
              provider.providerArn ??
                Stack.of(this).formatArn({
                  service: 'iam',
                  region: '',
                  resource: 'oidc-provider',
                  resourceName: provider.issuerHost,
                }),
            ),
      );
    }
    this.oidcProviders = providers;

    const roles = new Map<string, ConsumerRole>();
    for (const consumer of props.consumers) {
      const settings = props.oidcProviders.find((provider) => provider.platform === consumer.platform);
      const oidcProvider = providers.get(consumer.platform);
      if (settings === undefined || oidcProvider === undefined) {
        throw new Error(
          `CiConsumers has no OIDC provider for ${consumer.platform}, which consumer ${consumer.name} uses`,
        );
      }
      const secrets = consumer.secrets.map((name) => {
        const secret = props.secrets.get(name);
        if (secret === undefined) {
          throw new Error(
            `CiConsumers consumer ${consumer.name} may read only secrets of stage ${props.stage} (${[...props.secrets.keys()].join(', ')}), got "${name}"`,
          );
        }
        return secret;
      });
      roles.set(
        consumer.name,
        new ConsumerRole(this, `Consumer-${consumer.name}`, {
          oidcProvider,
          issuerHost: settings.issuerHost,
          audience: settings.audience,
          ...consumerSubjects(consumer),
          secrets,
          roleName: consumerRoleName(props.stage, consumer.name),
          description: `Rotor ${props.stage}: ${CI_PLATFORM[consumer.platform].title} jobs of ${consumer.repository} read ${consumer.secrets.join(', ')}`,
        }),
      );
    }
    this.roles = roles;
  }
}
