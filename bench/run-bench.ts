/**
 * `npm run bench`: Rotor's performance figures, each against a baseline measured in the same
 * run on the same machine. Prints a table; `--json FILE` also writes the figures.
 *
 * - Secrets Manager API calls per full rotation, counted at the wire (every SDK request
 *   passes through a loopback proxy in front of moto), for Rotor's bundled handler and for
 *   the AWS rotation template's call sequence.
 * - The rotation bundle's size.
 * - Cold require time of the bundle, against requiring the bare SDK client it uses.
 * - The verifier's latency (median, p99) against a bare consistent GetItem of the same ledger
 *   item, and its throughput with 50 concurrent callers against GetItem's.
 * - An OAuth 2.0 rotation's createSecret (spend-once journal, refresh, AWSPENDING, ledger) against
 *   the bare refresh request to the same IdP; DynamoDB calls per OAuth rotation against a
 *   managed-token rotation's.
 * - Synth time of a sharded stage of 100, 1,000 and 10,000 secrets against the 100-secret time
 *   scaled linearly, and each stage's fullest and largest template against CloudFormation's limits.
 * - Rotor's monthly AWS cost per secret by component for 100, 1,000 and 10,000 secrets, today's
 *   design against the fleet's, from calls and metrics measured on the emulator in the same run
 *   (bench/cost-bench.ts). `--only cost` prints that table alone.
 */
import { spawnSync } from 'node:child_process';
import { statSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DIST_LAMBDA_DIR } from '../cli/local/invoke-bundle';
import { LOCAL_CREDENTIALS } from '../cli/local/local-clients';
import { beginRotation, rotateLocally } from '../cli/local/local-rotation';
import { ROTATION_STEPS } from '../lambda/core/rotation/rotation-event';
import { LambdaBundle } from '../lambda/shared/rotor-constants';
import { startLocalRotor } from '../test/support/local-rotor';
import { replayAwsTemplateRotation } from './aws-template-rotation';
import { costTable, measureCost } from './cost-bench';
import { measureFleetSynth } from './fleet-synth';
import { measureOAuthRotation, startBenchIdp } from './oauth-bench';
import { measureVerifier, percentile } from './verifier-bench';

// The AWS SDK warns on Node below 22 in eight lines; the bench's own processes, like the CLI, skip it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const ROTATIONS = 5;
const REQUIRE_RUNS = 21;
const SECRETS_MANAGER = 'secretsmanager.';
const DYNAMODB = 'DynamoDB_20120810.';

interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly baseline?: { readonly name: string; readonly value: number };
}

async function main(): Promise<void> {
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
  if (only !== undefined && only !== 'cost') throw new Error(`--only takes "cost", got "${only}"`);
  const cost = costTable(await measureCost());
  if (only === 'cost') {
    console.log(cost);
    return;
  }
  const figures: Figure[] = [];
  figures.push(...(await measureOnEmulator()));
  figures.push(...measureBundleSize());
  figures.push(measureRequireTime());
  figures.push(...measureFleetSynth());
  print(figures);
  console.log(
    `\nRotor's AWS cost (us-east-1 list prices, a managed token rotated every 4 hours, checked every minute)\n`,
  );
  console.log(cost);
  const jsonAt = process.argv.indexOf('--json');
  if (jsonAt > 0 && process.argv[jsonAt + 1])
    writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify(figures, null, 2));
}

async function measureOnEmulator(): Promise<Figure[]> {
  const rotor = await startLocalRotor();
  try {
    const secretsManagerCalls = () =>
      Object.entries(rotor.proxy.counts())
        .filter(([operation]) => operation.startsWith(SECRETS_MANAGER))
        .reduce((sum, [, count]) => sum + count, 0);
    const dynamoDbCalls = () =>
      Object.entries(rotor.proxy.counts())
        .filter(([operation]) => operation.startsWith(DYNAMODB))
        .reduce((sum, [, count]) => sum + count, 0);
    const proxied = new SecretsManagerClient({
      endpoint: rotor.proxy.endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });

    // Baseline: the AWS template's calls for the same rotations.
    const templateArn = await rotor.createSecret('rotor/development/bench-template', '{"provider":"managed-token"}');
    const template = await perRotation(async () => {
      const { versionId } = await beginRotation(rotor.local, templateArn);
      rotor.proxy.resetCounts();
      await replayAwsTemplateRotation(proxied, templateArn, versionId);
      return secretsManagerCalls();
    });

    // Rotor, every step in a fresh process (a cold container per step: nothing cached).
    const coldArn = await rotor.createSecret('rotor/development/bench-cold', '{"provider":"managed-token"}');
    const cold = await perRotation(async () => {
      rotor.proxy.resetCounts();
      await rotateLocally(rotor.local, coldArn, { maxAttempts: 1 });
      return secretsManagerCalls();
    });

    // Rotor, all steps of every rotation in one process (one warm container, as usual on Lambda).
    // The handler's log lines and EMF records would bury the table.
    const benchIdp = await startBenchIdp();
    Object.assign(process.env, rotor.local.env, {
      ROTOR_PROVIDER_ORIGINS: benchIdp.idp.issuer,
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    });
    const { handler } = (await import(join(DIST_LAMBDA_DIR, LambdaBundle.rotation, 'index.js'))) as {
      handler: (event: unknown) => Promise<void>;
    };
    const warmArn = await rotor.createSecret('rotor/development/bench-warm', '{"provider":"managed-token"}');
    const warmDynamoDbCalls: number[] = [];
    const warmCreateSecretMs: number[] = [];
    const warm = await perRotation(async () => {
      const { versionId } = await beginRotation(rotor.local, warmArn);
      rotor.proxy.resetCounts();
      for (const step of ROTATION_STEPS) {
        const started = performance.now();
        await handler({ Step: step, SecretId: warmArn, ClientRequestToken: versionId });
        if (step === 'createSecret') warmCreateSecretMs.push(performance.now() - started);
      }
      warmDynamoDbCalls.push(dynamoDbCalls());
      return secretsManagerCalls();
    });
    const oauth = await measureOAuthRotation(rotor, handler, dynamoDbCalls, benchIdp);

    const baseline = { name: 'AWS rotation template', value: median(template) };
    const verifier = await measureVerifier(rotor);
    const getItem = (name: string, value: number) => ({ name: `bare consistent GetItem, ${name}`, value });
    return [
      {
        name: 'verifier latency, median',
        value: median(verifier.verifierLatencies),
        unit: 'ms',
        baseline: getItem('median', median(verifier.getItemLatencies)),
      },
      {
        name: 'verifier latency, p99',
        value: percentile(verifier.verifierLatencies, 99),
        unit: 'ms',
        baseline: getItem('p99', percentile(verifier.getItemLatencies, 99)),
      },
      {
        name: 'verifier throughput, 50 concurrent callers',
        value: verifier.verifierPerSecond,
        unit: '/s',
        baseline: getItem('50 concurrent callers', verifier.getItemPerSecond),
      },
      { name: 'SM API calls / rotation, cold container per step', value: median(cold), unit: 'calls', baseline },
      { name: 'SM API calls / rotation, one warm container (1st)', value: warm[0]!, unit: 'calls', baseline },
      {
        name: 'SM API calls / rotation, one warm container (later)',
        value: median(warm.slice(1)),
        unit: 'calls',
        baseline,
      },
      {
        name: 'OAuth createSecret, one warm container, median',
        value: median(oauth.createSecretMs),
        unit: 'ms',
        // What createSecret would cost without the spend-once guard: the engine's own work (as
        // for a managed token) plus the refresh request itself.
        baseline: {
          name: 'managed-token createSecret + the bare refresh request',
          value: median(warmCreateSecretMs.slice(1)) + median(oauth.bareRefreshMs),
        },
      },
      {
        name: 'DynamoDB calls / OAuth rotation, warm (later)',
        value: median(oauth.dynamoDbCalls),
        unit: 'calls',
        baseline: { name: 'managed-token rotation, warm (later)', value: median(warmDynamoDbCalls.slice(1)) },
      },
    ];
  } finally {
    await rotor.stop();
  }
}

async function perRotation(run: () => Promise<number>): Promise<number[]> {
  const counts: number[] = [];
  for (let i = 0; i < ROTATIONS; i += 1) counts.push(await run());
  return counts;
}

function measureBundleSize(): Figure[] {
  const bundle = join(DIST_LAMBDA_DIR, LambdaBundle.rotation, 'index.js');
  return [
    { name: 'rotation bundle size', value: statSync(bundle).size / 1024, unit: 'KiB' },
    { name: 'rotation bundle size, gzipped', value: gzipSync(readFileSync(bundle)).length / 1024, unit: 'KiB' },
  ];
}

// The SDK clients the rotation bundle uses.
const ROTATION_SDK_CLIENTS = [
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/client-dynamodb',
  '@aws-sdk/lib-dynamodb',
  '@aws-sdk/client-scheduler',
  '@aws-sdk/client-eventbridge',
];

/** Median cold require time of the bundle and of the bare SDK clients it uses, alternating runs. */
function measureRequireTime(): Figure {
  const bundle = join(DIST_LAMBDA_DIR, LambdaBundle.rotation, 'index.js');
  const sdk = ROTATION_SDK_CLIENTS.map((name) => require.resolve(name));
  const bundleTimes: number[] = [];
  const sdkTimes: number[] = [];
  for (let i = 0; i < REQUIRE_RUNS; i += 1) {
    bundleTimes.push(timeRequire([bundle]));
    sdkTimes.push(timeRequire(sdk));
  }
  return {
    name: 'cold require time of the rotation bundle',
    value: median(bundleTimes),
    unit: 'ms',
    baseline: { name: `bare ${ROTATION_SDK_CLIENTS.join(' + ')}`, value: median(sdkTimes) },
  };
}

function timeRequire(paths: readonly string[]): number {
  const requires = paths.map((path) => `require(${JSON.stringify(path)});`).join(' ');
  const script = `const t = process.hrtime.bigint(); ${requires} process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`;
  const run = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, AWS_REGION: 'us-east-1' },
  });
  if (run.status !== 0) throw new Error(`require of ${paths.join(', ')} failed: ${run.stderr}`);
  return Number(run.stdout);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function print(figures: readonly Figure[]): void {
  const rows = figures.map((figure) => [
    figure.name,
    `${round(figure.value)} ${figure.unit}`,
    figure.baseline === undefined ? '' : `${round(figure.baseline.value)} ${figure.unit} (${figure.baseline.name})`,
    figure.baseline === undefined ? '' : `${(figure.value / figure.baseline.value).toFixed(2)}x`,
  ]);
  const header = ['figure', 'Rotor', 'baseline (same run)', 'ratio'];
  const widths = header.map((_, c) => Math.max(header[c]!.length, ...rows.map((r) => r[c]!.length)));
  for (const row of [header, ...rows]) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
}

function round(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
