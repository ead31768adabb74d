import type { App } from 'aws-cdk-lib';
import type { RotorConfig } from './config/rotor-config';
import { RotorStack } from './rotor-stack';

/** Name of the stack that deploys `stage`: `Rotor-<stage>`, e.g. `Rotor-development`. */
export function rotorStackName(stage: string): string {
  return `Rotor-${stage}`;
}

/**
 * Adds one {@link RotorStack} per configured stage. A stage with an account or region is
 * deployed there; without them its stack is environment-agnostic.
 */
export function addRotorStages(app: App, config: RotorConfig): RotorStack[] {
  return config.stages.map((stage) => {
    const env = {
      ...(stage.account === undefined ? {} : { account: stage.account }),
      ...(stage.region === undefined ? {} : { region: stage.region }),
    };
    return new RotorStack(app, rotorStackName(stage.name), {
      stage,
      ...(Object.keys(env).length === 0 ? {} : { env }),
    });
  });
}
