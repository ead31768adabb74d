import { functionPolicies, type FunctionPolicies } from '../../cli/local/function-policies';
import type { LocalEnvironment } from '../../cli/local/provision-local';
import { synthesizedStageTemplate } from '../../cli/local/stage-template';
import { parseRotorConfig } from '../../lib/config/rotor-config';

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
 * The policies of every Rotor function of the tests' local stage, synthesized with a managed
 * token, an OAuth 2.0 secret with a client certificate, and a GitLab project token in overlap mode
 * with its manager (a personal token in self mode), so that every grant a function can have is in
 * the template; the secrets a test creates stand for these (see docs/emulator.md).
 */
export async function testStagePolicies(local: LocalEnvironment, secretNamePrefix: string): Promise<FunctionPolicies> {
  const [stage] = parseRotorConfig({
    stages: [{ name: local.stage, secretNamePrefix, logRetentionDays: 14, secrets: STAGE_SECRETS }],
  }).stages;
  return functionPolicies(local, await synthesizedStageTemplate(stage!, local.endpoint.region), stage!);
}
