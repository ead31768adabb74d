import { performance } from 'node:perf_hooks';
import { NodeProviderHttpClient } from '../lambda/adapters/provider-http-client';
import { beginRotation } from '../cli/local/local-rotation';
import { ROTATION_STEPS } from '../lambda/core/rotation/rotation-event';
import type { LocalRotor } from '../test/support/local-rotor';
import { startTestIdp, type TestIdp } from '../test/support/oidc-idp';
import { createTestPki, type TestPki } from '../test/support/test-pki';

const ROTATIONS = 15;

export interface OAuthFigures {
  /** createSecret of an OAuth rotation on one warm container, ms per rotation. */
  readonly createSecretMs: readonly number[];
  /** One refresh request through the same HTTP client, kept alive, ms per request. */
  readonly bareRefreshMs: readonly number[];
  /** DynamoDB calls per OAuth rotation (all four steps). */
  readonly dynamoDbCalls: readonly number[];
}

type Handler = (event: unknown) => Promise<void>;

/** The bench's IdP: started before the rotation handler loads, which reads its origin (ROTOR_PROVIDER_ORIGINS) once. */
export interface BenchIdp {
  readonly pki: TestPki;
  readonly idp: TestIdp;
}

export async function startBenchIdp(): Promise<BenchIdp> {
  const pki = createTestPki();
  return { pki, idp: await startTestIdp({ tls: pki.server, caPem: pki.caPem }) };
}

/**
 * What the spend-once guard costs: createSecret of an `oauth2-refresh-token` rotation (journal
 * claim, the refresh request, AWSPENDING, the ledger's pending record) against the refresh request
 * alone, sent to the same IdP (oidc-provider on loopback, HTTPS) by the same kind of keep-alive
 * client, in the same run.
 */
export async function measureOAuthRotation(
  rotor: LocalRotor,
  handler: Handler,
  dynamoDbCallsSinceReset: () => number,
  { pki, idp }: BenchIdp,
): Promise<OAuthFigures> {
  const http = new NodeProviderHttpClient({
    endpoints: { origins: new Set([idp.issuer]), allowPrivateAddresses: true },
  });
  try {
    const { refreshToken, accessToken } = await idp.issueRefreshToken();
    const arn = await rotor.createSecret(
      'rotor/development/bench-oauth',
      JSON.stringify({
        provider: 'oauth2-refresh-token',
        tokenEndpoint: idp.tokenEndpoint,
        introspectionEndpoint: idp.introspectionEndpoint,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        refreshToken,
        accessToken,
        tls: { caBundle: pki.caPem },
      }),
    );
    const createSecretMs: number[] = [];
    const bareRefreshMs: number[] = [];
    const dynamoDbCalls: number[] = [];
    const basic = Buffer.from(`${idp.clientId}:${idp.clientSecret}`).toString('base64');
    for (let i = 0; i < ROTATIONS; i += 1) {
      const { versionId } = await beginRotation(rotor.local, arn);
      rotor.proxy.resetCounts();
      for (const step of ROTATION_STEPS) {
        const started = performance.now();
        await handler({ Step: step, SecretId: arn, ClientRequestToken: versionId });
        if (step === 'createSecret') createSecretMs.push(performance.now() - started);
      }
      dynamoDbCalls.push(dynamoDbCallsSinceReset());

      const bare = await idp.issueRefreshToken();
      const started = performance.now();
      const response = await http.send({
        method: 'POST',
        url: idp.tokenEndpoint,
        headers: { authorization: `Basic ${basic}` },
        form: { grant_type: 'refresh_token', refresh_token: bare.refreshToken },
        tls: { caBundlePem: pki.caPem },
      });
      bareRefreshMs.push(performance.now() - started);
      if (response.status !== 200) throw new Error(`the bare refresh answered ${response.status}`);
    }
    // The first of each is a cold start (TLS handshake, pepper read): leave it out.
    return {
      createSecretMs: createSecretMs.slice(1),
      bareRefreshMs: bareRefreshMs.slice(1),
      dynamoDbCalls: dynamoDbCalls.slice(1),
    };
  } finally {
    http.close();
    await idp.stop();
  }
}
