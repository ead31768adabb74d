import {
  MalformedSecretError,
  MissingJournalError,
  ProviderCallError,
  ProviderRefusedError,
  ReauthorizationRequiredError,
  SideEffectInProgressError,
  SideEffectOutcomeUnknownError,
  UpstreamReuseSuspectedError,
} from '../errors';
import type { LostCreateFinding, SecretDocument } from '../providers/credential-provider';
import type { JournalRecord, SideEffectJournal, SideEffectJournalEntry } from '../providers/side-effect-journal';
import { parseSecretDocument, serializeSecretDocument, type ParsedSecretDocument } from '../secret-document';
import { AWSPENDING } from './secret-store';
import type { RotationStepContext, SideEffectTiming, StepReport } from './rotation-step-context';
import { DEFAULT_SIDE_EFFECT_LEASE_SECONDS } from '../../shared/rotor-constants';

const DEFAULT_TIMING: Required<Omit<SideEffectTiming, 'sleep'>> = {
  claimLeaseMs: DEFAULT_SIDE_EFFECT_LEASE_SECONDS * 1000,
  twinWaitMs: 20_000,
  pendingWriteAttempts: 5,
};

/** An earlier rotation's stored result is followed at most this many times before giving up. */
const MAX_SUCCESSORS = 3;

const sleepFor = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The document a rotation acts from, and the version that holds it. */
interface Source {
  readonly versionId: string;
  readonly parsed: ParsedSecretDocument;
}

/**
 * createSecret for a provider that acts outside AWS (an IdP's refresh-token exchange). Before the
 * provider acts, one conditional write in the journal claims the action; when the provider names
 * the single-use credential it spends, the claim is keyed by that credential's fingerprint, so no
 * rotation of the secret ever presents it twice. Then:
 *
 * - the claim is ours: the provider acts once, and its result is written to AWSPENDING at once,
 *   retrying the write (the result exists nowhere else);
 * - a twin of this rotation holds a fresh claim: wait for its AWSPENDING value;
 * - an earlier rotation spent the credential and stored its result: continue from that result
 *   (its successor credential), so nothing an earlier rotation obtained is lost;
 * - the provider refused the credential earlier: re-authorization is required;
 * - nobody stored the result (a crash between the provider's answer and the write): report it, and
 *   present the credential once more only within the issuer's declared reuse interval.
 */
export async function createThroughJournal(context: RotationStepContext, current: Source): Promise<StepReport> {
  const { deps, secret, event } = context;
  const journal = deps.journal;
  const provider = current.parsed.provider;
  if (journal === undefined) {
    throw new MissingJournalError(`provider ${provider.name} acts outside AWS and needs a side-effect journal`);
  }
  const timing = { ...DEFAULT_TIMING, ...deps.sideEffects };
  const sleep = deps.sideEffects?.sleep ?? sleepFor;

  let source = current;
  for (let hop = 0; hop <= MAX_SUCCESSORS; hop += 1) {
    // Before the claim: a document the provider would refuse without acting writes nothing.
    source.parsed.provider.checkCreate?.(source.parsed.document, context.provider);
    const entry = await journalEntry(context, source);
    const claim = await journal.claim(entry);
    if (claim.outcome === 'claimed') {
      return act(context, journal, { entry, claimId: claim.claimId, source }, timing, sleep);
    }

    if (await pendingStored(context)) return { outcome: 'already-created', provider: provider.name };
    const { record } = claim;
    if (record.outcome === 'rejected') {
      throw new ReauthorizationRequiredError(
        `the provider ${provider.name} refused the credential of secret ${secret.name} when rotation ` +
          `${record.versionId} presented it (possible theft upstream); Rotor will not present it again. ` +
          `Re-authorize: rotor bootstrap ${secret.name}`,
      );
    }
    if (record.versionId !== event.clientRequestToken) {
      const successor = await storedResultOf(context, record.versionId);
      if (successor !== undefined) {
        source = successor;
        continue;
      }
    }
    // A second attempt after a lost result holds the entry from when it was claimed.
    const heldSince = Math.max(record.claimedAt, record.lostRetryAt ?? 0);
    if (deps.now().getTime() - heldSince < timing.claimLeaseMs) {
      // The holder may still be acting: its result is the one to keep. A twin of this rotation
      // waits for it; another rotation's result is followed once stored, on a later attempt.
      const twin = record.versionId === event.clientRequestToken;
      if (twin && (await waitForPending(context, Math.min(timing.twinWaitMs, timing.claimLeaseMs), sleep))) {
        return { outcome: 'already-created', provider: provider.name };
      }
      throw new SideEffectInProgressError(
        `rotation ${record.versionId} of secret ${secret.name} is calling provider ${provider.name} right now; ` +
          `retry later`,
      );
    }
    return recoverLostOutcome(context, journal, entry, record, source, timing, sleep);
  }
  throw new SideEffectOutcomeUnknownError(
    `secret ${secret.name} has a chain of more than ${MAX_SUCCESSORS} unfinished rotations; finish or cancel them first`,
  );
}

async function journalEntry(context: RotationStepContext, source: Source): Promise<SideEffectJournalEntry> {
  const { deps, secret, event } = context;
  const provider = source.parsed.provider;
  const base = { secretArn: secret.arn, versionId: event.clientRequestToken, action: `${provider.name}:create` };
  const spent = provider.spends?.(source.parsed.document);
  if (spent === undefined) return base;
  if (deps.fingerprint === undefined) {
    throw new MissingJournalError(`provider ${provider.name} spends single-use credentials and needs a fingerprinter`);
  }
  return { ...base, spends: await deps.fingerprint(spent) };
}

/** One provider action under a journal claim. */
interface Attempt {
  readonly entry: SideEffectJournalEntry;
  readonly claimId: string;
  readonly source: Source;
  /** The second presentation of a credential whose first result was lost (within the reuse interval). */
  readonly lostRetry?: boolean;
}

/** The provider acts under the claim; its result goes to AWSPENDING, or its failure to the journal. */
async function act(
  context: RotationStepContext,
  journal: SideEffectJournal,
  attempt: Attempt,
  timing: typeof DEFAULT_TIMING,
  sleep: (ms: number) => Promise<void>,
): Promise<StepReport> {
  const { deps, secret, event } = context;
  const { entry, claimId, source } = attempt;
  const provider = source.parsed.provider;
  let pending: SecretDocument;
  try {
    pending = await provider.create(source.parsed.document, context.provider);
  } catch (error) {
    if (
      error instanceof ProviderRefusedError ||
      (error instanceof ProviderCallError && error.sideEffect === 'none') ||
      // A provider refuses a document it cannot act on (no refresh token or client secret yet, an
      // unsupported setting) before sending anything.
      error instanceof ReauthorizationRequiredError ||
      error instanceof MalformedSecretError
    ) {
      // Nothing happened at the provider: a later attempt may present the credential. Not after a
      // lost result, though: the entry is the only record that it was presented once already.
      if (attempt.lostRetry !== true) await journal.release(entry, claimId);
    } else if (error instanceof UpstreamReuseSuspectedError && attempt.lostRetry === true) {
      // Rotor itself presented this credential before: the issuer's refusal says its reuse interval
      // did not cover the retry, not that someone else used it.
      await journal.markRejected(entry, claimId);
      throw new ReauthorizationRequiredError(
        `the provider ${provider.name} refused the second presentation of the credential of secret ${secret.name} ` +
          `(its first result was lost); re-authorize: rotor bootstrap ${secret.name}`,
        { cause: error },
      );
    } else if (error instanceof UpstreamReuseSuspectedError) {
      // Recorded first, so that nothing presents the credential again even if the report fails.
      await journal.markRejected(entry, claimId);
      for (const observer of deps.observers ?? []) {
        await observer.upstreamReuseSuspected?.({
          secret,
          versionId: event.clientRequestToken,
          refusedVersionId: source.versionId,
          provider: provider.name,
          ...(entry.spends === undefined ? {} : { spentFingerprint: entry.spends }),
        });
      }
    }
    throw error;
  }

  const value = serializeSecretDocument(pending);
  const stored = await storePending(context, value, timing.pendingWriteAttempts, sleep);
  if (entry.spends !== undefined && provider.spends?.(pending) === provider.spends?.(source.parsed.document)) {
    // The issuer did not rotate the credential: it stays usable, so the next rotation may spend it.
    await journal.release(entry, claimId);
  }
  if (stored === 'created') {
    const parsed = { provider, document: pending, policy: source.parsed.policy };
    for (const observer of deps.observers ?? []) {
      await observer.pendingStored?.({ secret, versionId: event.clientRequestToken, pending: parsed });
    }
  }
  return { outcome: stored === 'created' ? 'created' : 'already-created', provider: provider.name };
}

/**
 * Writes AWSPENDING, retrying with backoff: after the provider acted, this value is the only copy
 * of the new credential, so a passing Secrets Manager error must not lose it.
 */
async function storePending(
  context: RotationStepContext,
  value: string,
  attempts: number,
  sleep: (ms: number) => Promise<void>,
): Promise<'created' | 'already-exists'> {
  const { deps, secret, event } = context;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await deps.store.putPendingVersion(secret.arn, event.clientRequestToken, value, event.rotationToken);
    } catch (error) {
      if (attempt >= attempts) throw error;
      await sleep(Math.min(200 * 2 ** (attempt - 1), 3_000));
    }
  }
}

async function pendingStored(context: RotationStepContext): Promise<boolean> {
  const { deps, secret, event } = context;
  return (await deps.store.readVersion(secret.arn, event.clientRequestToken, AWSPENDING)) !== undefined;
}

async function waitForPending(
  context: RotationStepContext,
  waitMs: number,
  sleep: (ms: number) => Promise<void>,
): Promise<boolean> {
  const deadline = context.deps.now().getTime() + waitMs;
  let delay = 100;
  while (context.deps.now().getTime() < deadline) {
    await sleep(delay);
    if (await pendingStored(context)) return true;
    delay = Math.min(delay * 2, 1_000);
  }
  return false;
}

/** The stored document of an earlier rotation's version, if it still exists and is this provider's. */
async function storedResultOf(context: RotationStepContext, versionId: string): Promise<Source | undefined> {
  const { deps, secret } = context;
  const raw = await deps.store.readVersion(secret.arn, versionId, undefined);
  if (raw === undefined) return undefined;
  return {
    versionId,
    parsed: parseSecretDocument(raw, deps.providers, `secret ${secret.name} (version ${versionId})`),
  };
}

async function recoverLostOutcome(
  context: RotationStepContext,
  journal: SideEffectJournal,
  entry: SideEffectJournalEntry,
  record: JournalRecord,
  source: Source,
  timing: typeof DEFAULT_TIMING,
  sleep: (ms: number) => Promise<void>,
): Promise<StepReport> {
  const { deps, secret, event } = context;
  const provider = source.parsed.provider;
  const reuseIntervalMs = (provider.reuseIntervalSeconds?.(source.parsed.document) ?? 0) * 1000;
  const withinReuseInterval = deps.now().getTime() - record.claimedAt < reuseIntervalMs;
  // A provider that can find and undo what the lost attempt made (a GitLab token created in
  // overlap mode) may act once more. The one second attempt is claimed before it looks, so that
  // no concurrent attempt takes the new credential for the lost one's.
  const recovers = provider.recoverLostCreate !== undefined;
  let retryClaim =
    (withinReuseInterval || recovers) && record.lostRetryAt === undefined
      ? await journal.claimLostRetry(entry, record)
      : undefined;
  let finding: LostCreateFinding | undefined;
  if (retryClaim !== undefined && provider.recoverLostCreate !== undefined) {
    finding = await provider.recoverLostCreate(source.parsed.document, context.provider, new Date(record.claimedAt));
    if (!finding.safeToRetry && !withinReuseInterval) retryClaim = undefined;
  }

  for (const observer of deps.observers ?? []) {
    await observer.sideEffectOutcomeUnknown?.({
      secret,
      versionId: event.clientRequestToken,
      provider: provider.name,
      spentBy: record.versionId,
      spentAt: record.claimedAt,
      retrying: retryClaim !== undefined,
      ...(entry.spends === undefined ? {} : { spentFingerprint: entry.spends }),
    });
  }
  if (retryClaim !== undefined) {
    return act(context, journal, { entry, claimId: retryClaim, source, lostRetry: true }, timing, sleep);
  }

  const why =
    finding !== undefined
      ? finding.summary
      : withinReuseInterval
        ? 'the one retry within the issuer’s reuse interval was already made'
        : reuseIntervalMs > 0
          ? 'the issuer’s reuse interval has passed'
          : 'the secret declares no reuse interval for its issuer';
  throw new SideEffectOutcomeUnknownError(
    `rotation ${record.versionId} of secret ${secret.name} called provider ${provider.name} at ` +
      `${new Date(record.claimedAt).toISOString()} and its result never reached AWSPENDING; ${why}, so Rotor will ` +
      `not present the spent credential again. If the current credential no longer works, re-authorize: ` +
      `rotor bootstrap ${secret.name}`,
  );
}
