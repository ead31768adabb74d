import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { IncidentPublisher, ReuseIncident } from '../core/verifier/reuse-response';
import { RotorEvents } from '../shared/rotor-constants';

/** Publishes incidents on EventBridge (`source: rotor`), where alerting and CI pipelines listen. */
export class EventBridgeIncidents implements IncidentPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  async reuseDetected(incident: ReuseIncident): Promise<void> {
    const result = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.eventBusName,
            Source: RotorEvents.source,
            DetailType: RotorEvents.reuseDetected,
            Resources: [incident.secretArn],
            Detail: JSON.stringify(incident),
          },
        ],
      }),
    );
    if ((result.FailedEntryCount ?? 0) > 0) {
      const entry = result.Entries?.find((candidate) => candidate.ErrorCode !== undefined);
      throw new Error(`EventBridge refused the reuse event: ${entry?.ErrorCode ?? 'unknown error'}`);
    }
  }
}
