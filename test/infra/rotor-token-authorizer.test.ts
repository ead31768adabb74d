import { CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { RotorStack } from '../../lib/rotor-stack';
import { RotorTokenAuthorizer } from '../../lib/rotor-token-authorizer';
import { newTestApp, testStage } from './infra-test-app';

/** A team's deploy endpoint: the function behind its HTTP API and REST API routes. */
function deployHandler(stack: Stack): lambda.Function {
  return new lambda.Function(stack, 'Deploy', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 204 });'),
  });
}

describe('RotorTokenAuthorizer', () => {
  // GIVEN Rotor's stack and, in another stack of the same app, a team's HTTP API and REST API
  // whose POST /deploy routes are each protected with one line
  let rotor: RotorStack;
  let team: Stack;
  let template: Template;
  let rotorTemplate: Template;
  let httpApi: apigwv2.HttpApi;
  let restApi: apigateway.RestApi;
  let restAuthorizer: apigateway.TokenAuthorizer;
  const id = (construct: IConstruct): string =>
    Stack.of(construct).getLogicalId(
      (CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource,
    );
  // The team stack reads the verifier's ARN from Rotor's stack.
  const verifierArn = Match.objectLike({
    'Fn::GetStackOutput': Match.objectLike({ StackName: 'Rotor-test', OutputName: Match.stringLikeRegexp('Verifier') }),
  });

  beforeAll(() => {
    const app = newTestApp();
    rotor = new RotorStack(app, 'Rotor-test', { stage: testStage() });
    team = new Stack(app, 'Team');
    const verifier = rotor.verifierFunction.function;
    const deploy = deployHandler(team);
    // WHEN
    httpApi = new apigwv2.HttpApi(team, 'Http');
    httpApi.addRoutes({
      path: '/deploy',
      methods: [apigwv2.HttpMethod.POST],
      integration: new integrations.HttpLambdaIntegration('Deploy', deploy),
      authorizer: RotorTokenAuthorizer.forHttpApi(team, 'RotorToken', { verifier }),
    });
    restApi = new apigateway.RestApi(team, 'Rest');
    restAuthorizer = RotorTokenAuthorizer.forRestApi(team, 'RotorToken', { verifier });
    restApi.root
      .addResource('deploy')
      .addMethod('POST', new apigateway.LambdaIntegration(deploy), { authorizer: restAuthorizer });
    template = Template.fromStack(team);
    rotorTemplate = Template.fromStack(rotor);
  });

  describe('forHttpApi', () => {
    it('is a REQUEST authorizer on the Authorization header, payload 2.0 with simple responses, never cached', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
      template.hasResourceProperties(
        'AWS::ApiGatewayV2::Authorizer',
        Match.objectEquals({
          ApiId: { Ref: id(httpApi) },
          Name: 'RotorToken',
          AuthorizerType: 'REQUEST',
          IdentitySource: ['$request.header.Authorization'],
          AuthorizerPayloadFormatVersion: '2.0',
          EnableSimpleResponses: true,
          AuthorizerResultTtlInSeconds: 0,
          AuthorizerUri: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':apigateway:',
                { Ref: 'AWS::Region' },
                ':lambda:path/2015-03-31/functions/',
                verifierArn,
                '/invocations',
              ],
            ],
          },
        }),
      );
    });

    it('protects the route', () => {
      const [authorizerId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer'));
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: 'POST /deploy',
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: authorizerId },
      });
    });

    it('lets this API, through this authorizer only, invoke the verifier', () => {
      const [authorizerId] = Object.keys(template.findResources('AWS::ApiGatewayV2::Authorizer'));
      template.hasResourceProperties(
        'AWS::Lambda::Permission',
        Match.objectEquals({
          Action: 'lambda:InvokeFunction',
          FunctionName: verifierArn,
          Principal: 'apigateway.amazonaws.com',
          SourceArn: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':execute-api:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':',
                { Ref: id(httpApi) },
                '/authorizers/',
                { Ref: authorizerId },
              ],
            ],
          },
        }),
      );
    });
  });

  describe('forRestApi', () => {
    it('is a TOKEN authorizer on the Authorization header, never cached', () => {
      template.resourceCountIs('AWS::ApiGateway::Authorizer', 1);
      template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
        RestApiId: { Ref: id(restApi) },
        Type: 'TOKEN',
        IdentitySource: 'method.request.header.Authorization',
        AuthorizerResultTtlInSeconds: 0,
        AuthorizerUri: { 'Fn::Join': ['', Match.arrayWith([verifierArn, '/invocations'])] },
      });
    });

    it('protects the method', () => {
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: 'POST',
        AuthorizationType: 'CUSTOM',
        AuthorizerId: { Ref: id(restAuthorizer) },
      });
    });

    it("lets this API, through this authorizer only, invoke the verifier, from the API's own stack", () => {
      template.hasResourceProperties(
        'AWS::Lambda::Permission',
        Match.objectEquals({
          Action: 'lambda:InvokeFunction',
          FunctionName: verifierArn,
          Principal: 'apigateway.amazonaws.com',
          SourceArn: {
            'Fn::Join': [
              '',
              [
                'arn:',
                { Ref: 'AWS::Partition' },
                ':execute-api:',
                { Ref: 'AWS::Region' },
                ':',
                { Ref: 'AWS::AccountId' },
                ':',
                { Ref: id(restApi) },
                '/authorizers/',
                { Ref: id(restAuthorizer) },
              ],
            ],
          },
        }),
      );
    });
  });

  it("adds nothing to Rotor's stack: no permission there refers back to the team's APIs", () => {
    rotorTemplate.resourcePropertiesCountIs('AWS::Lambda::Permission', { Principal: 'apigateway.amazonaws.com' }, 0);
  });

  it('adds the REST API permission on the verifier itself when the API is in the same stack', () => {
    // GIVEN a REST API in Rotor's own stack
    const app = newTestApp();
    const stack = new RotorStack(app, 'Rotor-test', { stage: testStage() });
    const api = new apigateway.RestApi(stack, 'Rest');
    // WHEN
    const authorizer = RotorTokenAuthorizer.forRestApi(stack, 'RotorToken', {
      verifier: stack.verifierFunction.function,
    });
    api.root.addMethod('POST', new apigateway.MockIntegration(), { authorizer });
    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Permission', {
      Principal: 'apigateway.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [id(stack.verifierFunction.function), 'Arn'] },
    });
  });
});
