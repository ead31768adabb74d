import {
  AWSCURRENT,
  AWSPENDING,
  AWSPREVIOUS,
  type SecretDescription,
  type SecretStore,
} from '../../../lambda/core/rotation/secret-store';

interface StoredVersion {
  /** Undefined for the empty AWSPENDING version RotateSecret creates. */
  value: string | undefined;
  readonly stages: Set<string>;
}

/** One call to {@link InMemorySecretStore.putPendingVersion}, with what it answered. */
export interface PutRecord {
  readonly versionId: string;
  readonly value: string;
  readonly rotationToken: string | undefined;
  readonly result: 'created' | 'already-exists' | 'failed';
}

/** One call to {@link InMemorySecretStore.moveCurrent}, with what it answered. */
export interface MoveRecord {
  readonly toVersionId: string;
  readonly fromVersionId: string;
  readonly result: 'moved' | 'stale';
}

/** Every version's value and labels, for before/after comparisons. */
export type StoreSnapshot = Record<string, { readonly value: string | undefined; readonly stages: string[] }>;

/**
 * A {@link SecretStore} holding one secret in memory, modelling the documented Secrets Manager
 * contract (not moto's deviations):
 * - a version's value never changes; PutSecretValue with an existing token and the same value is
 *   ignored, with a different value it fails (`already-exists`);
 * - a staging label sits on at most one version, and putting a version under AWSPENDING takes the
 *   label from wherever it was;
 * - moving AWSCURRENT also moves AWSPREVIOUS to the version it came from, and fails (`stale`,
 *   nothing changed) when RemoveFromVersionId does not hold AWSCURRENT;
 * - DescribeSecret lists only versions that carry a label.
 *
 * Every method yields before it acts, so concurrent callers interleave as two Lambda
 * invocations would.
 */
export class InMemorySecretStore implements SecretStore {
  readonly arn: string;
  rotationEnabled = true;
  /** Calls as they happened, for assertions on what the engine did. */
  readonly puts: PutRecord[] = [];
  readonly moves: MoveRecord[] = [];
  readonly reads: { readonly versionId: string; readonly stage: string | undefined; readonly found: boolean }[] = [];
  describeCount = 0;

  private readonly versions = new Map<string, StoredVersion>();
  private readonly pendingFailures: Error[] = [];

  constructor(
    readonly name: string,
    region = 'eu-west-1',
    account = '123456789012',
  ) {
    this.arn = `arn:aws:secretsmanager:${region}:${account}:secret:${name}-AbC123`;
  }

  // --- Arrange helpers: what CreateSecret, RotateSecret and operators do outside the engine.

  /** Adds a version as CreateSecret or PutSecretValue would, taking `stages` from other versions. */
  addVersion(versionId: string, value: string | undefined, stages: readonly string[] = []): this {
    for (const stage of stages) this.detachLabel(stage);
    this.versions.set(versionId, { value, stages: new Set(stages) });
    return this;
  }

  /** What RotateSecret does before invoking the function: an empty version labelled AWSPENDING. */
  startRotation(versionId: string): this {
    return this.addVersion(versionId, undefined, [AWSPENDING]);
  }

  /** Makes the next `putPendingVersion` throw `error` without storing anything (a crash or timeout). */
  failNextPut(error: Error): this {
    this.pendingFailures.push(error);
    return this;
  }

  // --- Assess helpers.

  stagesOf(versionId: string): string[] {
    return [...(this.versions.get(versionId)?.stages ?? [])].sort();
  }

  valueOf(versionId: string): string | undefined {
    return this.versions.get(versionId)?.value;
  }

  versionsWithStage(stage: string): string[] {
    return [...this.versions].filter(([, version]) => version.stages.has(stage)).map(([id]) => id);
  }

  snapshot(): StoreSnapshot {
    return Object.fromEntries(
      [...this.versions].map(([id, version]) => [id, { value: version.value, stages: [...version.stages].sort() }]),
    );
  }

  // --- SecretStore.

  async describe(secretId: string): Promise<SecretDescription> {
    await yieldTurn();
    this.describeCount += 1;
    if (secretId !== this.arn && secretId !== this.name) {
      throw new Error(`ResourceNotFoundException: Secrets Manager can't find the specified secret ${secretId}`);
    }
    const versionStages: Record<string, string[]> = {};
    for (const [id, version] of this.versions) {
      if (version.stages.size > 0) versionStages[id] = [...version.stages];
    }
    return { arn: this.arn, name: this.name, rotationEnabled: this.rotationEnabled, versionStages };
  }

  /** DescribeSecret that answers undefined for another secret (the rollback's look-up by name). */
  async find(secretId: string): Promise<SecretDescription | undefined> {
    if (secretId !== this.arn && secretId !== this.name) {
      await yieldTurn();
      return undefined;
    }
    return this.describe(secretId);
  }

  async readVersion(secretArn: string, versionId: string, stage: string | undefined): Promise<string | undefined> {
    await yieldTurn();
    this.assertArn(secretArn);
    const version = this.versions.get(versionId);
    const value = stage === undefined || version?.stages.has(stage) ? version?.value : undefined;
    this.reads.push({ versionId, stage, found: value !== undefined });
    return value;
  }

  async putPendingVersion(
    secretArn: string,
    versionId: string,
    value: string,
    rotationToken: string | undefined,
  ): Promise<'created' | 'already-exists'> {
    await yieldTurn();
    this.assertArn(secretArn);
    const failure = this.pendingFailures.shift();
    if (failure !== undefined) {
      this.puts.push({ versionId, value, rotationToken, result: 'failed' });
      throw failure;
    }
    const existing = this.versions.get(versionId);
    if (existing?.value !== undefined) {
      // AWS ignores a repeated identical request and refuses a different value for the token.
      const result = existing.value === value ? 'created' : 'already-exists';
      this.puts.push({ versionId, value, rotationToken, result });
      return result;
    }
    this.detachLabel(AWSPENDING);
    const stages = existing?.stages ?? new Set<string>();
    stages.add(AWSPENDING);
    this.versions.set(versionId, { value, stages });
    this.puts.push({ versionId, value, rotationToken, result: 'created' });
    return 'created';
  }

  async moveCurrent(secretArn: string, toVersionId: string, fromVersionId: string): Promise<'moved' | 'stale'> {
    await yieldTurn();
    this.assertArn(secretArn);
    const from = this.versions.get(fromVersionId);
    const to = this.versions.get(toVersionId);
    if (to === undefined) throw new Error(`ResourceNotFoundException: no version ${toVersionId}`);
    if (from === undefined || !from.stages.has(AWSCURRENT)) {
      this.moves.push({ toVersionId, fromVersionId, result: 'stale' });
      return 'stale';
    }
    this.detachLabel(AWSPREVIOUS);
    from.stages.delete(AWSCURRENT);
    from.stages.add(AWSPREVIOUS);
    to.stages.add(AWSCURRENT);
    this.moves.push({ toVersionId, fromVersionId, result: 'moved' });
    return 'moved';
  }

  private detachLabel(stage: string): void {
    for (const version of this.versions.values()) version.stages.delete(stage);
  }

  private assertArn(secretArn: string): void {
    // The engine addresses the secret by the ARN DescribeSecret returned, never by the event's id.
    if (secretArn !== this.arn) throw new Error(`expected the secret ARN ${this.arn}, got ${secretArn}`);
  }
}

function yieldTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
