import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { getTokenizer } from '@anthropic-ai/tokenizer';
import { OutputLimiter } from '../src/chat/output-limits.js';
import { countTokens, countTokensCached, firstTokens } from '../src/chat/tokens.js';
import { ThinkingTagParser, thinkingPrompt } from '../src/kiro/thinking.js';
import { MAX_TOOL_NAME, shortToolName, ToolNameMap } from '../src/kiro/tool-names.js';
import { randomTexts } from './random.js';

function splitEverywhere(text: string): string[][] {
  const out: string[][] = [[text]];
  for (let i = 1; i < text.length; i++) out.push([text.slice(0, i), text.slice(i)]);
  out.push([...text]);
  return out;
}

describe('tool names over 64 characters', () => {
  const long = `mcp__github_enterprise_server__${'search_repositories_with_filters_'.repeat(2)}`; // 97 chars
  it('are shortened deterministically to at most 64 characters', () => {
    const short = shortToolName(long);
    assert.ok(short.length <= MAX_TOOL_NAME);
    assert.equal(short, shortToolName(long));
    assert.notEqual(shortToolName(`${long}x`), short);
    assert.equal(shortToolName('read_file'), 'read_file');
  });

  it('map back to the client name, and are rewritten in prompt text', () => {
    const names = new ToolNameMap();
    const short = names.toKiro(long);
    assert.equal(names.fromKiro(short), long);
    assert.equal(names.fromKiro('read_file'), 'read_file');
    assert.equal(names.rewriteText(`Use ${long} to search.`), `Use ${short} to search.`);
  });
});

describe('thinking tags', () => {
  const answer = '<thinking>\nStep 1, then step 2.\n</thinking>\n\nThe answer is 4.';
  it('split into reasoning and text however the stream is chunked', () => {
    for (const chunks of splitEverywhere(answer)) {
      const parser = new ThinkingTagParser();
      let reasoning = '';
      let text = '';
      for (const chunk of [...chunks.map((c) => parser.push(c)), parser.flush()]) {
        reasoning += chunk.reasoning;
        text += chunk.text;
      }
      assert.equal(reasoning, 'Step 1, then step 2.\n', JSON.stringify(chunks));
      assert.equal(text, 'The answer is 4.', JSON.stringify(chunks));
    }
  });

  it('leave an answer without thinking untouched, and ignore a quoted closing tag', () => {
    const plain = new ThinkingTagParser();
    assert.deepEqual([plain.push('No '), plain.push('thinking.'), plain.flush()].map((s) => s.text).join(''), 'No thinking.');
    const quoted = new ThinkingTagParser();
    const parts = [quoted.push('<thinking>the tag `</thinking>` closes it</thinking>\n\nDone'), quoted.flush()];
    assert.equal(parts.map((p) => p.reasoning).join(''), 'the tag `</thinking>` closes it');
    assert.equal(parts.map((p) => p.text).join(''), 'Done');
  });

  it('treat an unterminated block as reasoning', () => {
    const parser = new ThinkingTagParser();
    const parts = [parser.push('<thinking>cut off mid-thou'), parser.flush()];
    assert.equal(parts.map((p) => p.reasoning).join(''), 'cut off mid-thou');
    assert.equal(parts.map((p) => p.text).join(''), '');
  });

  it('clamp the budget to what Kiro accepts', () => {
    assert.equal(thinkingPrompt(100), '<thinking_mode>enabled</thinking_mode><max_thinking_length>1024</max_thinking_length>');
    assert.match(thinkingPrompt(999_999), /<max_thinking_length>24576</);
  });
});

describe('stop sequences and max tokens', () => {
  const run = (limiter: OutputLimiter, chunks: string[]) => chunks.map((c) => limiter.text(c)).join('') + limiter.flush();

  it('end the text before the first stop sequence, however it is split', () => {
    const text = 'one two STOP three END four';
    for (const chunks of splitEverywhere(text)) {
      const limiter = new OutputLimiter({ stop: ['END', 'STOP'] });
      assert.equal(run(limiter, chunks), 'one two ', JSON.stringify(chunks));
      assert.equal(limiter.hit, 'stop');
    }
  });

  it('let everything through when no stop sequence appears, holding back only a possible prefix', () => {
    const limiter = new OutputLimiter({ stop: ['###'] });
    assert.equal(limiter.text('abc #'), 'abc ');
    assert.equal(limiter.text('# x'), '## x');
    assert.equal(limiter.text('y ##'), 'y ');
    assert.equal(limiter.flush(), '##');
    assert.equal(limiter.hit, undefined);
  });

  it('cap the output at max tokens exactly, counting thinking too', () => {
    const text = 'The quick brown fox jumps over the lazy dog and keeps running far away.';
    const limiter = new OutputLimiter({ maxTokens: 5 });
    const out = run(limiter, [text.slice(0, 20), text.slice(20)]);
    assert.equal(countTokens(out), 5);
    assert.ok(text.startsWith(out));
    assert.equal(limiter.hit, 'length');
    const thinking = new OutputLimiter({ maxTokens: 3 });
    thinking.reasoning('one two three four');
    assert.equal(thinking.text('more'), '');
    assert.equal(thinking.hit, 'length');
  });

  it('is inactive (pure pass-through) without limits', () => {
    const limiter = new OutputLimiter({});
    assert.equal(limiter.active, false);
    assert.equal(limiter.text('anything'), 'anything');
  });
});

describe('token counting', () => {
  // The reference: Anthropic's own package, running the same table with tiktoken's WASM encoder.
  const reference = getTokenizer();
  const referenceCount = (text: string) => reference.encode(text.normalize('NFKC'), 'all').length;

  it('gives exactly what the Claude tokenizer gives, on fixed texts', () => {
    const samples = [
      'Hello world, this is a test.',
      'fn main() { println!("héllo wörld ✓ 你好"); }\n\n\tindent   spaces  ',
      "It's what we'll do; they've said I'm here, d'you see?",
      'Numbers 12345 678.9 and 3,000,000 and ½ ① ﬁ (NFKC)',
      '   leading\n\n\n\ntrailing   \n',
      '<EOT> special <META> tokens<SOS>',
      '```ts\nconst x: Record<string, number> = { a: 1 };\n```',
      JSON.stringify({ deeply: { nested: [1, 'two', { three: null }] } }),
      'emoji 🙂👍🏽 and mixed Кириллица العربية',
      'white space as tiktoken sees it: a\u0085b \uFEFFx \u3000 y\u2028z',
      Array.from({ length: 200 }, (_, i) => `tok${i} `).join(''),
      Array.from({ length: 1500 }, (_, i) => `line ${i}: value=${i * 31}\n`).join(''),
      readFileSync(new URL('../README.md', import.meta.url), 'utf8'),
    ];
    for (const text of samples) assert.equal(countTokens(text), referenceCount(text), text.slice(0, 80));
    for (const text of samples) assert.equal(countTokens(text), referenceCount(text), `cached: ${text.slice(0, 80)}`);
  });

  it('gives exactly what the Claude tokenizer gives, on 2,000 random texts', () => {
    for (const text of randomTexts([...'ab cdé 你好\n\t 12,.;!?\'s\u0085\uFEFF🙂<EOT>-_  \r\nＡ①'], 2000, 60, 7)) {
      assert.equal(countTokens(text), referenceCount(text), JSON.stringify(text));
    }
  });

  it('gives exactly what the Claude tokenizer gives, on 2,000 random texts of letters, digits and marks from all over Unicode', () => {
    // The scanner classes each code point as the pattern's \p{L}, \p{N} and \s do: letters and
    // digits of other scripts, astral ones (surrogate pairs), combining marks, the white space
    // JS's \s and tiktoken's disagree on, and lone surrogates, which are no class at all.
    const unicode = [...'aZ é ß Ж ж ω 你 の 한 ١ ٣ ৩ ⅷ ½ ² \u0301\u0308 — … → ’ × ≤ \u00a0\u2003\u3000\u2028\u0085\ufeff', '𐐀', '𠀀', '𑁦', '😀', '👍🏽', '\ud800', '\udc00', "'s", "'ll", ' ', '  ', '\n', '\r\n', '\t'];
    for (const text of randomTexts(unicode, 2000, 50, 13)) assert.equal(countTokens(text), referenceCount(text), JSON.stringify(text));
  });

  it('gives exactly what the Claude tokenizer gives, on 3,000 random ASCII texts', () => {
    // ASCII takes a hand-written scanner instead of the pattern: contractions, runs of each class,
    // a space before a run, white-space runs before words and at the end, control characters.
    const ascii = ["'", "'", 's', 't', 'r', 'e', 'v', 'm', 'l', 'd', 'L', 'X', 'a', 'z', ' ', ' ', ' ', '\t', '\n', '\r', '\v', '\f', '0', '7', '9', '.', ',', '!', '-', '<', '>', '_', '\x00', '\x1f', '\x7f', '<EOT>', '<META>'];
    for (const text of randomTexts(ascii, 3000, 40, 11)) assert.equal(countTokens(text), referenceCount(text), JSON.stringify(text));
  });

  it('cuts a text after exactly n tokens, never inside a character', () => {
    const text = 'héllo 🙂 wörld, the quick brown fox';
    for (let n = 0; n <= 12; n++) {
      const cut = firstTokens(text, n);
      assert.ok(text.normalize('NFKC').startsWith(cut), `${n}: ${cut}`);
      assert.ok(!cut.includes('\uFFFD'), `${n}: ${cut}`);
      assert.ok(countTokens(cut) <= n, `${n}: ${cut}`);
    }
    assert.equal(firstTokens(text, 1000), text);
    assert.equal(firstTokens('Hello world', 1), 'Hello');
  });

  it('counts long texts once and remembers them, with the same result', () => {
    // Distinct words, so nothing but the whole-text cache can make the second count cheap.
    const long = Array.from({ length: 20_000 }, (_, i) => `word${i * 7919} `).join('');
    const first = performance.now();
    const cold = countTokensCached(long);
    const coldMs = performance.now() - first;
    const second = performance.now();
    const warm = countTokensCached(long);
    const warmMs = performance.now() - second;
    assert.equal(cold, referenceCount(long));
    assert.equal(warm, cold);
    assert.ok(warmMs < coldMs / 5, `cached ${warmMs.toFixed(2)} ms vs ${coldMs.toFixed(2)} ms`);
    assert.equal(countTokensCached('short'), countTokens('short'));
  });
});
