import { SECRET_DOCUMENT_SCHEMA_VERSION, type RotorProvider } from '../lambda/shared/rotor-constants';
import { GITLAB_PROVIDER, type RotorGitLabConfig } from './config/gitlab-config';
import { OAUTH2_PROVIDER, type RotorOAuth2Config } from './config/oauth2-config';

/**
 * The first value the stack writes into a new secret: a Rotor document that holds no credential,
 * so the rotation function accepts it and never mistakes it for a foreign value. Nothing in it is
 * secret, so it may sit in the template as plain text.
 *
 * - `managed-token`: `{"provider":"managed-token","schemaVersion":1}`; the first rotation (at
 *   deploy) issues the token.
 * - `oauth2-refresh-token`: the provider, the schema version and the non-secret settings of the
 *   `oauth2` block (token endpoint, client id, client authentication, scope, introspection
 *   endpoint or test URL, refresh-token reuse interval, TLS minimum version and the client
 *   certificate secret's name as `tls.clientCertificateSecretId`). No client secret, refresh token
 *   or access token: `rotor bootstrap` writes those into a new version built on these settings.
 *
 * - `gitlab-access-token`: the provider, the schema version and the `gitlab` block as document
 *   fields (`gitlabUrl`, `tokenType`, `ownerId`, `mode`, `managerSecret` as a full name, `scopes`,
 *   `accessLevel`, `expiryHorizonSeconds`, `expiryMarginSeconds`, `tls.minVersion`). No token:
 *   `rotor bootstrap` writes it and its id into a new version built on these settings.
 *
 * `rotor local up` writes the same document, so a local secret starts as a deployed one does.
 *
 * @throws Error when `oauth2` is given for another provider or missing for `oauth2-refresh-token`.
 */
export function secretFirstDocument(
  provider: RotorProvider,
  oauth2?: RotorOAuth2Config,
  gitlab?: RotorGitLabConfig,
): Record<string, unknown> {
  const envelope = { provider, schemaVersion: SECRET_DOCUMENT_SCHEMA_VERSION };
  if ((provider === GITLAB_PROVIDER) !== (gitlab !== undefined)) {
    throw new Error(
      gitlab === undefined
        ? `provider "${GITLAB_PROVIDER}" needs its gitlab settings`
        : `gitlab settings are only for provider "${GITLAB_PROVIDER}", got "${provider}"`,
    );
  }
  if (gitlab !== undefined) return { ...envelope, ...gitlabDocumentFields(gitlab) };
  if (provider !== OAUTH2_PROVIDER) {
    if (oauth2 !== undefined)
      throw new Error(`oauth2 settings are only for provider "${OAUTH2_PROVIDER}", got "${provider}"`);
    return envelope;
  }
  if (oauth2 === undefined) throw new Error(`provider "${OAUTH2_PROVIDER}" needs its oauth2 settings`);
  const tls = {
    ...(oauth2.tls?.minVersion === undefined ? {} : { minVersion: oauth2.tls.minVersion }),
    ...(oauth2.tls?.clientCertificateSecretName === undefined
      ? {}
      : { clientCertificateSecretId: oauth2.tls.clientCertificateSecretName }),
  };
  return {
    ...envelope,
    tokenEndpoint: oauth2.tokenEndpoint,
    clientId: oauth2.clientId,
    clientAuthentication: oauth2.clientAuthentication,
    ...(oauth2.scope === undefined ? {} : { scope: oauth2.scope }),
    ...(oauth2.introspectionEndpoint === undefined ? {} : { introspectionEndpoint: oauth2.introspectionEndpoint }),
    ...(oauth2.testUrl === undefined ? {} : { testUrl: oauth2.testUrl }),
    ...(oauth2.refreshTokenReuseIntervalSeconds === undefined
      ? {}
      : { refreshTokenReuseIntervalSeconds: oauth2.refreshTokenReuseIntervalSeconds }),
    ...(Object.keys(tls).length === 0 ? {} : { tls }),
  };
}

/** The document fields of a `gitlab` block: nothing secret. */
function gitlabDocumentFields(gitlab: RotorGitLabConfig): Record<string, unknown> {
  return {
    gitlabUrl: gitlab.origin,
    tokenType: gitlab.type,
    ...(gitlab.owner === undefined ? {} : { ownerId: gitlab.owner }),
    mode: gitlab.mode,
    ...(gitlab.managerSecret === undefined ? {} : { managerSecret: gitlab.managerSecret }),
    scopes: gitlab.scopes,
    ...(gitlab.accessLevel === undefined ? {} : { accessLevel: gitlab.accessLevel }),
    expiryHorizonSeconds: gitlab.expiryHorizonSeconds,
    expiryMarginSeconds: gitlab.expiryMarginSeconds,
    ...(gitlab.tlsMinVersion === undefined ? {} : { tls: { minVersion: gitlab.tlsMinVersion } }),
  };
}
