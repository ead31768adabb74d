import type { RotorStageConfig } from '../../lib/config/rotor-config';
import { startAwsProxy } from './aws-proxy';
import { functionPolicies } from './function-policies';
import type { IamGate } from './iam-gate';
import type { LocalEnvironment } from './provision-local';
import { synthesizedStageTemplate } from './stage-template';

/**
 * `ROTOR_LOCAL_IAM=off` runs the bundles straight against the emulator, as moto alone would (to
 * tell an IAM refusal from another fault while debugging); anything else, or unset, enforces IAM.
 */
export const LOCAL_IAM_SWITCH = 'ROTOR_LOCAL_IAM';

/** Whether `rotor local` checks every call of a function against its role. */
export function localIamEnforced(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[LOCAL_IAM_SWITCH]?.trim().toLowerCase() !== 'off';
}

/** How `rotor local up` states the setting. */
export function localIamSetting(env: NodeJS.ProcessEnv = process.env): string {
  return localIamEnforced(env)
    ? `enforced: every call a function sends is checked against its role in the synthesized stage (${LOCAL_IAM_SWITCH}=off turns it off)`
    : `off (${LOCAL_IAM_SWITCH}=off): the functions call the emulator unchecked, as no account would let them`;
}

/**
 * The IAM gate of a provisioned stage: its stack synthesized (or read from the cache), each
 * function's policies pointed at the emulator's resources. Throws when a policy uses a condition
 * key the gate cannot derive, so `rotor local up` says so before anything runs.
 */
export async function localIamGate(local: LocalEnvironment, stage: RotorStageConfig): Promise<IamGate> {
  const template = await synthesizedStageTemplate(stage, local.endpoint.region);
  // Loaded here only: the simulator and its IAM data cost a tenth of a second, which the CLI's
  // other commands need not pay.
  const { createIamGate } = await import('./iam-gate');
  return createIamGate(local, functionPolicies(local, template, stage), stage.secretNamePrefix);
}

/**
 * Runs `work` with an environment whose bundles reach the emulator through the IAM gate: a
 * loopback proxy in this process that refuses, in the service's own error shape, every call the
 * calling function's role does not allow (moto allows everything). The CLI's own calls keep going
 * straight to the emulator. With {@link LOCAL_IAM_SWITCH}=off, `work` gets `local` unchanged.
 */
export async function withLocalIam<T>(
  local: LocalEnvironment,
  stage: RotorStageConfig,
  work: (gated: LocalEnvironment) => Promise<T>,
): Promise<T> {
  if (!localIamEnforced()) return work(local);
  const proxy = await startAwsProxy(local.endpoint.endpoint, { iamGate: await localIamGate(local, stage) });
  try {
    return await work({ ...local, env: { ...local.env, AWS_ENDPOINT_URL: proxy.endpoint } });
  } finally {
    await proxy.stop();
  }
}
