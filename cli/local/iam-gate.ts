import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { runSimulation, type EvaluationResult } from '@cloud-copilot/iam-simulate';
import { randomUUID } from 'node:crypto';
import { accessKeyIdOf, bundleOfAccessKeyId } from './function-identity';
import { localClients } from './local-clients';
import { rotationModeOf, type GitLabAccessTokenDocument } from '../../lambda/core/providers/gitlab/gitlab-document';
import type { LocalEnvironment } from './provision-local';
import {
  LedgerSchema,
  MANAGED_BY_TAG,
  RotorProviderName,
  type LambdaBundle,
} from '../../lambda/shared/rotor-constants';
import type { PolicyDocument } from './template-policies';
import type { FunctionPolicies } from './function-policies';
import {
  classifyRequest,
  type AwsProtocol,
  type AwsRequest,
  type CheckEnvironment,
  type DescribedSecret,
  type IamCheck,
} from './iam-request-checks';

/** A request the gate refused, as the proxy answers it. */
export interface IamRefusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * A batch the gate serves in part, as AWS does: the request to forward with the refused items left
 * out (undefined when none is left), and the `Errors` entries to add to the answer.
 */
export interface IamPartialGrant {
  readonly forwardBody: string | undefined;
  readonly errors: readonly { readonly SecretId: string; readonly ErrorCode: string; readonly Message: string }[];
}

/** What the gate refused, for a test to assert on. */
export interface RefusedCall {
  readonly bundle: LambdaBundle;
  readonly operation: string;
  readonly action: string;
  readonly resource: string;
  readonly decision: EvaluationResult | 'Unmapped';
}

/** Checks each request of a Rotor function against that function's synthesized policies. */
export interface IamGate {
  /**
   * undefined to forward the request; a refusal in the service's own error shape; or, for a batch
   * whose items are authorized one by one, what to forward and the items refused.
   */
  authorize(request: AwsRequest): Promise<IamRefusal | IamPartialGrant | undefined>;
  /** Every refusal since the last reset. */
  refusals(): readonly RefusedCall[];
  reset(): void;
}

/**
 * Condition keys the gate derives from a request. A policy conditioned on any other key could not
 * be evaluated faithfully (the simulator would see it absent), so the gate refuses to start.
 */
const DERIVED_CONDITION_KEYS = new Set([
  'secretsmanager:versionstage',
  'secretsmanager:versionid',
  'kms:viaservice',
  'iam:passedtoservice',
  'dynamodb:leadingkeys',
  // The function's role (the assumed role's ARN as IAM sees it).
  'aws:principalarn',
  // A function calls every service itself: no service calls on its behalf, so the key is absent.
  'aws:calledvia',
]);

function conditionKeys(policy: PolicyDocument): string[] {
  return policy.Statement.flatMap((statement) => {
    // A statement for a service principal (CloudWatch using the key) never applies to a function.
    const principal = statement.Principal as { Service?: unknown } | undefined;
    if (principal?.Service !== undefined) return [];
    const condition = (statement.Condition ?? {}) as Record<string, Record<string, unknown>>;
    // A statement for SQS using the key with the role (Lambda delivering the function's dead
    // letters) never applies to a call the function makes: none goes through SQS, so the derived
    // kms:ViaService already fails it, whatever its other keys say.
    if (viaService(condition)?.startsWith('sqs.') === true) return [];
    return Object.values(condition).flatMap((test) => Object.keys(test).map((key) => key.toLowerCase()));
  });
}

/** The `kms:ViaService` a statement's StringEquals requires, if any. */
function viaService(condition: Record<string, Record<string, unknown>>): string | undefined {
  const value = Object.entries(condition.StringEquals ?? {}).find(
    ([key]) => key.toLowerCase() === 'kms:viaservice',
  )?.[1];
  return typeof value === 'string' ? value : undefined;
}

function assertDerivable(policies: FunctionPolicies): void {
  const documents = [
    ...Object.values(policies.functions).flatMap((fn) => fn.policies.map((p) => p.policy)),
    policies.keyPolicy,
    ...policies.secretPolicies.values(),
  ];
  const unknown = [...new Set(documents.flatMap(conditionKeys))].filter((key) => !DERIVED_CONDITION_KEYS.has(key));
  if (unknown.length > 0) {
    throw new Error(`the local IAM check cannot derive condition keys ${unknown.join(', ')} from requests`);
  }
}

/**
 * The gate for the local stage `local`, evaluating with @cloud-copilot/iam-simulate. Decisions are
 * cached: a request evaluates in microseconds once seen.
 *
 * The stack grants by ARN, and the emulator's secrets have ARNs of their own: each is evaluated
 * under the ARN of the configured secret it stands for.
 * - A secret named as a configured secret of the stage (`rotor/development/deploy-token`) is that
 *   secret: what `rotor local up` provisions.
 * - Any other secret under the stage's prefix with the stage's tag (the tests create many) stands
 *   for the configured secret of its kind, read once from its AWSCURRENT document: an overlap-mode `gitlab-access-token`
 *   (its `mode`, or overlap for a project or group token) for the configured overlap-mode GitLab
 *   token, a self-mode one for the configured self-mode GitLab token (not the manager); anything
 *   else for the managed token, whose grants every configured secret shares.
 * - A client certificate named in the stage, and a secret outside the stage, are themselves: no
 *   role names a secret the stage does not know.
 */
export function createIamGate(local: LocalEnvironment, policies: FunctionPolicies, secretNamePrefix: string): IamGate {
  assertDerivable(policies);
  const { secretsManager } = localClients(local.endpoint);
  const secrets = new Map<string, DescribedSecret>();
  /** The ARN each secret is evaluated under, by its own ARN. */
  const standIns = new Map<string, string>();
  const decisions = new Map<string, Promise<EvaluationResult>>();
  let refused: RefusedCall[] = [];

  // A secret's ARN, name, tags and key never change here; its rotation function is set by the
  // first rotation, so only RotateSecret asks for it afresh.
  const describeSecret = async (secretId: string, fresh: boolean): Promise<DescribedSecret | undefined> => {
    const known = secrets.get(secretId);
    if (known !== undefined && !fresh) return known;
    try {
      const described = await secretsManager.send(new DescribeSecretCommand({ SecretId: secretId }));
      const secret: DescribedSecret = {
        arn: described.ARN!,
        name: described.Name!,
        tags: Object.fromEntries((described.Tags ?? []).map((tag) => [tag.Key!, tag.Value ?? ''])),
        ...(described.KmsKeyId === undefined ? {} : { kmsKeyId: described.KmsKeyId }),
        ...(described.RotationLambdaARN === undefined ? {} : { rotationLambdaArn: described.RotationLambdaARN }),
      };
      if (!standIns.has(secret.arn)) standIns.set(secret.arn, await standInArn(secret));
      secrets.set(secretId, secret);
      return secret;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  };

  // The configured secret a secret stands for (see the rule in docs/emulator.md): one of the
  // configured names is that secret; any other secret with the stage's prefix and tag is one of the
  // stage's secrets of its kind, which only its document tells (the provider and GitLab mode never
  // change between versions); a client certificate, or a secret outside the stage, is itself.
  const standInArn = async (secret: DescribedSecret): Promise<string> => {
    const configured = policies.configuredSecretArns.get(secret.name);
    if (configured !== undefined) return configured;
    if (
      policies.namedSecrets.includes(secret.name) ||
      !secret.name.startsWith(secretNamePrefix) ||
      secret.tags[MANAGED_BY_TAG] !== local.stage
    ) {
      return secret.arn;
    }
    const gitlabMode = gitlabModeOf(await currentDocument(secret.arn));
    // A stage with no configured secret of that kind grants none: the secret is itself.
    if (gitlabMode === 'overlap') return policies.gitlabOverlapSecretArn ?? secret.arn;
    if (gitlabMode === 'self') return policies.gitlabSelfSecretArn ?? secret.arn;
    return policies.managedSecretArn ?? secret.arn;
  };
  const currentDocument = async (arn: string): Promise<unknown> => {
    try {
      const value = await secretsManager.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSCURRENT' }));
      return JSON.parse(value.SecretString ?? 'null') as unknown;
    } catch (error) {
      // Created without a value, deleted, or holding no JSON document: no provider of its own.
      if (error instanceof SecretsManagerServiceException || error instanceof SyntaxError) return undefined;
      throw error;
    }
  };

  const environment: CheckEnvironment = {
    account: policies.account,
    region: policies.region,
    describeSecret,
    evaluatedSecretArn: (secret) => standIns.get(secret.arn) ?? secret.arn,
    secretPolicy: (arn) => policies.secretPolicies.get(arn),
    keyPolicy: (keyArn) => (keyArn === local.kmsKeyArn ? policies.keyPolicy : undefined),
    topicKey: (topicArn) => policies.topicKeys.get(topicArn),
    partitionKeyOf: () => LedgerSchema.partitionKey,
  };

  const decide = (bundle: LambdaBundle, check: IamCheck): Promise<EvaluationResult> => {
    const cacheKey = JSON.stringify([
      bundle,
      check.action,
      check.resource,
      check.context,
      check.resourcePolicy !== undefined,
    ]);
    let decision = decisions.get(cacheKey);
    if (decision === undefined) {
      decision = simulate(policies, bundle, check);
      decisions.set(cacheKey, decision);
    }
    return decision;
  };

  return {
    async authorize(request) {
      const bundle = bundleOfAccessKeyId(accessKeyIdOf(String(request.headers.authorization ?? '')) ?? '');
      // Not a Rotor function (an operator's or a test's own client): nothing to check it against.
      if (bundle === undefined) return undefined;
      const principal = policies.functions[bundle].principalArn;
      let classified;
      try {
        classified = await classifyRequest(request, environment);
      } catch (error) {
        const message = `${principal} sent a request the local IAM check cannot map: ${(error as Error).message}`;
        refused.push({ bundle, operation: request.url, action: 'unknown', resource: 'unknown', decision: 'Unmapped' });
        return refusal(protocolOf(request), undefined, message);
      }
      for (const check of classified.checks) {
        const decision = await decide(bundle, check);
        if (decision === 'Allowed') continue;
        refused.push({
          bundle,
          operation: classified.operation,
          action: check.action,
          resource: check.resource,
          decision,
        });
        const why =
          decision === 'ExplicitlyDenied'
            ? 'with an explicit deny'
            : `because no ${check.resourcePolicy === undefined ? 'identity-based' : 'identity-based or resource-based'} policy allows the ${check.action} action`;
        const message = `User: ${principal} is not authorized to perform: ${check.action} on resource: ${check.resource} ${why}`;
        return refusal(classified.protocol, classified.service, message);
      }
      if (classified.items === undefined) return undefined;
      // BatchGetSecretValue: each secret is served or listed in Errors, never the whole batch refused.
      const allowed: string[] = [];
      const errors: { SecretId: string; ErrorCode: string; Message: string }[] = [];
      for (const item of classified.items) {
        let refusedCheck: IamCheck | undefined;
        for (const check of item.checks) {
          if ((await decide(bundle, check)) !== 'Allowed') {
            refusedCheck = check;
            break;
          }
        }
        if (refusedCheck === undefined) {
          allowed.push(item.id);
          continue;
        }
        refused.push({
          bundle,
          operation: classified.operation,
          action: refusedCheck.action,
          resource: refusedCheck.resource,
          decision: await decide(bundle, refusedCheck),
        });
        errors.push({
          SecretId: item.id,
          ErrorCode: 'AccessDeniedException',
          Message: `User: ${principal} is not authorized to perform: ${refusedCheck.action} on resource: ${refusedCheck.resource}`,
        });
      }
      if (errors.length === 0) return undefined;
      const body = JSON.parse(request.body) as Record<string, unknown>;
      return {
        forwardBody: allowed.length === 0 ? undefined : JSON.stringify({ ...body, SecretIdList: allowed }),
        errors,
      };
    },
    refusals: () => [...refused],
    reset: () => {
      refused = [];
    },
  };
}

/** The GitLab mode of a `gitlab-access-token` document (its own or its type's default); undefined for any other. */
function gitlabModeOf(document: unknown): 'overlap' | 'self' | undefined {
  if (typeof document !== 'object' || document === null) return undefined;
  const fields = document as Pick<GitLabAccessTokenDocument, 'mode' | 'tokenType'> & { provider?: unknown };
  return fields.provider === RotorProviderName.gitlabAccessToken ? rotationModeOf(fields) : undefined;
}

async function simulate(policies: FunctionPolicies, bundle: LambdaBundle, check: IamCheck): Promise<EvaluationResult> {
  const fn = policies.functions[bundle];
  const result = await runSimulation(
    {
      request: {
        principal: fn.principalArn,
        action: check.action,
        resource: { resource: check.resource, accountId: policies.account },
        contextVariables: { ...check.context, 'aws:PrincipalArn': fn.roleArn },
      },
      identityPolicies: fn.policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(check.resourcePolicy === undefined ? {} : { resourcePolicy: check.resourcePolicy }),
    },
    {},
  );
  if (result.resultType === 'error') {
    throw new Error(`the IAM simulation of ${check.action} refused its input: ${JSON.stringify(result.errors)}`);
  }
  if (result.resultType !== 'single') throw new Error(`expected one simulation result, got ${result.resultType}`);
  return result.overallResult;
}

function protocolOf(request: AwsRequest): AwsProtocol {
  if (typeof request.headers['x-amz-target'] === 'string') return 'json';
  return String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
    ? 'query'
    : 'rest-json';
}

/** AccessDenied in the shape the service's protocol uses, so the SDK raises it as AWS's own. */
function refusal(protocol: AwsProtocol, service: string | undefined, message: string): IamRefusal {
  switch (protocol) {
    case 'json':
      return {
        status: 400,
        headers: {
          'content-type': service === 'dynamodb' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
          'x-amzn-requestid': randomUUID(),
          // Services that moved from the query protocol (CloudWatch) report the query error code too.
          ...(service === 'monitoring' ? { 'x-amzn-query-error': 'AccessDenied;Sender' } : {}),
        },
        body: JSON.stringify({
          __type:
            service === 'dynamodb' ? 'com.amazonaws.dynamodb.v20120810#AccessDeniedException' : 'AccessDeniedException',
          message,
        }),
      };
    case 'query': {
      // SNS names its access error AuthorizationError; the other query services AccessDenied.
      const code = service === 'sns' ? 'AuthorizationError' : 'AccessDenied';
      const escaped = message.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
      return {
        status: 403,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() },
        body: `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${escaped}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      };
    }
    case 'rest-json':
      return {
        status: 403,
        headers: {
          'content-type': 'application/json',
          'x-amzn-errortype': 'AccessDeniedException',
          'x-amzn-requestid': randomUUID(),
        },
        body: JSON.stringify({ Message: message }),
      };
  }
}
