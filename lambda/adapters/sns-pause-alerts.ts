import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { PauseAlerts, RotationPauseNotice } from '../core/rollback/rotation-pause-notices';

// SNS subjects: at most 100 printable ASCII characters, no line breaks.
const MAX_SUBJECT_LENGTH = 100;

/**
 * Tells people that rotation of a secret is paused: one SNS message to the stage's alert topic,
 * readable in an e-mail, with the notice as JSON at the end for tools. No secret value is in it:
 * a notice names the secret, the reason (which never quotes a value) and what to do.
 */
export class SnsPauseAlerts implements PauseAlerts {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async rotationPaused(notice: RotationPauseNotice): Promise<void> {
    const subject = `Rotor: rotation of ${notice.secretName} is paused`
      .replace(/[^\x20-\x7e]/g, '?')
      .slice(0, MAX_SUBJECT_LENGTH);
    const message = [
      `Rotor paused rotation of secret ${notice.secretName} at ${notice.pausedAt}.`,
      '',
      `Why: ${notice.reason}`,
      `Alarm: ${notice.alarmName} (rollbacks in this incident: ${notice.rollbacks} of at most ${notice.maxRollbacks})`,
      '',
      `What to do: ${notice.action}.`,
      'No new rotation of this secret starts until then; its current credential is left as it is.',
      '',
      JSON.stringify(notice),
    ].join('\n');
    await this.client.send(new PublishCommand({ TopicArn: this.topicArn, Subject: subject, Message: message }));
  }
}
