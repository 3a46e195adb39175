import { existsSync, readFileSync } from 'node:fs';
import { BodyBuffers } from '../../src/buffers.js';
import { parseJsonBytes } from '../../src/http/json-pieces.js';
import { jsonPieces } from '../../src/kiro/request.js';
import { getTokenizer } from '@anthropic-ai/tokenizer';
import { countTokens } from '../../src/chat/tokens.js';

// `npm run bench -- micro`: the hand-written paths for agent-sized bodies against the library
// calls they replace, in one process, on the requests Claude Code sent (bench/raw/, captured by
// `npm run bench -- agents`) or, before any capture, on a generated conversation of the same size.
// The tests (test/json-pieces.test.ts, the token counting ones in test/output-shaping.test.ts)
// show they give the same results; this shows what they save.

function generated(bytes: number): Buffer {
  const messages: unknown[] = [];
  for (let i = 0; JSON.stringify(messages).length < bytes; i++) {
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: `t${i}`, content: [{ type: 'text', text: `line ${i} → ${'const value = compute(input) // ünïcode '.repeat(30)}` }] }] });
    messages.push({ role: 'assistant', content: [{ type: 'text', text: 'Looking at it.' }, { type: 'tool_use', id: `t${i + 1}`, name: 'Read', input: { file_path: `/src/file-${i}.ts` } }] });
  }
  return Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', system: [{ type: 'text', text: 'You are an agent.' }], messages }));
}

function time(label: string, runs: number, work: () => unknown): number {
  for (let i = 0; i < 20; i++) work();
  const started = performance.now();
  for (let i = 0; i < runs; i++) work();
  const each = (performance.now() - started) / runs;
  console.log(`  ${label.padEnd(44)} ${each.toFixed(3)} ms`);
  return each;
}

export function micro(): void {
  const buffers = new BodyBuffers();
  for (const size of [115, 415]) {
    const file = `bench/raw/claude-code-${size}k.json`;
    const bytes = existsSync(file) ? readFileSync(file) : generated(size * 1000);
    console.log(`${existsSync(file) ? file : `a generated ${size} KB conversation`} (${bytes.length} bytes):`);
    const before = time('read: toString + JSON.parse', 200, () => JSON.parse(bytes.toString('utf8')));
    const after = time('read: parseJsonBytes (pieces)', 200, () => parseJsonBytes(bytes));
    const body = parseJsonBytes(bytes);
    const sendBefore = time('send: JSON.stringify + Buffer.from', 200, () => Buffer.from(JSON.stringify(body)));
    const sendAfter = time('send: jsonPieces + write into a reused buffer', 200, () => {
      const pieces = jsonPieces(body);
      let length = 0;
      for (const piece of pieces) length += Buffer.byteLength(piece);
      const lease = buffers.take(length);
      let at = 0;
      for (const piece of pieces) at += lease.bytes.write(piece, at, 'utf8');
      lease.release();
    });
    const texts = textsOf(body);
    const reference = getTokenizer();
    const countBefore = time('count: @anthropic-ai/tokenizer (WASM)', 20, () => texts.reduce((sum, text) => sum + reference.encode(text.normalize('NFKC'), 'all').length, 0));
    const countAfter = time('count: countTokens (its piece cache warm)', 20, () => texts.reduce((sum, text) => sum + countTokens(text), 0));
    console.log(`  read ${(before / after).toFixed(1)}× faster, send ${(sendBefore / sendAfter).toFixed(1)}× faster, count ${(countBefore / countAfter).toFixed(1)}× faster\n`);
    reference.free();
  }
}

/** Every string in a request (its texts, and the rest, which is little): what the prompt count reads. */
function textsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) textsOf(item, out);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) textsOf(item, out);
  return out;
}
