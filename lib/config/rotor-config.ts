import { readFileSync } from 'node:fs';
import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';
import {
  DEFAULT_DURATIONS,
  HEALTH_AND_ROLLBACK_DEFAULTS,
  ROTOR_INTERNAL_SECRET_PREFIX,
  ROTOR_PROVIDERS,
  RotorAlarmKind,
  rotorAlarmName,
  RotorProviderName,
  type RotorProvider,
} from '../../lambda/shared/rotor-constants';
import { MAX_ALARM_NAME_LENGTH } from '../alarm-thresholds';
import type { AlarmThresholds } from '../alarm-thresholds';
import { DEFAULT_HEALTH_CHECK_SCHEDULE } from '../health-check-schedule';
import { parseRotationSchedule, parseWindowHours, rotationWindowProblem } from '../rotation-schedule';
import { MAX_SHARDS } from '../shard-assignment';
import { checkStageAlarmGroups, defaultAlarmGroups, MAX_ALARM_GROUPS } from './alarm-groups-config';
import { DEFAULT_SWEEP_SCHEDULE, sweepScheduleProblem } from '../sweep-schedule';
import { AlarmsSchema, checkStageAlerts, resolveAlarmThresholds, StageAlertFields } from './alert-config';
import {
  checkStageConsumers,
  checkStagesApart,
  ConsumerSchema,
  OidcProvidersSchema,
  stageOidcProviders,
  toConsumerConfig,
  type RotorConsumerConfig,
  type RotorOidcProviderConfig,
} from './consumer-config';
import {
  checkSecretOAuth2,
  checkStageOAuth2,
  OAuth2Schema,
  toOAuth2Config,
  type RotorOAuth2Config,
} from './oauth2-config';
import {
  checkSecretGitLab,
  checkStageGitLab,
  GitLabSchema,
  toGitLabConfig,
  type RotorGitLabConfig,
} from './gitlab-config';
import {
  ReservedConcurrencySchema,
  toReservedConcurrency,
  type ReservedConcurrency,
} from './reserved-concurrency-config';
import { show } from './show-value';
import { checkStageVpc, toVpcConfig, VpcSchema, type RotorVpcConfig } from './vpc-config';

export type { RotorConsumerConfig, RotorOidcProviderConfig } from './consumer-config';
export type { RotorOAuth2Config, RotorOAuth2TlsConfig } from './oauth2-config';
export type { RotorGitLabConfig } from './gitlab-config';
export type { ReservedConcurrency } from './reserved-concurrency-config';
export type { RotorVpcConfig } from './vpc-config';

/** One secret that Rotor creates and rotates. */
export interface RotorSecretConfig {
  /** Name within the stage; the secret's full name is the stage's `secretNamePrefix` + this. */
  readonly name: string;
  /** Provider that issues the secret's credential, e.g. `managed-token`. */
  readonly provider: RotorProvider;
  /** Secrets Manager schedule expression, UTC: `rate(N hours)`, `rate(N days)` or `cron(...)`. */
  readonly schedule: string;
  /** Rotation window: Secrets Manager rotates at some time within it. Whole hours. */
  readonly window: Duration;
  /** Shown in the Secrets Manager console. */
  readonly description?: string;
  /**
   * The IdP, the client and the token lifetimes of an `oauth2-refresh-token` secret, with the
   * effective refresh interval; present exactly when the provider is `oauth2-refresh-token`.
   */
  readonly oauth2?: RotorOAuth2Config;
  /**
   * The instance, token type, scopes, mode and manager of a `gitlab-access-token` secret, with the
   * expiry horizon its schedule needs; present exactly when the provider is `gitlab-access-token`.
   */
  readonly gitlab?: RotorGitLabConfig;
  /**
   * Threshold, period and evaluation periods of each of the secret's alarms: the defaults,
   * overridden by the stage's `alarms`, then by the secret's own.
   */
  readonly alarms: AlarmThresholds;
}

/** One deployment stage: one `Rotor-<name>` stack. */
export interface RotorStageConfig {
  /** Lower-case slug, e.g. `development`; names the stack, the KMS alias and the secrets' tag. */
  readonly name: string;
  /** Every secret of the stage is named `<secretNamePrefix><secret name>`; ends with `/`. */
  readonly secretNamePrefix: string;
  /** How long CloudWatch Logs keeps the stage's Lambda logs. */
  readonly logRetentionDays: logs.RetentionDays;
  /** AWS account to deploy to; when absent, the stack is environment-agnostic. */
  readonly account?: string;
  /** AWS region to deploy to; when absent, the stack is environment-agnostic. */
  readonly region?: string;
  /**
   * How long a rotated-out credential stays valid after a rotation, unless its secret document
   * sets `graceSeconds`. From 0 to 86400; the file's default is 900 (15 minutes).
   */
  readonly graceSeconds: number;
  /**
   * How long after its grace ended the ledger still recognises a dead credential as reuse, in
   * seconds (the file gives `reuseMemoryDays`, default 30).
   */
  readonly reuseMemorySeconds: number;
  /** How long the ledger keeps audit events, in seconds (the file gives `auditRetentionDays`, default 400). */
  readonly auditRetentionSeconds: number;
  /** EventBridge Scheduler expression (UTC) of the retirement sweep; the file's default is `rate(5 minutes)`. */
  readonly sweepSchedule: string;
  /** Event bus in the stage's account and region that receives Rotor's events; the file's default is `default`. */
  readonly eventBusName: string;
  /** The secrets this stage rotates; at least one. */
  readonly secrets: readonly RotorSecretConfig[];
  /** CI jobs that read the stage's secrets, each through a role of its own; the file's default is none. */
  readonly consumers: readonly RotorConsumerConfig[];
  /** The OIDC provider of each platform the consumers use, created by the stack or imported. */
  readonly oidcProviders: readonly RotorOidcProviderConfig[];
  /** EventBridge Scheduler expression (UTC) of the health check; the file's default is `rate(1 minute)`. */
  readonly healthCheckSchedule: string;
  /**
   * Seconds a secret is tested at every health-check run after a change to it or its last
   * failure, 60 to 86400; the file's default is 900 (15 minutes).
   */
  readonly healthCheckWatchSeconds: number;
  /**
   * Seconds between two health checks of a secret nothing happened to, 60 to 86400; the file's
   * default is 3600 (1 hour).
   */
  readonly healthCheckIdleSeconds: number;
  /** Rollback attempts per incident before rotation of a secret is paused, 1 to 10; the file's default is 3. */
  readonly maxRollbackAttempts: number;
  /** Email addresses subscribed to the stage's alert topic; the file's default is none. */
  readonly alertEmails: readonly string[];
  /** `https://` endpoints subscribed to the stage's alert topic; the file's default is none. */
  readonly alertHttpsEndpoints: readonly string[];
  /** The stage's alarm thresholds before any secret's overrides (each secret has its own in `alarms`). */
  readonly alarms: AlarmThresholds;
  /**
   * How many nested stacks hold the stage's secrets, each secret in the one its name hashes to
   * (see shardOf); absent, the secrets are in the stage's own stack. Fixed for the life of a
   * deployed stage: changing it moves secrets between shards.
   */
  readonly shards?: number;
  /**
   * In a sharded stage, how many groups its Metrics Insights alarms watch the secrets in: 3 alarms
   * per group, each secret in the group its name hashes to (alarmGroupOf), whatever its shard. The
   * file's default is the shard count up to 10 (DEFAULT_MAX_ALARM_GROUPS). Undefined exactly when
   * the stage is not sharded. Fixed for the life of a deployed stage, like `shards`.
   */
  readonly alarmGroups?: number;
  /**
   * Metrics Insights alarms the stage may create, 3 per alarm group: the account's quota per region
   * (200 by default) less what other stages and apps in the account and region use. Only a sharded
   * stage has such alarms.
   */
  readonly metricsInsightsAlarmQuota: number;
  /**
   * Origins (`https://host[:port]`) of providers whose endpoints only their secret documents name
   * (a GitLab instance's `gitlabUrl`), added to the origins of the secrets' `oauth2` blocks in
   * `ROTOR_PROVIDER_ORIGINS`; the file's default is none.
   */
  readonly providerOrigins: readonly string[];
  /**
   * Concurrent executions reserved for each function; a function not named draws on the
   * account's unreserved pool. Nothing is reserved by default.
   */
  readonly reservedConcurrency: ReservedConcurrency;
  /** The VPC the stage's functions run in; absent (the file's default), they run in none. */
  readonly vpc?: RotorVpcConfig;
}

/** The validated contents of `rotor.config.json`. */
export interface RotorConfig {
  /** The stages, each deployed as its own `Rotor-<name>` stack; at least one. */
  readonly stages: readonly RotorStageConfig[];
}

/** A config file that is missing, unreadable, not JSON or not valid; `issues` lists each problem. */
export class RotorConfigError extends Error {
  constructor(
    message: string,
    /** One line per problem, each `<path>: <what is wrong>, got <value>`. */
    readonly issues: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RotorConfigError';
  }
}

/** The full Secrets Manager name of `secret` in `stage`. */
export function fullSecretName(stage: Pick<RotorStageConfig, 'secretNamePrefix'>, secret: { name: string }): string {
  return `${stage.secretNamePrefix}${secret.name}`;
}

// RetentionDays.INFINITE (9999) is CDK's way of leaving retention unset, not a value CloudWatch
// Logs accepts; Rotor's logs always expire.
const LOG_RETENTION_DAYS: readonly number[] = Object.values(logs.RetentionDays).filter(
  (value): value is number => typeof value === 'number' && value !== logs.RetentionDays.INFINITE,
);

const STAGE_NAME = /^(?=.{1,32}$)[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const NAME_SEGMENT = '[A-Za-z0-9_+=.@-]+';
const SECRET_NAME_PREFIX = new RegExp(`^(?:${NAME_SEGMENT}/)+$`);
const SECRET_NAME = new RegExp(`^${NAME_SEGMENT}(?:/${NAME_SEGMENT})*$`);
const MAX_SECRET_NAME_LENGTH = 512;
const MAX_GRACE_SECONDS = 24 * 3600;
const MAX_RETENTION_DAYS = 3650;
const DAY_SECONDS = 24 * 3600;
const EVENT_BUS_NAME = /^[A-Za-z0-9._-]{1,256}$/;
const MAX_DESCRIPTION_LENGTH = 2048;
// The alarm kind with the longest name, which bounds a secret's name.
const LONGEST_ALARM_KIND = RotorAlarmKind.healthCheckFailures;
// Providers whose secrets need nothing but a name, schedule and window; the others have settings of their own.
const SET_PROVIDERS = [RotorProviderName.managedToken] as const;

/** A whole number from `min` to `max`, with a message in the file's style. */
/** CloudWatch's default quota of Metrics Insights alarms per account and region. */
export const DEFAULT_METRICS_INSIGHTS_ALARM_QUOTA = 200;

function wholeNumber(min: number, max: number, unit: string) {
  return z.number().refine((value) => Number.isInteger(value) && value >= min && value <= max, {
    error: (iss) => `must be a whole number of ${unit} from ${min} to ${max}, got ${show(iss.input)}`,
  });
}

const SecretSchema = z
  .strictObject({
    name: z.string().regex(SECRET_NAME, {
      error: (iss) =>
        `must be a Secrets Manager name such as "deploy-token" (letters, digits, _+=.@- and inner /), got ${show(iss.input)}`,
    }),
    provider: z.enum(ROTOR_PROVIDERS, {
      // A missing provider falls through to "is required".
      error: (iss) =>
        iss.input === undefined
          ? undefined
          : `must be one of ${ROTOR_PROVIDERS.map((p) => `"${p}"`).join(', ')}, got ${show(iss.input)}`,
    }),
    schedule: z.string().superRefine((schedule, ctx) => {
      const parsed = parseRotationSchedule(schedule);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: `${parsed.problem}, got ${show(schedule)}` });
    }),
    window: z.string().refine((window) => parseWindowHours(window) !== undefined, {
      error: (iss) => `must be whole hours from "1h" to "24h", got ${show(iss.input)}`,
    }),
    description: z
      .string()
      .min(1, { error: 'must not be empty; leave it out instead' })
      .max(MAX_DESCRIPTION_LENGTH, {
        error: (iss) => `must be at most ${MAX_DESCRIPTION_LENGTH} characters, got ${(iss.input as string).length}`,
      })
      .optional(),
    alarms: AlarmsSchema.optional(),
    oauth2: OAuth2Schema.optional(),
    gitlab: GitLabSchema.optional(),
  })
  .superRefine((secret, ctx) => {
    checkSecretOAuth2(secret, ctx);
    const parsed = parseRotationSchedule(secret.schedule);
    const windowHours = parseWindowHours(secret.window);
    if (!parsed.ok || windowHours === undefined) return; // already reported on the field
    const problem = rotationWindowProblem(parsed.schedule, windowHours);
    if (problem) ctx.addIssue({ code: 'custom', path: ['window'], message: `${problem}, got ${show(secret.window)}` });
  });

/**
 * Many secrets that share every setting but their name: a team's pipeline tokens, say. Each name
 * becomes a secret of the stage with the set's provider, schedule, window and description, and the
 * stage's alarm thresholds; a secret that needs thresholds or OAuth 2.0 settings of its own is
 * listed in `secrets` instead.
 */
const SecretSetSchema = z
  .strictObject({
    names: z
      .array(
        z.string().regex(SECRET_NAME, {
          error: (iss) =>
            `must be a Secrets Manager name such as "deploy-token" (letters, digits, _+=.@- and inner /), got ${show(iss.input)}`,
        }),
      )
      .min(1, { error: 'must list at least one name, got []' }),
    provider: z.enum(SET_PROVIDERS, {
      error: (iss) =>
        iss.input === undefined
          ? undefined
          : `must be one of ${SET_PROVIDERS.map((p) => `"${p}"`).join(', ')} (other providers have settings of their own: list those secrets in "secrets"), got ${show(iss.input)}`,
    }),
    schedule: SecretSchema.shape.schedule,
    window: SecretSchema.shape.window,
    description: SecretSchema.shape.description,
  })
  .superRefine((set, ctx) => {
    const parsed = parseRotationSchedule(set.schedule);
    const windowHours = parseWindowHours(set.window);
    if (!parsed.ok || windowHours === undefined) return; // already reported on the field
    const problem = rotationWindowProblem(parsed.schedule, windowHours);
    if (problem) ctx.addIssue({ code: 'custom', path: ['window'], message: `${problem}, got ${show(set.window)}` });
  });

const ProviderOriginSchema = z.string().refine((text) => parseOriginOnly(text) !== undefined, {
  error: (iss) =>
    `must be an https origin such as "https://gitlab.example.com" or "https://git.example.com:8443" (no path, user name or query), got ${show(iss.input)}`,
});

function parseOriginOnly(text: string): string | undefined {
  if (!/^https:\/\/[^/?#@]+\/?$/i.test(text)) return undefined;
  try {
    return new URL(text).origin;
  } catch {
    return undefined;
  }
}

const StageSchema = z
  .strictObject({
    name: z.string().regex(STAGE_NAME, {
      error: (iss) =>
        `must be a lower-case slug such as "development" (a-z, 0-9 and inner hyphens, at most 32 characters), got ${show(iss.input)}`,
    }),
    secretNamePrefix: z
      .string()
      .regex(SECRET_NAME_PREFIX, {
        error: (iss) =>
          `must be path segments that end with "/", such as "rotor/development/" (letters, digits and _+=.@- in each segment), got ${show(iss.input)}`,
      })
      .refine((prefix) => !prefix.startsWith(ROTOR_INTERNAL_SECRET_PREFIX), {
        error: (iss) =>
          `must not start with "${ROTOR_INTERNAL_SECRET_PREFIX}", which holds Rotor's own secrets (the fingerprint pepper), got ${show(iss.input)}`,
      }),
    logRetentionDays: z.number().refine((days) => LOG_RETENTION_DAYS.includes(days), {
      error: (iss) =>
        `must be a retention CloudWatch Logs accepts (${LOG_RETENTION_DAYS.join(', ')}), got ${show(iss.input)}`,
    }),
    account: z
      .string()
      .regex(/^\d{12}$/, { error: (iss) => `must be a 12-digit AWS account id, got ${show(iss.input)}` })
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/, {
        error: (iss) => `must be an AWS region such as "eu-west-1", got ${show(iss.input)}`,
      })
      .optional(),
    graceSeconds: wholeNumber(0, MAX_GRACE_SECONDS, 'seconds').optional(),
    healthCheckWatchSeconds: wholeNumber(60, DAY_SECONDS, 'seconds').optional(),
    healthCheckIdleSeconds: wholeNumber(60, DAY_SECONDS, 'seconds').optional(),
    reuseMemoryDays: wholeNumber(1, MAX_RETENTION_DAYS, 'days').optional(),
    auditRetentionDays: wholeNumber(1, MAX_RETENTION_DAYS, 'days').optional(),
    sweepSchedule: z
      .string()
      .superRefine((schedule, ctx) => {
        const problem = sweepScheduleProblem(schedule);
        if (problem) ctx.addIssue({ code: 'custom', message: `${problem}, got ${show(schedule)}` });
      })
      .optional(),
    eventBusName: z
      .string()
      .regex(EVENT_BUS_NAME, {
        error: (iss) =>
          `must be the name of an event bus in the stage's account and region, such as "default" (letters, digits and ._-, at most 256 characters), got ${show(iss.input)}`,
      })
      .optional(),
    secrets: z.array(SecretSchema).optional(),
    secretSets: z.array(SecretSetSchema).optional(),
    consumers: z.array(ConsumerSchema).optional(),
    oidcProviders: OidcProvidersSchema.optional(),
    shards: wholeNumber(1, MAX_SHARDS, 'shards').optional(),
    alarmGroups: wholeNumber(1, MAX_ALARM_GROUPS, 'alarm groups').optional(),
    metricsInsightsAlarmQuota: wholeNumber(3, 100_000, 'alarms').optional(),
    providerOrigins: z.array(ProviderOriginSchema).optional(),
    reservedConcurrency: ReservedConcurrencySchema.optional(),
    vpc: VpcSchema.optional(),
    ...StageAlertFields,
  })
  .superRefine((file, ctx) => {
    const secrets = file.secrets ?? [];
    const sets = file.secretSets ?? [];
    if (secrets.length === 0 && sets.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['secrets'],
        message: 'must list at least one secret (or give secretSets), got []',
      });
    }
    const stage = { ...file, secrets };
    // Consumers may read any secret of the stage, listed or from a set.
    checkStageConsumers({ ...stage, secrets: [...secrets, ...setMembers(sets)] }, ctx);
    checkStageAlerts(stage, ctx);
    checkStageOAuth2(stage, ctx);
    checkStageGitLab(stage, ctx);
    checkStageVpc(stage, ctx);
    checkStageAlarmGroups(stage, ctx);
    stage.secrets.forEach((secret, index) =>
      checkSecretGitLab(secret, stage.graceSeconds ?? DEFAULT_DURATIONS.graceSeconds, ctx, ['secrets', index]),
    );
    const seen = new Map<string, string>();
    const named = [
      ...secrets.map((secret, index) => ({
        name: secret.name,
        path: ['secrets', index, 'name'],
        where: `secrets[${index}]`,
      })),
      ...sets.flatMap((set, setIndex) =>
        set.names.map((name, index) => ({
          name,
          path: ['secretSets', setIndex, 'names', index],
          where: `secretSets[${setIndex}].names[${index}]`,
        })),
      ),
    ];
    for (const { name, path, where } of named) {
      const first = seen.get(name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `${show(name)} is also the name of ${first}; secret names must be unique within a stage`,
        });
      } else {
        seen.set(name, where);
      }
      const fullName = fullSecretName(stage, { name });
      if (fullName.length > MAX_SECRET_NAME_LENGTH) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `with the prefix the name must be at most ${MAX_SECRET_NAME_LENGTH} characters, got ${fullName.length} (${show(fullName)})`,
        });
      }
      const alarmName = rotorAlarmName(stage.name, LONGEST_ALARM_KIND, fullName);
      if (path[0] === 'secretSets' && alarmName.length > MAX_ALARM_NAME_LENGTH) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `with the stage and the alarm kind the alarm name must be at most ${MAX_ALARM_NAME_LENGTH} characters, got ${alarmName.length} (${show(alarmName)})`,
        });
      }
    }
  });

/** The secrets of `sets`, each with its set's settings. */
function setMembers<T extends { readonly names: readonly string[] }>(
  sets: readonly T[],
): (Omit<T, 'names'> & { readonly name: string })[] {
  return sets.flatMap(({ names, ...settings }) => names.map((name) => ({ ...settings, name })));
}

const ConfigSchema = z
  .strictObject({
    stages: z.array(StageSchema).min(1, { error: 'must list at least one stage, got []' }),
  })
  .superRefine((config, ctx) => {
    checkStagesApart(
      config.stages.map((stage) => ({ ...stage, secrets: stage.secrets ?? [] })),
      ctx,
    );
    config.stages.forEach((stage, index) => {
      config.stages.slice(0, index).forEach((earlier, earlierIndex) => {
        if (earlier.name === stage.name) {
          ctx.addIssue({
            code: 'custom',
            path: ['stages', index, 'name'],
            message: `${show(stage.name)} is also the name of stages[${earlierIndex}]; stage names must be unique`,
          });
        }
        // The rotation function refuses secrets outside its stage's prefix; that guard only
        // separates stages if neither prefix contains the other.
        if (
          earlier.secretNamePrefix.startsWith(stage.secretNamePrefix) ||
          stage.secretNamePrefix.startsWith(earlier.secretNamePrefix)
        ) {
          ctx.addIssue({
            code: 'custom',
            path: ['stages', index, 'secretNamePrefix'],
            message:
              `${show(stage.secretNamePrefix)} overlaps stages[${earlierIndex}].secretNamePrefix ${show(earlier.secretNamePrefix)}: ` +
              'one starts with the other, so access scoped by name would reach both stages',
          });
        }
      });
    });
  });

type ConfigFile = z.infer<typeof ConfigSchema>;

// Messages for zod's own checks (missing fields, wrong JSON types, unknown fields); every other
// message is written next to its rule above.
function defaultMessage(issue: z.core.$ZodRawIssue): string | undefined {
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_value') && issue.input === undefined)
    return 'is required';
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${issue.expected === 'array' ? 'a list' : issue.expected === 'object' ? 'an object' : `a ${issue.expected}`}, got ${show(issue.input)}`;
    case 'unrecognized_keys':
      return `has unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((key) => `"${key}"`).join(', ')}; check the spelling`;
    default:
      return undefined;
  }
}

/** `['stages', 0, 'secrets', 1, 'schedule']` -> `stages[0].secrets[1].schedule`. */
function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(config)';
  return path.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

function toRotorConfig(file: ConfigFile): RotorConfig {
  return {
    stages: file.stages.map((stage) => ({
      name: stage.name,
      secretNamePrefix: stage.secretNamePrefix,
      // Checked above to be one of logs.RetentionDays' values.
      logRetentionDays: stage.logRetentionDays,
      ...(stage.account === undefined ? {} : { account: stage.account }),
      ...(stage.region === undefined ? {} : { region: stage.region }),
      graceSeconds: stage.graceSeconds ?? DEFAULT_DURATIONS.graceSeconds,
      reuseMemorySeconds:
        stage.reuseMemoryDays === undefined
          ? DEFAULT_DURATIONS.reuseMemorySeconds
          : stage.reuseMemoryDays * DAY_SECONDS,
      auditRetentionSeconds:
        stage.auditRetentionDays === undefined
          ? DEFAULT_DURATIONS.auditRetentionSeconds
          : stage.auditRetentionDays * DAY_SECONDS,
      sweepSchedule: stage.sweepSchedule ?? DEFAULT_SWEEP_SCHEDULE,
      eventBusName: stage.eventBusName ?? 'default',
      secrets: [
        ...(stage.secrets ?? []).map((secret) => ({
          name: secret.name,
          provider: secret.provider,
          schedule: secret.schedule,
          window: Duration.hours(parseWindowHours(secret.window)!),
          ...(secret.description === undefined ? {} : { description: secret.description }),
          ...(secret.oauth2 === undefined ? {} : { oauth2: toOAuth2Config(secret.oauth2) }),
          ...(secret.gitlab === undefined
            ? {}
            : {
                gitlab: toGitLabConfig(
                  secret.gitlab,
                  secret,
                  stage.graceSeconds ?? DEFAULT_DURATIONS.graceSeconds,
                  stage.secretNamePrefix,
                ),
              }),
          alarms: resolveAlarmThresholds(stage.alarms, secret.alarms),
        })),
        ...setMembers(stage.secretSets ?? []).map((secret) => ({
          name: secret.name,
          provider: secret.provider,
          schedule: secret.schedule,
          window: Duration.hours(parseWindowHours(secret.window)!),
          ...(secret.description === undefined ? {} : { description: secret.description }),
          alarms: resolveAlarmThresholds(stage.alarms),
        })),
      ],
      consumers: (stage.consumers ?? []).map(toConsumerConfig),
      oidcProviders: stageOidcProviders({ ...stage, secrets: stage.secrets ?? [] }),
      healthCheckSchedule: stage.healthCheckSchedule ?? DEFAULT_HEALTH_CHECK_SCHEDULE,
      healthCheckWatchSeconds: stage.healthCheckWatchSeconds ?? HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckWatchSeconds,
      healthCheckIdleSeconds: stage.healthCheckIdleSeconds ?? HEALTH_AND_ROLLBACK_DEFAULTS.healthCheckIdleSeconds,
      maxRollbackAttempts: stage.maxRollbackAttempts ?? HEALTH_AND_ROLLBACK_DEFAULTS.maxRollbackAttempts,
      alertEmails: stage.alertEmails ?? [],
      alertHttpsEndpoints: stage.alertHttpsEndpoints ?? [],
      alarms: resolveAlarmThresholds(stage.alarms),
      ...(stage.shards === undefined
        ? {}
        : { shards: stage.shards, alarmGroups: stage.alarmGroups ?? defaultAlarmGroups(stage.shards) }),
      metricsInsightsAlarmQuota: stage.metricsInsightsAlarmQuota ?? DEFAULT_METRICS_INSIGHTS_ALARM_QUOTA,
      providerOrigins: (stage.providerOrigins ?? []).map((origin) => new URL(origin).origin),
      reservedConcurrency: toReservedConcurrency(stage.reservedConcurrency),
      ...(stage.vpc === undefined ? {} : { vpc: toVpcConfig(stage.vpc) }),
    })),
  };
}

/**
 * Validates a parsed config document.
 *
 * @param source names the document in the error message, e.g. its file path.
 * @throws RotorConfigError listing every problem as `<path>: <rule>, got <value>`.
 */
export function parseRotorConfig(value: unknown, source = 'Rotor config'): RotorConfig {
  const result = ConfigSchema.safeParse(value, { error: defaultMessage });
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${formatPath(issue.path)}: ${issue.message}`);
    throw new RotorConfigError(`${source} is invalid:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`, issues);
  }
  return toRotorConfig(result.data);
}

/**
 * Reads and validates a Rotor config file (`rotor.config.json`).
 *
 * @throws RotorConfigError when the file is missing or unreadable, is not JSON, or is not a valid config.
 */
export function loadRotorConfig(path: string): RotorConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new RotorConfigError(
        `Rotor config not found at ${path}: create it (rotor.config.json in the repository is an example) ` +
          'or point to it with `cdk synth -c config=<path>`',
        [],
        { cause: error },
      );
    }
    throw new RotorConfigError(`Rotor config ${path} could not be read: ${(error as Error).message}`, [], {
      cause: error,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RotorConfigError(`Rotor config ${path} is not valid JSON: ${(error as Error).message}`, [], {
      cause: error,
    });
  }
  return parseRotorConfig(value, `Rotor config ${path}`);
}
