import { MalformedSecretError, UnsupportedProviderError } from '../../../lambda/core/errors';
import { managedTokenProvider } from '../../../lambda/core/providers/managed-token/managed-token-provider';
import { ProviderRegistry } from '../../../lambda/core/providers/provider-registry';
import {
  MAX_SECRET_DOCUMENT_BYTES,
  parseSecretDocument,
  serializeSecretDocument,
} from '../../../lambda/core/secret-document';
import { FakeExternalProvider } from '../fakes/fake-external-provider';
import { CURRENT_TOKEN, managedTokenDocument } from '../helpers/rotation-harness';

const WHERE = 'secret rotor/dev/ci-token (AWSCURRENT)';
const providers = new ProviderRegistry([managedTokenProvider, new FakeExternalProvider()]);

function parseError(raw: string): Error {
  try {
    parseSecretDocument(raw, providers, WHERE);
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
  throw new Error('parseSecretDocument accepted the document');
}

/** `raw` padded with an extra field to exactly `bytes` UTF-8 bytes. */
function paddedTo(document: Record<string, unknown>, bytes: number): string {
  const base = JSON.stringify({ ...document, padding: '' });
  return JSON.stringify({ ...document, padding: 'p'.repeat(bytes - Buffer.byteLength(base, 'utf8')) });
}

describe('Function: parseSecretDocument', () => {
  it('parses a managed-token document and finds its provider', () => {
    // Act
    const parsed = parseSecretDocument(JSON.stringify(managedTokenDocument()), providers, WHERE);

    // Assess
    expect(parsed.provider).toBe(managedTokenProvider);
    expect(parsed.document).toEqual(managedTokenDocument());
  });

  it('accepts a first version that names only its provider', () => {
    // Act
    const parsed = parseSecretDocument('{"provider":"managed-token"}', providers, WHERE);

    // Assess
    expect(parsed.provider).toBe(managedTokenProvider);
    expect(parsed.document).toEqual({ provider: 'managed-token', schemaVersion: 1 });
  });

  it('accepts a document of exactly 65536 bytes', () => {
    // Prepare
    const raw = paddedTo(managedTokenDocument(), MAX_SECRET_DOCUMENT_BYTES);

    // Act
    const parsed = parseSecretDocument(raw, providers, WHERE);

    // Assess
    expect(Buffer.byteLength(raw)).toBe(65_536);
    expect(parsed.provider.name).toBe('managed-token');
  });

  it('fails on a document larger than 65536 bytes, counting bytes rather than characters', () => {
    // Prepare: 2-byte characters, so fewer than 65536 characters
    const raw = JSON.stringify(managedTokenDocument({ note: 'é'.repeat(33_000) }));

    // Act
    const error = parseError(raw);

    // Assess
    expect(raw.length).toBeLessThan(MAX_SECRET_DOCUMENT_BYTES);
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toBe(`${WHERE} is larger than 65536 bytes`);
  });

  it.each([
    ['a bare token', CURRENT_TOKEN],
    ['truncated JSON', `{"provider":"managed-token","token":"${CURRENT_TOKEN}"`],
    ['key=value text', `token=${CURRENT_TOKEN}`],
    ['an empty string', ''],
  ])('fails on %s: not JSON', (_label, raw) => {
    // Act
    const error = parseError(raw);

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toBe(`${WHERE} is not valid JSON; Rotor stores one JSON document per secret`);
  });

  it.each([
    ['an array', JSON.stringify([managedTokenDocument()])],
    ['a number', '42'],
    ['a string', JSON.stringify(CURRENT_TOKEN)],
    ['null', 'null'],
    ['a boolean', 'true'],
  ])('fails on JSON that is %s', (_label, raw) => {
    // Act
    const error = parseError(raw);

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toBe(`${WHERE} is not a JSON object; Rotor stores one JSON document per secret`);
  });

  it('fails on a document without provider, naming the field', () => {
    // Act
    const error = parseError(JSON.stringify({ schemaVersion: 1, token: CURRENT_TOKEN }));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toMatch(new RegExp(`^${escapeRegExp(WHERE)} is not a Rotor document: field 'provider': `));
  });

  it.each([
    ['upper case', 'Managed-Token'],
    ['spaces', 'managed token'],
    ['a token in it', CURRENT_TOKEN],
    ['a leading dash', '-managed-token'],
    ['more than 64 characters', `a${'b'.repeat(64)}`],
    ['an empty name', ''],
  ])('fails on a provider name with %s, without quoting it', (_label, provider) => {
    // Act
    const error = parseError(JSON.stringify({ provider }));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toBe(
      `${WHERE} is not a Rotor document: field 'provider': must be a provider name such as managed-token`,
    );
  });

  it('fails on a provider name that is not a string', () => {
    // Act
    const error = parseError(JSON.stringify({ provider: 7 }));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toMatch(/field 'provider'/);
  });

  it('fails on a provider this function does not handle, listing the ones it does', () => {
    // Act
    const error = parseError(JSON.stringify({ provider: 'gitlab-token', token: 'glpat-abcdefghijklmnop' }));

    // Assess
    expect(error).toBeInstanceOf(UnsupportedProviderError);
    expect(error.message).toBe(
      `${WHERE} names a provider this rotation function does not handle (it handles: managed-token, fake-idp)`,
    );
  });

  it.each([2, 0, '1', null])('fails on schemaVersion %p', (schemaVersion) => {
    // Act
    const error = parseError(JSON.stringify(managedTokenDocument({ schemaVersion })));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toBe(`${WHERE} is not a Rotor document: field 'schemaVersion': must be 1`);
  });

  it('fails on a managed token whose checksum does not match, without quoting it', () => {
    // Prepare: one character changed in the random part
    const badToken = `${CURRENT_TOKEN.slice(0, 10)}${CURRENT_TOKEN[10] === 'a' ? 'b' : 'a'}${CURRENT_TOKEN.slice(11)}`;

    // Act
    const error = parseError(JSON.stringify(managedTokenDocument({ token: badToken })));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toBe(
      `${WHERE}: managed-token document is invalid: field 'token': must be a Rotor token (rtr_ prefix and a valid checksum)`,
    );
  });

  it('names the provider failing its own schema and keeps the provider error class', () => {
    // Act
    const error = parseError(JSON.stringify({ provider: 'fake-idp', credential: 5 }));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toBe(`${WHERE}: field 'credential' must be a string`);
  });

  it('passes on errors other than MalformedSecretError from a provider unchanged', () => {
    // Prepare
    const failure = new TypeError('provider bug');
    const broken = new FakeExternalProvider();
    broken.parse = () => {
      throw failure;
    };
    const registry = new ProviderRegistry([broken]);

    // Act & Assess
    expect(() => parseSecretDocument('{"provider":"fake-idp"}', registry, WHERE)).toThrow(failure);
  });

  describe('never puts the secret value in an error message', () => {
    const secret = 'rtr_SECRETSECRETSECRETSECRETSECRETSECRETSECRETSECRETS';
    it.each([
      ['not JSON', `{"provider":"managed-token","token":"${secret}"`],
      ['an array', JSON.stringify([{ provider: 'managed-token', token: secret }])],
      ['a JSON string', JSON.stringify(secret)],
      ['no provider', JSON.stringify({ token: secret })],
      ['the token as provider', JSON.stringify({ provider: secret })],
      ['a bad token', JSON.stringify({ provider: 'managed-token', token: secret })],
      ['a token of the wrong type', JSON.stringify({ provider: 'managed-token', token: [secret] })],
      ['a bad schema version', JSON.stringify({ provider: 'managed-token', schemaVersion: secret, token: secret })],
      ['a bad provider type', JSON.stringify({ provider: { secret }, token: secret })],
      ['an oversized document', JSON.stringify({ provider: 'managed-token', token: secret, pad: 'x'.repeat(70_000) })],
    ])('%s', (_label, raw) => {
      // Act
      const error = parseError(raw);

      // Assess
      expect(error).toBeInstanceOf(MalformedSecretError);
      expect(error.message).not.toContain('SECRET');
    });
  });
});

describe('Function: parseSecretDocument, policy fields', () => {
  const parse = (fields: Record<string, unknown>) =>
    parseSecretDocument(JSON.stringify(managedTokenDocument(fields)), providers, WHERE);

  it('reads no policy from a document that sets none', () => {
    // Act
    const parsed = parse({});

    // Assess
    expect(parsed.policy).toEqual({});
  });

  it.each([0, 1, 900, 86_400])('reads graceSeconds %i', (graceSeconds) => {
    // Act
    const parsed = parse({ graceSeconds });

    // Assess
    expect(parsed.policy).toEqual({ graceSeconds });
  });

  it.each(['revoke-and-rotate', 'alert-only'])('reads onReuse %s', (onReuse) => {
    // Act
    const parsed = parse({ onReuse });

    // Assess
    expect(parsed.policy).toEqual({ onReuse });
  });

  it('keeps the policy fields in the document, so the next version carries them', () => {
    // Act
    const parsed = parse({ graceSeconds: 30, onReuse: 'alert-only' });

    // Assess
    expect(parsed.document).toMatchObject({ graceSeconds: 30, onReuse: 'alert-only' });
  });

  it.each([
    ['negative', -1],
    ['above one day', 86_401],
    ['fractional', 1.5],
    ['a string', '60'],
    ['null', null],
  ])('fails on a graceSeconds that is %s, naming the field and the rule', (_label, graceSeconds) => {
    // Act
    const error = parseError(JSON.stringify(managedTokenDocument({ graceSeconds })));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toBe(
      `${WHERE} is not a Rotor document: field 'graceSeconds': must be a whole number of seconds from 0 to 86400`,
    );
  });

  it.each([['ignore'], [''], [true], [['alert-only']]])('fails on onReuse %j, naming the choices', (onReuse) => {
    // Act
    const error = parseError(JSON.stringify(managedTokenDocument({ onReuse })));

    // Assess
    expect(error).toBeInstanceOf(MalformedSecretError);
    expect(error.message).toBe(
      `${WHERE} is not a Rotor document: field 'onReuse': must be revoke-and-rotate or alert-only`,
    );
  });
});

describe('Function: serializeSecretDocument', () => {
  it('always writes the current schema version and keeps every other field', () => {
    // Prepare
    const document = { provider: 'managed-token', schemaVersion: 0, token: CURRENT_TOKEN, owner: 'platform-team' };

    // Act
    const raw = serializeSecretDocument(document);

    // Assess
    expect(JSON.parse(raw)).toEqual({ ...document, schemaVersion: 1 });
  });

  it('round-trips through parseSecretDocument', () => {
    // Prepare
    const { document } = parseSecretDocument(JSON.stringify(managedTokenDocument()), providers, WHERE);

    // Act
    const reparsed = parseSecretDocument(serializeSecretDocument(document), providers, WHERE);

    // Assess
    expect(reparsed.document).toEqual(document);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
