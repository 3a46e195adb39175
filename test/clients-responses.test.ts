import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import { assertConforms, SKIP_REASON, specAvailable } from './conformance.js';
import { PNG_1X1 } from './fixtures/images.js';
import { API_KEY, startStack, withStack, type Stack } from './helpers.js';

// The official openai SDK's `client.responses` and the AI SDK's default OpenAI provider (which
// speaks Responses) against the gateway and the strict simulator over loopback; every response
// and stream event checked against OpenAI's own spec when it is present.

type Json = Record<string, unknown>;
type KiroBody = {
  conversationState: {
    conversationId: string;
    currentMessage: { userInputMessage: { content: string; modelId: string; images?: unknown[]; userInputMessageContext?: { tools?: { toolSpecification: { name: string; description: string } }[]; toolResults?: { toolUseId: string; content: { text?: string }[] }[] } } };
    history?: { userInputMessage?: { content: string }; assistantResponseMessage?: { content: string; toolUses?: { name: string; input: unknown }[]; reasoningContent?: Json } }[];
  };
  additionalModelRequestFields?: Json;
};
const fnCall = (output: readonly { type: string }[]) => output.find((o) => o.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall | undefined;
const kiroBody = (stack: Stack, back = 1) => stack.sim.requests.at(-back)!.body as KiroBody;
const MODEL = 'claude-sonnet-4-5-20250929';
const weather: OpenAI.Responses.FunctionTool = { type: 'function', name: 'get_weather', description: 'Current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false };
const conforms = specAvailable();
if (!conforms) console.log(`# ${SKIP_REASON}`);

/** OpenAI's spec knows a fixed list of failure codes; Codex reads more (server_is_overloaded), which the check allows. */
function checkResponse(response: unknown): void {
  if (!conforms) return;
  const copy = structuredClone(response) as { error?: { code: string } | null };
  if (copy.error) copy.error.code = 'server_error';
  assertConforms('Response', copy);
}

function checkEvent(event: { type: string }): void {
  if (!conforms) return;
  const copy = structuredClone(event) as { response?: unknown };
  if (copy.response) checkResponse(copy.response);
  if (event.type === 'response.failed' || event.type === 'response.completed' || event.type === 'response.incomplete' || event.type === 'response.created' || event.type === 'response.in_progress') {
    const { response: _, ...rest } = copy as Json;
    assertConforms('ResponseStreamEvent', { ...rest, response: { ...(structuredClone((copy as { response: Json }).response) as Json), error: null } });
  } else {
    assertConforms('ResponseStreamEvent', copy);
  }
}

/** Every event of a raw stream, parsed, each block's `event:` line equal to its data's type. */
async function rawEvents(res: Response): Promise<{ type: string; sequence_number: number; [k: string]: unknown }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((block) => block.startsWith('event: '))
    .map((block) => {
      const [eventLine, dataLine] = block.split('\n');
      const data = JSON.parse(dataLine!.slice('data: '.length)) as { type: string; sequence_number: number };
      assert.equal(eventLine, `event: ${data.type}`);
      return data;
    });
}

describe('the openai SDK\'s client.responses against the gateway (strict simulator)', () => {
  let stack: Stack;
  let client: OpenAI;
  before(async () => {
    stack = await startStack({}, { strict: true });
    client = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
  });
  after(() => stack.close());

  it('responses.create: output_text, usage, instructions as Kiro\'s system text, conforming to OpenAI\'s spec', async () => {
    const response = await client.responses.create({ model: MODEL, input: 'Hello there', instructions: 'Be brief.', temperature: 0.2 });
    checkResponse(response);
    assert.equal(response.object, 'response');
    assert.equal(response.status, 'completed');
    assert.match(response.id, /^resp_/);
    assert.match(response.output_text, /simulated answer/);
    assert.equal(response.model, MODEL);
    assert.ok(response.usage!.input_tokens > 0 && response.usage!.output_tokens > 0);
    assert.equal(response.usage!.total_tokens, response.usage!.input_tokens + response.usage!.output_tokens);
    const sent = kiroBody(stack);
    assert.equal(sent.conversationState.currentMessage.userInputMessage.modelId, 'claude-sonnet-4.5');
    assert.match(JSON.stringify(sent), /Be brief\./);
    const raw = await fetch(`${stack.url}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, input: 'x', temperature: 1, top_p: 0.5 }) });
    assert.equal(raw.headers.get('x-ki2api-ignored-params'), 'temperature,top_p');
    // The path without /v1 answers too (clients that set the base URL to the host).
    assert.equal((await fetch(`${stack.url}/responses`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, input: 'x' }) })).status, 200);
  });

  it('responses.stream: every event named, numbered in order, conforming; finalResponse() and output_text', async () => {
    const stream = client.responses.stream({ model: MODEL, input: 'Stream please' });
    const types: string[] = [];
    let text = '';
    for await (const event of stream) {
      checkEvent(event);
      types.push(event.type);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    const final = await stream.finalResponse();
    assert.equal(final.output_text, text);
    assert.deepEqual(types.slice(0, 5), ['response.created', 'response.in_progress', 'response.output_item.added', 'response.content_part.added', 'response.output_text.delta']);
    assert.deepEqual(types.slice(-4), ['response.output_text.done', 'response.content_part.done', 'response.output_item.done', 'response.completed']);
    const res = await fetch(`${stack.url}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, input: 'x', stream: true }) });
    assert.match(res.headers.get('content-type')!, /^text\/event-stream/);
    const events = await rawEvents(res);
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
  });

  it('a function call, then its output by previous_response_id — and the same by full history with store: false', async () => {
    const first = await client.responses.create({ model: MODEL, input: 'Weather in Paris?', tools: [weather] });
    checkResponse(first);
    const call = fnCall(first.output)!;
    assert.equal(call.name, 'get_weather');
    assert.equal(call.status, 'completed');
    assert.ok(JSON.parse(call.arguments).city);
    const next = await client.responses.create({ model: MODEL, previous_response_id: first.id, input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny, 21C' }], tools: [weather] });
    assert.match(next.output_text, /sunny, 21C/);
    const results = kiroBody(stack).conversationState.currentMessage.userInputMessage.userInputMessageContext?.toolResults;
    assert.equal(results?.[0]?.toolUseId, call.call_id);

    const stateless = await client.responses.create({ model: MODEL, input: 'Weather in Rome?', tools: [weather], store: false });
    const call2 = fnCall(stateless.output)!;
    const again = await client.responses.create({ model: MODEL, store: false, tools: [weather], input: [{ role: 'user', content: 'Weather in Rome?' }, ...(stateless.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call2.call_id, output: 'rain' }] });
    assert.match(again.output_text, /rain/);
    await assert.rejects(client.responses.retrieve(stateless.id), (error: InstanceType<typeof OpenAI.NotFoundError>) => error.status === 404);
    assert.deepEqual(stack.sim.requests.map((r) => r.violation).filter(Boolean), []);
  });

  it('a 20-turn tool loop chained by previous_response_id with signed thinking: strict Kiro accepts every replay', async () => {
    const readFile: OpenAI.Responses.FunctionTool = { type: 'function', name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }, strict: false };
    const before = stack.sim.requests.length;
    let previous: string | undefined;
    let input: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'Read the files one by one.' }];
    let toolTurns = 0;
    for (let turn = 0; turn < 20; turn++) {
      const response = await client.responses.stream({ model: 'claude-opus-4-6', input, tools: [readFile], reasoning: { effort: 'high', summary: 'auto' }, ...(previous && { previous_response_id: previous }) }).finalResponse();
      const reasoning = response.output.find((o) => o.type === 'reasoning') as OpenAI.Responses.ResponseReasoningItem | undefined;
      assert.ok(reasoning && reasoning.summary[0]!.text.length > 0, `turn ${turn}: ${JSON.stringify(response.output)}`);
      assert.equal(reasoning.encrypted_content, undefined, 'sealed thinking only with include');
      previous = response.id;
      const call = fnCall(response.output);
      if (call) {
        toolTurns++;
        input = [{ type: 'function_call_output', call_id: call.call_id, output: `contents of file ${turn}` }];
      } else {
        input = [{ role: 'user', content: `Next one (${turn}).` }];
      }
    }
    assert.ok(toolTurns >= 10);
    const sent = stack.sim.requests.slice(before);
    assert.equal(sent.length, 20);
    assert.deepEqual(sent.map((r) => r.violation).filter(Boolean), []);
    const history = (sent.at(-1)!.body as KiroBody).conversationState.history!;
    assert.equal(history.filter((e) => e.assistantResponseMessage?.reasoningContent).length, 19);
    assert.ok((sent.at(-1)!.body as KiroBody).additionalModelRequestFields, 'effort became native reasoning');
  });

  it('the same 20 turns resending the whole history (store: false, sealed thinking), as Codex does', async () => {
    const readFile: OpenAI.Responses.FunctionTool = { type: 'function', name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }, strict: false };
    const before = stack.sim.requests.length;
    const history: OpenAI.Responses.ResponseInput = [{ role: 'user', content: 'Read the files one by one.' }];
    for (let turn = 0; turn < 20; turn++) {
      const response = await client.responses.create({ model: 'claude-opus-4-6', input: history, tools: [readFile], store: false, reasoning: { effort: 'high' }, include: ['reasoning.encrypted_content'] });
      checkResponse(response);
      history.push(...(response.output as OpenAI.Responses.ResponseInputItem[]));
      const call = fnCall(response.output);
      history.push(call ? { type: 'function_call_output', call_id: call.call_id, output: `contents of file ${turn}` } : { role: 'user', content: `Next one (${turn}).` });
    }
    const sent = stack.sim.requests.slice(before);
    assert.equal(sent.length, 20);
    assert.deepEqual(sent.map((r) => r.violation).filter(Boolean), []);
    assert.equal((sent.at(-1)!.body as KiroBody).conversationState.history!.filter((e) => e.assistantResponseMessage?.reasoningContent).length, 19);
  });

  it('include: reasoning.encrypted_content seals the thinking; sent back without a store, Kiro gets it signed', async () => {
    const stream = client.responses.stream({ model: 'claude-sonnet-4-6', input: 'Think [sim tool=get_weather input={"city":"Oslo"}]', tools: [weather], store: false, reasoning: { effort: 'medium', summary: 'detailed' }, include: ['reasoning.encrypted_content'] });
    const types = new Set<string>();
    for await (const event of stream) {
      checkEvent(event);
      types.add(event.type);
    }
    for (const type of ['response.reasoning_summary_part.added', 'response.reasoning_summary_text.delta', 'response.reasoning_summary_text.done', 'response.function_call_arguments.delta', 'response.function_call_arguments.done']) assert.ok(types.has(type), type);
    const first = await stream.finalResponse();
    const reasoning = first.output.find((o) => o.type === 'reasoning') as OpenAI.Responses.ResponseReasoningItem;
    assert.match(reasoning.encrypted_content!, /^ki2api\.reasoning\.v1\./);
    const call = fnCall(first.output)!;
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Oslo' });
    await client.responses.create({ model: 'claude-sonnet-4-6', store: false, tools: [weather], reasoning: { effort: 'medium' }, input: [{ role: 'user', content: 'Think' }, ...(first.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: 'cold' }] });
    assert.equal(stack.sim.requests.at(-1)!.violation, undefined);
    assert.ok(kiroBody(stack).conversationState.history!.some((e) => e.assistantResponseMessage?.reasoningContent));
    // A blob another gateway made is read as its summary, not trusted as a signature.
    const foreign = await client.responses.create({ model: 'claude-sonnet-4-6', store: false, reasoning: { effort: 'low' }, input: [{ role: 'user', content: 'a' }, { type: 'reasoning', id: 'rs_x', summary: [{ type: 'summary_text', text: 'Earlier thought.' }], encrypted_content: 'gAAAAB-openai-blob' }, { role: 'assistant', content: 'b' }, { role: 'user', content: 'c' }] });
    assert.equal(foreign.status, 'completed');
    assert.equal(stack.sim.requests.at(-1)!.violation, undefined);
  });

  it('freeform (custom) tools: Codex\'s apply_patch comes back as custom_tool_call with the raw input', async () => {
    const patch = '*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch';
    const applyPatch = { type: 'custom' as const, name: 'apply_patch', description: 'Use the apply_patch tool to edit files. This is a FREEFORM tool.', format: { type: 'grammar' as const, syntax: 'lark' as const, definition: 'start: begin_patch hunk+ end_patch' } };
    const stream = client.responses.stream({ model: MODEL, input: `Patch it [sim tool=apply_patch input=${JSON.stringify({ input: patch })}]`, tools: [applyPatch] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const response = await stream.finalResponse();
    const call = response.output.find((o) => o.type === 'custom_tool_call') as OpenAI.Responses.ResponseCustomToolCall;
    assert.equal(call.name, 'apply_patch');
    assert.equal(call.input, patch);
    assert.ok(types.includes('response.custom_tool_call_input.done'));
    const spec = kiroBody(stack).conversationState.currentMessage.userInputMessage.userInputMessageContext!.tools!.find((t) => t.toolSpecification.name === 'apply_patch')!;
    assert.match(spec.toolSpecification.description, /lark grammar:\nstart: begin_patch/);
    const next = await client.responses.create({ model: MODEL, previous_response_id: response.id, tools: [applyPatch], input: [{ type: 'custom_tool_call_output', call_id: call.call_id, output: 'Done!' }] });
    assert.match(next.output_text, /Done!/);
    const replayed = kiroBody(stack).conversationState.history!.at(-1)!.assistantResponseMessage!.toolUses![0]!;
    assert.deepEqual(replayed, { ...replayed, name: 'apply_patch', input: { input: patch } });
  });

  it('namespaced tools (Codex\'s multi_agent_v1): flat for Kiro, the call names its namespace', async () => {
    const namespace = { type: 'namespace', name: 'crm', description: 'Customer records.', tools: [{ type: 'function', name: 'lookup', description: 'Find a customer', parameters: { type: 'object', properties: { email: { type: 'string' } }, required: ['email'] } }] };
    const response = await client.responses.create({ model: MODEL, input: 'Find ann [sim tool=crm__lookup input={"email":"ann@example.com"}]', tools: [namespace as never] });
    const call = response.output.find((o) => o.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall & { namespace?: string };
    assert.deepEqual([call.namespace, call.name, call.arguments], ['crm', 'lookup', '{"email":"ann@example.com"}']);
    const spec = kiroBody(stack).conversationState.currentMessage.userInputMessage.userInputMessageContext!.tools![0]!.toolSpecification;
    assert.equal(spec.name, 'crm__lookup');
    assert.match(spec.description, /^\[crm: Customer records\.\]\nFind a customer/);
    const next = await client.responses.create({ model: MODEL, store: false, tools: [namespace as never], input: [{ role: 'user', content: 'Find ann' }, ...(response.output as OpenAI.Responses.ResponseInputItem[]), { type: 'function_call_output', call_id: call.call_id, output: 'Ann, customer since 2020' }] });
    assert.match(next.output_text, /customer since 2020/);
    assert.equal(kiroBody(stack).conversationState.history!.at(-1)!.assistantResponseMessage!.toolUses![0]!.name, 'crm__lookup');
  });

  it('retrieve, input_items.list (both orders), delete; item_reference resolves stored items', async () => {
    const first = await client.responses.create({ model: MODEL, input: [{ role: 'user', content: 'one' }], metadata: { run: 'a' } });
    const second = await client.responses.create({ model: MODEL, previous_response_id: first.id, input: 'two' });
    const got = await client.responses.retrieve(second.id);
    checkResponse(got);
    assert.deepEqual([got.id, got.output_text, got.previous_response_id], [second.id, second.output_text, first.id]);
    assert.deepEqual((await client.responses.retrieve(first.id)).metadata, { run: 'a' });
    const desc = await client.responses.inputItems.list(second.id);
    const texts = (page: typeof desc) => page.data.map((item) => { const content = (item as { content?: string | { text?: string }[] }).content; return typeof content === 'string' ? content : content?.[0]?.text; });
    assert.deepEqual(texts(desc), ['two', first.output_text, 'one']);
    assert.deepEqual(texts(await client.responses.inputItems.list(second.id, { order: 'asc' })), ['one', first.output_text, 'two']);
    const message = first.output.find((o) => o.type === 'message')!;
    await client.responses.create({ model: MODEL, input: [{ role: 'user', content: 'one' }, { type: 'item_reference', id: message.id }, { role: 'user', content: 'three' }] });
    const history = kiroBody(stack).conversationState.history!;
    assert.equal(history.at(-1)!.assistantResponseMessage!.content, first.output_text);
    assert.deepEqual(await client.responses.delete(second.id), { id: second.id, object: 'response', deleted: true });
    await assert.rejects(client.responses.retrieve(second.id), (error: InstanceType<typeof OpenAI.NotFoundError>) => error.status === 404);
    await assert.rejects(client.responses.create({ model: MODEL, previous_response_id: second.id, input: 'x' }), (error: InstanceType<typeof OpenAI.BadRequestError>) => {
      assert.equal(error.status, 400);
      assert.equal(error.code, 'previous_response_not_found');
      assert.equal(error.param, 'previous_response_id');
      return true;
    });
    await assert.rejects(client.responses.create({ model: MODEL, input: [{ type: 'item_reference', id: 'msg_nope' }] }), (error: InstanceType<typeof OpenAI.BadRequestError>) => error.status === 400 && error.code === 'item_not_found');
  });

  it('max_output_tokens that cuts the answer: status incomplete, incomplete_details max_output_tokens', async () => {
    const response = await client.responses.create({ model: MODEL, input: 'Go on and on', max_output_tokens: 5 });
    checkResponse(response);
    assert.equal(response.status, 'incomplete');
    assert.deepEqual(response.incomplete_details, { reason: 'max_output_tokens' });
    assert.equal(response.usage!.output_tokens, 5);
    const events = await rawEvents(await fetch(`${stack.url}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, input: 'x', stream: true, max_output_tokens: 5 }) }));
    assert.equal(events.at(-1)!.type, 'response.incomplete');
    checkEvent(events.at(-1)!);
  });

  it('images (data URL) reach Kiro as bytes; json_schema output is asked of the model', async () => {
    await client.responses.create({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_text', text: 'What is it?' }, { type: 'input_image', image_url: `data:image/png;base64,${PNG_1X1}`, detail: 'auto' }] }] });
    assert.equal(kiroBody(stack).conversationState.currentMessage.userInputMessage.images?.length, 1);
    await client.responses.create({ model: MODEL, input: 'A city', text: { format: { type: 'json_schema', name: 'city', schema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }, strict: true } } });
    assert.match(kiroBody(stack).conversationState.currentMessage.userInputMessage.content, /JSON/);
  });

  it('web_search runs through Kiro\'s search: a web_search_call item, then the answer', async () => {
    const stream = client.responses.stream({ model: MODEL, input: 'What changed? [sim tool=web_search input={"query":"ki2api release"}]', tools: [{ type: 'web_search' }] });
    const types: string[] = [];
    for await (const event of stream) {
      checkEvent(event);
      types.push(event.type);
    }
    const response = await stream.finalResponse();
    const search = response.output.find((o) => o.type === 'web_search_call') as { status: string; action: { query: string } };
    assert.deepEqual([search.status, search.action.query], ['completed', 'ki2api release']);
    assert.ok(types.includes('response.web_search_call.completed'));
    assert.equal((stack.sim.mcpCalls.at(-1)!.body as { params: { arguments: { query: string } } }).params.arguments.query, 'ki2api release');
    await assert.rejects(client.responses.create({ model: MODEL, input: 'x', tools: [{ type: 'file_search', vector_store_ids: ['vs_1'] }] }), (error: InstanceType<typeof OpenAI.BadRequestError>) => error.status === 400 && error.code === 'unsupported_tool' && /file_search/.test(error.message));
  });

  it('compaction: /v1/responses/compact returns a sealed compaction item, which later turns read as the summary', async () => {
    const compacted = await client.responses.compact({ model: MODEL, input: [{ role: 'user', content: 'We are building a parser.' }, { role: 'assistant', content: 'The lexer is done.' }] } as never);
    const output = (compacted as unknown as { output: { type: string; encrypted_content?: string }[] }).output;
    assert.equal(output.at(-1)!.type, 'compaction');
    assert.match(output.at(-1)!.encrypted_content!, /^ki2api\.compaction\.v1\./);
    assert.equal(output[0]!.type, 'message');
    const summary = kiroBody(stack);
    assert.equal(summary.conversationState.currentMessage.userInputMessage.content.includes('Write the summary now.'), true);
    await client.responses.create({ model: MODEL, input: [...(output as OpenAI.Responses.ResponseInputItem[]), { role: 'user', content: 'Continue.' }] });
    assert.match(JSON.stringify(kiroBody(stack).conversationState), /\[Summary of the conversation so far\]/);
    // A trigger at the end of the input asks for the same on /v1/responses: one compaction item.
    const triggered = await client.responses.create({ model: MODEL, input: [{ role: 'user', content: 'Long talk.' }, { type: 'compaction_trigger' } as never] });
    assert.deepEqual(triggered.output.map((o) => o.type), ['compaction']);
    await assert.rejects(client.responses.create({ model: MODEL, input: [{ type: 'compaction', encrypted_content: 'not-ours' } as never] }), (error: InstanceType<typeof OpenAI.BadRequestError>) => error.status === 400 && error.code === 'invalid_compaction');
  });

  it('background and websocket mode are refused plainly, so clients fall back to HTTP', async () => {
    await assert.rejects(client.responses.create({ model: MODEL, input: 'x', background: true }), (error: InstanceType<typeof OpenAI.BadRequestError>) => error.status === 400 && error.param === 'background');
    const upgrade = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${stack.url}/v1/responses`, { headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', authorization: `Bearer ${API_KEY}` } });
      req.on('response', (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('upgrade', () => reject(new Error('the gateway accepted a websocket')));
      req.on('error', reject);
      req.end();
    });
    assert.equal(upgrade.status, 400);
    const error = (JSON.parse(upgrade.body) as { error: { code: string; message: string } }).error;
    assert.equal(error.code, 'websocket_not_supported');
    assert.match(error.message, /supports_websockets = false/);
  });

  it('one prompt_cache_key (Codex\'s thread) is one Kiro conversation', async () => {
    await client.responses.create({ model: MODEL, input: 'x', prompt_cache_key: 'thread-1' });
    const first = kiroBody(stack).conversationState.conversationId;
    await client.responses.create({ model: MODEL, input: 'y', prompt_cache_key: 'thread-1' });
    assert.equal(kiroBody(stack).conversationState.conversationId, first);
    await client.responses.create({ model: MODEL, input: 'y', prompt_cache_key: 'thread-2' });
    assert.notEqual(kiroBody(stack).conversationState.conversationId, first);
  });
});

describe('Responses errors, as the openai SDK raises them and as Codex reads them', () => {
  const create = (client: OpenAI, body: Partial<OpenAI.Responses.ResponseCreateParamsNonStreaming> = {}) => client.responses.create({ model: MODEL, input: 'x', ...body });
  const expectError = async (promise: Promise<unknown>, status: number, code: string | null, message?: RegExp) => {
    await assert.rejects(promise, (error: InstanceType<typeof OpenAI.APIError>) => {
      assert.equal(error.status, status);
      assert.equal(error.code ?? null, code);
      if (message) assert.match(error.message, message);
      return true;
    });
  };

  it('400, 401, 404, 413, 429 with retry-after, 502, 503, 504 and context_length_exceeded, in OpenAI\'s envelope', async () => {
    await withStack({ BODY_LIMIT: '200kb', KIRO_FIRST_BYTE_TIMEOUT_MS: '1000' }, async (stack) => {
      const client = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
      await expectError(client.responses.create({ input: 'x' } as never), 400, 'invalid_value', /model/);
      await expectError(create(new OpenAI({ apiKey: 'wrong', baseURL: `${stack.url}/v1`, maxRetries: 0 })), 401, 'invalid_api_key');
      await expectError(create(client, { model: 'gpt-nope' }), 404, 'model_not_found', /gpt-nope/);
      await expectError(create(client, { input: 'x'.repeat(300_000) }), 413, 'request_too_large');
      await expectError(create(client, { tools: [{ type: 'function', parameters: {} } as never] }), 400, 'invalid_value');
      stack.sim.enqueue({ status: 500 });
      await expectError(create(client), 502, 'upstream_error');
      stack.sim.enqueue({ firstByteDelayMs: 2500, events: [{ text: 'late' }] });
      await expectError(create(client), 504, 'upstream_timeout');
      stack.sim.enqueue({ status: 400, errorBody: { message: 'Input is too long.', reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' } });
      await expectError(create(client), 400, 'context_length_exceeded');
      // These two rest the only account: throttling for its retry-after, quota until it resets.
      stack.sim.enqueue({ status: 429, headers: { 'retry-after': '1' } });
      await assert.rejects(create(client), (error: InstanceType<typeof OpenAI.RateLimitError>) => error.status === 429 && error.code === 'rate_limit_exceeded' && error.headers?.get('retry-after') === '1');
      await new Promise((resolve) => setTimeout(resolve, 1100));
      stack.sim.enqueue({ status: 402, errorBody: { message: 'limit', reason: 'MONTHLY_REQUEST_COUNT' } });
      await expectError(create(client), 429, 'insufficient_quota');
    });
  });

  it('after the stream began, a failure is response.failed with the code Codex acts on and the delay it parses', async () => {
    await withStack({ STREAM_KEEPALIVE_MS: '100' }, async (stack) => {
      const stream = async (enqueue: Parameters<Stack['sim']['enqueue']>[0]) => {
        stack.sim.enqueue(enqueue);
        const res = await fetch(`${stack.url}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, input: 'x', stream: true }) });
        assert.equal(res.status, 200);
        const events = await rawEvents(res);
        const last = events.at(-1)! as unknown as { type: string; response: { status: string; error: { code: string; message: string } } };
        checkEvent(last);
        assert.equal(last.type, 'response.failed');
        assert.equal(last.response.status, 'failed');
        return last.response.error;
      };
      assert.equal((await stream({ firstByteDelayMs: 400, status: 400, errorBody: { message: 'Input is too long.', reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' } })).code, 'context_length_exceeded');
      assert.equal((await stream({ events: [{ text: 'partial ' }, { exception: 'InternalServerException', message: 'boom' }] })).code, 'server_error');
      // The SDK's final response is the failed one, with what was said before the failure.
      stack.sim.enqueue({ events: [{ text: 'partial ' }, { exception: 'InternalServerException', message: 'boom' }] });
      const client = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
      const failed = await client.responses.stream({ model: MODEL, input: 'x' }).finalResponse();
      assert.deepEqual([failed.status, failed.error?.code], ['failed', 'server_error']);
      assert.match(failed.error!.message, /InternalServerException: boom/);
      // Last: a 429 rests the only account.
      const limited = await stream({ firstByteDelayMs: 400, status: 429, headers: { 'retry-after': '7' } });
      assert.equal(limited.code, 'rate_limit_exceeded');
      assert.match(limited.message, /try again in 7s/);
    });
    await withStack({ STREAM_KEEPALIVE_MS: '100' }, async (stack) => {
      stack.sim.enqueue({ firstByteDelayMs: 400, status: 402, errorBody: { message: 'limit', reason: 'MONTHLY_REQUEST_COUNT' } });
      const res = await fetch(`${stack.url}/v1/responses`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, input: 'x', stream: true }) });
      const last = (await rawEvents(res)).at(-1) as unknown as { type: string; response: { error: { code: string } } };
      assert.deepEqual([res.status, last.type, last.response.error.code], [200, 'response.failed', 'insufficient_quota']);
    });
  });

  it('stored responses belong to the API key that made them', async () => {
    await withStack({ API_KEY: `${API_KEY},second-key-0123456789` }, async (stack) => {
      const mine = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
      const theirs = new OpenAI({ apiKey: 'second-key-0123456789', baseURL: `${stack.url}/v1`, maxRetries: 0 });
      const response = await create(mine);
      assert.equal((await mine.responses.retrieve(response.id)).id, response.id);
      await expectError(theirs.responses.retrieve(response.id), 404, 'response_not_found');
      await expectError(create(theirs, { previous_response_id: response.id }), 400, 'previous_response_not_found');
      await expectError(theirs.responses.delete(response.id), 404, 'response_not_found');
      assert.equal((await mine.responses.retrieve(response.id)).id, response.id);
    });
  });

  it('the store forgets after RESPONSES_TTL_SECONDS and keeps at most RESPONSES_MAX_STORED', async () => {
    await withStack({ RESPONSES_TTL_SECONDS: '1', RESPONSES_MAX_STORED: '2' }, async (stack) => {
      const client = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
      const [a, b, c] = [await create(client), await create(client), await create(client)];
      await expectError(client.responses.retrieve(a.id), 404, 'response_not_found');
      assert.equal((await client.responses.retrieve(c.id)).id, c.id);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await expectError(client.responses.retrieve(b.id), 404, 'response_not_found');
    });
  });
});

describe('the AI SDK\'s default OpenAI provider (Responses) against the gateway', () => {
  let stack: Stack;
  let openai: ReturnType<typeof createOpenAI>;
  before(async () => {
    stack = await startStack({}, { strict: true });
    openai = createOpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1` });
  });
  after(() => stack.close());

  const weatherTool = () =>
    tool({
      description: 'Weather for a city',
      inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
      execute: async ({ city }) => `${city}: 18C`,
    });

  it('generateText', async () => {
    const result = await generateText({ model: openai(MODEL), prompt: 'Hello there', maxRetries: 0 });
    assert.match(result.text, /simulated answer/);
    assert.equal(result.finishReason, 'stop');
    assert.ok((result.usage.inputTokens ?? 0) > 0 && (result.usage.outputTokens ?? 0) > 0);
    assert.match(result.response.id, /^resp_/);
  });

  it('streamText through a multi-step tool loop with the default store (item references), no stream errors', async () => {
    const errors: unknown[] = [];
    const result = streamText({ model: openai(MODEL), prompt: 'Weather in Paris?', maxRetries: 0, stopWhen: stepCountIs(3), tools: { get_weather: weatherTool() }, onError: ({ error }) => void errors.push(error) });
    let text = '';
    for await (const part of result.fullStream) if (part.type === 'text-delta') text += part.text;
    assert.deepEqual(errors, []);
    assert.match(text, /example: 18C/);
    assert.equal(await result.finishReason, 'stop');
    assert.equal((await result.steps).length, 2);
    assert.deepEqual(stack.sim.requests.map((r) => r.violation).filter(Boolean), []);
  });

  it('the same loop with store: false (everything resent), and reasoning on a thinking model', async () => {
    const result = await generateText({
      model: openai('claude-sonnet-4-6'),
      prompt: 'Weather in Oslo?',
      maxRetries: 0,
      stopWhen: stepCountIs(3),
      tools: { get_weather: weatherTool() },
      providerOptions: { openai: { store: false, forceReasoning: true, reasoningEffort: 'medium', reasoningSummary: 'auto', include: ['reasoning.encrypted_content'] } },
    });
    assert.match(result.text, /example: 18C/);
    assert.ok(result.reasoningText && result.reasoningText.length > 0);
    assert.equal(result.steps.length, 2);
    assert.deepEqual(stack.sim.requests.map((r) => r.violation).filter(Boolean), []);
    assert.ok(kiroBody(stack).conversationState.history!.some((e) => e.assistantResponseMessage?.reasoningContent), 'the sealed thinking came back and went to Kiro signed');
  });
});
