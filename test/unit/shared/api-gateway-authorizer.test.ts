import type { Verdict } from '../../../lambda/core/verifier/verdict';
import { answer, readPresentation, type Presentation } from '../../../lambda/shared/api-gateway-authorizer';

const TOKEN = 'rtr_85paEWcHsaLCYRbPIpw4jhcJNV56UuFl5TIPa3K9PAw26u7MF';
const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abcdef1234/prod/POST/deploy';

/** What an HTTP API (payload format 2.0) sends a REQUEST authorizer, trimmed to what matters. */
function httpApiEvent(headers: Record<string, string>): Record<string, unknown> {
  return {
    version: '2.0',
    type: 'REQUEST',
    routeArn: METHOD_ARN,
    identitySource: Object.values(headers),
    routeKey: 'POST /deploy',
    headers,
  };
}

describe('Function: readPresentation', () => {
  it('reads {"token"} of a direct invocation as it is, whatever its type', () => {
    // Act
    const presentations = [readPresentation({ token: TOKEN }), readPresentation({ token: 42 }), readPresentation({})];

    // Assess
    expect(presentations).toEqual([
      { kind: 'direct', token: TOKEN },
      { kind: 'direct', token: 42 },
      { kind: 'direct', token: undefined },
    ]);
  });

  it.each([null, undefined, 'token', 7])('reads %p as a direct invocation without a token', (event) => {
    // Act
    const presentation = readPresentation(event);

    // Assess
    expect(presentation).toEqual({ kind: 'direct', token: undefined });
  });

  it('reads the Bearer token of an HTTP API 2.0 request, from the lower-case header', () => {
    // Act
    const presentation = readPresentation(httpApiEvent({ authorization: `Bearer ${TOKEN}` }));

    // Assess
    expect(presentation).toEqual({ kind: 'http-api', token: TOKEN });
  });

  it('reads the Bearer token of an HTTP API 2.0 request from a capitalised header too', () => {
    // Act
    const presentation = readPresentation(httpApiEvent({ Authorization: `Bearer ${TOKEN}` }));

    // Assess
    expect(presentation).toEqual({ kind: 'http-api', token: TOKEN });
  });

  it('reads an HTTP API request without headers as one without a token', () => {
    // Act
    const presentation = readPresentation({ version: '2.0', type: 'REQUEST' });

    // Assess
    expect(presentation).toEqual({ kind: 'http-api', token: undefined });
  });

  it('reads the Bearer token of a REST API TOKEN authorizer event, with its method ARN', () => {
    // Act
    const presentation = readPresentation({
      type: 'TOKEN',
      authorizationToken: `Bearer ${TOKEN}`,
      methodArn: METHOD_ARN,
    });

    // Assess
    expect(presentation).toEqual({ kind: 'rest-api', token: TOKEN, methodArn: METHOD_ARN });
  });

  it.each([
    ['a lower-case scheme', `bearer ${TOKEN}`, TOKEN],
    ['several spaces and surrounding whitespace', `  Bearer   ${TOKEN} `, TOKEN],
    ['no scheme', TOKEN, undefined],
    ['another scheme', `Basic ${TOKEN}`, undefined],
    ['the scheme alone', 'Bearer', undefined],
    ['two words after the scheme', `Bearer ${TOKEN} extra`, undefined],
    ['an empty header', '', undefined],
  ])('reads an Authorization header with %s', (_label, header, expected) => {
    // Act
    const presentation = readPresentation({ type: 'TOKEN', authorizationToken: header, methodArn: METHOD_ARN });

    // Assess
    expect(presentation.token).toBe(expected);
  });

  it('reads a non-string Authorization as no token', () => {
    // Act
    const presentation = readPresentation({ type: 'TOKEN', authorizationToken: [TOKEN], methodArn: METHOD_ARN });

    // Assess
    expect(presentation.token).toBeUndefined();
  });
});

describe('Function: answer', () => {
  const allowed: Verdict = {
    allowed: true,
    reason: 'grace',
    secretName: 'rotor/dev/ci-token',
    versionId: 'c0ffee00-1111-4222-8333-444455556666',
    graceEndsAt: 1_700_000_000_000,
  };
  const denied: Verdict = { allowed: false, reason: 'unknown' };
  const rest: Presentation = { kind: 'rest-api', token: TOKEN, methodArn: METHOD_ARN };

  it('answers a direct invocation with the verdict itself', () => {
    // Act
    const response = answer({ kind: 'direct', token: TOKEN }, allowed);

    // Assess
    expect(response).toBe(allowed);
  });

  it('answers an HTTP API with a simple response carrying the reason and the secret name', () => {
    // Act
    const responses = [
      answer({ kind: 'http-api', token: TOKEN }, allowed),
      answer({ kind: 'http-api', token: TOKEN }, denied),
    ];

    // Assess
    expect(responses).toEqual([
      { isAuthorized: true, context: { reason: 'grace', secretName: 'rotor/dev/ci-token' } },
      { isAuthorized: false, context: { reason: 'unknown' } },
    ]);
  });

  it('answers a REST API with an Allow policy on exactly the method ARN, the secret as principal', () => {
    // Act
    const response = answer(rest, allowed);

    // Assess
    expect(response).toEqual({
      principalId: 'rotor/dev/ci-token',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }],
      },
      context: { reason: 'grace', secretName: 'rotor/dev/ci-token' },
    });
  });

  it('answers a REST API with a Deny policy for a refused token, with principal unknown', () => {
    // Act
    const response = answer(rest, denied);

    // Assess
    expect(response).toEqual({
      principalId: 'unknown',
      policyDocument: {
        Version: '2012-10-17',
        Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: METHOD_ARN }],
      },
      context: { reason: 'unknown' },
    });
  });

  it('never puts the token in any response', () => {
    // Act
    const responses = [
      answer({ kind: 'direct', token: TOKEN }, allowed),
      answer({ kind: 'http-api', token: TOKEN }, allowed),
      answer(rest, allowed),
    ];

    // Assess
    expect(JSON.stringify(responses)).not.toContain(TOKEN);
  });
});
