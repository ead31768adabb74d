import * as z from 'zod';
import { RotorAlarmKind, rotorAlarmName } from '../../lambda/shared/rotor-constants';
import {
  ALARM_KIND_KEYS,
  alarmThresholdProblem,
  DEFAULT_ALARM_THRESHOLDS,
  MAX_ALARM_NAME_LENGTH,
  MAX_ALARM_PERIOD_SECONDS,
  MAX_ALARM_THRESHOLD,
  type AlarmKindKey,
  type AlarmThreshold,
  type AlarmThresholds,
} from '../alarm-thresholds';
import { healthCheckScheduleProblem } from '../health-check-schedule';
import { show } from './show-value';

// The config of issue 5: health-check schedule, alarm thresholds per kind (per stage, with
// per-secret overrides), rollback attempts and who is told when rotation is paused.

/** Most rollback attempts per incident a stage may allow. */
export const MAX_ROLLBACK_ATTEMPTS = 10;
/** Most evaluation periods of an alarm (a day of one-minute periods). */
export const MAX_EVALUATION_PERIODS = 1440;

const EMAIL =
  /^(?=.{3,254}$)[^\s@"<>,;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
const MAX_URL_LENGTH = 2048;

const isThreshold = (value: number): boolean => Number.isInteger(value) && value >= 1 && value <= MAX_ALARM_THRESHOLD;
const isPeriod = (value: number): boolean =>
  Number.isInteger(value) && value >= 60 && value <= MAX_ALARM_PERIOD_SECONDS && value % 60 === 0;
const isEvaluationPeriods = (value: number): boolean =>
  Number.isInteger(value) && value >= 1 && value <= MAX_EVALUATION_PERIODS;

/** One alarm kind's settings as the file gives them: each field optional, falling back to the stage's, then the default. */
const AlarmThresholdSchema = z.strictObject({
  threshold: z
    .number()
    .refine(isThreshold, {
      error: (iss) => `must be a whole number from 1 to ${MAX_ALARM_THRESHOLD}, got ${show(iss.input)}`,
    })
    .optional(),
  periodSeconds: z
    .number()
    .refine(isPeriod, {
      error: (iss) =>
        `must be a multiple of 60 from 60 to ${MAX_ALARM_PERIOD_SECONDS} (Rotor's metrics have one-minute resolution), got ${show(iss.input)}`,
    })
    .optional(),
  evaluationPeriods: z
    .number()
    .refine(isEvaluationPeriods, {
      error: (iss) => `must be a whole number of periods from 1 to ${MAX_EVALUATION_PERIODS}, got ${show(iss.input)}`,
    })
    .optional(),
});

/** `alarms` of a stage or a secret: any of the three kinds, each with any of its fields. */
export const AlarmsSchema = z.strictObject(
  Object.fromEntries(ALARM_KIND_KEYS.map((key) => [key, AlarmThresholdSchema.optional()])) as Record<
    AlarmKindKey,
    z.ZodOptional<typeof AlarmThresholdSchema>
  >,
);
type AlarmsFile = z.infer<typeof AlarmsSchema>;

/** The stage fields of issue 5, spread into the stage's schema. */
export const StageAlertFields = {
  healthCheckSchedule: z
    .string()
    .superRefine((schedule, ctx) => {
      const problem = healthCheckScheduleProblem(schedule);
      if (problem) ctx.addIssue({ code: 'custom', message: `${problem}, got ${show(schedule)}` });
    })
    .optional(),
  maxRollbackAttempts: z
    .number()
    .refine((value) => Number.isInteger(value) && value >= 1 && value <= MAX_ROLLBACK_ATTEMPTS, {
      error: (iss) => `must be a whole number of attempts from 1 to ${MAX_ROLLBACK_ATTEMPTS}, got ${show(iss.input)}`,
    })
    .optional(),
  alertEmails: z
    .array(
      z.string().regex(EMAIL, {
        error: (iss) => `must be an email address such as "oncall@example.com", got ${show(iss.input)}`,
      }),
    )
    .optional(),
  alertHttpsEndpoints: z
    .array(
      z.string().refine(isHttpsEndpoint, {
        error: (iss) =>
          `must be an https:// URL without a user name or password, at most ${MAX_URL_LENGTH} characters, got ${show(iss.input)}`,
      }),
    )
    .optional(),
  alarms: AlarmsSchema.optional(),
};

function isHttpsEndpoint(value: string): boolean {
  if (value.length > MAX_URL_LENGTH) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.username === '' && url.password === '' && url.hostname !== '';
  } catch {
    return false;
  }
}

/** What {@link checkStageAlerts} reads of a parsed stage. */
interface StageWithAlerts {
  readonly name: string;
  readonly secretNamePrefix: string;
  readonly alertEmails?: readonly string[] | undefined;
  readonly alertHttpsEndpoints?: readonly string[] | undefined;
  readonly alarms?: AlarmsFile | undefined;
  readonly secrets: readonly { readonly name: string; readonly alarms?: AlarmsFile | undefined }[];
}

/**
 * The rules across fields: no address subscribed twice, each alarm's evaluation window within
 * CloudWatch's limit once the stage's and the secret's settings are merged, and alarm names that
 * CloudWatch accepts.
 */
export function checkStageAlerts(stage: StageWithAlerts, ctx: z.RefinementCtx): void {
  refuseDuplicates(stage.alertEmails ?? [], ['alertEmails'], ctx, (email) => email.toLowerCase());
  refuseDuplicates(stage.alertHttpsEndpoints ?? [], ['alertHttpsEndpoints'], ctx, (url) => url);

  const stageWindowOk = new Set<AlarmKindKey>();
  for (const key of ALARM_KIND_KEYS) {
    const problem = windowProblem(resolveThreshold(key, stage.alarms));
    if (problem) ctx.addIssue({ code: 'custom', path: ['alarms', key], message: problem });
    else stageWindowOk.add(key);
  }

  stage.secrets.forEach((secret, index) => {
    for (const key of ALARM_KIND_KEYS) {
      // A stage setting already reported is not reported again for each secret that inherits it.
      if (secret.alarms?.[key] === undefined || !stageWindowOk.has(key)) continue;
      const problem = windowProblem(resolveThreshold(key, stage.alarms, secret.alarms));
      if (problem) ctx.addIssue({ code: 'custom', path: ['secrets', index, 'alarms', key], message: problem });
    }
    const longest = ALARM_KIND_KEYS.map((key) =>
      rotorAlarmName(stage.name, RotorAlarmKind[key], `${stage.secretNamePrefix}${secret.name}`),
    ).reduce((a, b) => (b.length > a.length ? b : a));
    if (longest.length > MAX_ALARM_NAME_LENGTH) {
      ctx.addIssue({
        code: 'custom',
        path: ['secrets', index, 'name'],
        message: `with the stage and the alarm kind the alarm name must be at most ${MAX_ALARM_NAME_LENGTH} characters, got ${longest.length} (${show(longest)})`,
      });
    }
  });
}

/**
 * The rule across one alarm's fields: its evaluation window within CloudWatch's limit. Undefined
 * also when a field breaks its own rule, which the schema has reported on the field.
 */
function windowProblem(threshold: AlarmThreshold): string | undefined {
  const { threshold: count, periodSeconds, evaluationPeriods } = threshold;
  if (!isThreshold(count) || !isPeriod(periodSeconds) || !isEvaluationPeriods(evaluationPeriods)) return undefined;
  return alarmThresholdProblem(threshold);
}

function refuseDuplicates(
  values: readonly string[],
  path: (string | number)[],
  ctx: z.RefinementCtx,
  key: (value: string) => string,
): void {
  const seen = new Map<string, number>();
  values.forEach((value, index) => {
    const first = seen.get(key(value));
    if (first === undefined) seen.set(key(value), index);
    else ctx.addIssue({ code: 'custom', path: [...path, index], message: `${show(value)} is also entry [${first}]` });
  });
}

/** One alarm kind's threshold: the default, overridden field by field by the stage's settings, then the secret's. */
function resolveThreshold(key: AlarmKindKey, stageAlarms?: AlarmsFile, secretAlarms?: AlarmsFile): AlarmThreshold {
  return [stageAlarms?.[key], secretAlarms?.[key]].reduce<AlarmThreshold>(
    (merged, layer) => ({
      threshold: layer?.threshold ?? merged.threshold,
      periodSeconds: layer?.periodSeconds ?? merged.periodSeconds,
      evaluationPeriods: layer?.evaluationPeriods ?? merged.evaluationPeriods,
    }),
    DEFAULT_ALARM_THRESHOLDS[key],
  );
}

/** The thresholds of every alarm kind: the default, overridden field by field by the stage's settings, then the secret's. */
export function resolveAlarmThresholds(stageAlarms?: AlarmsFile, secretAlarms?: AlarmsFile): AlarmThresholds {
  return Object.fromEntries(
    ALARM_KIND_KEYS.map((key) => [key, resolveThreshold(key, stageAlarms, secretAlarms)]),
  ) as Record<AlarmKindKey, AlarmThreshold>;
}
