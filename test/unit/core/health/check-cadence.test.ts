import {
  checkCadenceProblem,
  dueReason,
  idleOffsetSeconds,
  type CheckCadence,
} from '../../../../lambda/core/health/check-cadence';

const CADENCE: CheckCadence = { runSeconds: 60, watchSeconds: 900, idleSeconds: 3600 };
const NOW_MS = Date.UTC(2026, 11, 3, 10, 0, 0);
const NOW = NOW_MS / 1000;

/** The run times (epoch ms) of one idle interval's runs, every 60 s. */
const runsOfOneInterval = () => Array.from({ length: 60 }, (_, run) => NOW_MS + run * 60_000);

describe('Function: dueReason', () => {
  it('checks an idle secret in exactly one run per idle interval', () => {
    // Act
    const due = runsOfOneInterval().filter((at) => dueReason('rotor/dev/quiet', undefined, at, CADENCE) === 'idle');

    // Assess
    expect(due).toHaveLength(1);
  });

  it('keeps the slot of a secret whatever its neighbours: the same run each interval', () => {
    // Prepare
    const first = runsOfOneInterval().find((at) => dueReason('rotor/dev/quiet', undefined, at, CADENCE) !== undefined)!;

    // Act + Assess: one interval later, the same run; the runs between are not due
    expect(dueReason('rotor/dev/quiet', undefined, first + 3_600_000, CADENCE)).toBe('idle');
    expect(dueReason('rotor/dev/quiet', undefined, first + 60_000, CADENCE)).toBeUndefined();
  });

  it('spreads 1,200 secrets over the interval: every run tests about a sixtieth of them', () => {
    // Prepare
    const names = Array.from({ length: 1200 }, (_, index) => `rotor/production/team-${index % 37}/token-${index}`);

    // Act
    const perRun = runsOfOneInterval().map(
      (at) => names.filter((name) => dueReason(name, undefined, at, CADENCE) !== undefined).length,
    );

    // Assess: every secret once, no run above twice its share
    expect(perRun.reduce((sum, count) => sum + count, 0)).toBe(1200);
    expect(Math.max(...perRun)).toBeLessThanOrEqual(40);
    expect(Math.min(...perRun)).toBeGreaterThanOrEqual(5);
  });

  it('checks a changed secret at every run until its watch ends, then idles', () => {
    // Prepare
    const watch = { changedUntil: NOW + 900 };

    // Act
    const watched = runsOfOneInterval()
      .slice(0, 15)
      .map((at) => dueReason('rotor/dev/quiet', watch, at, CADENCE));

    // Assess
    expect(watched).toEqual(Array(15).fill('changed'));
    expect(dueReason('rotor/dev/quiet', watch, NOW_MS + 900_000, CADENCE)).not.toBe('changed');
  });

  it('checks a failing secret at every run, however old the failure', () => {
    expect(dueReason('rotor/dev/quiet', { failing: true, changedUntil: NOW - 86_400 }, NOW_MS, CADENCE)).toBe(
      'failing',
    );
  });

  it('checks a recovered secret at every run for the watch period', () => {
    expect(dueReason('rotor/dev/quiet', { recoveredUntil: NOW + 60 }, NOW_MS, CADENCE)).toBe('recovered');
    expect(dueReason('rotor/dev/quiet', { recoveredUntil: NOW }, NOW_MS, CADENCE)).not.toBe('recovered');
  });

  it('checks a credential that expires on its own from the last run before it does', () => {
    // Prepare: an access token that expires in 90 s, then in 60 s, then 30 s ago
    const due = (expiresInSeconds: number) =>
      dueReason('rotor/dev/quiet', { credentialExpiresAt: NOW + expiresInSeconds }, NOW_MS, CADENCE);

    // Act + Assess
    expect(due(90)).not.toBe('expiring');
    expect(due(60)).toBe('expiring');
    expect(due(-30)).toBe('expiring');
  });

  it('checks every secret at every run when the idle interval is the run period', () => {
    expect(dueReason('rotor/dev/quiet', undefined, NOW_MS, { ...CADENCE, idleSeconds: 60 })).toBe('idle');
  });
});

describe('Function: idleOffsetSeconds', () => {
  it('is stable and within the interval', () => {
    expect(idleOffsetSeconds('rotor/dev/a', 3600)).toBe(idleOffsetSeconds('rotor/dev/a', 3600));
    expect(idleOffsetSeconds('rotor/dev/a', 3600)).toBeGreaterThanOrEqual(0);
    expect(idleOffsetSeconds('rotor/dev/a', 3600)).toBeLessThan(3600);
  });
});

describe('Function: checkCadenceProblem', () => {
  it('accepts the defaults', () => {
    expect(checkCadenceProblem(CADENCE)).toBeUndefined();
  });

  it('fails an idle interval shorter than the run period, naming both', () => {
    expect(checkCadenceProblem({ ...CADENCE, idleSeconds: 30 })).toBe(
      'idleSeconds (30) must be at least the run period (60)',
    );
  });

  it('fails a duration that is not a whole number of seconds', () => {
    expect(checkCadenceProblem({ ...CADENCE, watchSeconds: 0.5 })).toBe(
      'watchSeconds must be a whole number of seconds of at least 1, got 0.5',
    );
  });
});
