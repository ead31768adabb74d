import type { Verdict } from '../core/verifier/verdict';

/**
 * How the verifier was asked, and so the shape its answer must take. API Gateway answers 500 to
 * a request whose authorizer returned anything else than the shape it expects, so each kind of
 * authorizer event gets its own.
 */
export type Presentation =
  /** A direct invocation, `{"token": "..."}`: the verdict itself. */
  | { readonly kind: 'direct'; readonly token: unknown }
  /**
   * An authorizer that reads an IAM policy: REST API TOKEN and REQUEST, HTTP API payload 1.0,
   * WebSocket `$connect`. `resourceArn` is the ARN the policy names (`methodArn`); absent when the
   * event carried none, which can only be denied.
   */
  | { readonly kind: 'policy'; readonly token: unknown; readonly resourceArn?: string }
  /**
   * HTTP API payload 2.0. Whether the authorizer has simple responses enabled is not in the
   * event, so the answer carries both forms: `isAuthorized` for simple responses, the IAM policy
   * on `routeArn` otherwise. The two always agree.
   */
  | { readonly kind: 'http-api-v2'; readonly token: unknown; readonly resourceArn?: string };

// Fields that only authorizer events carry. An event with any of them is never read as a direct
// invocation, so a malformed authorizer event is denied in a shape API Gateway reads.
const AUTHORIZER_FIELDS = ['type', 'methodArn', 'routeArn', 'version', 'authorizationToken'] as const;

/**
 * Finds the presented token in the event: `{"token"}` of a direct invocation, otherwise the
 * `Authorization: Bearer <token>` header (or a TOKEN authorizer's `authorizationToken`).
 */
export function readPresentation(event: unknown): Presentation {
  if (typeof event !== 'object' || event === null) return { kind: 'direct', token: undefined };
  const fields = event as Record<string, unknown>;
  if (!AUTHORIZER_FIELDS.some((field) => field in fields)) return { kind: 'direct', token: fields.token };

  if (fields.version === '2.0') {
    return { kind: 'http-api-v2', token: bearerToken(headerValue(fields.headers)), ...arn(fields.routeArn) };
  }
  // REST TOKEN names its one identity source `authorizationToken`; REST REQUEST, HTTP API 1.0 and
  // WebSocket REQUEST events carry the request's headers, in the case the client sent them.
  const header = fields.type === 'TOKEN' ? fields.authorizationToken : headerValue(fields.headers);
  return { kind: 'policy', token: bearerToken(header), ...arn(fields.methodArn) };
}

/** The answer in the shape the caller expects. Context values never include the token. */
export function answer(presentation: Presentation, verdict: Verdict): unknown {
  switch (presentation.kind) {
    case 'direct':
      return verdict;
    case 'policy':
      return policyResponse(presentation.resourceArn, verdict);
    case 'http-api-v2':
      return {
        isAuthorized: allows(presentation.resourceArn, verdict),
        ...policyResponse(presentation.resourceArn, verdict),
      };
  }
}

// Deny by default: an Allow needs both an allowing verdict and the exact resource to allow.
function allows(resourceArn: string | undefined, verdict: Verdict): boolean {
  return verdict.allowed && resourceArn !== undefined;
}

function policyResponse(resourceArn: string | undefined, verdict: Verdict) {
  return {
    principalId: verdict.secretName ?? 'unknown',
    policyDocument: {
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'execute-api:Invoke',
          Effect: allows(resourceArn, verdict) ? 'Allow' : 'Deny',
          // A Deny on an event without an ARN covers everything; an Allow never does.
          Resource: resourceArn ?? '*',
        },
      ],
    },
    context: {
      reason: verdict.reason,
      ...(verdict.secretName === undefined ? {} : { secretName: verdict.secretName }),
    },
  };
}

function arn(value: unknown): { resourceArn?: string } {
  return typeof value === 'string' && value.startsWith('arn:') ? { resourceArn: value } : {};
}

// HTTP headers are case-insensitive: HTTP API 2.0 lower-cases them, the other events keep the
// client's case. Two Authorization headers in different case are ambiguous: no token.
function headerValue(headers: unknown): unknown {
  if (typeof headers !== 'object' || headers === null) return undefined;
  const values = Object.entries(headers as Record<string, unknown>)
    .filter(([name]) => name.toLowerCase() === 'authorization')
    .map(([, value]) => value);
  return values.length === 1 ? values[0] : undefined;
}

function bearerToken(header: unknown): unknown {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}
