import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChatCompletionRequestSchema } from '../contract/index.js';
import type { ChatEvent } from '../src/chat/types.js';
import { KIRO_MODELS } from '../src/kiro/models.js';
import { toChatRequest, toNeutralMessages } from '../src/faces/openai-chat/request.js';
import type { ChatCompletionChunk } from '../contract/index.js';
import { collectCompletion, SseChunkEncoder } from '../src/faces/openai-chat/response.js';

const sonnet = KIRO_MODELS[0]!;
const noImages = async () => {
  throw new Error('no image loading expected');
};
const parse = (body: unknown) => ChatCompletionRequestSchema.parse(body);

describe('OpenAI request → neutral request', () => {
  it('takes leading system and developer messages as instructions, string or parts', async () => {
    const { system, messages } = await toNeutralMessages(
      parse({
        model: 'm',
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Be kind.', cache_control: { type: 'ephemeral' } }] },
          { role: 'developer', content: 'Use tools.' },
          { role: 'user', content: 'hi', name: 'bob' },
        ],
      }).messages,
      noImages,
    );
    assert.deepEqual(system, ['Be kind.', 'Use tools.']);
    assert.deepEqual(messages, [{ index: 2, role: 'user', content: [{ type: 'text', text: 'hi' }] }]);
  });

  it('keeps a mid-conversation system message in place as a user turn', async () => {
    const { messages } = await toNeutralMessages(
      parse({ model: 'm', messages: [{ role: 'user', content: 'a' }, { role: 'system', content: 'Now summarise.' }] }).messages,
      noImages,
    );
    assert.deepEqual(messages[1], { index: 1, role: 'user', content: [{ type: 'text', text: '[system instructions]\nNow summarise.' }] });
  });

  it('converts data-URI images (type taken from the bytes), assistant tool calls and tool results', async () => {
    const { messages } = await toNeutralMessages(
      parse({
        model: 'm',
        messages: [
          { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,iVBORw0KGgo=' } }] },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'result' }] },
        ],
      }).messages,
      noImages,
    );
    assert.deepEqual(messages, [
      { index: 0, role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image', mediaType: 'image/png', data: 'iVBORw0KGgo=' }] },
      { index: 1, role: 'assistant', content: [], toolCalls: [{ id: 'call_1', name: 'f', arguments: '{"a":1}' }] },
      { index: 2, role: 'tool', toolCallId: 'call_1', content: [{ type: 'text', text: 'result' }] },
    ]);
  });

  it('maps the model, max_completion_tokens (or max_tokens), tools and tool_choice', async () => {
    const request = await toChatRequest(
      parse({
        model: 'gpt-4o',
        messages: [{ role: 'user', content: 'x' }],
        max_tokens: 50,
        tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }],
        tool_choice: { type: 'function', function: { name: 'f' } },
        parallel_tool_calls: false,
        unknown_vendor_field: { anything: true },
      }),
      sonnet,
    );
    assert.equal(request.upstreamModel, 'claude-sonnet-4.5');
    assert.equal(request.maxOutputTokens, 50);
    assert.deepEqual(request.tools, [{ name: 'f', parameters: { type: 'object' } }]);
    assert.deepEqual(request.toolChoice, { name: 'f' });
  });

  it('refuses n > 1 clearly, naming the parameter', async () => {
    await assert.rejects(toChatRequest(parse({ model: 'm', n: 2, messages: [{ role: 'user', content: 'x' }] }), sonnet), (e: Error & { param?: string; status?: number }) => e.param === 'n' && e.status === 400);
  });
});

describe('neutral events → OpenAI chunks and completion', () => {
  const events: ChatEvent[] = [
    { type: 'text', text: 'Hel' },
    { type: 'text', text: 'lo' },
    { type: 'tool_call_start', index: 0, id: 'call_a', name: 'f' },
    { type: 'tool_call_delta', index: 0, argumentsDelta: '{"x":' },
    { type: 'tool_call_delta', index: 0, argumentsDelta: '1}' },
    { type: 'tool_call_end', index: 0 },
    { type: 'finish', reason: 'tool_calls', usage: { promptTokens: 10, completionTokens: 5, reasoningTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, source: 'estimated' } },
  ];

  /** Encode one batch per event, as SSE text, and parse the `data:` events back. */
  const encodeAll = (encoder: SseChunkEncoder): ChatCompletionChunk[] =>
    (encoder.start() + events.map((e) => encoder.encode([e])).join(''))
      .split('\n\n')
      .filter(Boolean)
      .map((block) => {
        assert.ok(block.startsWith('data: '), block);
        return JSON.parse(block.slice(6)) as ChatCompletionChunk;
      });

  it('sends role first, tool-call starts with id/type/name/arguments:"", finish_reason last, then usage', () => {
    const chunks = encodeAll(new SseChunkEncoder('id1', 'gpt-4o', 123, true));
    assert.deepEqual(chunks[0]!.choices[0]!.delta, { role: 'assistant', content: '' });
    assert.deepEqual(chunks[3]!.choices[0]!.delta, { tool_calls: [{ index: 0, id: 'call_a', type: 'function', function: { name: 'f', arguments: '' } }] });
    assert.deepEqual(chunks[4]!.choices[0]!.delta, { tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] });
    const last = chunks.at(-2)!;
    assert.equal(last.choices[0]!.finish_reason, 'tool_calls');
    assert.deepEqual(chunks.at(-1), {
      id: 'id1',
      object: 'chat.completion.chunk',
      created: 123,
      model: 'gpt-4o',
      choices: [],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    });
    assert.ok(chunks.slice(0, -2).every((c) => c.choices[0]!.finish_reason === null));
  });

  it('omits the usage chunk unless include_usage was asked for', () => {
    const chunks = encodeAll(new SseChunkEncoder('id1', 'm', 1, false));
    assert.ok(chunks.every((c) => c.choices.length === 1 && c.usage === undefined));
  });

  it('folds the same events into one completion with the same usage', async () => {
    async function* source() {
      yield events.slice(0, 3);
      yield events.slice(3);
    }
    const completion = await collectCompletion(source(), 'id1', 'gpt-4o', 123);
    assert.deepEqual(completion.choices[0], {
      index: 0,
      message: { role: 'assistant', content: 'Hello', refusal: null, tool_calls: [{ id: 'call_a', type: 'function', function: { name: 'f', arguments: '{"x":1}' } }] },
      logprobs: null,
      finish_reason: 'tool_calls',
    });
    assert.equal(completion.usage.total_tokens, 15);
  });

  it('gives content null when the answer is only tool calls', async () => {
    async function* source() {
      yield events.slice(2);
    }
    const completion = await collectCompletion(source(), 'id', 'm', 1);
    assert.equal(completion.choices[0]!.message.content, null);
  });
});
