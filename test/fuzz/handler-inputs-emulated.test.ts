import { invokeBundleConcurrently } from '../../cli/local/invoke-bundle';
import { beginRotation } from '../../cli/local/local-rotation';
import { LambdaBundle } from '../../lambda/shared/rotor-constants';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';
import { authorizerEvent, DOCUMENT_SECRETS, hostileDocument, mutate, SeededRandom } from './hostile-input';

// A slice of the fuzz suite end to end: the built bundles against the emulator, every call through
// the counting proxy. Secrets Manager and the ledger must be exactly as before, every answer a
// one-line error, a deny or an ignore, and no secret in any answer or log line.

const SEED = 0x5eed_e2e;
const EVENTS_PER_BUNDLE = 6;
const ALLOW = /"(allowed|isAuthorized)":true|"Effect":"Allow"/;

let rotor: LocalRotor;
let secretArns: string[] = [];

beforeAll(async () => {
  rotor = await startLocalRotor();
});

afterAll(async () => {
  await rotor?.stop();
});

/** Every version's labels and value of each secret, and the whole ledger. */
async function state() {
  const secrets = await Promise.all(
    secretArns.map(async (arn) => {
      const labels = await rotor.labels(arn);
      const values = await Promise.all(['AWSCURRENT', 'AWSPENDING'].map((stage) => rotor.valueAt(arn, stage)));
      return { labels, values };
    }),
  );
  // The health check remembers the hostile documents it failed in its watch list: not ledger state.
  const ledger = await rotor.scanLedger();
  return { secrets, ledger: ledger.filter((item) => item.pk !== 'HEALTH#WATCH') };
}

it('leaves Secrets Manager and the ledger unchanged under hostile events to every bundle', async () => {
  // Prepare: hostile documents as AWSCURRENT, each secret mid-rotation as Secrets Manager leaves it
  const random = new SeededRandom(SEED);
  secretArns = await Promise.all(
    [0, 1, 2].map((i) => rotor.createSecret(`rotor/development/fuzz-${i}`, hostileDocument(random))),
  );
  const versions = await Promise.all(secretArns.map((arn) => beginRotation(rotor.local, arn)));
  const before = await state();
  const rotationBase = (i: number) => ({
    Step: ['createSecret', 'setSecret', 'testSecret', 'finishSecret'][i % 4],
    SecretId: secretArns[i % secretArns.length],
    ClientRequestToken: versions[i % versions.length]!.versionId,
  });
  const events: Record<string, unknown[]> = {
    [LambdaBundle.rotation]: Array.from({ length: EVENTS_PER_BUNDLE * 2 }, (_, i) =>
      i % 2 === 0 ? rotationBase(i) : mutate(random, rotationBase(i)),
    ),
    [LambdaBundle.verifier]: Array.from({ length: EVENTS_PER_BUNDLE }, () => mutate(random, authorizerEvent(random))),
    [LambdaBundle.retire]: Array.from({ length: EVENTS_PER_BUNDLE }, () =>
      mutate(random, { secretArn: secretArns[0], versionId: versions[0]!.versionId, fingerprint: 'f'.repeat(64) }),
    ),
    [LambdaBundle.rollback]: Array.from({ length: EVENTS_PER_BUNDLE }, () =>
      mutate(random, { source: 'aws.cloudwatch', 'detail-type': 'CloudWatch Alarm State Change', detail: {} }),
    ),
    [LambdaBundle.rotationEvents]: Array.from({ length: EVENTS_PER_BUNDLE }, () =>
      mutate(random, { source: 'aws.secretsmanager', detail: { eventName: 'RotationFailed' } }),
    ),
    [LambdaBundle.healthCheck]: [{}, mutate(random, {})],
  };

  // Act: each bundle in one warm process, its events at once
  const runs = await Promise.all(
    Object.entries(events).map(async ([bundle, list]) => ({
      bundle,
      list,
      ...(await invokeBundleConcurrently(bundle as LambdaBundle, list, { env: rotor.local.env })),
    })),
  );

  // Assess
  expect(await state()).toEqual(before);
  const watched = (await rotor.scanLedger()).filter((item) => item.pk === 'HEALTH#WATCH');
  for (const item of watched) {
    expect([item.sk, item.state]).toEqual([expect.stringMatching(/^rotor\/development\/fuzz-\d#failing$/), 'failing']);
  }
  for (const { bundle, list, results, logs } of runs) {
    results.forEach((result, i) => {
      const what = `${bundle} event ${JSON.stringify(list[i])?.slice(0, 200)}`;
      if (result.ok) {
        expect({ what, allowed: ALLOW.test(JSON.stringify(result.result ?? null)) }).toEqual({ what, allowed: false });
      } else {
        expect({ what, oneLine: !result.error!.errorMessage.includes('\n') }).toEqual({ what, oneLine: true });
      }
      const answer = JSON.stringify(result);
      for (const secret of DOCUMENT_SECRETS)
        expect({ what, leaked: answer.includes(secret) }).toEqual({ what, leaked: false });
    });
    const logged = logs.join('\n');
    for (const secret of DOCUMENT_SECRETS)
      expect({ bundle, logged: logged.includes(secret) }).toEqual({ bundle, logged: false });
  }
});
