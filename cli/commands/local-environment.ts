import { readFileSync } from 'node:fs';
import { provisionLocal, type LocalEnvironment, type LocalStage } from '../local/provision-local';
import { pickStage, requireLocalEndpoint, type CommonOptions } from './cli-options';

export interface LocalStageOptions extends CommonOptions {
  readonly config?: string | undefined;
  readonly stage?: string | undefined;
}

// TEMPORARY until lib/config lands: unvalidated read of the config's stages.
function loadStages(path: string): LocalStage[] {
  return (JSON.parse(readFileSync(path, 'utf8')) as { stages: LocalStage[] }).stages;
}

/** Provisions (idempotently) the configured stage in the emulator and returns its environment. */
export async function prepareLocalEnvironment(options: LocalStageOptions): Promise<LocalEnvironment> {
  const endpoint = requireLocalEndpoint(options);
  return provisionLocal(endpoint, pickStage(loadStages(options.config ?? 'rotor.config.json'), options.stage));
}
