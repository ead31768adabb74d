import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type {
  SideEffectIncidentPublisher,
  SideEffectOutcomeIncident,
} from '../core/ledger/side-effect-incident-recorder';
import type { ReuseIncident } from '../core/verifier/reuse-response';
import { RotorEvents } from '../shared/rotor-constants';

/** Publishes incidents on EventBridge (`source: rotor`), where alerting and CI pipelines listen. */
export class EventBridgeIncidents implements SideEffectIncidentPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  reuseDetected(incident: ReuseIncident): Promise<void> {
    return this.publish(RotorEvents.reuseDetected, incident.secretArn, incident);
  }

  sideEffectOutcomeUnknown(incident: SideEffectOutcomeIncident): Promise<void> {
    return this.publish(RotorEvents.sideEffectOutcomeUnknown, incident.secretArn, incident);
  }

  private async publish(detailType: string, secretArn: string, detail: object): Promise<void> {
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
