import { Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as authorizers from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/** Properties of a {@link RotorTokenAuthorizer}. */
export interface RotorTokenAuthorizerProps {
  /**
   * The stage's verifier function: `VerifierFunction.function` in the same app, or
   * `lambda.Function.fromFunctionAttributes(this, 'Verifier', { functionArn, sameEnvironment: true })`
   * with the stack's `VerifierFunctionArn` output in another one.
   */
  readonly verifier: lambda.IFunction;
}

// The header a CI job sends: `Authorization: Bearer rtr_...`. The verifier accepts the Bearer form.
const AUTHORIZATION_HEADER = 'Authorization';

// Reuse detection needs every presentation of a token to reach the verifier: a cached "allow"
// would let a token that was rotated out (or revoked) minutes ago pass unseen, and a cached
// "deny" would hide the repeated use of a stolen one. So API Gateway caches nothing.
const NO_CACHE = Duration.seconds(0);

/**
 * Protects an API Gateway route with Rotor tokens in one line: the verifier as a Lambda
 * authorizer, with API Gateway's permission to invoke it (CDK adds it when a route uses the
 * authorizer). A request without an `Authorization` header is refused by API Gateway itself.
 *
 * ```ts
 * httpApi.addRoutes({ path: '/deploy', methods: [HttpMethod.POST], integration,
 *   authorizer: RotorTokenAuthorizer.forHttpApi(this, 'RotorToken', { verifier }) });
 * restApi.root.addResource('deploy').addMethod('POST', integration,
 *   { authorizer: RotorTokenAuthorizer.forRestApi(this, 'RotorToken', { verifier }) });
 * ```
 */
export class RotorTokenAuthorizer {
  /**
   * A Lambda REQUEST authorizer for an HTTP API: payload format 2.0 with simple responses
   * (`{isAuthorized, context}`), identity source `$request.header.Authorization`, no caching.
   *
   * CDK's HTTP API authorizer is not a construct: it is created in the scope of the first route
   * that uses it, so `scope` only keeps both factories alike; `id` names it. Attach it to routes of
   * one HTTP API only.
   */
  static forHttpApi(_scope: Construct, id: string, props: RotorTokenAuthorizerProps): authorizers.HttpLambdaAuthorizer {
    return new authorizers.HttpLambdaAuthorizer(id, props.verifier, {
      responseTypes: [authorizers.HttpLambdaResponseType.SIMPLE],
      identitySource: [`$request.header.${AUTHORIZATION_HEADER}`],
      resultsCacheTtl: NO_CACHE,
    });
  }

  /**
   * A Lambda TOKEN authorizer for a REST API: the verifier answers `{principalId, policyDocument,
   * context}`; identity source `method.request.header.Authorization`, no caching.
   */
  static forRestApi(scope: Construct, id: string, props: RotorTokenAuthorizerProps): apigateway.TokenAuthorizer {
    return new apigateway.TokenAuthorizer(scope, id, {
      handler: inStackOf(scope, `${id}Verifier`, props.verifier),
      identitySource: apigateway.IdentitySource.header(AUTHORIZATION_HEADER),
      resultsCacheTtl: NO_CACHE,
    });
  }

  private constructor() {}
}

/**
 * The REST API authorizer adds API Gateway's invoke permission in the function's own scope. For a
 * verifier in another stack (Rotor's), that permission would live in Rotor's stack and reference
 * the team's API, a cycle between the two stacks; referenced from the API's stack, it lives there.
 */
function inStackOf(scope: Construct, id: string, verifier: lambda.IFunction): lambda.IFunction {
  if (Stack.of(verifier) === Stack.of(scope)) return verifier;
  return lambda.Function.fromFunctionAttributes(scope, id, {
    functionArn: verifier.functionArn,
    sameEnvironment: true,
  });
}
