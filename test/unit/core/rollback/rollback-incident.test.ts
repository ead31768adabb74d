import type { SecretLedgerState } from '../../../../lambda/core/ledger/ledger-records';
import { incidentStanding } from '../../../../lambda/core/rollback/rollback-incident';

const T0 = 1_700_000_000_000;
const POLICY = { maxAttempts: 3, windowMs: 3600_000 };
const state = (rollback?: SecretLedgerState['rollback']): SecretLedgerState => ({
  secretArn: 'arn',
  secretName: 'name',
  generation: 2,
  status: 'active',
  onReuse: 'revoke-and-rotate',
  ...(rollback === undefined ? {} : { rollback }),
});

describe('Function: incidentStanding', () => {
  it('opens a new incident for a secret that never rolled back', () => {
    expect(incidentStanding(state(), T0, POLICY)).toEqual({ attemptsSoFar: 0, startedAt: T0, exhausted: false });
  });

  it('continues the incident while the last rollback is within the window, and is exhausted at the maximum', () => {
    // Prepare
    const two = state({ attempts: 2, startedAt: T0 - 50_000, lastAttemptAt: T0 - 10_000 });
    const three = state({ attempts: 3, startedAt: T0 - 50_000, lastAttemptAt: T0 - 10_000 });

    // Act & Assess
    expect(incidentStanding(two, T0, POLICY)).toEqual({ attemptsSoFar: 2, startedAt: T0 - 50_000, exhausted: false });
    expect(incidentStanding(three, T0, POLICY)).toEqual({ attemptsSoFar: 3, startedAt: T0 - 50_000, exhausted: true });
  });

  it('starts again once the window has passed since the last rollback', () => {
    // Prepare
    const old = state({ attempts: 3, startedAt: T0 - 7200_000, lastAttemptAt: T0 - 3600_000 });

    // Act & Assess
    expect(incidentStanding(old, T0, POLICY)).toEqual({ attemptsSoFar: 0, startedAt: T0, exhausted: false });
    expect(incidentStanding(old, T0 - 1, POLICY).attemptsSoFar).toBe(3);
  });
});
