import { CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { LedgerSchema } from '../../lambda/shared/rotor-constants';
import { LedgerTable } from '../../lib/ledger-table';
import { newTestApp } from './infra-test-app';

describe('LedgerTable', () => {
  // GIVEN the ledger of stage `test`, one role granted record keeping, one the overdue query, one reading items,
  // one releasing journal claims of the secrets under `rotor/test/`
  let stack: Stack;
  let template: Template;
  let key: kms.Key;
  let ledger: LedgerTable;
  let keeper: iam.Role;
  let sweeper: iam.Role;
  let reader: iam.Role;
  let releaser: iam.Role;
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);
  const policyOf = (role: iam.Role): unknown =>
    Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: id(role) }] } })).map(
      (policy) => (policy.Properties as { PolicyDocument: unknown }).PolicyDocument,
    );
  const keyStatement = (): unknown => ({
    Effect: 'Allow',
    Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'],
    Resource: { 'Fn::GetAtt': [id(key), 'Arn'] },
    Condition: {
      StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
    },
  });

  beforeAll(() => {
    stack = new Stack(newTestApp(), 'Test');
    key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    ledger = new LedgerTable(stack, 'Ledger', { stage: 'test', encryptionKey: key });
    keeper = new iam.Role(stack, 'Keeper', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    sweeper = new iam.Role(stack, 'Sweeper', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    releaser = new iam.Role(stack, 'Releaser', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    // WHEN
    ledger.grantRecordKeeping(keeper);
    ledger.grantQueryOverdue(sweeper);
    ledger.grantReadItems(reader);
    ledger.grantJournalRelease(releaser, 'rotor/test/');
    template = Template.fromStack(stack);
  });

  it('is an on-demand table keyed pk/sk, with TTL, point-in-time recovery and the stage key', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectEquals({
        TableName: 'rotor-test-ledger',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: LedgerSchema.partitionKey, KeyType: 'HASH' },
          { AttributeName: LedgerSchema.sortKey, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'graceIndex', AttributeType: 'S' },
          { AttributeName: 'graceEndsAt', AttributeType: 'N' },
        ],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [id(key), 'Arn'] } },
        DeletionProtectionEnabled: true,
        GlobalSecondaryIndexes: [
          {
            IndexName: 'previous-by-grace-end',
            KeySchema: [
              { AttributeName: 'graceIndex', KeyType: 'HASH' },
              { AttributeName: 'graceEndsAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
      // Retained on stack deletion and on replacement.
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it('grants record keeping: single-item reads and conditional writes on the table, the key only through DynamoDB', () => {
    expect(policyOf(keeper)).toEqual([
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
            Resource: { 'Fn::GetAtt': [id(ledger.table), 'Arn'] },
          },
          keyStatement(),
        ],
      },
    ]);
  });

  it('grants the overdue query on the grace index alone, the key only through DynamoDB', () => {
    expect(policyOf(sweeper)).toEqual([
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'dynamodb:Query',
            Resource: {
              'Fn::Join': ['', [{ 'Fn::GetAtt': [id(ledger.table), 'Arn'] }, '/index/previous-by-grace-end']],
            },
          },
          keyStatement(),
        ],
      },
    ]);
  });

  it('grants reading items: GetItem on the table, the key only through DynamoDB and only to decrypt', () => {
    expect(policyOf(reader)).toEqual([
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': [id(ledger.table), 'Arn'] } },
          {
            Effect: 'Allow',
            Action: ['kms:Decrypt', 'kms:DescribeKey'],
            Resource: { 'Fn::GetAtt': [id(key), 'Arn'] },
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Join': ['', ['dynamodb.', { Ref: 'AWS::Region' }, '.amazonaws.com']] },
              },
            },
          },
        ],
      },
    ]);
  });

  it('grants DeleteItem only on the partitions of the secrets under the prefix, the key only through DynamoDB', () => {
    expect(policyOf(releaser)).toEqual([
      {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'dynamodb:DeleteItem',
            Resource: { 'Fn::GetAtt': [id(ledger.table), 'Arn'] },
            Condition: {
              'ForAllValues:StringLike': {
                'dynamodb:LeadingKeys': [
                  {
                    'Fn::Join': [
                      '',
                      [
                        'SECRET#arn:',
                        { Ref: 'AWS::Partition' },
                        ':secretsmanager:',
                        { Ref: 'AWS::Region' },
                        ':',
                        { Ref: 'AWS::AccountId' },
                        ':secret:rotor/test/*',
                      ],
                    ],
                  },
                ],
              },
              Null: { 'dynamodb:LeadingKeys': 'false' },
            },
          },
          keyStatement(),
        ],
      },
    ]);
  });

  it('never grants a delete except the journal release, a scan, a batch operation or a wildcard', () => {
    const policies = Object.entries(template.findResources('AWS::IAM::Policy'));
    const others = JSON.stringify(policies.filter(([, policy]) => !JSON.stringify(policy).includes(id(releaser))));
    expect(others).not.toMatch(/DeleteItem|Scan|Batch|PartiQL|dynamodb:\*|kms:\*/);
    expect(JSON.stringify(policies)).not.toMatch(/Scan|Batch|PartiQL|dynamodb:\*|kms:\*/);
  });
});
