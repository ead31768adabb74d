import { NestedStack, type NestedStackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { addStageSecrets, type StageSecrets, type StageSecretsProps } from './stage-secrets';

/** Properties of a {@link SecretShard}. */
export interface SecretShardProps extends StageSecretsProps, Omit<NestedStackProps, 'description'> {
  /** Which shard this is, from 0. */
  readonly index: number;
  /** How many shards the stage has. */
  readonly shardCount: number;
}

/**
 * One shard of a sharded stage: a nested stack that holds the secrets whose names hash to it (see
 * shardOf), with their rotation schedules, alarms and access-token refresh schedules. Everything
 * the stage shares (key, ledger, functions, topic) stays in the stage's stack; a shard only refers
 * to it. Adding or removing a secret changes its shard's template and no other.
 */
export class SecretShard extends NestedStack {
  /** The shard's secrets, their alarms and refresh schedules. */
  readonly contents: StageSecrets;

  constructor(scope: Construct, id: string, props: SecretShardProps) {
    super(scope, id, {
      ...(props.timeout === undefined ? {} : { timeout: props.timeout }),
      ...(props.notificationArns === undefined ? {} : { notificationArns: props.notificationArns }),
      ...(props.removalPolicy === undefined ? {} : { removalPolicy: props.removalPolicy }),
      description: `Rotor ${props.stage.name}: secrets of shard ${props.index} of ${props.shardCount}`,
    });
    this.contents = addStageSecrets(this, props);
  }
}
