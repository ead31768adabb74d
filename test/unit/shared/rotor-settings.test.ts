import {
  durationSettings,
  healthAndRollbackSettings,
  positiveIntegerSetting,
  requiredSetting,
  RotorSettingsError,
  secondsSetting,
} from '../../../lambda/shared/rotor-settings';

describe('Function: requiredSetting', () => {
  it('returns the variable’s value', () => {
    // Act
    const value = requiredSetting('ROTOR_LEDGER_TABLE', { ROTOR_LEDGER_TABLE: 'rotor-dev-ledger' });

    // Assess
    expect(value).toBe('rotor-dev-ledger');
  });

  it.each([
    ['unset', {}],
    ['empty', { ROTOR_LEDGER_TABLE: '' }],
  ])('fails when the variable is %s, naming it', (_label, env) => {
    // Act
    const attempt = () => requiredSetting('ROTOR_LEDGER_TABLE', env);

    // Assess
    expect(attempt).toThrow(RotorSettingsError);
    expect(attempt).toThrow('ROTOR_LEDGER_TABLE is not set');
  });
});

describe('Function: secondsSetting', () => {
  it.each([
    ['unset', {}, 900],
    ['empty', { ROTOR_X: '' }, 900],
    ['0', { ROTOR_X: '0' }, 0],
    ['2', { ROTOR_X: '2' }, 2],
    ['86400', { ROTOR_X: '86400' }, 86_400],
  ])('reads %s as %i', (_label, env, expected) => {
    // Act
    const seconds = secondsSetting('ROTOR_X', 900, env);

    // Assess
    expect(seconds).toBe(expected);
  });

  it.each(['-1', '1.5', 'abc', '15m', 'NaN', 'Infinity'])('fails on "%s", quoting it', (value) => {
    // Act
    const attempt = () => secondsSetting('ROTOR_X', 900, { ROTOR_X: value });

    // Assess
    expect(attempt).toThrow(RotorSettingsError);
    expect(attempt).toThrow(`ROTOR_X must be a whole number of seconds, got "${value}"`);
  });
});

describe('Function: durationSettings', () => {
  it('reads the three durations, each defaulting on its own', () => {
    // Act
    const durations = durationSettings({ ROTOR_DEFAULT_GRACE_SECONDS: '2', ROTOR_AUDIT_RETENTION_SECONDS: '60' });

    // Assess
    expect(durations).toEqual({
      defaultGraceSeconds: 2,
      reuseMemorySeconds: 30 * 24 * 3600,
      auditRetentionSeconds: 60,
    });
  });

  it('defaults to 15 minutes of grace, 30 days of reuse memory and 400 days of audit', () => {
    // Act
    const durations = durationSettings({});

    // Assess
    expect(durations).toEqual({
      defaultGraceSeconds: 900,
      reuseMemorySeconds: 2_592_000,
      auditRetentionSeconds: 34_560_000,
    });
  });
});

describe('Function: positiveIntegerSetting', () => {
  it.each([
    ['unset', {}, 3],
    ['empty', { ROTOR_X: '' }, 3],
    ['1', { ROTOR_X: '1' }, 1],
    ['10', { ROTOR_X: '10' }, 10],
  ])('reads %s as %i', (_label, env, expected) => {
    expect(positiveIntegerSetting('ROTOR_X', 3, env)).toBe(expected);
  });

  it.each(['0', '-1', '2.5', 'three'])('fails on "%s", naming the variable and the value', (value) => {
    expect(() => positiveIntegerSetting('ROTOR_X', 3, { ROTOR_X: value })).toThrow(
      `ROTOR_X must be a whole number of at least 1, got "${value}"`,
    );
  });
});

describe('Function: healthAndRollbackSettings', () => {
  it('defaults every setting, and reads each from its variable', () => {
    expect(healthAndRollbackSettings({})).toEqual({
      maxRollbackAttempts: 3,
      rollbackIncidentWindowSeconds: 86_400,
      healthCheckConcurrency: 8,
      healthCheckBudgetSeconds: 40,
      healthCheckRunSeconds: 60,
      healthCheckWatchSeconds: 900,
      healthCheckIdleSeconds: 3600,
    });
    expect(
      healthAndRollbackSettings({
        ROTOR_MAX_ROLLBACK_ATTEMPTS: '5',
        ROTOR_ROLLBACK_INCIDENT_WINDOW_SECONDS: '600',
        ROTOR_HEALTH_CHECK_CONCURRENCY: '2',
        ROTOR_HEALTH_CHECK_BUDGET_SECONDS: '10',
        ROTOR_HEALTH_CHECK_RUN_SECONDS: '120',
        ROTOR_HEALTH_CHECK_WATCH_SECONDS: '600',
        ROTOR_HEALTH_CHECK_IDLE_SECONDS: '7200',
      }),
    ).toEqual({
      maxRollbackAttempts: 5,
      rollbackIncidentWindowSeconds: 600,
      healthCheckConcurrency: 2,
      healthCheckBudgetSeconds: 10,
      healthCheckRunSeconds: 120,
      healthCheckWatchSeconds: 600,
      healthCheckIdleSeconds: 7200,
    });
  });
});
