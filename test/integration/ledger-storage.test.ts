import { rotateLocally } from '../../cli/local/local-rotation';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';

// Storage grows with live credentials, not with time: a dead credential is remembered for the
// stage's reuse memory (1 second here), then expires. A handful of rotations shows it: every
// credential but the last two is dead and expired, however many rotations came before.

const ROTATIONS = 4;
let rotor: LocalRotor;

beforeAll(async () => {
  rotor = await startLocalRotor({ graceSeconds: 0, reuseMemorySeconds: 1 });
});

afterAll(async () => {
  await rotor?.stop();
});

describe('Ledger storage', () => {
  it('holds at most two live token items after four rotations of one secret, the dead ones expired', async () => {
    // Prepare
    const arn = await rotor.createSecret('rotor/development/busy', '{"provider":"managed-token"}');

    // Act
    for (let rotation = 0; rotation < ROTATIONS; rotation += 1) await rotateLocally(rotor.local, arn);
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // Assess
    const now = Date.now() / 1000;
    const tokens = (await rotor.scanLedger()).filter((item) => item.sk === 'TOKEN' && item.secretArn === arn);
    const live = tokens.filter((item) => item.expiresAt === undefined || Number(item.expiresAt) > now);
    // Every rotation recorded its credential; moto, like DynamoDB, deletes expired items lazily,
    // so the dead ones are still there, but expired.
    expect(tokens).toHaveLength(ROTATIONS);
    expect(live.length).toBeLessThanOrEqual(2);
    expect(live.map((item) => item.state)).toContain('current');
  });
});
