import { EventBridgeRotationStatus } from '../../lambda/adapters/eventbridge-rotation-status';
import { resumeRotation } from '../../lambda/core/rollback/resume-rotation';
import { UsageError } from './cli-options';
import { findSecret, whereOf } from './find-secret';
import { operatorContext, operatorName, type OperatorOptions } from './operator-context';

/**
 * `rotor resume SECRET`: lifts a rotation pause after a person has looked. Status back to active,
 * the rollback incident's count reset, a `resumed` audit event, and an EventBridge
 * `Rotation Resumed` event. A secret that is not paused is left as it is.
 */
export async function resume(secretId: string | undefined, options: OperatorOptions): Promise<void> {
  if (secretId === undefined) throw new UsageError('resume needs the secret name or ARN');
  const context = await operatorContext('resume', options, false);
  const secret = await findSecret(context.secretsManager, secretId, whereOf(options, options.region));
  const outcome = await resumeRotation({ arn: secret.ARN, name: secret.Name }, operatorName('resume'), {
    ledger: context.ledger,
    events: new EventBridgeRotationStatus(context.eventBridge, context.eventBusName),
    now: Date.now,
  });
  if (outcome.outcome === 'not-paused') {
    process.stdout.write(`${secret.Name} is not paused (status: ${outcome.status}); nothing changed\n`);
    return;
  }
  const { notice } = outcome;
  process.stdout.write(
    `rotation of ${secret.Name} resumed` +
      (notice.pausedAt === undefined ? '' : ` (paused since ${notice.pausedAt}: ${notice.pauseReason ?? ''})`) +
      `\nthe next scheduled rotation runs as usual; \`rotor rotate ${secret.Name}\` starts one now\n`,
  );
}
