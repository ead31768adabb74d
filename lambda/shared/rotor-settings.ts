import { DEFAULT_DURATIONS, HEALTH_AND_ROLLBACK_DEFAULTS, HealthAndRollbackEnv, RotorEnv } from './rotor-constants';

/** A Lambda's settings from its environment are missing or malformed. */
export class RotorSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RotorSettingsError';
  }
}

type Environment = Readonly<Record<string, string | undefined>>;

/** A required `ROTOR_*` variable. */
export function requiredSetting(name: string, env: Environment = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new RotorSettingsError(`${name} is not set`);
  return value;
}

/** A duration in whole seconds, or its default when unset. */
export function secondsSetting(name: string, fallback: number, env: Environment = process.env): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 0) {
    throw new RotorSettingsError(`${name} must be a whole number of seconds, got "${value}"`);
  }
  return seconds;
}

/** The durations every Rotor Lambda reads (DESIGN section 7: configurable down to seconds). */
export function durationSettings(env: Environment = process.env) {
  return {
    defaultGraceSeconds: secondsSetting(RotorEnv.defaultGraceSeconds, DEFAULT_DURATIONS.graceSeconds, env),
    reuseMemorySeconds: secondsSetting(RotorEnv.reuseMemorySeconds, DEFAULT_DURATIONS.reuseMemorySeconds, env),
    auditRetentionSeconds: secondsSetting(RotorEnv.auditRetentionSeconds, DEFAULT_DURATIONS.auditRetentionSeconds, env),
  };
}

/** A whole number of at least 1, or its default when unset. */
export function positiveIntegerSetting(name: string, fallback: number, env: Environment = process.env): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1) {
    throw new RotorSettingsError(`${name} must be a whole number of at least 1, got "${value}"`);
  }
  return number;
}

/** The health check's and the rollback's settings (issue 5), each with its default. */
export function healthAndRollbackSettings(env: Environment = process.env) {
  const defaults = HEALTH_AND_ROLLBACK_DEFAULTS;
  return {
    maxRollbackAttempts: positiveIntegerSetting(
      HealthAndRollbackEnv.maxRollbackAttempts,
      defaults.maxRollbackAttempts,
      env,
    ),
    rollbackIncidentWindowSeconds: positiveIntegerSetting(
      HealthAndRollbackEnv.rollbackIncidentWindowSeconds,
      defaults.rollbackIncidentWindowSeconds,
      env,
    ),
    healthCheckConcurrency: positiveIntegerSetting(
      HealthAndRollbackEnv.healthCheckConcurrency,
      defaults.healthCheckConcurrency,
      env,
    ),
    healthCheckBudgetSeconds: positiveIntegerSetting(
      HealthAndRollbackEnv.healthCheckBudgetSeconds,
      defaults.healthCheckBudgetSeconds,
      env,
    ),
    healthCheckRunSeconds: positiveIntegerSetting(
      HealthAndRollbackEnv.healthCheckRunSeconds,
      defaults.healthCheckRunSeconds,
      env,
    ),
    healthCheckWatchSeconds: positiveIntegerSetting(
      HealthAndRollbackEnv.healthCheckWatchSeconds,
      defaults.healthCheckWatchSeconds,
      env,
    ),
    healthCheckIdleSeconds: positiveIntegerSetting(
      HealthAndRollbackEnv.healthCheckIdleSeconds,
      defaults.healthCheckIdleSeconds,
      env,
    ),
  };
}
