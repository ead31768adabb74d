import type { PolicyDocument } from './template-policies';

/** One AWS API request as the proxy received it, body read. */
export interface AwsRequest {
  readonly method: string;
  /** Path and query string. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

/** How the SDK spoke to the service: decides the shape of an error the caller can parse. */
export type AwsProtocol = 'json' | 'query' | 'rest-json';

/** One IAM authorization AWS makes for a request: a request may need several (a KMS decrypt, a PassRole). */
export interface IamCheck {
  readonly action: string;
  readonly resource: string;
  readonly context: Record<string, string | string[]>;
  /** The resource's own policy, when it has one that takes part in the decision. */
  readonly resourcePolicy?: PolicyDocument;
}

/** A secret as the emulator describes it: what the authorization of a call on it depends on. */
export interface DescribedSecret {
  readonly arn: string;
  readonly name: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly kmsKeyId?: string;
  readonly rotationLambdaArn?: string;
}

/** What the mapping from requests to checks needs to know about the local stage. */
export interface CheckEnvironment {
  readonly account: string;
  readonly region: string;
  /** The secret `secretId` names, or undefined when it does not exist; `fresh` to skip any cache. */
  describeSecret(secretId: string, fresh: boolean): Promise<DescribedSecret | undefined>;
  /** The ARN a secret is evaluated under: that of the configured secret of the stage it stands for, or its own. */
  evaluatedSecretArn(secret: DescribedSecret): string;
  /** The resource policy of the secret evaluated under `arn`, if any. */
  secretPolicy(arn: string): PolicyDocument | undefined;
  /** The key policy of `keyArn` when it is the stage's key; undefined for a key Rotor does not own. */
  keyPolicy(keyArn: string): PolicyDocument | undefined;
  /** The KMS key of the SNS topic `topicArn`, if the stack encrypts it. */
  topicKey(topicArn: string): string | undefined;
  /** The partition key attribute of the table `tableName`. */
  partitionKeyOf(tableName: string): string;
}

/** The API operation of a request and the IAM checks AWS would make before serving it. */
export interface ClassifiedRequest {
  readonly service: string;
  readonly operation: string;
  readonly protocol: AwsProtocol;
  readonly checks: readonly IamCheck[];
  /**
   * A batch that AWS authorizes item by item once `checks` pass (BatchGetSecretValue: GetSecretValue
   * on each secret): a refused item is left out of the answer and listed in its `Errors`, the
   * others are served.
   */
  readonly items?: readonly BatchItem[];
}

/** One item of a batch request and the checks that decide whether it is served. */
export interface BatchItem {
  readonly id: string;
  readonly checks: readonly IamCheck[];
}

/** The SigV4 signing name of the request (`dynamodb`, `secretsmanager`, `scheduler`, ...). */
function signingService(request: AwsRequest): string | undefined {
  const authorization = request.headers.authorization;
  return /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(String(authorization ?? ''))?.[1];
}

/**
 * Maps a request to the IAM checks AWS makes for it. Throws for a request it cannot map, so that
 * a new kind of call fails loudly instead of passing unchecked.
 */
export async function classifyRequest(request: AwsRequest, env: CheckEnvironment): Promise<ClassifiedRequest> {
  const service = signingService(request);
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') {
    const operation = target.slice(target.lastIndexOf('.') + 1);
    const body = request.body === '' ? {} : (JSON.parse(request.body) as Record<string, unknown>);
    if (service === 'secretsmanager' && operation === 'BatchGetSecretValue') {
      return batchGetSecretValueChecks(body, env);
    }
    const checks = await jsonChecks(service ?? '', operation, body, env);
    return { service: service ?? '', operation, protocol: 'json', checks };
  }
  if (service === 'sns') {
    const form = new URLSearchParams(request.body);
    const operation = form.get('Action') ?? '';
    return { service, operation, protocol: 'query', checks: snsChecks(operation, form, env) };
  }
  if (service === 'scheduler') {
    return schedulerChecks(request, env);
  }
  throw new Error(`cannot map ${request.method} ${request.url} (${service ?? 'unsigned'}) to IAM actions`);
}

async function jsonChecks(
  service: string,
  operation: string,
  body: Record<string, unknown>,
  env: CheckEnvironment,
): Promise<IamCheck[]> {
  switch (service) {
    case 'secretsmanager':
      return secretsManagerChecks(operation, body, env);
    case 'dynamodb':
      return dynamoDbChecks(operation, body, env);
    case 'events':
      return eventBridgeChecks(operation, body, env);
    default:
      throw new Error(`cannot map ${service}.${operation} to IAM actions`);
  }
}

const secretsManagerVia = (env: CheckEnvironment) => ({
  'kms:ViaService': `secretsmanager.${env.region}.amazonaws.com`,
});

async function secretsManagerChecks(
  operation: string,
  body: Record<string, unknown>,
  env: CheckEnvironment,
): Promise<IamCheck[]> {
  const action = `secretsmanager:${operation}`;
  const secretId = body.SecretId;
  if (typeof secretId !== 'string') return [{ action, resource: '*', context: {} }];
  const secret = await env.describeSecret(secretId, operation === 'RotateSecret');
  if (secret === undefined) {
    // AWS authorizes before it looks the secret up: a name becomes the ARN pattern it would have.
    const resource = secretId.startsWith('arn:')
      ? secretId
      : `arn:aws:secretsmanager:${env.region}:${env.account}:secret:${secretId}`;
    return [{ action, resource, context: {} }];
  }
  const resource = env.evaluatedSecretArn(secret);
  const resourcePolicy = env.secretPolicy(resource);
  const context: Record<string, string> = {};
  if (operation === 'GetSecretValue') {
    // Only what the request names: a read by version id carries no stage.
    if (typeof body.VersionStage === 'string') context['secretsmanager:VersionStage'] = body.VersionStage;
    if (typeof body.VersionId === 'string') context['secretsmanager:VersionId'] = body.VersionId;
  }
  const checks: IamCheck[] = [
    { action, resource, context, ...(resourcePolicy === undefined ? {} : { resourcePolicy }) },
  ];
  // Secrets Manager uses the secret's KMS key on the caller's behalf: decrypt to read a value,
  // generate a data key to write one.
  const keyAction =
    operation === 'GetSecretValue' ? 'kms:Decrypt' : operation === 'PutSecretValue' ? 'kms:GenerateDataKey' : undefined;
  const keyPolicy = secret.kmsKeyId === undefined ? undefined : env.keyPolicy(secret.kmsKeyId);
  if (keyAction !== undefined && keyPolicy !== undefined) {
    checks.push({
      action: keyAction,
      resource: secret.kmsKeyId!,
      context: secretsManagerVia(env),
      resourcePolicy: keyPolicy,
    });
  }
  // RotateSecret invokes the rotation function as the caller.
  if (operation === 'RotateSecret') {
    const rotationLambdaArn =
      typeof body.RotationLambdaARN === 'string' ? body.RotationLambdaARN : secret.rotationLambdaArn;
    if (rotationLambdaArn !== undefined) {
      checks.push({ action: 'lambda:InvokeFunction', resource: rotationLambdaArn, context: {} });
    }
  }
  return checks;
}

/**
 * BatchGetSecretValue: `secretsmanager:BatchGetSecretValue` (no resource but `*`), then, secret by
 * secret, what GetSecretValue of that secret with neither a label nor a version id needs
 * (GetSecretValue on it, and its key's Decrypt through Secrets Manager), as AWS documents it.
 * A batch by filters is not mapped (Rotor reads by ARN).
 */
async function batchGetSecretValueChecks(
  body: Record<string, unknown>,
  env: CheckEnvironment,
): Promise<ClassifiedRequest> {
  const checks: IamCheck[] = [{ action: 'secretsmanager:BatchGetSecretValue', resource: '*', context: {} }];
  const ids = Array.isArray(body.SecretIdList) ? body.SecretIdList.map(String) : [];
  if (body.Filters !== undefined)
    throw new Error('cannot map BatchGetSecretValue with Filters to IAM actions per secret');
  const items = await Promise.all(
    ids.map(async (id) => ({ id, checks: await secretsManagerChecks('GetSecretValue', { SecretId: id }, env) })),
  );
  return { service: 'secretsmanager', operation: 'BatchGetSecretValue', protocol: 'json', checks, items };
}

function tableArn(env: CheckEnvironment, tableName: unknown): string {
  const name = String(tableName);
  return name.startsWith('arn:') ? name : `arn:aws:dynamodb:${env.region}:${env.account}:table/${name}`;
}

/** `dynamodb:LeadingKeys`: the partition key values the request touches. */
function leadingKeys(env: CheckEnvironment, tableName: unknown, item: unknown): Record<string, string[]> {
  const partitionKey = env.partitionKeyOf(String(tableName));
  const value = (item as Record<string, { S?: string; N?: string }> | undefined)?.[partitionKey];
  const key = value?.S ?? value?.N;
  return key === undefined ? {} : { 'dynamodb:LeadingKeys': [key] };
}

/** The partition a Query of the base table reads: the value its key condition gives the partition key. */
function queriedPartition(env: CheckEnvironment, body: Record<string, unknown>): string | undefined {
  const partitionKey = env.partitionKeyOf(String(body.TableName));
  const names = (body.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (body.ExpressionAttributeValues ?? {}) as Record<string, { S?: string; N?: string }>;
  const condition = typeof body.KeyConditionExpression === 'string' ? body.KeyConditionExpression : '';
  for (const [, name, placeholder] of condition.matchAll(/(#?\w+)\s*=\s*(:\w+)/g)) {
    if ((names[name!] ?? name) !== partitionKey) continue;
    const value = values[placeholder!];
    return value?.S ?? value?.N;
  }
  return undefined;
}

function dynamoDbChecks(operation: string, body: Record<string, unknown>, env: CheckEnvironment): IamCheck[] {
  const itemCheck = (action: string, request: Record<string, unknown>): IamCheck => ({
    action: `dynamodb:${action}`,
    resource: tableArn(env, request.TableName),
    context: leadingKeys(env, request.TableName, request.Key ?? request.Item),
  });
  switch (operation) {
    case 'GetItem':
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [itemCheck(operation, body)];
    case 'Query':
    case 'Scan': {
      const table = tableArn(env, body.TableName);
      const resource = typeof body.IndexName === 'string' ? `${table}/index/${body.IndexName}` : table;
      const key = operation === 'Query' && body.IndexName === undefined ? queriedPartition(env, body) : undefined;
      return [
        {
          action: `dynamodb:${operation}`,
          resource,
          context: key === undefined ? {} : { 'dynamodb:LeadingKeys': [key] },
        },
      ];
    }
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      // A transaction is authorized item by item, as the single-item action of each part.
      const parts = (body.TransactItems as Record<string, Record<string, unknown>>[] | undefined) ?? [];
      const actionOf: Record<string, string> = {
        ConditionCheck: 'ConditionCheckItem',
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        Get: 'GetItem',
      };
      return parts.flatMap((part) =>
        Object.entries(part).map(([kind, request]) => {
          const action = actionOf[kind];
          if (action === undefined) throw new Error(`cannot map transaction part ${kind} to an IAM action`);
          return itemCheck(action, request);
        }),
      );
    }
    case 'DescribeTable':
    case 'DescribeTimeToLive':
      return [{ action: `dynamodb:${operation}`, resource: tableArn(env, body.TableName), context: {} }];
    default:
      throw new Error(`cannot map DynamoDB ${operation} to IAM actions`);
  }
}

function eventBridgeChecks(operation: string, body: Record<string, unknown>, env: CheckEnvironment): IamCheck[] {
  if (operation !== 'PutEvents') throw new Error(`cannot map EventBridge ${operation} to IAM actions`);
  const buses = new Set(
    ((body.Entries as { EventBusName?: string }[] | undefined) ?? []).map((entry) => entry.EventBusName ?? 'default'),
  );
  return [...buses].map((bus) => ({
    action: 'events:PutEvents',
    resource: bus.startsWith('arn:') ? bus : `arn:aws:events:${env.region}:${env.account}:event-bus/${bus}`,
    context: {},
  }));
}

function snsChecks(operation: string, form: URLSearchParams, env: CheckEnvironment): IamCheck[] {
  if (operation !== 'Publish') throw new Error(`cannot map SNS ${operation} to IAM actions`);
  const topicArn = form.get('TopicArn') ?? form.get('TargetArn') ?? '';
  const checks: IamCheck[] = [{ action: 'sns:Publish', resource: topicArn, context: {} }];
  // Publishing to an encrypted topic uses its key as the publisher.
  const key = env.topicKey(topicArn);
  const keyPolicy = key === undefined ? undefined : env.keyPolicy(key);
  if (key !== undefined && keyPolicy !== undefined) {
    for (const action of ['kms:GenerateDataKey', 'kms:Decrypt']) {
      checks.push({
        action,
        resource: key,
        context: { 'kms:ViaService': `sns.${env.region}.amazonaws.com` },
        resourcePolicy: keyPolicy,
      });
    }
  }
  return checks;
}

function schedulerChecks(request: AwsRequest, env: CheckEnvironment): ClassifiedRequest {
  const url = new URL(request.url, 'http://local');
  const match = /^\/schedules\/([^/]+)$/.exec(url.pathname);
  if (match === null) throw new Error(`cannot map Scheduler ${request.method} ${url.pathname} to IAM actions`);
  const name = decodeURIComponent(match[1]!);
  const body = request.body === '' ? {} : (JSON.parse(request.body) as Record<string, unknown>);
  const group = (body.GroupName as string | undefined) ?? url.searchParams.get('groupName') ?? 'default';
  const operation = { POST: 'CreateSchedule', PUT: 'UpdateSchedule', DELETE: 'DeleteSchedule', GET: 'GetSchedule' }[
    request.method
  ];
  if (operation === undefined) throw new Error(`cannot map Scheduler ${request.method} to an IAM action`);
  const resource = `arn:aws:scheduler:${env.region}:${env.account}:schedule/${group}/${name}`;
  const checks: IamCheck[] = [{ action: `scheduler:${operation}`, resource, context: {} }];
  // A schedule's target role is passed to Scheduler by whoever creates or updates it.
  const roleArn = (body.Target as { RoleArn?: string } | undefined)?.RoleArn;
  if (roleArn !== undefined) {
    checks.push({
      action: 'iam:PassRole',
      resource: roleArn,
      context: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
    });
  }
  return { service: 'scheduler', operation, protocol: 'rest-json', checks };
}
