import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { join } from 'node:path';
import { DIST_LAMBDA_DIR } from '../cli/local/invoke-bundle';
import { LOCAL_CREDENTIALS } from '../cli/local/local-clients';
import { rotateLocally } from '../cli/local/local-rotation';
import type { Verdict } from '../lambda/core/verifier/verdict';
import { LambdaBundle } from '../lambda/shared/rotor-constants';
import type { LocalRotor } from '../test/support/local-rotor';

const SEQUENTIAL_CALLS = 400;
const WARMUP_CALLS = 50;
const CONCURRENT_CALLERS = 50;
const CONCURRENT_CALLS = 2000;

export interface VerifierFigures {
  readonly verifierLatencies: readonly number[];
  readonly getItemLatencies: readonly number[];
  readonly verifierPerSecond: number;
  readonly getItemPerSecond: number;
}

/**
 * The verifier bundle, warm in this process, answering for a current token, against a bare
 * consistent GetItem of the same ledger item on the same table and endpoint: sequential
 * latencies, then throughput with 50 concurrent callers.
 */
export async function measureVerifier(rotor: LocalRotor): Promise<VerifierFigures> {
  const arn = await rotor.createSecret('rotor/development/bench-verifier', '{"provider":"managed-token"}');
  await rotateLocally(rotor.local, arn);
  const token = (JSON.parse((await rotor.valueAt(arn, 'AWSCURRENT'))!) as { token: string }).token;
  const fingerprint = (await rotor.scanLedger()).find((item) => item.secretArn === arn && item.state === 'current')
    ?.fingerprint as string;

  // Both talk straight to the emulator: the proxy would add its own cost to both sides.
  Object.assign(process.env, rotor.local.env, {
    AWS_ENDPOINT_URL: rotor.moto.endpoint,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
  });
  const { handler } = (await import(join(DIST_LAMBDA_DIR, LambdaBundle.verifier, 'index.js'))) as {
    handler: (event: unknown) => Promise<Verdict>;
  };
  const dynamodb = new DynamoDBClient({
    endpoint: rotor.moto.endpoint,
    region: 'us-east-1',
    credentials: LOCAL_CREDENTIALS,
  });
  const getItem = () =>
    dynamodb.send(
      new GetItemCommand({
        TableName: rotor.local.ledgerTableName,
        Key: { pk: { S: `TOKEN#${fingerprint}` }, sk: { S: 'TOKEN' } },
        ConsistentRead: true,
      }),
    );
  const verify = async () => {
    const verdict = await handler({ token });
    if (verdict.reason !== 'current') throw new Error(`bench token was answered ${verdict.reason}`);
  };

  for (let i = 0; i < WARMUP_CALLS; i += 1) {
    await verify();
    await getItem();
  }
  const verifierLatencies: number[] = [];
  const getItemLatencies: number[] = [];
  // Alternating, so drift in the emulator hits both sides alike.
  for (let i = 0; i < SEQUENTIAL_CALLS; i += 1) {
    verifierLatencies.push(await timed(verify));
    getItemLatencies.push(await timed(getItem));
  }
  const getItemPerSecond = await throughput(getItem);
  const verifierPerSecond = await throughput(verify);
  return { verifierLatencies, getItemLatencies, verifierPerSecond, getItemPerSecond };
}

async function timed(call: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await call();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

async function throughput(call: () => Promise<unknown>): Promise<number> {
  let remaining = CONCURRENT_CALLS;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENT_CALLERS }, async () => {
      while (remaining > 0) {
        remaining -= 1;
        await call();
      }
    }),
  );
  return CONCURRENT_CALLS / (Number(process.hrtime.bigint() - started) / 1e9);
}

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
