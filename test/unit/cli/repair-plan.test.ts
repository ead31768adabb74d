import { planRepair, type RepairFindings } from '../../../cli/commands/repair-plan';
import type { JournalEntryView } from '../../../lambda/adapters/dynamodb-ledger';

const NOW = Date.parse('2026-12-03T06:00:00Z');
const LEASE_MS = 70_000;
const CURRENT = '11111111-1111-4111-8111-111111111111';
const PENDING = '22222222-2222-4222-8222-222222222222';

function findings(overrides: Partial<RepairFindings> = {}): RepairFindings {
  return {
    secretName: 'rotor/development/token',
    currentVersionId: CURRENT,
    journal: [],
    now: NOW,
    claimLeaseMs: LEASE_MS,
    ...overrides,
  };
}

function spent(versionId: string, claimedAt: number): JournalEntryView {
  return {
    versionId,
    action: 'oauth2-refresh-token:create',
    claimedAt,
    outcome: 'in-flight',
    spendsCredential: true,
  };
}

describe('Function: planRepair', () => {
  it('does nothing when no version is AWSPENDING', () => {
    expect(planRepair(findings()).action).toEqual({ kind: 'none' });
  });

  it('removes AWSPENDING left on the current version', () => {
    expect(planRepair(findings({ pendingVersionId: CURRENT, pendingHasValue: true })).action).toEqual({
      kind: 'remove-pending-label',
      versionId: CURRENT,
    });
  });

  it('removes a valueless AWSPENDING', () => {
    const plan = planRepair(findings({ pendingVersionId: PENDING, pendingHasValue: false }));
    expect(plan.action).toEqual({ kind: 'remove-pending-label', versionId: PENDING });
    expect(plan.notes).toEqual([]);
  });

  it('waits while a provider call for the valueless pending version is within its lease', () => {
    const plan = planRepair(
      findings({ pendingVersionId: PENDING, pendingHasValue: false, journal: [spent(PENDING, NOW - 10_000)] }),
    );
    expect(plan.action).toEqual({ kind: 'wait', seconds: 60 });
  });

  it('removes a valueless AWSPENDING whose spend lost its result, and says bootstrap may be needed', () => {
    const plan = planRepair(
      findings({ pendingVersionId: PENDING, pendingHasValue: false, journal: [spent(PENDING, NOW - 600_000)] }),
    );
    expect(plan.action).toEqual({ kind: 'remove-pending-label', versionId: PENDING });
    expect(plan.notes.join('\n')).toMatch(/rotor bootstrap rotor\/development\/token/);
  });

  it('finishes, never cancels, a pending value whose rotation spent the refresh token', () => {
    const plan = planRepair(
      findings({
        pendingVersionId: PENDING,
        pendingHasValue: true,
        pendingProvider: 'oauth2-refresh-token',
        journal: [spent(PENDING, NOW - 600_000), spent(CURRENT, NOW - 9_000_000)],
      }),
    );
    expect(plan.action).toEqual({ kind: 'finish', versionId: PENDING });
  });

  it('finishes a pending value from a provider that acts outside AWS even without a journal entry', () => {
    const plan = planRepair(
      findings({ pendingVersionId: PENDING, pendingHasValue: true, pendingProvider: 'gitlab-access-token' }),
    );
    expect(plan.action).toEqual({ kind: 'finish', versionId: PENDING });
  });

  it.each([['managed-token'], ['unreadable']])('cancels a pending %s value', (provider) => {
    const plan = planRepair(findings({ pendingVersionId: PENDING, pendingHasValue: true, pendingProvider: provider }));
    expect(plan.action).toEqual({ kind: 'remove-pending-label', versionId: PENDING });
  });

  it('names the way out of a pause', () => {
    const plan = planRepair(
      findings({
        ledger: {
          status: 'paused',
          generation: 3,
          pause: { pausedAt: NOW, reason: 'AWSCURRENT still fails', pausedBy: 'alarm' },
        } as RepairFindings['ledger'],
      }),
    );
    expect(plan.notes).toEqual([expect.stringMatching(/rotor resume rotor\/development\/token/)]);
  });
});
