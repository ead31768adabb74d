import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LambdaBundle } from '../../lambda/shared/rotor-constants';
import { WarmBundles } from '../support/warm-bundles';

describe('WarmBundles: the test harness’s warm Lambda containers', () => {
  // GIVEN a bundle whose handler logs, remembers how often it ran, and throws when asked to
  const distDir = mkdtempSync(join(tmpdir(), 'rotor-warm-bundles-'));
  mkdirSync(join(distDir, LambdaBundle.verifier));
  writeFileSync(
    join(distDir, LambdaBundle.verifier, 'index.js'),
    `let calls = 0;
exports.handler = async (event) => {
  calls += 1;
  console.log('handling ' + event.n);
  if (event.fail) throw new TypeError('asked to fail');
  return { pid: process.pid, calls, stage: process.env.ROTOR_STAGE };
};`,
  );
  const warm = new WarmBundles(distDir);
  afterAll(() => warm.stop());

  it('serves invocations with one environment from one process, each with its own result and log lines', async () => {
    // WHEN invoked three times, two of them at once
    const env = { ROTOR_STAGE: 'one' };
    const first = await warm.invoke(LambdaBundle.verifier, { n: 1 }, { env });
    const [second, third] = await Promise.all([
      warm.invoke(LambdaBundle.verifier, { n: 2 }, { env }),
      warm.invoke(LambdaBundle.verifier, { n: 3 }, { env }),
    ]);
    // THEN one container, which kept its memory, answered each in turn with only its own logs
    const { pid } = first.result as { pid: number };
    expect(pid).not.toBe(process.pid);
    expect([first, second, third].map((each) => each.result)).toEqual([
      { pid, calls: 1, stage: 'one' },
      { pid, calls: 2, stage: 'one' },
      { pid, calls: 3, stage: 'one' },
    ]);
    expect([first, second, third].map((each) => each.logs)).toEqual([['handling 1'], ['handling 2'], ['handling 3']]);
  });

  it('answers a handler that throws in Lambda’s error shape and keeps the container', async () => {
    const env = { ROTOR_STAGE: 'two' };
    const failed = await warm.invoke(LambdaBundle.verifier, { n: 4, fail: true }, { env });
    const after = await warm.invoke(LambdaBundle.verifier, { n: 5 }, { env });
    expect(failed).toEqual({
      ok: false,
      error: { errorType: 'TypeError', errorMessage: 'asked to fail' },
      logs: ['handling 4'],
    });
    expect(after.result).toMatchObject({ calls: 2, stage: 'two' });
  });

  it('gives another environment a container of its own', async () => {
    const one = await warm.invoke(LambdaBundle.verifier, { n: 6 }, { env: { ROTOR_STAGE: 'one' } });
    const three = await warm.invoke(LambdaBundle.verifier, { n: 7 }, { env: { ROTOR_STAGE: 'three' } });
    expect((three.result as { pid: number }).pid).not.toBe((one.result as { pid: number }).pid);
    expect(three.result).toMatchObject({ calls: 1, stage: 'three' });
  });

  it('says the bundles are not built when one is missing', async () => {
    await expect(warm.invoke(LambdaBundle.rollback, {}, { env: {} })).rejects.toThrow(
      /the Lambda bundles are not built .* run `npm run build`/,
    );
  });
});
