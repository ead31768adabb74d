import type { Verdict } from '../core/verifier/verdict';

/** How the verifier was asked: directly, or as an API Gateway Lambda authorizer. */
export type Presentation =
  | { readonly kind: 'direct'; readonly token: unknown }
  /** HTTP API, payload format 2.0, simple responses. */
  | { readonly kind: 'http-api'; readonly token: unknown }
  /** REST API TOKEN authorizer. */
  | { readonly kind: 'rest-api'; readonly token: unknown; readonly methodArn: string };

/** Finds the presented token in the event; an `Authorization: Bearer <token>` header for authorizers. */
export function readPresentation(event: unknown): Presentation {
  if (typeof event !== 'object' || event === null) return { kind: 'direct', token: undefined };
  const fields = event as Record<string, unknown>;
  if (fields.type === 'TOKEN' && typeof fields.methodArn === 'string') {
    return { kind: 'rest-api', token: bearerToken(fields.authorizationToken), methodArn: fields.methodArn };
  }
  if (fields.version === '2.0' && fields.type === 'REQUEST') {
    const headers = (typeof fields.headers === 'object' && fields.headers !== null ? fields.headers : {}) as Record<
      string,
      unknown
    >;
    return { kind: 'http-api', token: bearerToken(headers.authorization ?? headers.Authorization) };
  }
  return { kind: 'direct', token: fields.token };
}

/** The answer in the shape the caller expects. Context values never include the token. */
export function answer(presentation: Presentation, verdict: Verdict): unknown {
  const context = {
    reason: verdict.reason,
    ...(verdict.secretName === undefined ? {} : { secretName: verdict.secretName }),
  };
  switch (presentation.kind) {
    case 'direct':
      return verdict;
    case 'http-api':
      return { isAuthorized: verdict.allowed, context };
    case 'rest-api':
      return {
        principalId: verdict.secretName ?? 'unknown',
        policyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Action: 'execute-api:Invoke',
              Effect: verdict.allowed ? 'Allow' : 'Deny',
              Resource: presentation.methodArn,
            },
          ],
        },
        context,
      };
  }
}

function bearerToken(header: unknown): unknown {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  return match?.[1];
}
