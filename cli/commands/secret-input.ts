import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** Longest line accepted on stdin: far above any refresh token, far below a mistaken file. */
const MAX_LINE_BYTES = 16_384;

/**
 * Reads `count` secret lines: at a terminal, one prompt each (on stderr) with echo off; from a
 * pipe, the first `count` non-empty lines. Nothing read is ever written anywhere.
 */
export async function readSecretLines(prompts: readonly string[]): Promise<string[]> {
  const input = process.stdin;
  if (input.isTTY) return readFromTerminal(prompts);
  const lines: string[] = [];
  const reader = createInterface({ input, crlfDelay: Infinity, terminal: false });
  for await (const line of reader) {
    const value = line.trim();
    if (value === '') continue;
    if (Buffer.byteLength(value) > MAX_LINE_BYTES)
      throw new Error(`a line on stdin is longer than ${MAX_LINE_BYTES} bytes`);
    lines.push(value);
    if (lines.length === prompts.length) break;
  }
  reader.close();
  if (lines.length < prompts.length) {
    throw new Error(`expected ${prompts.length} line(s) on stdin (${prompts.join(', ')}), got ${lines.length}`);
  }
  return lines;
}

async function readFromTerminal(prompts: readonly string[]): Promise<string[]> {
  // Output muted while typing: the terminal shows the prompt, never the value.
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const reader = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const values: string[] = [];
    for (const prompt of prompts) {
      const value = await new Promise<string>((resolve) => {
        muted = false;
        reader.question(`${prompt}: `, resolve);
        muted = true;
      });
      process.stderr.write('\n');
      if (value.trim() === '') throw new Error(`no ${prompt} given`);
      values.push(value.trim());
    }
    return values;
  } finally {
    reader.close();
  }
}
