import type { Verdict } from '../../../lambda/core/verifier/verdict';
import { answer, readPresentation, type Presentation } from '../../../lambda/shared/api-gateway-authorizer';
import {
  httpApiV1Event,
  httpApiV2Event,
  METHOD_ARN,
  restRequestEvent,
  restTokenEvent,
  ROUTE_ARN,
  webSocketConnectEvent,
  WEBSOCKET_ARN,
} from '../fixtures/authorizer-events';

const TOKEN = 'rtr_85paEWcHsaLCYRbPIpw4jhcJNV56UuFl5TIPa3K9PAw26u7MF';

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

  it.each([
    ['a REST API TOKEN authorizer', restTokenEvent(`Bearer ${TOKEN}`), 'policy', METHOD_ARN],
    ['a REST API REQUEST authorizer', restRequestEvent({ Authorization: `Bearer ${TOKEN}` }), 'policy', METHOD_ARN],
    ['an HTTP API payload 1.0 authorizer', httpApiV1Event({ Authorization: `Bearer ${TOKEN}` }), 'policy', METHOD_ARN],
    [
      'an HTTP API payload 2.0 authorizer',
      httpApiV2Event({ authorization: `Bearer ${TOKEN}` }),
      'http-api-v2',
      ROUTE_ARN,
    ],
    [
      'a WebSocket $connect authorizer',
      webSocketConnectEvent({ Authorization: `Bearer ${TOKEN}` }),
      'policy',
      WEBSOCKET_ARN,
    ],
  ])('reads the Bearer token and the resource of %s', (_label, event, kind, resourceArn) => {
    // Act
    const presentation = readPresentation(event);

    // Assess
    expect(presentation).toEqual({ kind, token: TOKEN, resourceArn });
  });

  it.each(['authorization', 'AUTHORIZATION', 'Authorization'])('finds the header named %s in any case', (name) => {
    // Act
    const presentation = readPresentation(restRequestEvent({ [name]: `Bearer ${TOKEN}` }));

    // Assess
    expect(presentation.token).toBe(TOKEN);
  });

  it('reads two Authorization headers in different case as no token', () => {
    // Act
    const presentation = readPresentation(
      restRequestEvent({ authorization: `Bearer ${TOKEN}`, Authorization: `Bearer ${TOKEN}` }),
    );

    // Assess
    expect(presentation.token).toBeUndefined();
  });

  it.each([
    ['an HTTP API 2.0 request without headers', { version: '2.0', type: 'REQUEST' }, 'http-api-v2'],
    ['a TOKEN event without a method ARN', { type: 'TOKEN', authorizationToken: `Bearer ${TOKEN}` }, 'policy'],
    ['a REQUEST event whose method ARN is not an ARN', { type: 'REQUEST', methodArn: 7 }, 'policy'],
    ['an event of an unknown type', { type: 'COGNITO', token: TOKEN }, 'policy'],
  ])('reads %s as an authorizer event without a resource', (_label, event, kind) => {
    // Act
    const presentation = readPresentation(event);

    // Assess
    expect(presentation.kind).toBe(kind);
    expect(presentation).not.toHaveProperty('resourceArn');
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
    const presentation = readPresentation(restTokenEvent(header));

    // Assess
    expect(presentation.token).toBe(expected);
  });

  it('reads a non-string Authorization as no token', () => {
    // Act
    const presentations = [
      readPresentation({ ...restTokenEvent(''), authorizationToken: [TOKEN] }),
      readPresentation(restRequestEvent({ Authorization: [TOKEN] as unknown as string })),
    ];

    // Assess
    expect(presentations.map((presentation) => presentation.token)).toEqual([undefined, undefined]);
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
  const policy: Presentation = { kind: 'policy', token: TOKEN, resourceArn: METHOD_ARN };
  const httpApiV2: Presentation = { kind: 'http-api-v2', token: TOKEN, resourceArn: ROUTE_ARN };
  const policyDocument = (effect: 'Allow' | 'Deny', resource: string) => ({
    Version: '2012-10-17',
    Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: resource }],
  });

  it('answers a direct invocation with the verdict itself', () => {
    // Act
    const response = answer({ kind: 'direct', token: TOKEN }, allowed);

    // Assess
    expect(response).toBe(allowed);
  });

  it('answers a policy authorizer with an Allow on exactly the method ARN, the secret as principal', () => {
    // Act
    const response = answer(policy, allowed);

    // Assess
    expect(response).toEqual({
      principalId: 'rotor/dev/ci-token',
      policyDocument: policyDocument('Allow', METHOD_ARN),
      context: { reason: 'grace', secretName: 'rotor/dev/ci-token' },
    });
  });

  it('answers a policy authorizer with a Deny for a refused token, with principal unknown', () => {
    // Act
    const response = answer(policy, denied);

    // Assess
    expect(response).toEqual({
      principalId: 'unknown',
      policyDocument: policyDocument('Deny', METHOD_ARN),
      context: { reason: 'unknown' },
    });
  });

  it('answers HTTP API 2.0 with the simple response and the IAM policy on the route ARN, which agree', () => {
    // Act
    const responses = [answer(httpApiV2, allowed), answer(httpApiV2, denied)];

    // Assess
    expect(responses).toEqual([
      {
        isAuthorized: true,
        principalId: 'rotor/dev/ci-token',
        policyDocument: policyDocument('Allow', ROUTE_ARN),
        context: { reason: 'grace', secretName: 'rotor/dev/ci-token' },
      },
      {
        isAuthorized: false,
        principalId: 'unknown',
        policyDocument: policyDocument('Deny', ROUTE_ARN),
        context: { reason: 'unknown' },
      },
    ]);
  });

  it('denies an allowed verdict when the event named no resource: an Allow never covers everything', () => {
    // Act
    const responses = [
      answer({ kind: 'policy', token: TOKEN }, allowed),
      answer({ kind: 'http-api-v2', token: TOKEN }, allowed),
    ];

    // Assess
    expect(responses).toEqual([
      expect.objectContaining({ policyDocument: policyDocument('Deny', '*') }),
      expect.objectContaining({ isAuthorized: false, policyDocument: policyDocument('Deny', '*') }),
    ]);
  });

  it('never puts the token in any response', () => {
    // Act
    const responses = [
      answer({ kind: 'direct', token: TOKEN }, allowed),
      answer(httpApiV2, allowed),
      answer(policy, allowed),
    ];

    // Assess
    expect(JSON.stringify(responses)).not.toContain(TOKEN);
  });
});
