import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type {
  RotationPauseNotice,
  RotationResumeNotice,
  RotationStatusEvents,
} from '../core/rollback/rotation-pause-notices';
import { RotorEvents } from '../shared/rotor-constants';

/**
 * Publishes `Rotation Paused` and `Rotation Resumed` (`source: rotor`) on the stage's event bus,
 * with the secret's ARN as the event's resource, so a pipeline can hold deploys that need the
 * secret while its rotation is paused.
 */
export class EventBridgeRotationStatus implements RotationStatusEvents {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  rotationPaused(notice: RotationPauseNotice): Promise<void> {
    return this.put(RotorEvents.rotationPaused, notice.secretArn, notice);
  }

  rotationResumed(notice: RotationResumeNotice): Promise<void> {
    return this.put(RotorEvents.rotationResumed, notice.secretArn, notice);
  }

  private async put(detailType: string, secretArn: string, detail: object): Promise<void> {
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.eventBusName,
            Source: RotorEvents.source,
            DetailType: detailType,
            Resources: [secretArn],
            Detail: JSON.stringify(detail),
          },
        ],
      }),
    );
    if ((result.FailedEntryCount ?? 0) > 0) {
      const entry = result.Entries?.find((candidate) => candidate.ErrorCode !== undefined);
      throw new Error(`EventBridge refused the ${detailType} event: ${entry?.ErrorCode ?? 'unknown error'}`);
    }
  }
}
