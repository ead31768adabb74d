import { App } from 'aws-cdk-lib';
import { parseRotorConfig, RotorConfigError } from '../../lib/config/rotor-config';
import { addRotorStages } from '../../lib/rotor-stages';
import { planWriteQuotas, writeQuotaProblem } from '../../lib/write-quota-plan';
import { fleetStageFile } from './infra-test-app';

const OAUTH2 = {
  tokenEndpoint: 'https://idp.example.com/oauth2/token',
  clientId: 'rotor',
  clientAuthentication: 'client_secret_post',
  testUrl: 'https://api.example.com/v1/whoami',
  accessTokenLifetimeSeconds: 1800,
  refreshTokenLifetimeSeconds: 7 * 86_400,
  refreshIntervalSeconds: 600,
};

/** A stage of `count` OAuth 2.0 secrets, each refreshed every 10 minutes and rotated daily. */
function oauthStageFile(count: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'idp',
    secretNamePrefix: 'rotor/idp/',
    logRetentionDays: 30,
    ...extra,
    secrets: Array.from({ length: count }, (_, index) => ({
      name: `client-${index}`,
      provider: 'oauth2-refresh-token',
      schedule: 'rate(1 day)',
      window: '2h',
      oauth2: OAUTH2,
    })),
  };
}

describe('planWriteQuotas', () => {
  it('counts 2 writes per rotation and, per refresh, 1 RotateSecret and 2 writes, per account and region', () => {
    // GIVEN one managed token rotated every 4 hours in one region, one OAuth secret in another
    const config = parseRotorConfig({
      stages: [{ ...fleetStageFile(1), region: 'eu-west-1' }, oauthStageFile(1, { region: 'us-east-1' })],
    });

    // WHEN
    const plans = planWriteQuotas(config.stages);

    // THEN
    expect(plans).toEqual([
      expect.objectContaining({
        region: '(any)/eu-west-1',
        stages: ['fleet'],
        secrets: 1,
        rotationsPerDay: 6,
        refreshesPerDay: 0,
        writes: expect.objectContaining({ perSecond: 2, fromRotations: 2, fromRefreshes: 0 }) as unknown,
        rotateSecret: expect.objectContaining({ perSecond: 0 }) as unknown,
      }),
      expect.objectContaining({
        region: '(any)/us-east-1',
        stages: ['idp'],
        rotationsPerDay: 1,
        refreshesPerDay: 144,
        writes: expect.objectContaining({ perSecond: 2 }) as unknown,
        rotateSecret: expect.objectContaining({ perSecond: 1, fromRefreshes: 1 }) as unknown,
      }),
    ]);
  });

  it('adds up the stages deployed to the same account and region', () => {
    const config = parseRotorConfig({
      stages: [
        { ...fleetStageFile(300), region: 'eu-west-1' },
        { ...fleetStageFile(300), name: 'fleet-b', secretNamePrefix: 'rotor/fleet-b/', region: 'eu-west-1' },
      ],
    });
    const [plan, ...others] = planWriteQuotas(config.stages);
    expect(others).toEqual([]);
    expect(plan).toMatchObject({ stages: ['fleet', 'fleet-b'], secrets: 600, rotationsPerDay: 3600 });
  });

  it('finds a fleet of 10,000 managed tokens rotated every 4 hours well within the write quota', () => {
    const [plan] = planWriteQuotas(parseRotorConfig({ stages: [fleetStageFile(10_000, 200)] }).stages);
    expect(plan!.rotationsPerDay).toBe(60_000);
    expect(plan!.writes.perSecond).toBeLessThanOrEqual(40);
    expect(writeQuotaProblem(plan!)).toBeUndefined();
  });
});

describe('synth of a fleet over 80% of a Secrets Manager quota', () => {
  it('fails in one line that says what to change, before building anything', () => {
    // GIVEN 8,000 OAuth 2.0 secrets refreshed every 10 minutes: about 27 writes a second on average
    const config = parseRotorConfig({ stages: [oauthStageFile(8000, { shards: 100 })] });
    const app = new App();

    // WHEN
    let error: unknown;
    try {
      addRotorStages(app, config);
    } catch (caught) {
      error = caught;
    }

    // THEN
    expect(error).toBeInstanceOf(RotorConfigError);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(
      /^stages "idp" \(account\/region \(any\)\/\(any\)\): simulated peak of \d+ Secrets Manager write calls per second at \d\d:\d\d:\d\d UTC is over 80% of the 50-per-second quota \(40\); lengthen "refreshIntervalSeconds" of the oauth2 secrets, or move secrets to another region \(see `rotor plan`\)$/,
    );
    expect(app.node.children).toEqual([]);
  });

  it('accepts the same fleet with refreshes every 20 minutes', () => {
    const config = parseRotorConfig({
      stages: [
        {
          ...oauthStageFile(8000, { shards: 100 }),
          secrets: (oauthStageFile(8000).secrets as Record<string, unknown>[]).map((secret) => ({
            ...secret,
            oauth2: { ...OAUTH2, refreshIntervalSeconds: 1200 },
          })),
        },
      ],
    });
    const [plan] = planWriteQuotas(config.stages);
    expect(writeQuotaProblem(plan!)).toBeUndefined();
  });
});
