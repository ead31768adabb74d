import { loadRotorConfig, type RotorStageConfig } from '../../lib/config/rotor-config';
import { provisionLocal, type LocalEnvironment } from '../local/provision-local';
import { pickStage, requireLocalEndpoint, type CommonOptions } from './cli-options';

export interface LocalStageOptions extends CommonOptions {
  readonly config?: string | undefined;
  readonly stage?: string | undefined;
}

/** The configured stage a `--local` command acts on (`--config`, `--stage`). */
export function localStageConfig(options: LocalStageOptions): RotorStageConfig {
  const config = loadRotorConfig(options.config ?? 'rotor.config.json');
  return pickStage(config.stages, options.stage);
}

/** Provisions (idempotently) the configured stage in the emulator and returns its environment. */
export async function prepareLocalEnvironment(options: LocalStageOptions): Promise<LocalEnvironment> {
  const endpoint = requireLocalEndpoint(options);
  return provisionLocal(endpoint, localStageConfig(options));
}
