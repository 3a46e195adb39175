import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnthropicCreateMessageRequest } from '../contract/index.js';
import { GatewayError } from '../src/chat/errors.js';
import type { ChatEvent, EventBatch, ModelInfo, Usage } from '../src/chat/types.js';
import { anthropicErrors, promptTooLong } from '../src/faces/anthropic/errors.js';
import { ignoredBetas, ignoredParameters, sessionOf, toChatRequest } from '../src/faces/anthropic/request.js';
import { AnthropicStreamEncoder, collectMessage } from '../src/faces/anthropic/response.js';
import { buildKiroRequest } from '../src/kiro/request.js';
import { KIRO_MODELS } from '../src/kiro/models.js';
import { PNG_1X1 } from './fixtures/images.js';

const sonnet = KIRO_MODELS[0]!;
const noImages = async () => {
  throw new Error('no downloads in this test');
};
const req = (body: Partial<AnthropicCreateMessageRequest>): AnthropicCreateMessageRequest => ({ model: 'claude-sonnet-4-5-20250929', max_tokens: 100, messages: [{ role: 'user', content: 'x' }], ...body }) as AnthropicCreateMessageRequest;
const convert = (body: Partial<AnthropicCreateMessageRequest>, model: ModelInfo = sonnet) => toChatRequest(req(body), model, noImages);

describe('Anthropic request → neutral request', () => {
  it('takes system as a string or as text blocks, and a system message mid-conversation as a user turn', async () => {
    assert.deepEqual((await convert({ system: 'Be brief.' })).chat.system, ['Be brief.']);
    const blocks = await convert({
      system: [
        { type: 'text', text: 'One.', cache_control: { type: 'ephemeral', scope: 'global' } },
        { type: 'text', text: 'Two.' },
      ] as never,
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: 'hello' },
        { role: 'system', content: 'Now be formal.' },
        { role: 'user', content: 'and?' },
      ],
    });
    assert.deepEqual(blocks.chat.system, ['One.', 'Two.']);
    assert.deepEqual(blocks.chat.messages[2], { index: 2, role: 'user', content: [{ type: 'text', text: '[system instructions]\nNow be formal.' }] });
  });

  it('splits a user turn into its tool results (images included) and the rest, in order', async () => {
    const { chat } = await convert({
      messages: [
        { role: 'user', content: 'go' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 't1', name: 'a', input: { x: 1 } }, { type: 'tool_use', id: 't2', name: 'b', input: {} }] },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 't1', content: 'one' },
            { type: 'tool_result', tool_use_id: 't2', is_error: true, content: [{ type: 'text', text: 'failed' }, { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG_1X1 } }] },
            { type: 'text', text: 'now what?' },
          ],
        },
      ],
    });
    assert.deepEqual(
      chat.messages.map((m) => m.role),
      ['user', 'assistant', 'tool', 'tool', 'user'],
    );
    assert.deepEqual(chat.messages[1], { index: 1, role: 'assistant', content: [], toolCalls: [{ id: 't1', name: 'a', arguments: '', input: { x: 1 } }, { id: 't2', name: 'b', arguments: '', input: {} }] });
    assert.deepEqual(chat.messages[3], { index: 2, role: 'tool', toolCallId: 't2', isError: true, content: [{ type: 'text', text: 'failed' }, { type: 'image', mediaType: 'image/png', data: PNG_1X1 }] });
  });

  it('keeps earlier thinking with its signature (and redacted thinking), and past searches as text', async () => {
    const { chat } = await convert({
      messages: [
        { role: 'user', content: 'q' },
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'hmm', signature: 'SIG' },
            { type: 'redacted_thinking', data: 'BLOB' },
            { type: 'server_tool_use', id: 's1', name: 'web_search', input: { query: 'rust' } },
            { type: 'web_search_tool_result', tool_use_id: 's1', content: [{ type: 'web_search_result', url: 'https://a.example', title: 'A', encrypted_content: 'x' }] },
            { type: 'text', text: 'answer' },
          ] as never,
        },
        { role: 'user', content: 'more' },
      ],
    });
    const assistant = chat.messages[1] as Extract<(typeof chat.messages)[number], { role: 'assistant' }>;
    assert.deepEqual(assistant.reasoning, [{ text: 'hmm', signature: 'SIG' }, { text: '', redacted: 'BLOB' }]);
    assert.deepEqual(assistant.content.map((p) => p.text), ['[Searched the web for: "rust"]', '[Web search results]\n- A (https://a.example)', 'answer']);
  });

  it('turns a text document into text, and refuses what Kiro cannot read, naming the block', async () => {
    const { chat } = await convert({ messages: [{ role: 'user', content: [{ type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'notes' }, title: 'N' }] as never }] });
    assert.deepEqual(chat.messages[0], { index: 0, role: 'user', content: [{ type: 'text', text: '<document>\nN\nnotes\n</document>' }] });
    await assert.rejects(
      convert({ messages: [{ role: 'user', content: [{ type: 'text', text: 'read' }, { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBERi0=' } }] as never }] }),
      (e: GatewayError) => e.code === 'unsupported_document' && e.param === 'messages.0.content.1',
    );
    await assert.rejects(convert({ messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file', file_id: 'f' } }] as never }] }), (e: GatewayError) => e.code === 'unsupported_image_source');
  });

  it('maps tools, tool_choice and server tools; a server tool Kiro cannot run is a 400 naming it', async () => {
    const tools = [{ name: 'f', description: 'does f', input_schema: { type: 'object', properties: {} } }, { type: 'web_search_20250305', name: 'web_search', max_uses: 3 }];
    const mapped = await convert({ tools: tools as never, tool_choice: { type: 'any', disable_parallel_tool_use: true } });
    assert.deepEqual(mapped.chat.tools, [{ name: 'f', description: 'does f', parameters: { type: 'object', properties: {} } }]);
    assert.deepEqual(mapped.server, { webSearch: { name: 'web_search', maxUses: 3 } });
    assert.equal(mapped.chat.toolChoice, 'required');
    assert.equal(mapped.chat.parallelToolCalls, false);
    assert.deepEqual((await convert({ tools: tools as never, tool_choice: { type: 'tool', name: 'f' } })).chat.toolChoice, { name: 'f' });
    await assert.rejects(convert({ tools: tools as never, tool_choice: { type: 'tool', name: 'g' } }), (e: GatewayError) => e.param === 'tool_choice.name');
    await assert.rejects(convert({ tools: [{ type: 'bash_20250124', name: 'bash' }] as never }), (e: GatewayError) => e.code === 'unsupported_tool' && e.param === 'tools.0' && /bash_20250124/.test(e.message));
  });

  it('maps thinking (enabled, adaptive with effort, disabled), stop sequences and max_tokens', async () => {
    assert.deepEqual((await convert({ thinking: { type: 'enabled', budget_tokens: 5000 } })).chat.reasoning, { budgetTokens: 5000 });
    assert.deepEqual((await convert({ thinking: { type: 'adaptive' }, output_config: { effort: 'high' } } as never)).chat.reasoning, { budgetTokens: 20_000, effort: 'high' });
    assert.deepEqual((await convert({ thinking: { type: 'adaptive' }, output_config: { effort: 'xhigh' } } as never)).chat.reasoning, { budgetTokens: 24_576, effort: 'max' });
    assert.equal((await convert({ thinking: { type: 'disabled' } })).chat.reasoning, undefined);
    const limits = (await convert({ stop_sequences: ['END', ''], max_tokens: 77 })).chat;
    assert.deepEqual(limits.stop, ['END']);
    assert.equal(limits.maxOutputTokens, 77);
  });

  it('names ignored parameters and betas, and finds the session', () => {
    assert.deepEqual(ignoredParameters({ temperature: 1, top_k: 5, context_management: {}, max_tokens: 1 }), ['temperature', 'top_k', 'context_management']);
    assert.deepEqual(ignoredBetas('claude-code-20250219, interleaved-thinking-2025-05-14,effort-2025-11-24,context-management-2025-06-27'), ['claude-code-20250219', 'context-management-2025-06-27']);
    assert.equal(sessionOf('abc-123', req({})), 'abc-123');
    assert.equal(sessionOf(undefined, req({ metadata: { user_id: JSON.stringify({ device_id: 'd', session_id: 'ea922d79-72ad' }) } })), 'ea922d79-72ad');
    assert.equal(sessionOf(undefined, req({ metadata: { user_id: 'user_abc_account__session_0b7d3c1e-5a6f' } })), '0b7d3c1e-5a6f');
    assert.equal(sessionOf(undefined, req({})), undefined);
  });
});

describe('earlier thinking, as Kiro gets it', () => {
  const history = (signature?: string) =>
    ({
      upstreamModel: 'claude-opus-4.6',
      system: [],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'q' }] },
        { role: 'assistant', content: [{ type: 'text', text: 'a' }], reasoning: [{ text: 'I think', ...(signature && { signature }) }] },
        { role: 'user', content: [{ type: 'text', text: 'more' }] },
      ],
      reasoning: { budgetTokens: 10_000 },
    }) as const;
  const assistant = (body: ReturnType<typeof buildKiroRequest>['body']) => (body.conversationState.history![1] as unknown as { assistantResponseMessage: Record<string, unknown> }).assistantResponseMessage;

  it('native models: signed thinking goes back as reasoningContent, unsigned is dropped, and native reasoning is asked for', () => {
    const signed = buildKiroRequest(history('SIG') as never, { conversationId: 'c', thinking: 'native' }).body;
    assert.deepEqual(assistant(signed).reasoningContent, { reasoningText: { text: 'I think', signature: 'SIG' } });
    assert.deepEqual(signed.additionalModelRequestFields, { thinking: { type: 'adaptive', display: 'summarized' }, output_config: { effort: 'medium' } });
    assert.ok(!JSON.stringify(signed).includes('thinking_mode'));
    const unsigned = buildKiroRequest(history() as never, { conversationId: 'c', thinking: 'native' }).body;
    assert.equal(assistant(unsigned).reasoningContent, undefined);
    assert.equal(assistant(unsigned).content, 'a');
    assert.equal(assistant(buildKiroRequest(history('SIG') as never, { conversationId: 'c', thinking: 'native', replayThinking: false }).body).reasoningContent, undefined);
  });

  it('tag models: earlier thinking is text in <thinking> tags, and no native fields are sent', () => {
    const body = buildKiroRequest(history('SIG') as never, { conversationId: 'c', thinking: 'tags' }).body;
    assert.equal(assistant(body).content, '<thinking>I think</thinking>\n\na');
    assert.equal(body.additionalModelRequestFields, undefined);
    assert.match(JSON.stringify(body), /thinking_mode/);
  });
});

const usage = (over: Partial<Usage> = {}): Usage => ({ promptTokens: 100, completionTokens: 20, reasoningTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, source: 'estimated', ...over });
const finish = (over: Partial<Extract<ChatEvent, { type: 'finish' }>> = {}): ChatEvent => ({ type: 'finish', reason: 'stop', usage: usage(), ...over });

async function* batches(...list: ChatEvent[][]): AsyncGenerator<EventBatch> {
  for (const batch of list) yield batch;
}

/** Encode and parse back every `event:` / `data:` pair, checking they agree. */
async function streamOf(events: ChatEvent[][]): Promise<Record<string, unknown>[]> {
  const encoder = new AnthropicStreamEncoder('msg_1', 'claude-x', Promise.resolve(42));
  let text = await encoder.start();
  for (const batch of events) text += encoder.encode(batch);
  return text
    .trim()
    .split('\n\n')
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n');
      const data = JSON.parse(dataLine!.slice(6)) as Record<string, unknown>;
      assert.equal(eventLine, `event: ${data.type as string}`);
      return data;
    });
}

describe('neutral events → Anthropic stream and message', () => {
  it('text, then a tool call whose input comes whole once complete; usage cumulative in message_delta', async () => {
    const out = await streamOf([
      [{ type: 'text', text: 'Reading ' }, { type: 'text', text: 'it.' }],
      [{ type: 'tool_call_start', index: 0, id: 'toolu_1', name: 'Read' }, { type: 'tool_call_delta', index: 0, argumentsDelta: '{"file_path":' }],
      [{ type: 'tool_call_delta', index: 0, argumentsDelta: '"/a.ts"}' }, { type: 'tool_call_end', index: 0 }],
      [finish({ reason: 'tool_calls', usage: usage({ promptTokens: 2140, cacheReadTokens: 2000, completionTokens: 61, source: 'upstream' }) })],
    ]);
    assert.deepEqual(
      out.map((e) => e.type),
      ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
    );
    assert.deepEqual((out[0]!.message as { usage: unknown }).usage, { input_tokens: 42, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });
    assert.deepEqual(out[5], { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'Read', input: {} } });
    assert.deepEqual(out[6], { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"file_path":"/a.ts"}' } });
    assert.deepEqual(out[8], { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { input_tokens: 140, output_tokens: 61, cache_creation_input_tokens: 0, cache_read_input_tokens: 2000 } });
  });

  it('a thinking block gets its whole signature once, just before it stops, and before the text', async () => {
    const out = await streamOf([[{ type: 'reasoning', text: 'Let me ' }, { type: 'reasoning', text: 'see.' }, { type: 'reasoning_signature', signature: 'SIG' }, { type: 'text', text: 'Done.' }, finish()]]);
    assert.deepEqual(
      out.slice(1, 8).map((e) => [e.type, (e.delta as { type?: string } | undefined)?.type ?? (e.content_block as { type?: string } | undefined)?.type ?? '']),
      [
        ['content_block_start', 'thinking'],
        ['content_block_delta', 'thinking_delta'],
        ['content_block_delta', 'thinking_delta'],
        ['content_block_delta', 'signature_delta'],
        ['content_block_stop', ''],
        ['content_block_start', 'text'],
        ['content_block_delta', 'text_delta'],
      ],
    );
    assert.equal(out.filter((e) => (e.delta as { type?: string } | undefined)?.type === 'signature_delta').length, 1);
  });

  it('a tool call Kiro cut off is never handed out, and the answer ends with max_tokens', async () => {
    const out = await streamOf([
      [{ type: 'text', text: 'Writing.' }, { type: 'tool_call_start', index: 0, id: 'toolu_w', name: 'Write' }, { type: 'tool_call_delta', index: 0, argumentsDelta: '{"content":"half' }],
      [{ type: 'tool_call_dropped', index: 0, id: 'toolu_w', argumentsLength: 16 }, finish({ reason: 'length', lengthCause: 'upstream' })],
    ]);
    assert.ok(!JSON.stringify(out).includes('tool_use'));
    assert.equal((out.at(-2)!.delta as { stop_reason: string }).stop_reason, 'max_tokens');
  });

  it('stop reasons: stop sequence (named), context window, refusal', async () => {
    const stop = await streamOf([[{ type: 'text', text: 'a' }, finish({ stopSequence: 'END' })]]);
    assert.deepEqual(stop.at(-2)!.delta, { stop_reason: 'stop_sequence', stop_sequence: 'END' });
    const full = await streamOf([[finish({ reason: 'length', lengthCause: 'context_window' })]]);
    assert.equal((full.at(-2)!.delta as { stop_reason: string }).stop_reason, 'model_context_window_exceeded');
    const refused = await streamOf([[finish({ reason: 'content_filter' })]]);
    assert.equal((refused.at(-2)!.delta as { stop_reason: string }).stop_reason, 'refusal');
  });

  it('web searches the gateway ran become server_tool_use and web_search_tool_result blocks, whole', async () => {
    const out = await streamOf([
      [
        { type: 'server_tool_call', id: 'srvtoolu_1', name: 'web_search', query: 'rust' },
        { type: 'server_tool_result', id: 'srvtoolu_1', name: 'web_search', results: [{ title: 'Rust', url: 'https://rust-lang.org', snippet: 's', published: '1 Nov 2026' }] },
        { type: 'server_tool_call', id: 'srvtoolu_2', name: 'web_search', query: 'more' },
        { type: 'server_tool_result', id: 'srvtoolu_2', name: 'web_search', results: [], error: 'unavailable' },
        finish({ usage: usage({ webSearches: 2 }) }),
      ],
    ]);
    assert.deepEqual(out[1]!.content_block, { type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: { query: 'rust' } });
    const result = out[3]!.content_block as { content: { type: string; url: string; page_age: string }[] };
    assert.deepEqual([result.content[0]!.type, result.content[0]!.url, result.content[0]!.page_age], ['web_search_result', 'https://rust-lang.org', '1 Nov 2026']);
    assert.deepEqual((out[7]!.content_block as { content: unknown }).content, { type: 'web_search_tool_result_error', error_code: 'unavailable' });
    assert.deepEqual((out.at(-2)!.usage as { server_tool_use: unknown }).server_tool_use, { web_search_requests: 2 });
  });

  it('the same events fold into one message', async () => {
    const message = await collectMessage(
      batches(
        [{ type: 'reasoning', text: 'hm' }, { type: 'reasoning_signature', signature: 'S' }, { type: 'text', text: 'Hi' }],
        [{ type: 'tool_call_start', index: 0, id: 't', name: 'f' }, { type: 'tool_call_delta', index: 0, argumentsDelta: '{"a":1}' }, { type: 'tool_call_end', index: 0 }, finish({ reason: 'tool_calls' })],
      ),
      'msg_2',
      'claude-x',
    );
    assert.deepEqual(message.content, [
      { type: 'thinking', thinking: 'hm', signature: 'S' },
      { type: 'text', text: 'Hi' },
      { type: 'tool_use', id: 't', name: 'f', input: { a: 1 } },
    ]);
    assert.equal(message.stop_reason, 'tool_use');
  });
});

describe('Anthropic errors', () => {
  it('map each kind to Anthropic\'s status and type; capacity is 529 overloaded_error', () => {
    const cases: [GatewayError, number, string][] = [
      [new GatewayError('invalid_request', 'x'), 400, 'invalid_request_error'],
      [new GatewayError('authentication', 'x'), 401, 'authentication_error'],
      [new GatewayError('permission', 'x'), 403, 'permission_error'],
      [new GatewayError('not_found', 'x'), 404, 'not_found_error'],
      [new GatewayError('payload_too_large', 'x'), 413, 'request_too_large'],
      [new GatewayError('rate_limit', 'x'), 429, 'rate_limit_error'],
      [new GatewayError('quota', 'x'), 429, 'rate_limit_error'],
      [new GatewayError('server', 'x'), 500, 'api_error'],
      [new GatewayError('upstream', 'x'), 502, 'api_error'],
      [new GatewayError('upstream_auth', 'x'), 503, 'api_error'],
      [new GatewayError('timeout', 'x'), 504, 'timeout_error'],
      [new GatewayError('unavailable', 'x', { code: 'upstream_overloaded' }), 529, 'overloaded_error'],
    ];
    for (const [error, status, type] of cases) {
      assert.equal(anthropicErrors.status(error), status, type);
      assert.deepEqual(anthropicErrors.body(error), { type: 'error', error: { type, message: 'x' } });
    }
    assert.equal(anthropicErrors.streamEvent(cases[0]![0]), 'event: error\ndata: {"type":"error","error":{"type":"invalid_request_error","message":"x"}}\n\n');
  });

  it('a conversation too long for Kiro reads the way Claude Code compacts on', () => {
    const kiro = new GatewayError('context_length', 'The conversation is longer than the model\'s context window on Kiro.', { code: 'context_length_exceeded' });
    const worded = promptTooLong(kiro, 150_000, 200_000);
    // Claude Code's own pattern (anthropic-and-responses.md §1.8).
    const match = /prompt is too long[^0-9]*(\d+)\s*tokens?\s*>\s*(\d+)/i.exec(worded.message);
    assert.deepEqual([match?.[1], match?.[2]], ['200001', '200000']);
    assert.match(promptTooLong(kiro, 250_000, 200_000).message, /^prompt is too long: 250000 tokens > 200000 maximum\. The conversation/);
  });
});
