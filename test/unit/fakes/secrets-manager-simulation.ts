import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidParameterException,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import type { AwsClientStub } from 'aws-sdk-client-mock';

const metadata = { $metadata: {} };

/**
 * One secret behind a `mockClient(SecretsManagerClient)` stub, answering the four calls of the
 * rotation role as Secrets Manager documents them (the rules of {@link InMemorySecretStore},
 * one level down): values never change, a label sits on one version, moving AWSCURRENT moves
 * AWSPREVIOUS too, a stale RemoveFromVersionId is refused, the empty AWSPENDING version has no
 * value to read.
 */
export class SecretsManagerSimulation {
  rotationEnabled = true;
  readonly stages: Record<string, string[]> = {};
  readonly values: Record<string, string> = {};

  constructor(
    readonly arn: string,
    readonly name: string,
  ) {}

  /** Adds a version (without a value: as RotateSecret leaves AWSPENDING), taking its labels from the others. */
  addVersion(versionId: string, value: string | undefined, stages: readonly string[]): this {
    for (const stage of stages) this.attach(versionId, stage);
    this.stages[versionId] ??= [];
    if (value !== undefined) this.values[versionId] = value;
    return this;
  }

  install(stub: AwsClientStub<SecretsManagerClient>): this {
    stub.on(DescribeSecretCommand).callsFake(() => ({
      ARN: this.arn,
      Name: this.name,
      RotationEnabled: this.rotationEnabled,
      VersionIdsToStages: Object.fromEntries(
        Object.entries(this.stages)
          .filter(([, labels]) => labels.length > 0)
          .map(([id, labels]) => [id, [...labels]]),
      ),
    }));
    stub.on(GetSecretValueCommand).callsFake((input: { VersionId?: string; VersionStage?: string }) => {
      const versionId = input.VersionId ?? '';
      const value = this.values[versionId];
      if (value === undefined || !this.stages[versionId]?.includes(input.VersionStage ?? 'AWSCURRENT')) {
        throw new ResourceNotFoundException({
          message: `Secrets Manager can't find the specified secret value for staging label: ${input.VersionStage}`,
          ...metadata,
        });
      }
      return { ARN: this.arn, VersionId: versionId, SecretString: value };
    });
    stub.on(PutSecretValueCommand).callsFake((input: { ClientRequestToken?: string; SecretString?: string }) => {
      const versionId = input.ClientRequestToken ?? '';
      const existing = this.values[versionId];
      if (existing !== undefined && existing !== input.SecretString) {
        throw new ResourceExistsException({
          message: 'A resource with the ID you requested already exists.',
          ...metadata,
        });
      }
      if (existing === undefined) this.addVersion(versionId, input.SecretString, ['AWSPENDING']);
      return { ARN: this.arn, VersionId: versionId, VersionStages: ['AWSPENDING'] };
    });
    stub
      .on(UpdateSecretVersionStageCommand)
      .callsFake((input: { MoveToVersionId?: string; RemoveFromVersionId?: string }) => {
        const from = input.RemoveFromVersionId ?? '';
        if (!this.stages[from]?.includes('AWSCURRENT')) {
          throw new InvalidParameterException({
            message: `The staging label AWSCURRENT is not attached to version ${from}`,
            ...metadata,
          });
        }
        this.attach(from, 'AWSPREVIOUS');
        this.attach(input.MoveToVersionId ?? '', 'AWSCURRENT');
        return { ARN: this.arn, Name: this.name };
      });
    return this;
  }

  private attach(versionId: string, stage: string): void {
    for (const labels of Object.values(this.stages)) {
      const index = labels.indexOf(stage);
      if (index >= 0) labels.splice(index, 1);
    }
    (this.stages[versionId] ??= []).push(stage);
  }
}
