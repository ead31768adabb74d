import type { RotorGitLabConfig } from './gitlab-config';
import type { RotorOAuth2Config } from './oauth2-config';

// The origins a stage's provider calls may reach are fixed at deploy: the union of the endpoints
// its secrets' provider blocks name. The functions get them as ROTOR_PROVIDER_ORIGINS and refuse a
// secret document that names any other origin, so that whoever can write a secret's value cannot
// send its credentials elsewhere.

/** What {@link stageProviderOrigins} reads of a stage: each secret's provider block. */
export interface StageWithProviderEndpoints {
  /** Origins of providers whose endpoints only their documents name (GitLab's `gitlabUrl`). */
  readonly providerOrigins?: readonly string[];
  readonly secrets: readonly {
    readonly oauth2?: Pick<RotorOAuth2Config, 'tokenEndpoint' | 'introspectionEndpoint' | 'testUrl'> | undefined;
    readonly gitlab?: Pick<RotorGitLabConfig, 'origin'> | undefined;
  }[];
}

/** Every URL a secret's provider block names as an endpoint its credentials go to. */
function providerEndpointsOf(secret: StageWithProviderEndpoints['secrets'][number]): (string | undefined)[] {
  const oauth2 = secret.oauth2;
  return [
    ...(oauth2 === undefined ? [] : [oauth2.tokenEndpoint, oauth2.introspectionEndpoint, oauth2.testUrl]),
    secret.gitlab?.origin,
  ];
}

/**
 * The origins (`https://host` or `https://host:port`, as `URL.origin` writes them) of every
 * provider endpoint the stage's config names, sorted and without repeats; empty when no secret
 * calls a provider, plus the stage's own `providerOrigins`. A provider block with endpoints of its
 * own adds them in {@link providerEndpointsOf}.
 */
export function stageProviderOrigins(stage: StageWithProviderEndpoints): string[] {
  const origins = new Set<string>((stage.providerOrigins ?? []).map((origin) => new URL(origin).origin));
  for (const secret of stage.secrets) {
    for (const url of providerEndpointsOf(secret)) if (url !== undefined) origins.add(new URL(url).origin);
  }
  return [...origins].sort();
}
