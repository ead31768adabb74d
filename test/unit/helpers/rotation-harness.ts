import createSecretEvent from '../fixtures/create-secret-event.json';
import finishSecretEvent from '../fixtures/finish-secret-event.json';
import managedTokenSecret from '../fixtures/managed-token-secret.json';
import setSecretEvent from '../fixtures/set-secret-event.json';
import testSecretEvent from '../fixtures/test-secret-event.json';
import { managedTokenProvider } from '../../../lambda/core/providers/managed-token/managed-token-provider';
import { ProviderRegistry } from '../../../lambda/core/providers/provider-registry';
import type { SideEffectJournal } from '../../../lambda/core/providers/side-effect-journal';
import {
  parseRotationEvent,
  type RotationEvent,
  type RotationStep,
} from '../../../lambda/core/rotation/rotation-event';
import { checkRotationGuards } from '../../../lambda/core/rotation/rotation-guards';
import type { RotationDependencies, RotationStepContext } from '../../../lambda/core/rotation/rotation-step-context';
import { AWSCURRENT } from '../../../lambda/core/rotation/secret-store';
import { InMemorySecretStore } from '../fakes/in-memory-secret-store';

/** Name of the secret the event fixtures rotate (their SecretId is its ARN). */
export const SECRET_NAME = 'rotor/dev/ci-token';
/** The version that is AWSCURRENT before the rotation. */
export const CURRENT_VERSION = 'c0ffee00-1111-4222-8333-444455556666';
/** The fixtures' ClientRequestToken: the version the rotation creates. */
export const PENDING_VERSION = createSecretEvent.ClientRequestToken;
/** The fixtures' RotationToken. */
export const ROTATION_TOKEN = createSecretEvent.RotationToken;
/** The token held by the current version in the managed-token fixture. */
export const CURRENT_TOKEN = managedTokenSecret.token;

const EVENTS: Record<RotationStep, typeof createSecretEvent> = {
  createSecret: createSecretEvent,
  setSecret: setSecretEvent,
  testSecret: testSecretEvent,
  finishSecret: finishSecretEvent,
};

/** A fresh copy of the raw Secrets Manager event fixture for `step`. */
export function loadEvent(step: RotationStep): Record<string, unknown> {
  return structuredClone(EVENTS[step]);
}

/** The fixture for `step`, parsed, with `overrides` applied to the raw event first. */
export function rotationEvent(step: RotationStep, overrides: Record<string, unknown> = {}): RotationEvent {
  return parseRotationEvent({ ...loadEvent(step), ...overrides });
}

/** A fresh copy of the managed-token document fixture, with `overrides`. */
export function managedTokenDocument(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...structuredClone(managedTokenSecret), ...overrides };
}

/** A store holding the managed-token fixture as AWSCURRENT and the empty AWSPENDING version RotateSecret made. */
export function storeMidRotation(currentValue: string = JSON.stringify(managedTokenDocument())): InMemorySecretStore {
  return new InMemorySecretStore(SECRET_NAME)
    .addVersion(CURRENT_VERSION, currentValue, [AWSCURRENT])
    .startRotation(PENDING_VERSION);
}

export interface DepsOptions {
  readonly providers?: ConstructorParameters<typeof ProviderRegistry>[0];
  readonly journal?: SideEffectJournal;
  readonly secretNamePrefix?: string;
  readonly observers?: RotationDependencies['observers'];
  readonly fingerprint?: RotationDependencies['fingerprint'];
  readonly sideEffects?: RotationDependencies['sideEffects'];
}

/** The fixed clock of {@link depsFor}. */
export const HARNESS_NOW = new Date('2025-01-15T10:00:00Z');

export function depsFor(store: InMemorySecretStore, options: DepsOptions = {}): RotationDependencies {
  return {
    store,
    providers: new ProviderRegistry(options.providers ?? [managedTokenProvider]),
    now: () => HARNESS_NOW,
    ...(options.journal === undefined ? {} : { journal: options.journal }),
    ...(options.observers === undefined ? {} : { observers: options.observers }),
    ...(options.fingerprint === undefined ? {} : { fingerprint: options.fingerprint }),
    ...(options.sideEffects === undefined ? {} : { sideEffects: options.sideEffects }),
    ...(options.secretNamePrefix === undefined ? {} : { secretNamePrefix: options.secretNamePrefix }),
  };
}

/** What runRotationStep hands a step after DescribeSecret and the guards, for calling a step directly. */
export async function contextFor(event: RotationEvent, deps: RotationDependencies): Promise<RotationStepContext> {
  const secret = await deps.store.describe(event.secretId);
  const verdict = checkRotationGuards(secret, event.clientRequestToken);
  if (verdict.kind !== 'proceed') throw new Error(`guards did not let ${event.step} proceed: ${verdict.kind}`);
  return {
    event,
    secret,
    currentVersionId: verdict.currentVersionId,
    deps,
    provider: {
      secretArn: secret.arn,
      secretName: secret.name,
      versionId: event.clientRequestToken,
      now: deps.now,
    },
  };
}
