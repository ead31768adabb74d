import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  type SecretListEntry,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  MAX_BATCH_READ,
  type CurrentVersion,
  type ManagedSecret,
  type SecretCatalog,
} from '../core/health/secret-catalog';
import { AWSCURRENT } from '../core/rotation/secret-store';
import { MANAGED_BY_TAG } from '../shared/rotor-constants';

export interface SecretsManagerCatalogOptions {
  /** The stage: the value of the `rotor:stage` tag on its secrets. */
  readonly stage: string;
  /** Every secret of the stage is named under this prefix. */
  readonly secretNamePrefix: string;
}

/**
 * The stage's managed secrets, from ListSecrets, and their AWSCURRENT values.
 *
 * ListSecrets filters (`name`, `tag-key`, `tag-value`) are prefix matches, and the tag filters
 * match keys and values independently (a secret tagged `rotor:stage=production` and
 * `team=development` passes `tag-key=rotor:stage`, `tag-value=development`), so each listed
 * secret is checked again here: the tag `rotor:stage` with exactly the stage as its value, and the
 * name under the prefix. The filters only make the list short.
 */
export class SecretsManagerCatalog implements SecretCatalog {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly options: SecretsManagerCatalogOptions,
  ) {}

  async list(): Promise<ManagedSecret[]> {
    const secrets: ManagedSecret[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListSecretsCommand({
          Filters: [
            { Key: 'name', Values: [this.options.secretNamePrefix] },
            { Key: 'tag-key', Values: [MANAGED_BY_TAG] },
            { Key: 'tag-value', Values: [this.options.stage] },
          ],
          MaxResults: 100,
          ...(nextToken === undefined ? {} : { NextToken: nextToken }),
        }),
      );
      for (const entry of page.SecretList ?? []) {
        if (this.isManaged(entry)) secrets.push({ arn: entry.ARN!, name: entry.Name! });
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined && nextToken !== '');
    return secrets.sort((a, b) => a.name.localeCompare(b.name));
  }

  /** GetSecretValue at AWSCURRENT, always by its label (never the API's default version). */
  async readCurrent(secretArn: string): Promise<CurrentVersion | undefined> {
    try {
      const version = await this.client.send(
        new GetSecretValueCommand({ SecretId: secretArn, VersionStage: AWSCURRENT }),
      );
      if (version.VersionId === undefined) return undefined;
      return { versionId: version.VersionId, value: version.SecretString };
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  /**
   * BatchGetSecretValue by ARN, which returns each secret's AWSCURRENT version. A secret the batch
   * did not return labelled AWSCURRENT (an error in its `Errors`, such as AccessDeniedException or
   * ResourceNotFoundException, or a version without the label) is read again on its own by its
   * label, so that the answer is always exactly what {@link readCurrent} would say. A batch that
   * fails as a whole is read secret by secret.
   */
  async readCurrentBatch(secretArns: readonly string[]): Promise<Map<string, CurrentVersion | undefined | Error>> {
    if (secretArns.length > MAX_BATCH_READ) {
      throw new Error(`a batch reads at most ${MAX_BATCH_READ} secrets, got ${secretArns.length}`);
    }
    const found = new Map<string, CurrentVersion | undefined | Error>();
    if (secretArns.length === 0) return found;
    try {
      const batch = await this.client.send(new BatchGetSecretValueCommand({ SecretIdList: [...secretArns] }));
      for (const entry of batch.SecretValues ?? []) {
        if (entry.ARN === undefined || entry.VersionId === undefined || !secretArns.includes(entry.ARN)) continue;
        if (!(entry.VersionStages ?? []).includes(AWSCURRENT)) continue;
        found.set(entry.ARN, { versionId: entry.VersionId, value: entry.SecretString });
      }
    } catch {
      // Read each secret on its own below: its own error, if any, is the one reported.
    }
    await Promise.all(
      secretArns
        .filter((arn) => !found.has(arn))
        .map(async (arn) => {
          try {
            found.set(arn, await this.readCurrent(arn));
          } catch (error) {
            found.set(arn, error instanceof Error ? error : new Error(String(error)));
          }
        }),
    );
    return found;
  }

  private isManaged(entry: SecretListEntry): boolean {
    return (
      entry.ARN !== undefined &&
      entry.Name !== undefined &&
      entry.Name.startsWith(this.options.secretNamePrefix) &&
      entry.DeletedDate === undefined &&
      (entry.Tags ?? []).some((tag) => tag.Key === MANAGED_BY_TAG && tag.Value === this.options.stage)
    );
  }
}
