import { CfnResource, Duration, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { IConstruct } from 'constructs';
import {
  AccessTokenRefreshSchedule,
  accessTokenRefreshExpression,
  accessTokenRefreshScheduleGroup,
  accessTokenRefreshScheduleName,
} from '../../lib/access-token-refresh-schedule';
import { RotatedSecret } from '../../lib/rotated-secret';
import { RotationFunction } from '../../lib/rotation-function';
import { newStageFixture, oauth2TestStage, type StageFixture } from './infra-test-app';

describe('AccessTokenRefreshSchedule', () => {
  // GIVEN an OAuth 2.0 secret of stage `test` with 15-minute access tokens (a 10-minute interval)
  let fixture: StageFixture;
  let stack: Stack;
  let template: Template;
  let rotation: RotationFunction;
  let secret: RotatedSecret;
  let refresh: AccessTokenRefreshSchedule;
  let refreshGroup: CfnScheduleGroup;
  const id = (construct: IConstruct): string =>
    stack.getLogicalId((CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild) as CfnResource);
  const oauth2 = oauth2TestStage().secrets[1]!.oauth2!;

  beforeAll(() => {
    fixture = newStageFixture();
    stack = fixture.stack;
    rotation = new RotationFunction(stack, 'Rotation', {
      resources: fixture.resources,
      retirement: fixture.retirement,
    });
    secret = new RotatedSecret(stack, 'IdpToken', {
      rotationFunction: rotation,
      encryptionKey: fixture.key,
      secretName: 'rotor/test/idp-token',
      provider: 'oauth2-refresh-token',
      oauth2,
      schedule: 'rate(1 day)',
      window: Duration.hours(1),
    });
    refreshGroup = accessTokenRefreshScheduleGroup(stack, 'test');
    // WHEN
    refresh = new AccessTokenRefreshSchedule(stack, 'Refresh', {
      secret,
      rotationFunction: rotation,
      scheduleGroup: refreshGroup,
      intervalSeconds: oauth2.refreshIntervalSeconds,
    });
    template = Template.fromStack(stack);
  });

  it("calls Secrets Manager RotateSecret on the secret every interval, in the stage's refresh group, with retries", () => {
    expect(template.findResources('AWS::Scheduler::ScheduleGroup')[id(refreshGroup)]).toEqual({
      Type: 'AWS::Scheduler::ScheduleGroup',
      Properties: { Name: 'rotor-test.access-token-refresh' },
    });
    expect(accessTokenRefreshScheduleGroup(stack, 'test')).toBe(refreshGroup);
    expect(template.findResources('AWS::Scheduler::Schedule')[id(refresh.schedule)]).toEqual({
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Name: 'refresh-idp-token',
        GroupName: { Ref: id(refreshGroup) },
        Description: 'Rotor test: refresh the access token of rotor/test/idp-token (RotateSecret)',
        ScheduleExpression: 'rate(10 minutes)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        State: 'ENABLED',
        Target: {
          Arn: {
            'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:::aws-sdk:secretsmanager:rotateSecret']],
          },
          RoleArn: { 'Fn::GetAtt': [id(refresh.role), 'Arn'] },
          Input: { 'Fn::Join': ['', ['{"SecretId":"', { Ref: id(secret.secret) }, '"}']] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
        },
      },
      // After its role's permissions and the secret's rotation configuration.
      DependsOn: [
        expect.stringMatching(/^IdpTokenRotationSchedule[0-9A-F]{8}$/),
        expect.stringMatching(/^RefreshSchedulerRoleDefaultPolicy[0-9A-F]{8}$/),
      ],
    });
    expect(refresh.scheduleName).toBe('refresh-idp-token');
  });

  it("has a role that only Scheduler acting for this account and the stage's refresh group may assume", () => {
    expect(template.findResources('AWS::IAM::Role')[id(refresh.role)]).toEqual({
      Type: 'AWS::IAM::Role',
      Properties: {
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'sts:AssumeRole',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Condition: {
                StringEquals: {
                  'aws:SourceAccount': { Ref: 'AWS::AccountId' },
                  'aws:SourceArn': { 'Fn::GetAtt': [id(refreshGroup), 'Arn'] },
                },
              },
            },
          ],
        },
        Description: 'Rotor test: EventBridge Scheduler refreshes the access token of one OAuth 2.0 secret',
      },
    });
  });

  it('whose policy allows exactly RotateSecret on this secret and invoking the rotation function', () => {
    const policies = Object.values(
      template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: id(refresh.role) }] } }),
    );
    expect(policies.map((policy) => (policy.Properties as { PolicyDocument: unknown }).PolicyDocument)).toEqual([
      {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'secretsmanager:RotateSecret', Resource: { Ref: id(secret.secret) } },
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: { 'Fn::GetAtt': [id(rotation.function), 'Arn'] },
          },
        ],
      },
    ]);
  });

  it('writes rate() in whole minutes', () => {
    expect([600, 1200, 1740].map(accessTokenRefreshExpression)).toEqual([
      'rate(10 minutes)',
      'rate(20 minutes)',
      'rate(29 minutes)',
    ]);
  });

  it('names the schedule after the secret, with a hash where Scheduler would refuse the name or it is too long', () => {
    expect(accessTokenRefreshScheduleName('idp-token')).toBe('refresh-idp-token');
    expect(accessTokenRefreshScheduleName('partner/api-token')).toMatch(/^refresh-partner-api-token-[0-9a-f]{8}$/);
    // `a/b` and `a-b` do not collide.
    expect(accessTokenRefreshScheduleName('a/b')).not.toBe(accessTokenRefreshScheduleName('a-b'));
    const long = accessTokenRefreshScheduleName('x'.repeat(100));
    expect(long).toMatch(/^refresh-x{47}-[0-9a-f]{8}$/);
    expect(long).toHaveLength(64);
    for (const name of ['idp-token', 'partner/api-token', 'a+b=c@d', 'x'.repeat(100)]) {
      expect(accessTokenRefreshScheduleName(name)).toMatch(/^refresh-[0-9A-Za-z_.-]{1,56}$/);
    }
  });

  it('fails on an interval that is not whole minutes of at least 600 seconds', () => {
    for (const intervalSeconds of [540, 630, 0]) {
      expect(
        () =>
          new AccessTokenRefreshSchedule(stack, `Bad${intervalSeconds}`, {
            secret,
            rotationFunction: rotation,
            scheduleGroup: refreshGroup,
            intervalSeconds,
          }),
      ).toThrow(new RegExp(`intervalSeconds must be whole minutes of at least 600 seconds, got ${intervalSeconds}`));
    }
  });
});
