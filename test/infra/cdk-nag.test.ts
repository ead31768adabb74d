import { type App, Aws, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, NIST80053R5Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { loadRotorConfig, parseRotorConfig } from '../../lib/config/rotor-config';
import { RotorStack } from '../../lib/rotor-stack';
import { addRotorStages } from '../../lib/rotor-stages';
import { findings } from './nag-findings';
import { COMMITTED_CONFIG_PATH, newTestApp, oauth2TestStage, oauth2TestStageFile, testStage } from './infra-test-app';

/** Every `Validations.of(x).acknowledge()` in the tree: where, which finding, and why. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  return root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([id, reason]) => ({
          path: construct.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

/** The acknowledgements of one pack: `AwsSolutions` or `NIST.800.53.R5`. */
function acknowledgementsOf(root: IConstruct, pack: string): { path: string; id: string; reason: string }[] {
  return acknowledgements(root).filter(({ id }) => id.startsWith(`${pack}-`));
}

/** Both packs every synth runs, as bin/rotor-app.ts adds them. */
function addNagPacks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new NIST80053R5Checks(app));
}

describe('cdk-nag AwsSolutions and NIST 800-53 rev 5 checks', () => {
  describe('the app, built from the committed config as bin/rotor-app.ts builds it', () => {
    let app: App;

    beforeAll(() => {
      // GIVEN
      app = newTestApp();
      addRotorStages(app, loadRotorConfig(COMMITTED_CONFIG_PATH));
      addNagPacks(app);
      // WHEN synthesized: an error from a validation plugin makes synth throw
      app.synth();
    });

    it('has no unacknowledged finding, error or warning', () => {
      expect(findings(app)).toEqual([]);
    });

    it('acknowledges only the X-Ray wildcards, the retirement schedules, secret listing and the unrotated pepper, each where it is, with a reason', () => {
      const xray = (stack: string, fn: string): unknown => ({
        path: `${stack}/${fn}/TracingPolicy`,
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions, so the resource must be *.',
      });
      expect(acknowledgementsOf(app, 'AwsSolutions')).toEqual(
        [
          ['Rotor-development', 'development'],
          ['Rotor-production', 'production'],
        ].flatMap(([stack, stage]) => [
          {
            path: `${stack}/Pepper/Secret`,
            id: 'AwsSolutions-SMG4',
            reason:
              'Rotating the pepper would change every fingerprint and blind reuse detection for every credential the ledger remembers, so it is never rotated.',
          },
          xray(stack!, 'Retire'),
          xray(stack!, 'Rotation'),
          {
            path: `${stack}/Rotation/RetirementSchedulingPolicy`,
            id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/rotor-${stage}/*]`,
            reason:
              "One-time retirement schedules are named at run time, one per rotated-out version, so CreateSchedule is allowed on any schedule in the stage's own group and nowhere else.",
          },
          xray(stack!, 'Verifier'),
          xray(stack!, 'HealthCheck'),
          {
            path: `${stack}/HealthCheck/SecretListingPolicy`,
            id: 'AwsSolutions-IAM5[Resource::*]',
            reason:
              'secretsmanager:ListSecrets and BatchGetSecretValue support no resource-level permissions, so the resource must be *; ListSecrets returns no values, and BatchGetSecretValue returns only the secrets GetSecretValue is granted on.',
          },
          xray(stack!, 'Rollback'),
          {
            path: `${stack}/Rollback/RetirementCancellingPolicy`,
            id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/rotor-${stage}/retire-*]`,
            reason:
              "A rollback cancels the restored credential's one-time retirement schedule, named at run time, so DeleteSchedule is allowed on the retirement schedules of the stage's own group and nowhere else.",
          },
          xray(stack!, 'RotationEvents'),
        ]),
      );
    });
    it('acknowledges the NIST 800-53 findings Rotor does not fix, each on the resource it concerns', () => {
      const byPath: Record<string, string[]> = {};
      for (const { path, id } of acknowledgementsOf(app.node.findChild('Rotor-production'), 'NIST.800.53.R5')) {
        (byPath[path.replace(/^Rotor-production\//, '')] ??= []).push(id.replace(/^NIST\.800\.53\.R5-/, ''));
      }
      const inline = ['IAMNoInlinePolicy'];
      expect(byPath).toEqual({
        'Ledger/Table': ['DynamoDBInBackupPlan'],
        'Pepper/Secret': ['SecretsManagerRotationEnabled'],
        'Retire/SchedulerRole': inline,
        'Retire/Role': inline,
        'Retire/TracingPolicy': inline,
        'Retire/Function/Resource': ['LambdaConcurrency', 'LambdaInsideVPC'],
        'Rotation/Role': inline,
        'Rotation/TracingPolicy': inline,
        // Secrets Manager and the verifier's callers invoke synchronously: no dead-letter queue.
        'Rotation/Function/Resource': ['LambdaConcurrency', 'LambdaDLQ', 'LambdaInsideVPC'],
        'Rotation/RetirementSchedulingPolicy': inline,
        'Verifier/Role': inline,
        'Verifier/TracingPolicy': inline,
        'Verifier/Function/Resource': ['LambdaConcurrency', 'LambdaDLQ', 'LambdaInsideVPC'],
        'HealthCheck/Role': inline,
        'HealthCheck/TracingPolicy': inline,
        'HealthCheck/Function/Resource': ['LambdaConcurrency', 'LambdaInsideVPC'],
        'HealthCheck/SecretListingPolicy': inline,
        'HealthCheck/SchedulerRole': inline,
        'Rollback/Role': inline,
        'Rollback/TracingPolicy': inline,
        'Rollback/Function/Resource': ['LambdaConcurrency', 'LambdaInsideVPC'],
        'Rollback/RetirementCancellingPolicy': inline,
        'RotationEvents/Role': inline,
        'RotationEvents/TracingPolicy': inline,
        'RotationEvents/Function/Resource': ['LambdaConcurrency', 'LambdaInsideVPC'],
        'Consumers/Consumer-app-deploy/Role': inline,
        'Consumers/Consumer-app-release/Role': inline,
        'Consumers/Consumer-app-registry-gitlab/Role': inline,
      });
    });

    it('gives each unreserved function the reason that fits how it is invoked, and names the setting that reserves it', () => {
      const reasons = new Map(
        acknowledgementsOf(app.node.findChild('Rotor-production'), 'NIST.800.53.R5')
          .filter(({ id }) => id === 'NIST.800.53.R5-LambdaConcurrency')
          .map(({ path, reason }) => [path.split('/')[1], reason]),
      );
      expect([...reasons.keys()]).toEqual([
        'Retire',
        'Rotation',
        'Verifier',
        'HealthCheck',
        'Rollback',
        'RotationEvents',
      ]);
      expect(reasons.get('Rotation')).toMatch(
        /^Secrets Manager fails a rotation step that Lambda throttles.*reservedConcurrency\.rotation/,
      );
      expect(reasons.get('Verifier')).toMatch(/request path.*reservedConcurrency\.verifier/);
      expect(reasons.get('Retire')).toMatch(/reservedConcurrency\.retire\.$/);
      expect(reasons.get('HealthCheck')).toMatch(/do not overlap; reservedConcurrency\.healthCheck reserves it\.$/);
      expect(reasons.get('Rollback')).toMatch(/reservedConcurrency\.rollback/);
      expect(reasons.get('RotationEvents')).toMatch(/reservedConcurrency\.rotationEvents\.$/);
    });
  });

  describe('stages in a VPC: a Rotor-made isolated one, and an existing one with reservations set', () => {
    let app: App;

    beforeAll(() => {
      // GIVEN
      app = newTestApp();
      addRotorStages(
        app,
        parseRotorConfig({
          stages: [
            {
              name: 'isolated',
              secretNamePrefix: 'rotor/isolated/',
              logRetentionDays: 14,
              vpc: { isolated: {} },
              secrets: [{ name: 'deploy-token', provider: 'managed-token', schedule: 'rate(4 hours)', window: '1h' }],
            },
            {
              ...oauth2TestStageFile(),
              vpc: { existing: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0'] } },
              reservedConcurrency: { verifier: 50, rotation: 10, healthCheck: false },
            },
          ],
        }),
      );
      addNagPacks(app);
      // WHEN
      app.synth();
    });

    it('has no unacknowledged finding, error or warning: VPC, flow log, endpoints and the default security group pass', () => {
      expect(findings(app)).toEqual([]);
    });

    it('acknowledges no function outside a VPC, and the network interface permissions each in a policy of its own', () => {
      expect(acknowledgements(app).filter(({ id }) => id === 'NIST.800.53.R5-LambdaInsideVPC')).toEqual([]);
      const network = acknowledgementsOf(app, 'AwsSolutions').filter(({ path }) =>
        path.endsWith('/NetworkInterfacePolicy'),
      );
      expect(network.map(({ path, id }) => [path, id])).toEqual(
        ['Rotor-isolated', 'Rotor-test'].flatMap((stack) =>
          ['Retire', 'Rotation', 'Verifier', 'HealthCheck', 'Rollback', 'RotationEvents'].map((fn) => [
            `${stack}/${fn}/NetworkInterfacePolicy`,
            'AwsSolutions-IAM5[Resource::*]',
          ]),
        ),
      );
    });

    it('acknowledges unreserved concurrency only where the stage reserves none', () => {
      const unreserved = acknowledgements(app.node.findChild('Rotor-test')).filter(
        ({ id }) => id === 'NIST.800.53.R5-LambdaConcurrency',
      );
      expect(unreserved.map(({ path }) => path)).toEqual([
        'Rotor-test/Retire/Function/Resource',
        'Rotor-test/HealthCheck/Function/Resource',
        'Rotor-test/Rollback/Function/Resource',
        'Rotor-test/RotationEvents/Function/Resource',
      ]);
      expect(unreserved[1]!.reason).toMatch(/reservedConcurrency\.healthCheck reserves it\.$/);
    });
  });

  describe('a stage with OAuth 2.0 secrets (refresh schedules, certificate and event grants)', () => {
    let app: App;

    beforeAll(() => {
      // GIVEN
      app = newTestApp();
      new RotorStack(app, 'Rotor-test', { stage: oauth2TestStage() });
      addNagPacks(app);
      // WHEN
      app.synth();
    });

    it('has no unacknowledged finding, error or warning', () => {
      expect(findings(app)).toEqual([]);
    });

    it('needs no acknowledgement beyond those of every stage: the refresh schedules and new grants name exact resources', () => {
      expect(acknowledgementsOf(app, 'AwsSolutions').map(({ path, id }) => [path, id])).toEqual([
        ['Rotor-test/Pepper/Secret', 'AwsSolutions-SMG4'],
        ['Rotor-test/Retire/TracingPolicy', 'AwsSolutions-IAM5[Resource::*]'],
        ['Rotor-test/Rotation/TracingPolicy', 'AwsSolutions-IAM5[Resource::*]'],
        [
          'Rotor-test/Rotation/RetirementSchedulingPolicy',
          'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/rotor-test/*]',
        ],
        ['Rotor-test/Verifier/TracingPolicy', 'AwsSolutions-IAM5[Resource::*]'],
        ['Rotor-test/HealthCheck/TracingPolicy', 'AwsSolutions-IAM5[Resource::*]'],
        ['Rotor-test/HealthCheck/SecretListingPolicy', 'AwsSolutions-IAM5[Resource::*]'],
        ['Rotor-test/Rollback/TracingPolicy', 'AwsSolutions-IAM5[Resource::*]'],
        [
          'Rotor-test/Rollback/RetirementCancellingPolicy',
          'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/rotor-test/retire-*]',
        ],
        ['Rotor-test/RotationEvents/TracingPolicy', 'AwsSolutions-IAM5[Resource::*]'],
      ]);
    });
  });

  describe('a sharded stage (secrets in nested stacks, OAuth 2.0 secrets among them)', () => {
    let app: App;

    beforeAll(() => {
      // GIVEN
      app = newTestApp();
      addRotorStages(app, parseRotorConfig({ stages: [{ ...oauth2TestStageFile(), shards: 3 }] }));
      addNagPacks(app);
      // WHEN
      app.synth();
    });

    it('has no unacknowledged finding, error or warning, in the shards either', () => {
      expect(findings(app)).toEqual([]);
    });

    it("acknowledges the functions' access to the stage's secrets by prefix and tag, each in a policy of its own", () => {
      const access = acknowledgementsOf(app, 'AwsSolutions').filter(({ path }) =>
        path.startsWith('Rotor-test/SecretAccess/'),
      );
      expect(access.map(({ path, id }) => [path, id])).toEqual(
        ['Rotation', 'HealthCheck', 'Rollback', 'Verifier'].map((policy) => [
          `Rotor-test/SecretAccess/${policy}`,
          'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:rotor/test/*]',
        ]),
      );
      for (const { reason } of access)
        expect(reason).toMatch(
          /^A sharded stage holds more secrets than a role's policy can list by ARN, so .* carries the stage's rotor:stage tag, and on nothing else\.$/,
        );
    });
  });

  describe('non-compliant resources (proves the checks can fail)', () => {
    it('reports a KMS key without rotation, and synth fails', () => {
      // GIVEN
      const app = newTestApp();
      new kms.Key(new Stack(app, 'Unrotated'), 'Key');
      addNagPacks(app);
      // THEN
      expect(findings(app)).toEqual([
        { rule: 'AwsSolutions-KMS5', severity: 'error', paths: ['Unrotated/Key/Resource'] },
        { rule: 'NIST.800.53.R5-KMSBackingKeyRotationEnabled', severity: 'error', paths: ['Unrotated/Key/Resource'] },
      ]);
      expect(() => app.synth()).toThrow(/AwsSolutions-KMS5/);
    });

    it('reports a function with no dead-letter queue, reserved concurrency or VPC, where the acknowledgements do not reach', () => {
      // GIVEN a plain function next to the stage's
      const app = newTestApp();
      const stack = new RotorStack(app, 'Rotor-test', { stage: testStage() });
      new lambda.CfnFunction(stack, 'Plain', {
        code: { zipFile: 'exports.handler = async () => {};' },
        role: stack.rotationFunction.role.roleArn,
        runtime: 'nodejs24.x',
        handler: 'index.handler',
      });
      // THEN
      expect(findings(app)).toEqual(
        ['NIST.800.53.R5-LambdaConcurrency', 'NIST.800.53.R5-LambdaDLQ', 'NIST.800.53.R5-LambdaInsideVPC'].map(
          (rule) => ({ rule, severity: 'error', paths: ['Rotor-test/Plain'] }),
        ),
      );
    });

    it("reports an inline policy on a role that is not one of Rotor's", () => {
      // GIVEN a role of its own next to the stage's, with a policy of its own
      const app = newTestApp();
      const stack = new RotorStack(app, 'Rotor-test', { stage: testStage() });
      const role = new iam.Role(stack, 'Other', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [stack.ledger.table.tableArn] }),
      );
      // THEN
      expect(findings(app)).toEqual([
        {
          rule: 'NIST.800.53.R5-IAMNoInlinePolicy',
          severity: 'error',
          paths: ['Rotor-test/Other/DefaultPolicy/Resource'],
        },
      ]);
    });

    it('reports a secret without rotation, where a RotatedSecret has none', () => {
      // GIVEN a Rotor stack next to a plain secret
      const app = newTestApp();
      const stack = new RotorStack(app, 'Rotor-test', { stage: testStage() });
      new secretsmanager.Secret(stack, 'Plain', { encryptionKey: stack.encryptionKey });
      // THEN
      expect(findings(app)).toEqual([
        { rule: 'AwsSolutions-SMG4', severity: 'error', paths: ['Rotor-test/Plain/Resource'] },
        {
          rule: 'NIST.800.53.R5-SecretsManagerRotationEnabled',
          severity: 'error',
          paths: ['Rotor-test/Plain/Resource'],
        },
      ]);
    });

    it('reports a schedule wildcard beyond the acknowledged group, even in the acknowledged policy', () => {
      // GIVEN CreateSchedule on every group, added next to the acknowledged statement
      const app = newTestApp();
      const stack = new RotorStack(app, 'Rotor-test', { stage: testStage() });
      const policy = stack.rotationFunction.node.findChild('RetirementSchedulingPolicy') as iam.Policy;
      policy.addStatements(
        new iam.PolicyStatement({
          actions: ['scheduler:CreateSchedule'],
          resources: [`arn:${Aws.PARTITION}:scheduler:${Aws.REGION}:${Aws.ACCOUNT_ID}:schedule/*`],
        }),
      );
      // THEN
      expect(findings(app)).toEqual([
        {
          rule: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/*]',
          severity: 'error',
          paths: ['Rotor-test/Rotation/RetirementSchedulingPolicy/Resource'],
        },
      ]);
    });

    it('reports a DeleteSchedule wildcard beyond the retirement schedules, even in the acknowledged policy', () => {
      // GIVEN DeleteSchedule on every schedule of the group (the sweep and the health check included)
      const app = newTestApp();
      const stack = new RotorStack(app, 'Rotor-test', { stage: testStage() });
      const policy = stack.rollbackFunction.node.findChild('RetirementCancellingPolicy') as iam.Policy;
      policy.addStatements(
        new iam.PolicyStatement({
          actions: ['scheduler:DeleteSchedule'],
          resources: [`arn:${Aws.PARTITION}:scheduler:${Aws.REGION}:${Aws.ACCOUNT_ID}:schedule/rotor-test/*`],
        }),
      );
      // THEN
      expect(findings(app)).toEqual([
        {
          rule: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/rotor-test/*]',
          severity: 'error',
          paths: ['Rotor-test/Rollback/RetirementCancellingPolicy/Resource'],
        },
      ]);
    });

    it("reports a wildcard added to the health check's own policy: the listing acknowledgement does not reach it", () => {
      // GIVEN what Secret.grantRead would add for secrets referenced by a partial ARN
      const app = newTestApp();
      const stack = new RotorStack(app, 'Rotor-test', { stage: testStage() });
      stack.healthCheckFunction.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: ['*'] }),
      );
      // THEN
      expect(findings(app)).toEqual([
        {
          rule: 'AwsSolutions-IAM5[Resource::*]',
          severity: 'error',
          paths: ['Rotor-test/HealthCheck/Role/DefaultPolicy/Resource'],
        },
      ]);
    });

    it('reports a topic that neither is encrypted nor requires TLS, where the alert topic is both', () => {
      // GIVEN a plain topic next to the stage's
      const app = newTestApp();
      const stack = new RotorStack(app, 'Rotor-test', { stage: testStage() });
      new sns.Topic(stack, 'Plain');
      // THEN
      expect(findings(app)).toEqual([
        { rule: 'AwsSolutions-SNS3', severity: 'error', paths: ['Rotor-test/Plain/Resource'] },
        { rule: 'NIST.800.53.R5-SNSEncryptedKMS', severity: 'error', paths: ['Rotor-test/Plain/Resource'] },
      ]);
    });

    it("reports a wildcard added to the verifier's own policy", () => {
      // GIVEN what grantInvoke would add for the rotation function's versions
      const app = newTestApp();
      const stack = new RotorStack(app, 'Rotor-test', { stage: testStage() });
      stack.verifierFunction.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: ['*'] }),
      );
      // THEN
      expect(findings(app)).toEqual([
        {
          rule: 'AwsSolutions-IAM5[Resource::*]',
          severity: 'error',
          paths: ['Rotor-test/Verifier/Role/DefaultPolicy/Resource'],
        },
      ]);
    });

    it('reports a wildcard added to a consumer role, whose policy carries no acknowledgement', () => {
      // GIVEN what Secret.grantRead would add for a secret referenced by a partial ARN
      const app = newTestApp();
      const [development] = addRotorStages(app, loadRotorConfig(COMMITTED_CONFIG_PATH));
      development!.consumers.roles.get('app-deploy')!.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:GetSecretValue'],
          resources: [`arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:rotor/development/*`],
        }),
      );
      // THEN
      expect(findings(app)).toEqual([
        {
          rule: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:rotor/development/*]',
          severity: 'error',
          paths: ['Rotor-development/Consumers/Consumer-app-deploy/Role/DefaultPolicy/Resource'],
        },
      ]);
    });

    it("reports a wildcard added to a refresh schedule's role, whose policy carries no acknowledgement", () => {
      // GIVEN RotateSecret on every secret of the stage
      const app = newTestApp();
      const stack = new RotorStack(app, 'Rotor-test', { stage: oauth2TestStage() });
      stack.accessTokenRefreshSchedules.get('idp-token')!.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['secretsmanager:RotateSecret'],
          resources: [`arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:rotor/test/*`],
        }),
      );
      // THEN
      expect(findings(app)).toEqual([
        {
          rule: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:rotor/test/*]',
          severity: 'error',
          paths: ['Rotor-test/AccessTokenRefresh-idp-token/SchedulerRole/DefaultPolicy/Resource'],
        },
      ]);
    });

    it("reports a wildcard added to the rotation function's own policy: the acknowledgement does not reach it", () => {
      // GIVEN what the L2 addRotationSchedule would add
      const app = newTestApp();
      const stack = new RotorStack(app, 'Rotor-test', { stage: testStage() });
      stack.rotationFunction.role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['secretsmanager:GetRandomPassword'], resources: ['*'] }),
      );
      // THEN
      expect(findings(app)).toEqual([
        {
          rule: 'AwsSolutions-IAM5[Resource::*]',
          severity: 'error',
          paths: ['Rotor-test/Rotation/Role/DefaultPolicy/Resource'],
        },
      ]);
    });
  });
});
