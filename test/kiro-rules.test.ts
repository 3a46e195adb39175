import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatCompletionRequestSchema } from '../contract/index.js';
import type { ChatRequest } from '../src/chat/types.js';
import { KIRO_MODELS } from '../src/kiro/models.js';
import {
  buildKiroRequest,
  limitHistoryImages,
  MAX_TOOL_DESCRIPTION,
  OLD_IMAGE_TEXT,
  pairToolResults,
  planTools,
  sanitizeSchema,
  type Turn,
} from '../src/kiro/request.js';
import { ToolNameMap } from '../src/kiro/tool-names.js';
import { toChatRequest } from '../src/faces/openai-chat/request.js';
import { findViolation } from '../src/simulator/strict.js';
import { PNG_1X1 } from './fixtures/images.js';

const options = { conversationId: 'c', profileArn: 'arn:aws:codewhisperer:us-east-1:123456789012:profile/P' };
const user = (text: string, extra: Partial<Extract<Turn, { role: 'user' }>> = {}): Turn => ({ role: 'user', text, images: [], toolResults: [], sources: [], ...extra });
const assistant = (text: string, uses: string[] = []): Turn => ({ role: 'assistant', text, toolUses: uses.map((id) => ({ toolUseId: id, name: 'f', input: {} })), sources: [] });
const result = (id: string, text = 'ok') => ({ toolUseId: id, content: [{ text }], status: 'success' as const });
const neutral = (partial: Partial<ChatRequest>): ChatRequest => ({ upstreamModel: 'claude-sonnet-4.5', system: [], messages: [], ...partial });

describe('tool use / result pairing', () => {
  it('keeps matched pairs, textualises orphan results, drops unanswered uses and duplicates', () => {
    const turns = pairToolResults([
      user('q', { toolResults: [result('ghost', 'lost output')] }),
      assistant('calling', ['a', 'b', 'a']),
      user('', { toolResults: [result('a'), result('a', 'dup'), result('zzz', 'stray')] }),
    ]);
    assert.deepEqual(turns[0], user('q\n\n[Tool result for ghost]\nlost output'));
    assert.deepEqual((turns[1] as { toolUses: { toolUseId: string }[] }).toolUses.map((u) => u.toolUseId), ['a']);
    const last = turns[2] as Extract<Turn, { role: 'user' }>;
    assert.deepEqual(last.toolResults, [result('a')]);
    assert.match(last.text, /\[Tool result for zzz\]\nstray/);
  });
});

describe('tool specs', () => {
  it('declare a placeholder for every tool the history uses but the request no longer declares', () => {
    const plan = planTools(neutral({ tools: [{ name: 'read' }] }), [user('x'), { role: 'assistant', text: 't', toolUses: [{ toolUseId: '1', name: 'Write', input: {} }, { toolUseId: '2', name: 'READ', input: {} }], sources: [] }], new ToolNameMap());
    assert.deepEqual(plan.tools!.map((t) => t.toolSpecification.name), ['read', 'Write']);
    assert.match(plan.tools![1]!.toolSpecification.description, /no longer available/);
  });

  it('move an over-long description into the instructions in full, and fill an empty one', () => {
    const long = 'd'.repeat(MAX_TOOL_DESCRIPTION + 1);
    const plan = planTools(neutral({ tools: [{ name: 'big', description: long }, { name: 'bare', description: '  ' }] }), [user('x')], new ToolNameMap());
    const [big, bare] = plan.tools!.map((t) => t.toolSpecification);
    assert.ok(big!.description.length < MAX_TOOL_DESCRIPTION);
    assert.match(big!.description, /## Tool: big/);
    assert.deepEqual(plan.instructions, [`## Tool: big\n${long}`]);
    assert.equal(bare!.description, 'Tool: bare');
  });

  it('sanitize schemas: drop $schema/$id and empty required, keep the rest, force an object top level', () => {
    assert.deepEqual(sanitizeSchema({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object', required: [], additionalProperties: false, properties: { a: { type: 'string', $comment: 'x' } } }), {
      type: 'object',
      additionalProperties: false,
      properties: { a: { type: 'string' } },
    });
    assert.deepEqual(sanitizeSchema(undefined), { type: 'object', properties: {} });
  });

  it('shorten a 70-character name in specs and history alike, and say which tool_choice to honour', () => {
    const name = `mcp__server__${'x'.repeat(57)}`;
    assert.equal(name.length, 70);
    const { body, toolNames } = buildKiroRequest(
      neutral({
        tools: [{ name, description: `Calls ${name}` }],
        toolChoice: { name },
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'go' }] },
          { role: 'assistant', content: [], toolCalls: [{ id: 'c1', name, arguments: '{}' }] },
          { role: 'tool', toolCallId: 'c1', content: [{ type: 'text', text: 'done' }] },
        ],
      }),
      options,
    );
    const spec = body.conversationState.currentMessage.userInputMessage.userInputMessageContext!.tools![0]!.toolSpecification;
    assert.equal(spec.name.length, 64);
    assert.equal(toolNames.fromKiro(spec.name), name);
    assert.ok(!JSON.stringify(body).includes(name), 'the long name never reaches Kiro');
    assert.match(JSON.stringify(body), new RegExp(`You must call the tool \`${spec.name}\``));
    assert.equal(findViolation(body), undefined);
  });
});

describe('images and size', () => {
  it('keep image bytes only in recent history', () => {
    const image = { format: 'png' as const, source: { bytes: PNG_1X1 } };
    const turns: Turn[] = [user('old', { images: [image] }), assistant('a'), user('u'), assistant('b'), user('recent', { images: [image] }), assistant('c'), user('now', { images: [image] })];
    const limited = limitHistoryImages(turns, 2);
    assert.deepEqual(limited[0], user(`old\n\n${OLD_IMAGE_TEXT}`));
    assert.deepEqual(limited[4], turns[4]);
    assert.deepEqual(limited[6], turns[6]);
  });

  it('drop history images before giving up on size, and name the message that is too big', () => {
    const bigImage = { type: 'image' as const, mediaType: 'image/png', data: 'A'.repeat(350_000) };
    const fits = buildKiroRequest(
      neutral({
        messages: [
          { index: 0, role: 'user', content: [{ type: 'text', text: 'first' }, bigImage] },
          { index: 1, role: 'assistant', content: [{ type: 'text', text: 'seen' }] },
          { index: 2, role: 'user', content: [{ type: 'text', text: 'second' }, bigImage] },
        ],
      }),
      options,
    );
    assert.ok(fits.bytes < 600_000);
    const firstEntry = fits.body.conversationState.history![0]!;
    assert.ok('userInputMessage' in firstEntry && firstEntry.userInputMessage.images === undefined);
    assert.throws(
      () =>
        buildKiroRequest(
          neutral({
            messages: [
              { index: 0, role: 'user', content: [{ type: 'text', text: 'hi' }] },
              { index: 1, role: 'assistant', content: [{ type: 'text', text: 'x'.repeat(700_000) }] },
              { index: 2, role: 'user', content: [{ type: 'text', text: 'more' }] },
            ],
          }),
          options,
        ),
      (e: Error & { param?: string; code?: string; status?: number }) => e.status === 400 && e.code === 'request_too_large_for_kiro' && e.param === 'messages.1' && /payload size/.test(e.message),
    );
  });
});

// ------------------------------------------------------------------ property test

function prng(seed: number) {
  let s = seed >>> 0;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}

const LONG_TOOL = `mcp__very_long_server_name__${'tool_'.repeat(10)}`;
const TOOL_NAMES = ['read_file', 'write_file', 'Bash', LONG_TOOL];

function randomConversation(seed: number): Record<string, unknown> {
  const r = prng(seed);
  const messages: Record<string, unknown>[] = [];
  const recentIds: string[] = [];
  let counter = 0;
  const text = () => r.pick(['', ' ', 'hello', 'Fix the bug in main.ts', 'ok', '```js\nconsole.log(1)\n```']);
  const length = 1 + r.int(14);
  for (let i = 0; i < length; i++) {
    const kind = r.pick(['system', 'developer', 'user', 'user', 'assistant', 'assistant', 'tool', 'tool']);
    if (kind === 'system' || kind === 'developer') messages.push({ role: kind, content: r.chance(0.5) ? text() : [{ type: 'text', text: text() }] });
    else if (kind === 'user') {
      const parts: unknown[] = [{ type: 'text', text: text(), ...(r.chance(0.3) && { cache_control: { type: 'ephemeral' } }) }];
      if (r.chance(0.25)) parts.push({ type: 'image_url', image_url: { url: `data:image/${r.pick(['png', 'jpeg', 'webp'])};base64,${PNG_1X1}` } });
      messages.push({ role: 'user', content: r.chance(0.4) ? text() : parts });
    } else if (kind === 'assistant') {
      const calls = r.chance(0.6)
        ? Array.from({ length: 1 + r.int(3) }, () => {
            const id = r.chance(0.1) && recentIds.length > 0 ? r.pick(recentIds) : `call_${seed}_${counter++}`;
            recentIds.push(id);
            return { id, type: 'function', function: { name: r.pick(TOOL_NAMES), arguments: r.pick(['{}', '{"path":"a.ts"}', '', '{"":1,"x":2}', 'not json', '[1,2]']) } };
          })
        : undefined;
      messages.push({ role: 'assistant', content: r.chance(0.3) ? null : text(), ...(calls && { tool_calls: calls }), ...(r.chance(0.1) && { reasoning_content: 'earlier thought' }) });
    } else {
      const id = recentIds.length > 0 && r.chance(0.8) ? r.pick(recentIds) : `orphan_${counter++}`;
      messages.push({ role: 'tool', tool_call_id: id, content: r.chance(0.5) ? text() : [{ type: 'text', text: text() }] });
    }
  }
  const declared = r.chance(0.6) ? TOOL_NAMES.filter(() => r.chance(0.6)) : [];
  return {
    model: 'claude-sonnet-4-5-20250929',
    messages,
    ...(declared.length > 0 && {
      tools: declared.map((name) => ({ type: 'function', function: { name, description: r.pick(['', 'Does things', 'x'.repeat(MAX_TOOL_DESCRIPTION + 5)]), parameters: { type: 'object', properties: { path: { type: 'string' } }, required: r.chance(0.5) ? [] : ['path'] } } })),
      tool_choice: r.pick(['auto', 'none', 'required', { type: 'function', function: { name: declared[0] } }]),
    }),
    ...(r.chance(0.2) && { reasoning_effort: 'high' }),
  };
}

describe('property: any conversation a client can send normalises to a request Kiro accepts', () => {
  it('1000 random conversations (roles, tool calls and results, orphans, duplicates, empty contents, images, long names)', async () => {
    const model = KIRO_MODELS[0]!;
    for (let seed = 1; seed <= 1000; seed++) {
      const raw = randomConversation(seed);
      const body = ChatCompletionRequestSchema.parse(raw);
      const request = await toChatRequest(body, model);
      const { body: kiro } = buildKiroRequest(request, options);
      const violation = findViolation(kiro);
      assert.equal(violation, undefined, `seed ${seed}: ${violation}\n${JSON.stringify(raw)}`);
    }
  });

  it('the strict validator is not a rubber stamp: it rejects each rule violation', () => {
    const ok = buildKiroRequest(neutral({ messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] }), options).body;
    assert.equal(findViolation(ok), undefined);
    const mutate = (f: (b: any) => void) => {
      const copy = structuredClone(ok) as any;
      f(copy);
      return findViolation(copy);
    };
    assert.match(mutate((b) => (b.conversationState.currentMessage.userInputMessage.content = '')) ?? '', /empty content/);
    assert.match(mutate((b) => (b.conversationState.history = [{ assistantResponseMessage: { content: 'a' } }])) ?? '', /expected a user turn/);
    assert.match(mutate((b) => (b.conversationState.history = [{ userInputMessage: { content: 'u', modelId: 'm', origin: 'AI_EDITOR' } }, { assistantResponseMessage: { content: 'a', toolUses: [{ toolUseId: 't', name: 'f', input: {} }] } }])) ?? '', /toolUse t of the previous turn has no toolResult|does not declare/);
    assert.match(mutate((b) => (b.conversationState.currentMessage.userInputMessage.userInputMessageContext = { toolResults: [{ toolUseId: 'x', content: [{ text: 'r' }], status: 'success' }] })) ?? '', /answers no toolUse/);
    assert.match(mutate((b) => (b.conversationState.currentMessage.userInputMessage.userInputMessageContext = { tools: [{ toolSpecification: { name: 'n'.repeat(65), description: 'd', inputSchema: { json: {} } } }] })) ?? '', /longer than 64/);
    assert.match(mutate((b) => (b.conversationState.currentMessage.userInputMessage.content = 'x'.repeat(700_000))) ?? '', /size limit/);
  });
});
