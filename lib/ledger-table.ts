import { ArnFormat, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { LedgerSchema, RotorResourceName } from '../lambda/shared/rotor-constants';

/** Properties of a {@link LedgerTable}. */
export interface LedgerTableProps {
  /** Deployment stage; names the table `rotor-<stage>-ledger`. */
  readonly stage: string;
  /** Customer-managed key that encrypts the table; grants may use it only through DynamoDB. */
  readonly encryptionKey: kms.IKey;
}

// Every state change in the ledger is a conditional write of one item, alone or in a transaction.
// IAM has no TransactWriteItems action: a transaction is authorized item by item, as PutItem,
// UpdateItem or ConditionCheckItem. ConditionCheckItem shows no more than GetItem already does.
// Items expire by TTL: DeleteItem is granted only to release a journal claim (grantJournalRelease),
// and Scan and the batch operations (which cannot be conditional) are never granted.
const ITEM_ACTIONS = ['dynamodb:GetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

// What DynamoDB asks of the caller's key permissions to read and write items of a table encrypted
// with a customer-managed key (CDK's read-write set, without its wildcards).
const KEY_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey'];
// ... and to only read them (CDK's read set).
const KEY_READ_ACTIONS = ['kms:Decrypt', 'kms:DescribeKey'];

/**
 * The ledger (DESIGN.md section 4): one DynamoDB table for every credential version, each secret's
 * rotation state and its audit trail. On demand, point-in-time recovery, TTL on
 * `LedgerSchema.ttlAttribute`, encrypted with the stage's key, retained and protected from
 * deletion, with the sparse index of previous credentials by grace end for the retirement sweep.
 */
export class LedgerTable extends Construct {
  /** The table. */
  readonly table: dynamodb.ITable;
  /** The key that encrypts it. */
  readonly encryptionKey: kms.IKey;
  /** ARN of the grace index, the only index. */
  readonly graceIndexArn: string;

  constructor(scope: Construct, id: string, props: LedgerTableProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const table = new dynamodb.Table(this, 'Table', {
      tableName: RotorResourceName.ledgerTable(props.stage),
      partitionKey: { name: LedgerSchema.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LedgerSchema.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: LedgerSchema.ttlAttribute,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      // The ledger is what recognises a stolen credential: neither a stack deletion nor a
      // replacement may take it, and nobody deletes it by accident.
      removalPolicy: RemovalPolicy.RETAIN,
      deletionProtection: true,
    });
    Validations.of(table).acknowledge({
      id: 'NIST.800.53.R5-DynamoDBInBackupPlan',
      reason:
        'The ledger has point-in-time recovery (35 days) and deletion protection and outlives the stack; it holds fingerprints and rotation states, never a credential, so an AWS Backup plan would add a second copy of the same history at a cost and no recovery that point-in-time restore does not give.',
    });
    table.addGlobalSecondaryIndex({
      indexName: LedgerSchema.graceIndex.name,
      partitionKey: { name: LedgerSchema.graceIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: LedgerSchema.graceIndex.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.table = table;
    this.graceIndexArn = `${table.tableArn}/index/${LedgerSchema.graceIndex.name}`;
  }

  /**
   * Lets `grantee` read and conditionally write single items, alone or in transactions:
   * GetItem, ConditionCheckItem, PutItem and UpdateItem on the table, and the key through DynamoDB.
   * What the rotation, verifier and retire functions all do.
   */
  grantRecordKeeping(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: ITEM_ACTIONS, resourceArns: [this.table.tableArn] }).combine(
      this.grantKey(grantee),
    );
  }

  /**
   * Lets `grantee` query the grace index for overdue previous credentials (the retirement sweep):
   * Query on that index only, and the key through DynamoDB.
   */
  grantQueryOverdue(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:Query'],
      resourceArns: [this.graceIndexArn],
    }).combine(this.grantKey(grantee));
  }

  /**
   * Lets `grantee` read single items: GetItem on the table, and the key through DynamoDB only to
   * decrypt. What the health check does: it reads each secret's state and writes nothing.
   */
  grantReadItems(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem'],
      resourceArns: [this.table.tableArn],
    }).combine(this.grantKey(grantee, KEY_READ_ACTIONS));
  }

  /**
   * Lets `grantee` delete items of the secrets under `secretNamePrefix` only (partitions
   * `SECRET#<arn of such a secret>`, checked with `dynamodb:LeadingKeys`): what the rotation
   * function does to release a journal claim when the provider did nothing, or when an issuer did
   * not rotate the credential it presented. IAM cannot see the sort key, so the grant covers the
   * secret's state and audit items too; never a credential record (`TOKEN#`). The adapter's delete
   * is conditional on the claim it releases.
   */
  grantJournalRelease(grantee: iam.IGrantable, secretNamePrefix: string): iam.Grant {
    const secrets = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${secretNamePrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:DeleteItem'],
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${LedgerSchema.secretPartitionPrefix}${secrets}`] },
        // ForAllValues holds for a request with no key at all: require one.
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    }).combine(this.grantKey(grantee));
  }

  /**
   * Lets `grantee` read the health check's watch list with one Query and write what its checks
   * find (PutItem), in the watch partition (`HEALTH#WATCH`) only, checked with
   * `dynamodb:LeadingKeys`: what the health check does. It reads no other partition this way.
   */
  grantHealthWatchKeeping(grantee: iam.IGrantable): iam.Grant {
    return this.grantWatchPartition(grantee, ['dynamodb:Query', 'dynamodb:PutItem']);
  }

  /**
   * Lets `grantee` mark a secret watched after a change (a conditional UpdateItem), in the watch
   * partition (`HEALTH#WATCH`) only: what the rotation-events function does on Secrets Manager's
   * events.
   */
  grantHealthWatchMarking(grantee: iam.IGrantable): iam.Grant {
    return this.grantWatchPartition(grantee, ['dynamodb:UpdateItem']);
  }

  private grantWatchPartition(grantee: iam.IGrantable, actions: string[]): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [this.table.tableArn],
      conditions: {
        'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [LedgerSchema.healthWatchPartition] },
        // ForAllValues holds for a request with no key at all: require one.
        Null: { 'dynamodb:LeadingKeys': 'false' },
      },
    }).combine(this.grantKey(grantee));
  }

  private grantKey(grantee: iam.IGrantable, actions: string[] = KEY_ACTIONS): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [this.encryptionKey.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${Stack.of(this).region}.amazonaws.com` } },
    });
  }
}
