import {
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { CreateScheduleCommand, DeleteScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { ListTopicsCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { functionAccessKeyId } from '../../cli/local/function-identity';
import { LOCAL_CREDENTIALS } from '../../cli/local/local-clients';
import { LambdaBundle } from '../../lambda/shared/rotor-constants';
import { LOCAL_GITLAB_MANAGER_NAME } from '../support/function-policies';
import { startLocalRotor, type LocalRotor } from '../support/local-rotor';

// The emulator enforces no IAM: the proxy in front of it checks every request a Rotor function
// signs against that function's role in the synthesized stack. Here each function's identity calls
// the emulator through the proxy with the SDK, as its bundle would, and the SDK must raise AWS's
// own error for what the role does not allow.

let rotor: LocalRotor;
let managedSecret: string;

beforeAll(async () => {
  rotor = await startLocalRotor();
  managedSecret = await rotor.createSecret('rotor/development/iam-check', '{"provider":"managed-token"}');
});

afterAll(async () => {
  await rotor?.stop();
});

beforeEach(() => {
  rotor.proxy.resetCounts();
});

/** SDK client config for a call signed as the function `bundle`, through the proxy. */
function as(bundle: LambdaBundle) {
  return {
    endpoint: rotor.proxy.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: functionAccessKeyId(bundle), secretAccessKey: 'rotor-local' },
    maxAttempts: 1,
  };
}

/** The error a call raised, or undefined when it succeeded. */
async function failureOf(
  call: Promise<unknown>,
): Promise<{ name: string; status?: number; message: string } | undefined> {
  try {
    await call;
    return undefined;
  } catch (error) {
    const failure = error as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: failure.name, status: failure.$metadata?.httpStatusCode, message: failure.message };
  }
}

describe('IAM on the local emulator', () => {
  it("refuses a Secrets Manager write outside the verifier's role with AccessDeniedException (JSON 1.1), and writes nothing", async () => {
    // Act
    const failure = await failureOf(
      new SecretsManagerClient(as(LambdaBundle.verifier)).send(
        new PutSecretValueCommand({ SecretId: managedSecret, SecretString: '{"provider":"managed-token"}' }),
      ),
    );

    // Assess
    expect(failure).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    expect(failure?.message).toMatch(
      /^User: arn:aws:sts::123456789012:assumed-role\/VerifierRole[0-9A-F]{8}\/verifier is not authorized to perform: secretsmanager:PutSecretValue on resource: /,
    );
    expect(rotor.proxy.counts()['secretsmanager.PutSecretValue']).toBe(1);
    expect(rotor.proxy.refusals()).toEqual([
      expect.objectContaining({
        bundle: 'verifier',
        operation: 'PutSecretValue',
        action: 'secretsmanager:PutSecretValue',
      }),
    ]);
    expect(await rotor.valueAt(managedSecret, 'AWSCURRENT')).toBe('{"provider":"managed-token"}');
  });

  it('lets the health check read AWSCURRENT (decrypting through Secrets Manager), and nothing else of the secret', async () => {
    const client = new SecretsManagerClient(as(LambdaBundle.healthCheck));
    expect(
      await failureOf(client.send(new GetSecretValueCommand({ SecretId: managedSecret, VersionStage: 'AWSCURRENT' }))),
    ).toBeUndefined();
    const described = await client.send(new DescribeSecretCommand({ SecretId: managedSecret }));
    const [currentVersion] = Object.keys(described.VersionIdsToStages ?? {});
    for (const read of [
      new GetSecretValueCommand({ SecretId: managedSecret, VersionStage: 'AWSPREVIOUS' }),
      // By version id the request names no stage, so the stage condition cannot hold.
      new GetSecretValueCommand({ SecretId: managedSecret, VersionId: currentVersion }),
    ]) {
      expect(await failureOf(client.send(read))).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    }
  });

  it('serves the health check a batch of its secrets, and lists a secret its role does not grant in Errors as AWS does', async () => {
    // Prepare: a secret under the prefix without the stage's tag: not the stage's
    const foreign = await rotor.secretsManager.send(
      new CreateSecretCommand({ Name: 'rotor/development/batch-foreign', SecretString: '{}' }),
    );
    const client = new SecretsManagerClient(as(LambdaBundle.healthCheck));

    // Act
    const batch = await client.send(new BatchGetSecretValueCommand({ SecretIdList: [managedSecret, foreign.ARN!] }));
    const alone = await client.send(new BatchGetSecretValueCommand({ SecretIdList: [foreign.ARN!] }));

    // Assess
    expect(batch.SecretValues?.map((value) => value.ARN)).toEqual([managedSecret]);
    expect(batch.Errors).toEqual([
      expect.objectContaining({ SecretId: foreign.ARN, ErrorCode: 'AccessDeniedException' }),
    ]);
    expect([alone.SecretValues, alone.Errors?.map((error) => error.ErrorCode)]).toEqual([
      [],
      ['AccessDeniedException'],
    ]);
    // No other function batch-reads.
    expect(
      await failureOf(
        new SecretsManagerClient(as(LambdaBundle.verifier)).send(
          new BatchGetSecretValueCommand({ SecretIdList: [managedSecret] }),
        ),
      ),
    ).toMatchObject({ name: 'AccessDeniedException' });
  });

  it("lets the health check query and write the ledger's watch partition, and the rotation-events function mark it, nothing else", async () => {
    const table = rotor.local.ledgerTableName;
    const watchKey = { pk: { S: 'HEALTH#WATCH' }, sk: { S: 'rotor/development/iam-check#failing' } };
    const healthCheck = new DynamoDBClient(as(LambdaBundle.healthCheck));
    const events = new DynamoDBClient(as(LambdaBundle.rotationEvents));
    const query = (pk: string) =>
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': { S: pk } },
      });
    const mark = (pk: string) =>
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: pk }, sk: { S: 'rotor/development/iam-check#change' } },
        UpdateExpression: 'SET watchUntil = :until',
        ExpressionAttributeValues: { ':until': { N: '1' } },
      });

    expect(await failureOf(healthCheck.send(new PutItemCommand({ TableName: table, Item: watchKey })))).toBeUndefined();
    expect(await failureOf(healthCheck.send(query('HEALTH#WATCH')))).toBeUndefined();
    expect(await failureOf(healthCheck.send(query(`SECRET#${managedSecret}`)))).toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(await failureOf(events.send(mark('HEALTH#WATCH')))).toBeUndefined();
    expect(await failureOf(events.send(mark(`SECRET#${managedSecret}`)))).toMatchObject({
      name: 'AccessDeniedException',
    });
    expect(await failureOf(events.send(query('HEALTH#WATCH')))).toMatchObject({ name: 'AccessDeniedException' });
  });

  it('lets the retire function read any version of a GitLab secret (its document says whether to revoke at GitLab), nothing else', async () => {
    // Prepare: documents as the stack writes them (no token needed to decide)
    const gitlab = (fields: object) =>
      JSON.stringify({ provider: 'gitlab-access-token', gitlabUrl: 'https://gitlab.example.com', ...fields });
    const manager = await rotor.createSecret(
      `rotor/development/${LOCAL_GITLAB_MANAGER_NAME}`,
      gitlab({ tokenType: 'personal' }),
    );
    const overlap = await rotor.createSecret(
      'rotor/development/iam-check-gitlab-project',
      gitlab({
        tokenType: 'project',
        ownerId: 'example-group/app',
        managerSecret: `rotor/development/${LOCAL_GITLAB_MANAGER_NAME}`,
      }),
    );
    const personal = await rotor.createSecret(
      'rotor/development/iam-check-gitlab-personal',
      gitlab({ tokenType: 'personal' }),
    );
    const versionOf = async (arn: string) =>
      Object.keys(
        (await rotor.secretsManager.send(new DescribeSecretCommand({ SecretId: arn }))).VersionIdsToStages!,
      )[0]!;
    const client = new SecretsManagerClient(as(LambdaBundle.retire));
    const read = (input: { SecretId: string; VersionId?: string; VersionStage?: string }) =>
      failureOf(client.send(new GetSecretValueCommand(input)));

    // Act / Assess
    expect(await read({ SecretId: overlap, VersionId: await versionOf(overlap) })).toBeUndefined();
    expect(await read({ SecretId: manager, VersionStage: 'AWSCURRENT' })).toBeUndefined();
    // Self-mode tokens (the manager among them) retire too: GitLab revoked them at rotation, which
    // only their retired version's document says.
    expect(await read({ SecretId: manager, VersionId: await versionOf(manager) })).toBeUndefined();
    expect(await read({ SecretId: personal, VersionId: await versionOf(personal) })).toBeUndefined();
    for (const refused of [{ SecretId: managedSecret, VersionStage: 'AWSCURRENT' }]) {
      expect(await read(refused)).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    }
  });

  it('refuses every function a secret the stack does not manage (no stage tag), even under the prefix', async () => {
    // Prepare: created by someone else, straight in the emulator
    const foreign = await rotor.secretsManager.send(
      new CreateSecretCommand({ Name: 'rotor/development/not-rotors', SecretString: 'x' }),
    );

    // Act / Assess
    for (const bundle of Object.values(LambdaBundle)) {
      expect([
        bundle,
        await failureOf(
          new SecretsManagerClient(as(bundle)).send(new DescribeSecretCommand({ SecretId: foreign.ARN! })),
        ),
      ]).toEqual([bundle, expect.objectContaining({ name: 'AccessDeniedException' })]);
    }
  });

  it('lets only the functions whose role grants it read the fingerprint pepper', async () => {
    const pepper = rotor.local.pepperSecretArn;
    const read = (bundle: LambdaBundle) =>
      failureOf(
        new SecretsManagerClient(as(bundle)).send(
          new GetSecretValueCommand({ SecretId: pepper, VersionStage: 'AWSCURRENT' }),
        ),
      );
    expect(await read(LambdaBundle.verifier)).toBeUndefined();
    expect(await read(LambdaBundle.rotationEvents)).toMatchObject({ name: 'AccessDeniedException' });
    // The health check may read the pepper: its role grants both the secret and the key.
    expect(await read(LambdaBundle.healthCheck)).toBeUndefined();
  });

  it("refuses a write to the fingerprint pepper with the pepper's own explicit deny (its resource policy)", async () => {
    const failure = await failureOf(
      new SecretsManagerClient(as(LambdaBundle.rotation)).send(
        new PutSecretValueCommand({ SecretId: rotor.local.pepperSecretArn, SecretString: 'guessable' }),
      ),
    );
    expect(failure).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    expect(failure?.message).toContain('with an explicit deny');
    expect(rotor.proxy.refusals()).toEqual([expect.objectContaining({ decision: 'ExplicitlyDenied' })]);
  });

  it('refuses the health check a DynamoDB write outside its watch partition with AccessDeniedException (JSON 1.0)', async () => {
    const failure = await failureOf(
      new DynamoDBClient(as(LambdaBundle.healthCheck)).send(
        new PutItemCommand({
          TableName: rotor.local.ledgerTableName,
          Item: { pk: { S: `SECRET#${managedSecret}` }, sk: { S: 'STATE' } },
        }),
      ),
    );
    expect(failure).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    expect((await rotor.scanLedger()).filter((item) => item.pk !== 'HEALTH#WATCH')).toEqual([]);
  });

  it("lets the rotation function delete items of its stage's secrets only, never a credential record", async () => {
    const client = new DynamoDBClient(as(LambdaBundle.rotation));
    const remove = (pk: string) =>
      failureOf(
        client.send(
          new DeleteItemCommand({
            TableName: rotor.local.ledgerTableName,
            Key: { pk: { S: pk }, sk: { S: 'JOURNAL#x' } },
          }),
        ),
      );
    expect(await remove(`SECRET#${managedSecret}`)).toBeUndefined();
    expect(await remove('TOKEN#0123456789abcdef')).toMatchObject({ name: 'AccessDeniedException', status: 400 });
    expect(
      await remove('SECRET#arn:aws:secretsmanager:us-east-1:123456789012:secret:rotor/production/x-AbCdEf'),
    ).toMatchObject({ name: 'AccessDeniedException' });
    // The verifier keeps records but never deletes.
    expect(
      await failureOf(
        new DynamoDBClient(as(LambdaBundle.verifier)).send(
          new DeleteItemCommand({
            TableName: rotor.local.ledgerTableName,
            Key: { pk: { S: `SECRET#${managedSecret}` }, sk: { S: 'JOURNAL#x' } },
          }),
        ),
      ),
    ).toMatchObject({ name: 'AccessDeniedException' });
  });

  it('answers SNS (query protocol) with AuthorizationError, and lets the rollback function publish its alert', async () => {
    const publish = (bundle: LambdaBundle) =>
      failureOf(
        new SNSClient(as(bundle)).send(new PublishCommand({ TopicArn: rotor.local.alertTopicArn, Message: 'paused' })),
      );
    expect(await publish(LambdaBundle.verifier)).toMatchObject({ name: 'AuthorizationErrorException', status: 403 });
    expect(await publish(LambdaBundle.rollback)).toBeUndefined();
  });

  it('answers EventBridge with AccessDeniedException (JSON 1.1) for a function without PutEvents', async () => {
    const failure = await failureOf(
      new EventBridgeClient(as(LambdaBundle.healthCheck)).send(
        new PutEventsCommand({ Entries: [{ Source: 'rotor', DetailType: 'Token Reuse Detected', Detail: '{}' }] }),
      ),
    );
    expect(failure).toMatchObject({ name: 'AccessDeniedException', status: 400 });
  });

  it('answers Scheduler (REST JSON) with AccessDeniedException, and lets the rollback cancel only retirement schedules', async () => {
    const group = rotor.local.env.ROTOR_SCHEDULE_GROUP!;
    const cancel = (bundle: LambdaBundle, name: string) =>
      failureOf(new SchedulerClient(as(bundle)).send(new DeleteScheduleCommand({ Name: name, GroupName: group })));
    // Allowed, so the emulator answers: there is no such schedule.
    expect(await cancel(LambdaBundle.rollback, 'retire-0123')).toMatchObject({ name: 'ResourceNotFoundException' });
    expect(await cancel(LambdaBundle.rollback, 'health-check')).toMatchObject({
      name: 'AccessDeniedException',
      status: 403,
    });
    const create = await failureOf(
      new SchedulerClient(as(LambdaBundle.verifier)).send(
        new CreateScheduleCommand({
          Name: 'retire-0123',
          GroupName: group,
          ScheduleExpression: 'at(2030-01-01T00:00:00)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: { Arn: rotor.local.retireFunctionArn, RoleArn: rotor.local.env.ROTOR_SCHEDULER_ROLE_ARN! },
        }),
      ),
    );
    expect(create).toMatchObject({ name: 'AccessDeniedException', status: 403 });
  });

  it('refuses a call it cannot map to IAM actions instead of letting it through', async () => {
    const failure = await failureOf(new SNSClient(as(LambdaBundle.rollback)).send(new ListTopicsCommand({})));
    expect(failure).toMatchObject({ status: 403 });
    expect(failure?.message).toContain('cannot map');
  });

  it("checks nothing of an operator's own client (the local placeholder credentials)", async () => {
    const operator = new SecretsManagerClient({
      endpoint: rotor.proxy.endpoint,
      region: 'us-east-1',
      credentials: LOCAL_CREDENTIALS,
    });
    expect(
      await failureOf(
        operator.send(new GetSecretValueCommand({ SecretId: managedSecret, VersionStage: 'AWSCURRENT' })),
      ),
    ).toBeUndefined();
    expect(rotor.proxy.refusals()).toEqual([]);
  });
});
