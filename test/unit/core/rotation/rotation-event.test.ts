import { InvalidRotationEventError } from '../../../../lambda/core/errors';
import { parseRotationEvent, ROTATION_STEPS } from '../../../../lambda/core/rotation/rotation-event';
import { loadEvent, PENDING_VERSION, ROTATION_TOKEN } from '../../helpers/rotation-harness';

/** Runs `parseRotationEvent` and returns what it threw. */
function rejectionOf(event: unknown): InvalidRotationEventError {
  try {
    parseRotationEvent(event);
  } catch (error) {
    if (error instanceof InvalidRotationEventError) return error;
    throw error;
  }
  throw new Error('parseRotationEvent accepted the event');
}

describe('Function: parseRotationEvent', () => {
  it.each(ROTATION_STEPS)('accepts a %s event from Secrets Manager', (step) => {
    // Prepare
    const event = { ...loadEvent('createSecret'), Step: step };

    // Act
    const parsed = parseRotationEvent(event);

    // Assess
    expect(parsed).toEqual({
      step,
      secretId: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token-AbC123',
      clientRequestToken: PENDING_VERSION,
      rotationToken: ROTATION_TOKEN,
    });
  });

  it('accepts an event without RotationToken and leaves the field out', () => {
    // Prepare
    const event = loadEvent('setSecret');
    delete event.RotationToken;

    // Act
    const parsed = parseRotationEvent(event);

    // Assess
    expect(parsed).not.toHaveProperty('rotationToken');
    expect(parsed.step).toBe('setSecret');
  });

  it('accepts a secret name as SecretId', () => {
    // Prepare
    const event = { ...loadEvent('createSecret'), SecretId: 'rotor/dev/ci-token' };

    // Act
    const parsed = parseRotationEvent(event);

    // Assess
    expect(parsed.secretId).toBe('rotor/dev/ci-token');
  });

  it.each([
    ['null', null],
    ['a string', 'createSecret'],
    ['a number', 42],
    ['an array', [loadEvent('createSecret')]],
    ['undefined', undefined],
  ])('fails when the event is %s', (_label, event) => {
    // Act
    const error = rejectionOf(event);

    // Assess
    expect(error.message).toMatch(/must be a JSON object with Step, SecretId and ClientRequestToken/);
    expect(error.name).toBe('InvalidRotationEventError');
  });

  it.each([
    [
      'an unknown step',
      'rotateSecret',
      /unknown Step "rotateSecret"; expected one of createSecret, setSecret, testSecret, finishSecret/,
    ],
    ['a step in the wrong case', 'CreateSecret', /unknown Step "CreateSecret"/],
    ['a missing step', undefined, /unknown Step undefined/],
    ['a non-string step', 1, /unknown Step number/],
    ['a null step', null, /unknown Step null/],
  ])('fails on %s', (_label, step, message) => {
    // Prepare
    const event = { ...loadEvent('createSecret'), Step: step };

    // Act
    const error = rejectionOf(event);

    // Assess
    expect(error.message).toMatch(message);
  });

  it('shortens a long unknown Step in the message', () => {
    // Prepare
    const step = `x${'y'.repeat(500)}`;

    // Act
    const error = rejectionOf({ ...loadEvent('createSecret'), Step: step });

    // Assess
    expect(error.message).toContain(`"x${'y'.repeat(39)}..."`);
    expect(error.message).not.toContain('y'.repeat(41));
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['not a string', 123],
    ['a name longer than 512 characters', 's'.repeat(513)],
    ['2048 characters, the longest Secrets Manager takes but no secret name', 's'.repeat(2048)],
    [
      'an ARN whose name and suffix are longer than 519 characters',
      `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${'a'.repeat(520)}`,
    ],
    ['a name with a space', 'rotor/dev/ci token'],
    ['a name with a line break', 'rotor/dev/ci-token\nforged'],
    ['the ARN of something else', 'arn:aws:ssm:eu-west-1:123456789012:parameter/rotor/dev/ci-token'],
    ['an ARN without an account', 'arn:aws:secretsmanager:eu-west-1::secret:rotor/dev/ci-token-AbC123'],
  ])('fails when SecretId is %s', (_label, secretId) => {
    // Prepare
    const event = { ...loadEvent('createSecret'), SecretId: secretId };

    // Act
    const error = rejectionOf(event);

    // Assess
    expect(error.message).toBe(
      'rotation event SecretId must be a secret name (1-512 of A-Z a-z 0-9 /_+=.@-) or a secret ARN of at most 2048 characters',
    );
  });

  it.each([
    ['a name of exactly 512 characters', 's'.repeat(512)],
    ['a full ARN of such a name', `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${'s'.repeat(512)}-AbC123`],
    ['a partial ARN', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:rotor/dev/ci-token'],
    [
      'an ARN of another partition',
      'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:rotor/dev/ci-token-AbC123',
    ],
    ['a name with every allowed punctuation', 'rotor/dev/a_b+c=d.e@f-g'],
  ])('accepts a SecretId that is %s', (_label, secretId) => {
    // Prepare
    const event = { ...loadEvent('createSecret'), SecretId: secretId };

    // Act
    const parsed = parseRotationEvent(event);

    // Assess
    expect(parsed.secretId).toBe(secretId);
  });

  it.each([
    ['missing', undefined],
    ['not a string', 1234],
    ['shorter than 32 characters', 'a'.repeat(31)],
    ['longer than 64 characters', 'a'.repeat(65)],
    ['holding a character outside [A-Za-z0-9_-]', `${'a'.repeat(35)}/`],
    ['holding whitespace', ` ${PENDING_VERSION}`],
  ])('fails when ClientRequestToken is %s', (_label, token) => {
    // Prepare
    const event = { ...loadEvent('createSecret'), ClientRequestToken: token };

    // Act
    const error = rejectionOf(event);

    // Assess
    expect(error.message).toMatch(/ClientRequestToken must be a version id of 32-64 characters/);
  });

  it.each([['a'.repeat(32)], ['Z'.repeat(64)], ['A1_-'.repeat(10)]])('accepts ClientRequestToken %s', (token) => {
    // Act
    const parsed = parseRotationEvent({ ...loadEvent('createSecret'), ClientRequestToken: token });

    // Assess
    expect(parsed.clientRequestToken).toBe(token);
  });

  it.each([
    ['empty', ''],
    ['not a string', 42],
    ['null', null],
    ['longer than 4096 characters', 'r'.repeat(4097)],
  ])('fails when RotationToken is %s', (_label, rotationToken) => {
    // Prepare
    const event = { ...loadEvent('createSecret'), RotationToken: rotationToken };

    // Act
    const error = rejectionOf(event);

    // Assess
    expect(error.message).toMatch(/RotationToken, when present, must be a non-empty string/);
  });

  it('never echoes a RotationToken in its errors', () => {
    // Prepare: a token that is too long, and valid tokens next to every other bad field
    const secretToken = `sekret-rotation-token-${'q'.repeat(4090)}`;
    const validToken = ROTATION_TOKEN;
    const events = [
      { ...loadEvent('createSecret'), RotationToken: secretToken },
      { ...loadEvent('createSecret'), RotationToken: validToken, Step: 'nope' },
      { ...loadEvent('createSecret'), RotationToken: validToken, SecretId: '' },
      { ...loadEvent('createSecret'), RotationToken: validToken, ClientRequestToken: 'short' },
    ];

    // Act
    const messages = events.map((event) => rejectionOf(event).message);

    // Assess
    for (const message of messages) {
      expect(message).not.toContain('sekret-rotation-token');
      expect(message).not.toContain(validToken);
    }
  });

  it('keeps no unknown fields from the event', () => {
    // Prepare
    const event = { ...loadEvent('createSecret'), Extra: 'value' };

    // Act
    const parsed = parseRotationEvent(event);

    // Assess
    expect(Object.keys(parsed).sort()).toEqual(['clientRequestToken', 'rotationToken', 'secretId', 'step']);
  });
});
