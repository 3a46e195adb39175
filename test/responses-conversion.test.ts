import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResponsesCreateRequest } from '../contract/index.js';
import { GatewayError } from '../src/chat/errors.js';
import type { ChatEvent, EventBatch, ModelInfo, Usage } from '../src/chat/types.js';
import { responsesErrors } from '../src/faces/openai-responses/errors.js';
import { sseString } from '../src/http/sse.js';
import { ignoredParameters, inputItems, resolveItems, toChatRequest } from '../src/faces/openai-responses/request.js';
import { collectResponse, failureCode, failureMessage, outcome, ResponsesStreamEncoder, toResponsesUsage, type BuildOptions, type ResponseFrame } from '../src/faces/openai-responses/response.js';
import { openCompaction, openReasoning, sealCompaction, sealReasoning } from '../src/faces/openai-responses/sealed.js';
import { MemoryResponseStore, type Item } from '../src/faces/openai-responses/store.js';
import { KIRO_MODELS } from '../src/kiro/models.js';
import { PNG_1X1 } from './fixtures/images.js';

const sonnet = KIRO_MODELS[0]!;
const noImages = async () => {
  throw new Error('no downloads in this test');
};
const req = (body: Partial<ResponsesCreateRequest>): ResponsesCreateRequest => ({ model: 'claude-sonnet-4-5-20250929', input: 'x', ...body }) as ResponsesCreateRequest;
const convert = async (body: Partial<ResponsesCreateRequest>, model: ModelInfo = sonnet) => {
  const full = req(body);
  return toChatRequest(full, await resolveItems(inputItems(full.input), async () => undefined), model, noImages);
};
const refusal = (code: string) => (error: unknown) => error instanceof GatewayError && error.code === code;

describe('Responses input → neutral request', () => {
  it('a string is one user message; instructions and leading developer/system messages are the system text', async () => {
    const { chat } = await convert({
      instructions: 'Be brief.',
      input: [
        { role: 'developer', content: 'Repo rules.' },
        { role: 'user', content: [{ type: 'input_text', text: 'hi' }] },
        { role: 'assistant', content: [{ type: 'output_text', text: 'hello', annotations: [] }] },
        { role: 'developer', content: 'Now be formal.' },
        { role: 'user', content: 'and?' },
      ] as never,
    });
    assert.deepEqual(chat.system, ['Be brief.', 'Repo rules.']);
    assert.deepEqual(chat.messages.map((m) => m.role), ['user', 'assistant', 'user', 'user']);
    assert.deepEqual(chat.messages[2]!.content, [{ type: 'text', text: '[developer instructions]\nNow be formal.' }]);
    assert.deepEqual((await convert({ input: 'plain' })).chat.messages, [{ index: 0, role: 'user', content: [{ type: 'text', text: 'plain' }] }]);
  });

  it('reasoning, message and calls in a row are one assistant turn; outputs are tool results', async () => {
    const signed = sealReasoning({ text: 'Think.', signature: 'SIG' });
    const { chat } = await convert({
      input: [
        { role: 'user', content: 'go' },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Think.' }], encrypted_content: signed },
        { role: 'assistant', content: 'Calling.' },
        { type: 'function_call', call_id: 'call_1', name: 'read', arguments: '{"path":"a"}' },
        { type: 'custom_tool_call', call_id: 'call_2', name: 'apply_patch', input: '*** Begin Patch' },
        { type: 'function_call_output', call_id: 'call_1', output: 'A' },
        { type: 'custom_tool_call_output', call_id: 'call_2', output: [{ type: 'input_text', text: 'Done' }] },
      ] as never,
    });
    assert.equal(chat.messages.length, 4);
    const turn = chat.messages[1] as Extract<(typeof chat.messages)[number], { role: 'assistant' }>;
    assert.deepEqual(turn.reasoning, [{ text: 'Think.', signature: 'SIG' }]);
    assert.deepEqual(turn.content, [{ type: 'text', text: 'Calling.' }]);
    assert.deepEqual(turn.toolCalls, [
      { id: 'call_1', name: 'read', arguments: '{"path":"a"}' },
      { id: 'call_2', name: 'apply_patch', arguments: '', input: { input: '*** Begin Patch' } },
    ]);
    assert.deepEqual(chat.messages.slice(2).map((m) => [m.role, (m as { toolCallId?: string }).toolCallId]), [['tool', 'call_1'], ['tool', 'call_2']]);
  });

  it('someone else\'s reasoning blob is read as its summary, unsigned; an empty one is left out', async () => {
    const { chat } = await convert({
      input: [
        { role: 'user', content: 'a' },
        { type: 'reasoning', summary: [{ type: 'summary_text', text: 'Theirs.' }], encrypted_content: 'gAAAA-openai' },
        { role: 'assistant', content: 'b' },
        { role: 'user', content: 'u' },
        { type: 'reasoning', summary: [], encrypted_content: 'gAAAA-openai' },
        { role: 'assistant', content: 'c' },
      ] as never,
    });
    assert.deepEqual(chat.messages.map((m) => m.role), ['user', 'assistant', 'user', 'assistant']);
    assert.deepEqual((chat.messages[1] as { reasoning?: unknown }).reasoning, [{ text: 'Theirs.' }]);
    assert.equal((chat.messages[3] as { reasoning?: unknown }).reasoning, undefined);
  });

  it('items the gateway cannot take as such become text; a compaction item is its summary', async () => {
    const { chat } = await convert({
      input: [
        { role: 'user', content: 'a' },
        { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'rust' } },
        { type: 'compaction', encrypted_content: sealCompaction('We built a lexer.') },
        { type: 'tool_search_call', id: 'ts_1' },
      ] as never,
    });
    assert.deepEqual(chat.messages[1]!.content, [{ type: 'text', text: '[Searched the web for: "rust"]' }]);
    assert.deepEqual(chat.messages[2]!.content, [{ type: 'text', text: '[Summary of the conversation so far]\nWe built a lexer.' }]);
    await assert.rejects(convert({ input: [{ type: 'compaction', encrypted_content: 'someone-elses' }] as never }), refusal('invalid_compaction'));
  });

  it('images: data URLs become bytes, file ids and files are refused by name', async () => {
    const { chat } = await convert({ input: [{ role: 'user', content: [{ type: 'input_image', image_url: `data:image/png;base64,${PNG_1X1}`, detail: 'auto' }] }] as never });
    assert.deepEqual(chat.messages[0]!.content, [{ type: 'image', mediaType: 'image/png', data: PNG_1X1 }]);
    await assert.rejects(convert({ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1', detail: 'auto' }] }] as never }), refusal('invalid_image_url'));
    await assert.rejects(convert({ input: [{ role: 'user', content: [{ type: 'input_file', file_id: 'file_1' }] }] as never }), refusal('unsupported_file'));
  });

  it('tools: functions as they are, freeform ones as one string with their grammar, namespaces flattened, web_search apart', async () => {
    const converted = await convert({
      tools: [
        { type: 'function', name: 'read', description: 'Read', parameters: { type: 'object' }, strict: false },
        { type: 'custom', name: 'apply_patch', description: 'Patch.', format: { type: 'grammar', syntax: 'lark', definition: 'start: "x"' } },
        { type: 'namespace', name: 'crm', description: 'Records.', tools: [{ type: 'function', name: 'lookup', description: 'Find', parameters: { type: 'object' } }] },
        { type: 'web_search', external_web_access: false },
      ] as never,
      tool_choice: { type: 'function', name: 'lookup', namespace: 'crm' } as never,
    });
    const tools = converted.chat.tools!;
    assert.deepEqual(tools.map((t) => t.name), ['read', 'apply_patch', 'crm__lookup']);
    assert.match(tools[1]!.description!, /^Patch\.\n\nThe input must follow this lark grammar:\nstart: "x"\n\nGive the whole raw input as the one string `input`/);
    assert.deepEqual(tools[1]!.parameters, { type: 'object', properties: { input: { type: 'string', description: 'The raw input of the tool.' } }, required: ['input'] });
    assert.equal(tools[2]!.description, '[crm: Records.]\nFind');
    assert.deepEqual([...converted.custom], ['apply_patch']);
    assert.deepEqual(converted.namespaced.get('crm__lookup'), { namespace: 'crm', name: 'lookup' });
    assert.deepEqual(converted.webSearch, { name: 'web_search' });
    assert.deepEqual(converted.chat.toolChoice, { name: 'crm__lookup' });
    // A past call of a namespaced tool goes back under the same flat name.
    const past = await convert({ input: [{ role: 'user', content: 'a' }, { type: 'function_call', call_id: 'c', namespace: 'crm', name: 'lookup', arguments: '{}' }] as never });
    assert.equal((past.chat.messages[1] as { toolCalls: { name: string }[] }).toolCalls[0]!.name, 'crm__lookup');
  });

  it('refuses what Kiro cannot do, naming it: hosted tools, background, a tool_choice outside tools', async () => {
    await assert.rejects(convert({ tools: [{ type: 'code_interpreter', container: { type: 'auto' } }] as never }), (e: GatewayError) => e.code === 'unsupported_tool' && /code_interpreter/.test(e.message) && e.param === 'tools.0');
    await assert.rejects(convert({ tools: [{ type: 'hologram' }] as never }), refusal('unsupported_tool'));
    await assert.rejects(convert({ background: true }), (e: GatewayError) => e.param === 'background');
    await assert.rejects(convert({ tools: [{ type: 'function', name: 'a' }] as never, tool_choice: { type: 'function', name: 'b' } }), (e: GatewayError) => e.param === 'tool_choice.name');
  });

  it('reasoning effort becomes a thinking budget; text formats and output caps carry over; a trigger asks for a compaction', async () => {
    assert.deepEqual((await convert({ reasoning: { effort: 'high' } })).chat.reasoning, { budgetTokens: 20_000, effort: 'high' });
    assert.deepEqual((await convert({ reasoning: { effort: 'minimal' } })).chat.reasoning, { budgetTokens: 1024, effort: 'low' });
    assert.equal((await convert({ reasoning: { effort: 'none' } })).chat.reasoning, undefined);
    assert.deepEqual((await convert({ text: { format: { type: 'json_schema', name: 'city', schema: { type: 'object' } } } })).chat.responseFormat, { type: 'json_schema', name: 'city', schema: { type: 'object' } });
    const capped = await convert({ max_output_tokens: 100, parallel_tool_calls: false });
    assert.deepEqual([capped.chat.maxOutputTokens, capped.chat.parallelToolCalls], [100, false]);
    const trigger = await convert({ input: [{ role: 'user', content: 'a' }, { type: 'compaction_trigger' }] as never });
    assert.equal(trigger.compaction, true);
    assert.equal(trigger.chat.messages.length, 1);
    assert.deepEqual(ignoredParameters({ temperature: 1, top_p: null, service_tier: 'auto', model: 'x' }), ['temperature', 'service_tier']);
  });

  it('item references resolve from the store, or fail as item_not_found; every item gets an id', async () => {
    const stored: Item = { type: 'message', id: 'msg_old', role: 'assistant', content: [{ type: 'output_text', text: 'old' }] };
    const items = await resolveItems(inputItems([{ type: 'item_reference', id: 'msg_old' }, { role: 'user', content: 'new' }] as never), async (id) => (id === 'msg_old' ? stored : undefined));
    assert.equal(items[0], stored);
    assert.match(items[1]!.id!, /^msg_[0-9a-f]{32}$/);
    await assert.rejects(resolveItems(inputItems([{ type: 'item_reference', id: 'msg_gone' }] as never), async () => undefined), (e: GatewayError) => e.code === 'item_not_found' && e.param === 'input.0.id');
  });
});

describe('sealed blobs', () => {
  it('reasoning and compaction round-trip; blobs that are not the gateway\'s open to nothing', () => {
    assert.deepEqual(openReasoning(sealReasoning({ text: 't', signature: 's' })), { text: 't', signature: 's' });
    assert.deepEqual(openReasoning(sealReasoning({ text: '', redacted: 'R' })), { text: '', redacted: 'R' });
    assert.equal(openCompaction(sealCompaction('sum')), 'sum');
    for (const blob of [undefined, null, '', 'gAAAA', 'ki2api.reasoning.v1.%%%', `ki2api.reasoning.v1.${Buffer.from('[1]').toString('base64url')}`, sealCompaction('x')]) assert.equal(openReasoning(blob), undefined);
    assert.equal(openCompaction(sealReasoning({ text: 'x' })), undefined);
  });
});

const usage = (over: Partial<Usage> = {}): Usage => ({ promptTokens: 100, completionTokens: 20, reasoningTokens: 5, cacheReadTokens: 60, cacheWriteTokens: 10, source: 'upstream', ...over });
const finish = (over: Partial<Extract<ChatEvent, { type: 'finish' }>> = {}): ChatEvent => ({ type: 'finish', reason: 'stop', usage: usage(), ...over });
const frame: ResponseFrame = {
  id: 'resp_1',
  object: 'response',
  created_at: 1,
  instructions: null,
  max_output_tokens: null,
  model: 'claude-x',
  parallel_tool_calls: true,
  previous_response_id: null,
  reasoning: null,
  store: true,
  temperature: null,
  text: { format: { type: 'text' } },
  tool_choice: 'auto',
  tools: [],
  top_p: null,
  truncation: 'disabled',
  metadata: {},
};
const options = (over: Partial<BuildOptions> = {}): BuildOptions => ({ custom: new Set(), includeEncrypted: false, ...over });

async function* batches(...list: ChatEvent[][]): AsyncGenerator<EventBatch> {
  for (const batch of list) yield batch;
}

type Event = { type: string; sequence_number: number; [k: string]: unknown };

/** Encode and parse back every `event:` / `data:` pair, checking they agree and the numbers rise by one. */
async function streamOf(events: ChatEvent[][], build: BuildOptions = options()): Promise<{ events: Event[]; stored: unknown[] }> {
  const stored: unknown[] = [];
  const encoder = new ResponsesStreamEncoder(frame, build, async (response, internal) => void stored.push({ response, internal }));
  let text = sseString(encoder.start());
  for (const batch of events) text += sseString(await encoder.encode(batch));
  const out = text
    .trim()
    .split('\n\n')
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n');
      const data = JSON.parse(dataLine!.slice(6)) as Event;
      assert.equal(eventLine, `event: ${data.type}`);
      return data;
    });
  assert.deepEqual(out.map((e) => e.sequence_number), out.map((_, i) => i));
  return { events: out, stored };
}

describe('neutral events → Responses stream and response', () => {
  it('text: created, in_progress, the item added before its part and deltas, done with the whole item, then completed with usage', async () => {
    const { events, stored } = await streamOf([[{ type: 'text', text: 'Hel' }, { type: 'text', text: 'lo' }], [finish()]]);
    assert.deepEqual(events.map((e) => e.type), [
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    const done = events.at(-2)!.item as { status: string; content: { text: string }[] };
    assert.deepEqual([done.status, done.content[0]!.text], ['completed', 'Hello']);
    const completed = events.at(-1)!.response as { status: string; usage: unknown; output: unknown[] };
    assert.equal(completed.status, 'completed');
    assert.deepEqual(completed.usage, { input_tokens: 100, input_tokens_details: { cached_tokens: 60, cache_write_tokens: 10 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 5 }, total_tokens: 120 });
    assert.equal(stored.length, 1, 'stored before the terminal event was written');
    assert.equal((events[0]!.response as { usage?: unknown }).usage, undefined);
  });

  it('thinking is a reasoning item, sealed with its signature; the seal is shown only when asked for', async () => {
    const events: ChatEvent[][] = [[{ type: 'reasoning', text: 'Let me ' }, { type: 'reasoning', text: 'see.' }, { type: 'reasoning_signature', signature: 'SIG' }, { type: 'text', text: 'Done.' }, finish()]];
    const hidden = await streamOf(events);
    const item = (hidden.events.find((e) => e.type === 'response.output_item.done')!.item as { type: string; summary: { text: string }[]; encrypted_content?: string });
    assert.deepEqual([item.type, item.summary[0]!.text, item.encrypted_content], ['reasoning', 'Let me see.', undefined]);
    assert.ok(hidden.events.some((e) => e.type === 'response.reasoning_summary_text.delta' && e.summary_index === 0));
    const internal = (hidden.stored[0] as { internal: { encrypted_content?: string }[] }).internal;
    assert.deepEqual(openReasoning(internal[0]!.encrypted_content), { text: 'Let me see.', signature: 'SIG' }, 'the store keeps the seal for previous_response_id');
    const shown = await streamOf(events, options({ includeEncrypted: true }));
    const sealed = shown.events.find((e) => e.type === 'response.output_item.done')!.item as { encrypted_content: string };
    assert.deepEqual(openReasoning(sealed.encrypted_content), { text: 'Let me see.', signature: 'SIG' });
  });

  it('calls: function arguments stream; freeform input comes whole; namespaced calls name their namespace; dropped calls never appear', async () => {
    const { events } = await streamOf(
      [
        [
          { type: 'tool_call_start', index: 0, id: 'call_a', name: 'read' },
          { type: 'tool_call_delta', index: 0, argumentsDelta: '{"path":' },
          { type: 'tool_call_delta', index: 0, argumentsDelta: '"a"}' },
          { type: 'tool_call_end', index: 0 },
          { type: 'tool_call_start', index: 1, id: 'call_b', name: 'apply_patch' },
          { type: 'tool_call_delta', index: 1, argumentsDelta: '{"input":"*** Begin Patch\\n"}' },
          { type: 'tool_call_end', index: 1 },
          { type: 'tool_call_start', index: 2, id: 'call_c', name: 'crm__lookup' },
          { type: 'tool_call_delta', index: 2, argumentsDelta: '{}' },
          { type: 'tool_call_end', index: 2 },
          { type: 'tool_call_start', index: 3, id: 'call_d', name: 'read' },
          { type: 'tool_call_delta', index: 3, argumentsDelta: '{"pa' },
          { type: 'tool_call_dropped', index: 3, id: 'call_d', argumentsLength: 4 },
        ],
        [finish({ reason: 'tool_calls' })],
      ],
      options({ custom: new Set(['apply_patch']), namespaced: new Map([['crm__lookup', { namespace: 'crm', name: 'lookup' }]]) }),
    );
    const done = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item as Record<string, unknown>);
    assert.deepEqual(done.map((i) => [i.type, i.name, i.arguments ?? i.input, i.namespace]), [
      ['function_call', 'read', '{"path":"a"}', undefined],
      ['custom_tool_call', 'apply_patch', '*** Begin Patch\n', undefined],
      ['function_call', 'lookup', '{}', 'crm'],
    ]);
    assert.deepEqual(events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta), ['{"path":', '"a"}', '{}', '{"pa']);
    assert.deepEqual(events.find((e) => e.type === 'response.custom_tool_call_input.done')!.input, '*** Begin Patch\n');
    const completed = events.at(-1)!.response as { output: { call_id: string }[] };
    assert.deepEqual(completed.output.map((o) => o.call_id), ['call_a', 'call_b', 'call_c']);
  });

  it('a server-side web search is a web_search_call item with its own events', async () => {
    const { events } = await streamOf([[{ type: 'server_tool_call', id: 'srv_1', name: 'web_search', query: 'rust' }, { type: 'server_tool_result', id: 'srv_1', name: 'web_search', results: [] }, { type: 'text', text: 'Found.' }, finish({ usage: usage({ webSearches: 1 }) })]]);
    assert.deepEqual(events.slice(2, 7).map((e) => e.type), ['response.output_item.added', 'response.web_search_call.in_progress', 'response.web_search_call.searching', 'response.web_search_call.completed', 'response.output_item.done']);
    assert.deepEqual((events[6]!.item as { action: unknown }).action, { type: 'search', query: 'rust' });
  });

  it('cut short is incomplete with the reason; a failure is response.failed with Codex\'s codes and the delay it parses', async () => {
    assert.deepEqual(outcome({ type: 'finish', reason: 'length', usage: usage() }), { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } });
    assert.deepEqual(outcome({ type: 'finish', reason: 'content_filter', usage: usage() }), { status: 'incomplete', incomplete_details: { reason: 'content_filter' } });
    const { events } = await streamOf([[{ type: 'text', text: 'a' }, finish({ reason: 'length' })]]);
    assert.equal(events.at(-1)!.type, 'response.incomplete');
    const cases: [GatewayError, string][] = [
      [new GatewayError('context_length', 'too long'), 'context_length_exceeded'],
      [new GatewayError('rate_limit', 'slow down', { retryAfter: 20 }), 'rate_limit_exceeded'],
      [new GatewayError('quota', 'out'), 'insufficient_quota'],
      [new GatewayError('unavailable', 'busy', { code: 'upstream_overloaded' }), 'server_is_overloaded'],
      [new GatewayError('invalid_request', 'bad'), 'invalid_prompt'],
      [new GatewayError('upstream', 'boom'), 'server_error'],
    ];
    for (const [error, code] of cases) assert.equal(failureCode(error), code, error.kind);
    assert.equal(failureMessage(new GatewayError('rate_limit', 'Slow down.', { retryAfter: 20 })), 'Slow down. Please try again in 20s.');
    assert.equal(failureMessage(new GatewayError('rate_limit', 'Please try again in 5s.', { retryAfter: 20 })), 'Please try again in 5s.');
    const encoder = new ResponsesStreamEncoder(frame, options(), async () => undefined);
    encoder.start();
    await encoder.encode([{ type: 'text', text: 'partial' }]);
    const failed = JSON.parse(encoder.error(new GatewayError('rate_limit', 'Slow down.', { retryAfter: 3 })).split('\ndata: ')[1]!) as { type: string; sequence_number: number; response: { status: string; error: unknown } };
    assert.deepEqual([failed.type, failed.sequence_number, failed.response.status, failed.response.error], ['response.failed', 5, 'failed', { code: 'rate_limit_exceeded', message: 'Slow down. Please try again in 3s.' }]);
  });

  it('collectResponse folds the same events into one response; a compaction is one item of the summary', async () => {
    const { response } = await collectResponse(batches([{ type: 'text', text: 'Hi' }], [finish()]), frame, options());
    assert.deepEqual([response.status, response.output.length, (response.output[0] as { content: { text: string }[] }).content[0]!.text], ['completed', 1, 'Hi']);
    const compacted = await collectResponse(batches([{ type: 'text', text: 'Summary.' }], [finish()]), frame, options(), (summary) => ({ type: 'compaction', id: 'cmp_1', encrypted_content: sealCompaction(summary) }));
    assert.equal(compacted.response.output.length, 1);
    assert.equal(openCompaction((compacted.response.output[0] as { encrypted_content: string }).encrypted_content), 'Summary.');
    await assert.rejects(collectResponse(batches([{ type: 'text', text: 'x' }]), frame, options()), /without a finish/);
  });

  it('usage: input includes cached tokens, total is input + output', () => {
    assert.deepEqual(toResponsesUsage(usage({ promptTokens: 7, completionTokens: 3, cacheReadTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 })), { input_tokens: 7, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 10 });
  });

  it('errors: OpenAI\'s envelope, every context refusal named context_length_exceeded', () => {
    const body = responsesErrors.body(new GatewayError('context_length', 'too long', { code: 'prompt_too_long' })) as { error: { code: string } };
    assert.equal(body.error.code, 'context_length_exceeded');
    assert.match(responsesErrors.streamEvent(new GatewayError('upstream', 'boom')), /^event: error\ndata: {"type":"error","code":/);
  });
});

describe('the memory response store', () => {
  const response = (id: string) => ({ ...frame, id, status: 'completed', completed_at: 1, error: null, incomplete_details: null, output: [{ type: 'message', id: `msg_${id}`, status: 'completed', role: 'assistant', content: [] }] }) as never;

  it('keeps responses and their items per client, forgets the least recently used past its cap', async () => {
    const store = new MemoryResponseStore(60, 2);
    await store.put('alice', { response: response('r1'), input: [{ type: 'message', id: 'in_1', role: 'user', content: 'a' }], includeEncrypted: false });
    assert.equal((await store.get('alice', 'r1'))?.response.id, 'r1');
    assert.equal(await store.get('bob', 'r1'), undefined);
    assert.equal((await store.item('alice', 'in_1'))?.id, 'in_1');
    assert.equal((await store.item('alice', 'msg_r1'))?.id, 'msg_r1');
    assert.equal(await store.item('bob', 'in_1'), undefined);
    await store.put('alice', { response: response('r2'), input: [], includeEncrypted: false });
    await store.put('alice', { response: response('r3'), input: [], includeEncrypted: false });
    assert.equal(await store.get('alice', 'r1'), undefined);
    assert.equal(await store.delete('bob', 'r3'), false);
    assert.equal(await store.delete('alice', 'r3'), true);
    assert.equal(await store.get('alice', 'r3'), undefined);
  });
});

describe('Responses stream: the request echoes written once', () => {
  it('every snapshot carries instructions and tools exactly, in the key order of a plain JSON.stringify, however odd their text', async () => {
    const odd = 'Instructions with "quotes", \\ backslashes, $& and $1, a NUL \u0000, 漢字 and 😀; ' + 'x'.repeat(60_000);
    const echoing: ResponseFrame = { ...frame, instructions: odd, tools: [{ type: 'function', name: 'run', description: '$`$\'', parameters: { type: 'object' }, strict: null }] as ResponseFrame['tools'] };
    const encoder = new ResponsesStreamEncoder(echoing, options(), async () => undefined);
    const started = encoder.start();
    assert.ok(typeof started !== 'string' && started.some((piece) => typeof piece !== 'string'), 'the echoes go out as ready bytes');
    const text = sseString(started) + sseString(await encoder.encode([{ type: 'text', text: `the placeholder's look-alike: \u0000ki2api-echo-` }, finish()]));
    const events = text
      .trim()
      .split('\n\n')
      .map((block) => JSON.parse(block.split('\n')[1]!.slice(6)) as { type: string; response?: Record<string, unknown> });
    const snapshots = events.filter((e) => e.response);
    assert.deepEqual(snapshots.map((e) => e.type), ['response.created', 'response.in_progress', 'response.completed']);
    for (const { response } of snapshots) {
      assert.equal(response!.instructions, odd);
      assert.deepEqual(response!.tools, echoing.tools);
      const keys = Object.keys(response!);
      assert.deepEqual(keys.slice(0, Object.keys(echoing).length), Object.keys(echoing), 'the frame keys stay in order');
    }
    assert.match(JSON.stringify(events), /placeholder's look-alike/);
  });
});
