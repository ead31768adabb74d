import { CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { AlertTopic } from '../../lib/alert-topic';
import { newTestApp } from './infra-test-app';

const alarmsOfStage = {
  'Fn::Join': [
    '',
    [
      'arn:',
      { Ref: 'AWS::Partition' },
      ':cloudwatch:',
      { Ref: 'AWS::Region' },
      ':',
      { Ref: 'AWS::AccountId' },
      ':alarm:rotor-test-*',
    ],
  ],
};
const fromStageAlarms = {
  StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
  ArnLike: { 'aws:SourceArn': alarmsOfStage },
};

describe('AlertTopic', () => {
  // GIVEN the alert topic of stage `test` with an email and an HTTPS subscription, and a publisher
  let stack: Stack;
  let template: Template;
  let key: kms.Key;
  let alerts: AlertTopic;
  let publisher: iam.Role;
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);

  beforeAll(() => {
    stack = new Stack(newTestApp(), 'Test');
    key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    publisher = new iam.Role(stack, 'Publisher', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    alerts = new AlertTopic(stack, 'Alerts', {
      stage: 'test',
      encryptionKey: key,
      emails: ['oncall@example.com'],
      httpsEndpoints: ['https://hooks.example.com/rotor'],
    });
    alerts.grantPublish(publisher);
    template = Template.fromStack(stack);
  });

  it('is named rotor-test-alerts and encrypted with the stage key', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    template.hasResourceProperties(
      'AWS::SNS::Topic',
      Match.objectEquals({
        TopicName: 'rotor-test-alerts',
        DisplayName: 'Rotor test',
        KmsMasterKeyId: { 'Fn::GetAtt': [id(key), 'Arn'] },
      }),
    );
  });

  it('requires TLS to publish, and lets CloudWatch publish only for the stage alarms of this account', () => {
    template.resourceCountIs('AWS::SNS::TopicPolicy', 1);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: id(alerts.topic) }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AllowPublishThroughSSLOnly',
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Resource: { Ref: id(alerts.topic) },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
          {
            Sid: 'AllowStageAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: { Ref: id(alerts.topic) },
            Condition: fromStageAlarms,
          },
        ],
      }),
    });
  });

  it("lets CloudWatch use the key for the stage's alarms, so that their notifications reach the encrypted topic", () => {
    const [keyResource] = Object.values(template.findResources('AWS::KMS::Key'));
    const statements = (keyResource!.Properties as { KeyPolicy: { Statement: unknown[] } }).KeyPolicy.Statement;
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: fromStageAlarms,
    });
    // No other service principal is added to the key policy.
    expect(
      statements.filter((statement) => JSON.stringify(statement).includes('"Service"')).map((s) => JSON.stringify(s)),
    ).toHaveLength(1);
  });

  it('subscribes the configured email address and HTTPS endpoint', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 2);
    template.hasResourceProperties(
      'AWS::SNS::Subscription',
      Match.objectEquals({ Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: id(alerts.topic) } }),
    );
    template.hasResourceProperties(
      'AWS::SNS::Subscription',
      Match.objectEquals({
        Protocol: 'https',
        Endpoint: 'https://hooks.example.com/rotor',
        TopicArn: { Ref: id(alerts.topic) },
      }),
    );
  });

  it('grantPublish: sns:Publish on exactly this topic, the key only through SNS', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: id(publisher) }],
      PolicyDocument: Match.exact({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'sns:Publish', Resource: { Ref: id(alerts.topic) } },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
            Resource: { 'Fn::GetAtt': [id(key), 'Arn'] },
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['sns.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
          },
        ],
      }),
    });
  });

  it('has no subscription by default', () => {
    const other = new Stack(newTestApp(), 'Other');
    new AlertTopic(other, 'Alerts', { stage: 'test', encryptionKey: new kms.Key(other, 'Key') });
    Template.fromStack(other).resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('fails with a key whose policy this stack cannot change', () => {
    const other = new Stack(newTestApp(), 'Other');
    const imported = kms.Key.fromKeyArn(
      other,
      'Imported',
      'arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    );
    expect(() => new AlertTopic(other, 'Alerts', { stage: 'test', encryptionKey: imported })).toThrow(
      /AlertTopic encryptionKey must be a key this stack owns, so that CloudWatch may use it for the alarms, got Other\/Imported/,
    );
  });

  it('fails on an endpoint that is not https://', () => {
    const other = new Stack(newTestApp(), 'Other');
    expect(
      () =>
        new AlertTopic(other, 'Alerts', {
          stage: 'test',
          encryptionKey: new kms.Key(other, 'Key'),
          httpsEndpoints: ['http://hooks.example.com/rotor'],
        }),
    ).toThrow(/AlertTopic httpsEndpoints must start with https:\/\/, got "http:\/\/hooks\.example\.com\/rotor"/);
  });
});
