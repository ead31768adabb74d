import { templateDigest } from '../../../cli/local/stage-template';
import { parseRotorConfig } from '../../../lib/config/rotor-config';
import { IDP_TOKEN_OAUTH2, oauth2TestStageFile } from '../../infra/infra-test-app';

/** The test stage with `idp-token`'s oauth2 block changed by `change`. */
function stageWith(change: Record<string, unknown>) {
  const file = oauth2TestStageFile();
  const secrets = (file.secrets as Record<string, unknown>[]).map((secret) =>
    secret.name === 'idp-token' ? { ...secret, oauth2: { ...IDP_TOKEN_OAUTH2, ...change } } : secret,
  );
  return parseRotorConfig({ stages: [{ ...file, secrets }] }).stages[0]!;
}

describe('Function: templateDigest (the key of the local IAM gate’s cached template)', () => {
  it('is the same when only where a provider answers changes, as a local IdP on a new port does', () => {
    const base = templateDigest(stageWith({}));
    expect(
      templateDigest(
        stageWith({
          tokenEndpoint: 'https://127.0.0.1:50123/oauth2/token',
          introspectionEndpoint: 'https://127.0.0.1:50123/oauth2/introspect',
        }),
      ),
    ).toBe(base);
  });

  it('changes with anything a policy can depend on: a secret, a client certificate, the stage name', () => {
    const base = templateDigest(stageWith({}));
    const otherCertificate = stageWith({
      tls: { minVersion: 'TLSv1.3', clientCertificateSecretName: 'rotor/test/other-certificate' },
    });
    expect(templateDigest(otherCertificate)).not.toBe(base);
    const fewer = { ...stageWith({}), secrets: stageWith({}).secrets.slice(1) };
    expect(templateDigest(fewer)).not.toBe(base);
    expect(templateDigest({ ...stageWith({}), name: 'other' })).not.toBe(base);
  });
});
