import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

/**
 * The Secrets Manager calls AWS's rotation function template
 * (SecretsManagerRotationTemplate, lambda_function.py) makes for one rotation, replayed
 * against the same emulator as Rotor's handler, as the baseline for API calls per rotation.
 * Its setSecret and testSecret are empty: only the DescribeSecret of the dispatcher remains.
 */
export async function replayAwsTemplateRotation(client: SecretsManagerClient, arn: string, token: string) {
  const describe = () => client.send(new DescribeSecretCommand({ SecretId: arn }));

  // createSecret
  await describe();
  await client.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSCURRENT' }));
  try {
    await client.send(new GetSecretValueCommand({ SecretId: arn, VersionId: token, VersionStage: 'AWSPENDING' }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    const password = await client.send(new GetRandomPasswordCommand({ ExcludeCharacters: '/@"\'\\' }));
    await client.send(
      new PutSecretValueCommand({
        SecretId: arn,
        ClientRequestToken: token,
        SecretString: JSON.stringify({ provider: 'managed-token', password: password.RandomPassword }),
        VersionStages: ['AWSPENDING'],
      }),
    );
  }
  // setSecret, testSecret
  await describe();
  await describe();
  // finishSecret: the dispatcher's DescribeSecret, then its own to find AWSCURRENT
  await describe();
  const metadata = await describe();
  const current = Object.entries(metadata.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
  await client.send(
    new UpdateSecretVersionStageCommand({
      SecretId: arn,
      VersionStage: 'AWSCURRENT',
      MoveToVersionId: token,
      ...(current === undefined ? {} : { RemoveFromVersionId: current }),
    }),
  );
}
