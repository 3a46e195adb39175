import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createAnthropic } from '@ai-sdk/anthropic';
import Anthropic from '@anthropic-ai/sdk';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { PNG_1X1 } from './fixtures/images.js';
import { API_KEY, startStack, withStack, type Stack } from './helpers.js';

// The official Anthropic SDK and the AI SDK's Anthropic provider against the gateway and the
// simulator in strict mode, over loopback: what Claude Code's traffic looks like.

type Json = Record<string, unknown>;
type KiroBody = { conversationState: { conversationId: string; currentMessage: { userInputMessage: Json }; history?: Json[] }; additionalModelRequestFields?: Json };
const kiroBody = (stack: Stack, back = 1) => stack.sim.requests.at(-back)!.body as KiroBody;
const weather = { name: 'get_weather', description: 'Current weather for a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };

describe('the Anthropic SDK against the gateway (strict simulator)', () => {
  let stack: Stack;
  let client: Anthropic;
  before(async () => {
    stack = await startStack({}, { strict: true });
    client = new Anthropic({ apiKey: API_KEY, baseURL: stack.url, maxRetries: 0 });
  });
  after(() => stack.close());

  it('messages.create: a text answer with usage, both key headers accepted, any anthropic-version and beta', async () => {
    const message = await client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 256, system: [{ type: 'text', text: 'Be brief.' }], messages: [{ role: 'user', content: 'Hello there' }] });
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.stop_reason, 'end_turn');
    assert.match((message.content[0] as { text: string }).text, /simulated answer/);
    assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
    const raw = await fetch(`${stack.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'x-api-key': API_KEY, 'anthropic-version': '2099-01-01', 'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14,something-new-2027-01-01', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-haiku-4-5-20251001', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }], context_management: { edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] }, temperature: 1 }),
    });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('x-ki2api-ignored-betas'), 'claude-code-20250219,something-new-2027-01-01');
    assert.equal(raw.headers.get('x-ki2api-ignored-params'), 'temperature,context_management');
    assert.equal((await fetch(`${stack.url}/`, { method: 'HEAD' })).status, 200);
  });

  it('messages.stream with finalMessage(); every event named, ping while Kiro is silent, no [DONE]', async () => {
    const final = await client.messages.stream({ model: 'claude-sonnet-4-5-20250929', max_tokens: 256, messages: [{ role: 'user', content: 'Stream please' }] }).finalMessage();
    assert.match((final.content[0] as { text: string }).text, /simulated answer/);
    assert.equal(final.stop_reason, 'end_turn');
    const quiet = await startStack({ STREAM_KEEPALIVE_MS: '100' });
    try {
      quiet.sim.enqueue({ firstByteDelayMs: 350, events: [{ text: 'late' }] });
      const res = await fetch(`${quiet.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'x' }] }) });
      const text = await res.text();
      assert.match(text, /event: ping\ndata: {"type":"ping"}/);
      assert.ok(!text.includes('[DONE]'));
      for (const block of text.trim().split('\n\n')) assert.match(block, /^event: [a-z_]+\ndata: \{/);
    } finally {
      await quiet.close();
    }
  });

  it('countTokens errs high over the same count as usage', async () => {
    const params = { model: 'claude-sonnet-4-5-20250929', system: 'You are a careful agent.', tools: [weather], messages: [{ role: 'user' as const, content: 'Weather in Paris and in Rome, please, in detail.' }] };
    const counted = await client.messages.countTokens(params);
    const message = await client.messages.create({ ...params, max_tokens: 100 });
    assert.ok(counted.input_tokens >= message.usage.input_tokens, `${counted.input_tokens} < ${message.usage.input_tokens}`);
    assert.ok(counted.input_tokens <= Math.ceil(message.usage.input_tokens * 1.1) + 1);
  });

  it('two tool calls in one answer, then the results: stop_reason tool_use, inputs whole', async () => {
    stack.sim.enqueue({
      events: [
        { text: 'Checking both.' },
        { toolUse: { name: 'get_weather', toolUseId: 'tooluse_a', input: '{"city":' } },
        { toolUse: { name: 'get_weather', toolUseId: 'tooluse_a', input: '"Paris"}', stop: true } },
        { toolUse: { name: 'get_weather', toolUseId: 'tooluse_b', input: '{"city":"Rome"}', stop: true } },
      ],
    });
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5-20250929', max_tokens: 256, tools: [weather], messages: [{ role: 'user', content: 'Weather in Paris and Rome?' }] });
    const message = await stream.finalMessage();
    assert.equal(message.stop_reason, 'tool_use');
    const uses = message.content.filter((b) => b.type === 'tool_use') as { id: string; input: unknown }[];
    assert.deepEqual(uses.map((u) => u.input), [{ city: 'Paris' }, { city: 'Rome' }]);
    const next = await client.messages.create({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 256,
      tools: [weather],
      messages: [
        { role: 'user', content: 'Weather in Paris and Rome?' },
        { role: 'assistant', content: message.content as never },
        { role: 'user', content: uses.map((u) => ({ type: 'tool_result' as const, tool_use_id: u.id, content: `${(u.input as { city: string }).city}: sunny` })) },
      ],
    });
    assert.match((next.content[0] as { text: string }).text, /Paris: sunny.*Rome: sunny/);
    assert.equal(stack.sim.requests.at(-1)!.violation, undefined);
  });

  it('a 20-turn tool loop with native thinking on: every thinking block signed by Kiro and taken back, strict all the way', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Read the files one by one.' }];
    const readFile = { name: 'read_file', description: 'Read a file', input_schema: { type: 'object' as const, properties: { path: { type: 'string' } }, required: ['path'] } };
    const before = stack.sim.requests.length;
    let toolTurns = 0;
    for (let turn = 0; turn < 20; turn++) {
      const message = await client.messages.stream({ model: 'claude-opus-4-6', max_tokens: 4000, thinking: { type: 'adaptive' }, tools: [readFile], messages }).finalMessage();
      const thinking = message.content.find((b) => b.type === 'thinking') as { thinking: string; signature: string } | undefined;
      assert.ok(thinking && thinking.thinking.length > 0 && thinking.signature.length > 20, `turn ${turn}: ${JSON.stringify(message.content)}`);
      messages.push({ role: 'assistant', content: message.content as never });
      if (message.stop_reason === 'tool_use') {
        toolTurns++;
        const use = message.content.find((b) => b.type === 'tool_use') as { id: string };
        messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: `contents of file ${turn}` }] });
      } else {
        messages.push({ role: 'user', content: `Next one (${turn}).` });
      }
    }
    assert.ok(toolTurns >= 10);
    const sent = stack.sim.requests.slice(before);
    assert.equal(sent.length, 20);
    assert.deepEqual(sent.map((r) => r.violation).filter(Boolean), []);
    // Kiro got every earlier thinking block back, nested and signed.
    const history = (sent.at(-1)!.body as KiroBody).conversationState.history!;
    const replayed = history.filter((e) => (e.assistantResponseMessage as Json | undefined)?.reasoningContent);
    assert.equal(replayed.length, 19);
    assert.deepEqual(Object.keys((replayed[0]!.assistantResponseMessage as { reasoningContent: Json }).reasoningContent), ['reasoningText']);
    assert.deepEqual((sent.at(-1)!.body as KiroBody).additionalModelRequestFields?.thinking, { type: 'adaptive', display: 'summarized' });
  });

  it('a signature Kiro did not make (another gateway\'s) is not an error: the request goes again without it', async () => {
    const before = stack.sim.requests.length;
    const message = await client.messages.create({
      model: 'claude-opus-4-6',
      max_tokens: 500,
      thinking: { type: 'adaptive' },
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'made up', signature: 'AAAAforged' }, { type: 'text', text: 'Hello.' }] },
        { role: 'user', content: 'Go on' },
      ],
    });
    assert.equal(message.stop_reason, 'end_turn');
    const sent = stack.sim.requests.slice(before);
    assert.deepEqual(sent.map((r) => r.violation), ['THINKING_SIGNATURE_INVALID', undefined]);
  });

  it('images (base64, the type taken from the bytes), stop sequences and max_tokens', async () => {
    const seen = await client.messages.create({
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 256,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: PNG_1X1 } }] }],
    });
    assert.match((seen.content[0] as { text: string }).text, /I received 1 image/);
    assert.deepEqual(kiroBody(stack).conversationState.currentMessage.userInputMessage.images, [{ format: 'png', source: { bytes: PNG_1X1 } }]);

    stack.sim.enqueue({ events: [{ text: 'one two ' }, { text: 'three STOP four' }] });
    const stopped = await client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 256, stop_sequences: ['STOP'], messages: [{ role: 'user', content: 'count' }] });
    assert.equal(stopped.stop_reason, 'stop_sequence');
    assert.equal(stopped.stop_sequence, 'STOP');
    assert.equal((stopped.content[0] as { text: string }).text, 'one two three ');

    const capped = await client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 5, messages: [{ role: 'user', content: 'Say a lot' }] });
    assert.equal(capped.stop_reason, 'max_tokens');
    assert.ok(capped.usage.output_tokens <= 5);
  });

  it('a tool input Kiro cut off is dropped and the answer ends with max_tokens, so Claude Code asks for smaller pieces', async () => {
    stack.sim.enqueue({ events: [{ text: 'Writing the file.' }, { toolUse: { name: 'Write', toolUseId: 'tooluse_w', input: '{"file_path":"/a.ts","content":"export const' } }] });
    const message = await client.messages.stream({ model: 'claude-sonnet-4-5-20250929', max_tokens: 32_000, tools: [{ name: 'Write', description: 'Write a file', input_schema: { type: 'object', properties: { file_path: { type: 'string' }, content: { type: 'string' } } } }], messages: [{ role: 'user', content: 'write it' }] }).finalMessage();
    assert.equal(message.stop_reason, 'max_tokens');
    assert.deepEqual(message.content.map((b) => b.type), ['text']);
  });

  it('Kiro\'s own token figures and cache numbers when it reports them, never invented ones', async () => {
    const plain = await client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 100, messages: [{ role: 'user', content: 'plain' }] });
    assert.equal(plain.usage.cache_read_input_tokens, 0);
    assert.equal(plain.usage.cache_creation_input_tokens, 0);
    stack.sim.enqueue({ events: [{ text: 'cached' }, { tokenUsage: { uncachedInputTokens: 140, cacheReadInputTokens: 18_300, cacheWriteInputTokens: 60, outputTokens: 9 } }] });
    const cached = await client.messages.stream({ model: 'claude-sonnet-4-5-20250929', max_tokens: 100, messages: [{ role: 'user', content: 'again' }] }).finalMessage();
    assert.deepEqual([cached.usage.input_tokens, cached.usage.cache_read_input_tokens, cached.usage.cache_creation_input_tokens, cached.usage.output_tokens], [140, 18_300, 60, 9]);
  });

  it('web search: Claude Code\'s search request, a search the model asks for, and an account that may not search', async () => {
    const direct = await client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 500, tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 8 }], messages: [{ role: 'user', content: 'Perform a web search for the query: rust 1.95 release date' }] });
    assert.deepEqual(direct.content.map((b) => b.type), ['server_tool_use', 'web_search_tool_result', 'text']);
    assert.deepEqual((direct.content[0] as { input: unknown }).input, { query: 'rust 1.95 release date' });
    const results = (direct.content[1] as { content: { url: string }[] }).content;
    assert.equal(results[0]!.url, 'https://example.com/search?q=rust%201.95%20release%20date');
    assert.match((direct.content[2] as { text: string }).text, /A simulated page about rust 1\.95/);
    assert.equal(direct.usage.server_tool_use?.web_search_requests, 1);
    const mcp = stack.sim.mcpCalls.at(-1)!.body as { method: string; params: { arguments: { query: string } }; profileArn: string };
    assert.deepEqual([mcp.method, mcp.params.arguments.query], ['tools/call', 'rust 1.95 release date']);
    assert.match(mcp.profileArn, /^arn:aws:codewhisperer:/);

    const asked = await client.messages.stream({ model: 'claude-sonnet-4-5-20250929', max_tokens: 500, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'What changed? [sim tool=web_search input={"query":"ki2api release"}]' }] }).finalMessage();
    assert.deepEqual(asked.content.map((b) => b.type), ['text', 'server_tool_use', 'web_search_tool_result', 'text']);
    assert.equal(asked.stop_reason, 'end_turn');

    stack.sim.mcp = { refuse: true };
    try {
      const refused = await client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 500, tools: [{ type: 'web_search_20250305', name: 'web_search' }], messages: [{ role: 'user', content: 'Perform a web search for the query: anything' }] });
      assert.deepEqual((refused.content[1] as { content: unknown }).content, { type: 'web_search_tool_result_error', error_code: 'unavailable' });
      assert.match((refused.content[2] as { text: string }).text, /not available for this account/);
    } finally {
      stack.sim.mcp = {};
    }
  });

  it('models in Anthropic\'s shape; Claude Code\'s ids resolve ([1m] suffixes, the dated haiku)', async () => {
    const page = await client.models.list();
    assert.ok(page.data.some((m) => m.id === 'claude-haiku-4-5-20251001'));
    assert.equal(page.data[0]!.type, 'model');
    assert.ok(page.data[0]!.display_name.length > 0);
    const one = await client.models.retrieve('claude-sonnet-4-6');
    assert.equal(one.display_name, 'Claude Sonnet 4.6');
    const long = await client.messages.create({ model: 'claude-sonnet-4-6[1m]', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(long.model, 'claude-sonnet-4-6[1m]');
    assert.equal(kiroBody(stack).conversationState.currentMessage.userInputMessage.modelId, 'claude-sonnet-4.6');
    const openai = (await (await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { object: string };
    assert.equal(openai.object, 'list');
  });

  it('one Claude Code session is one Kiro conversation', async () => {
    const send = (session: string) =>
      fetch(`${stack.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'x-claude-code-session-id': session, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 20, messages: [{ role: 'user', content: 'x' }] }) });
    await send('session-one');
    const first = kiroBody(stack).conversationState.conversationId;
    await send('session-one');
    assert.equal(kiroBody(stack).conversationState.conversationId, first);
    await send('session-two');
    assert.notEqual(kiroBody(stack).conversationState.conversationId, first);
    assert.match(first, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('a failure after the stream started is one error event the SDK raises', async () => {
    stack.sim.enqueue({ events: [{ text: 'partial ' }, { exception: 'InternalServerException', message: 'boom' }] });
    await assert.rejects(client.messages.stream({ model: 'claude-sonnet-4-5-20250929', max_tokens: 100, messages: [{ role: 'user', content: 'x' }] }).finalMessage(), (error: InstanceType<typeof Anthropic.APIError>) => {
      assert.match(error.message, /InternalServerException: boom/);
      return true;
    });
  });
});

describe('every Anthropic error type, as the SDK raises it', () => {
  const create = (client: Anthropic, body: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) =>
    client.messages.create({ model: 'claude-sonnet-4-5-20250929', max_tokens: 50, messages: [{ role: 'user', content: 'x' }], ...body });
  const expectError = async (promise: Promise<unknown>, status: number, type: string, message?: RegExp) => {
    await assert.rejects(promise, (error: InstanceType<typeof Anthropic.APIError>) => {
      assert.equal(error.status, status);
      const body = (error.error as { error: { type: string; message: string } }).error;
      assert.equal(body.type, type);
      if (message) assert.match(body.message, message);
      return true;
    });
  };

  it('400, 401, 404, 413, 429 (with retry-after), 500s, 529, 503, 504 and prompt too long', async () => {
    await withStack({ BODY_LIMIT: '200kb', KIRO_FIRST_BYTE_TIMEOUT_MS: '1000' }, async (stack) => {
      const client = new Anthropic({ apiKey: API_KEY, baseURL: stack.url, maxRetries: 0 });
      await expectError(client.messages.create({ model: 'claude-sonnet-4-5-20250929', messages: [{ role: 'user', content: 'x' }] } as never), 400, 'invalid_request_error', /max_tokens/);
      await expectError(create(new Anthropic({ apiKey: 'wrong', baseURL: stack.url, maxRetries: 0 })), 401, 'authentication_error');
      await expectError(create(client, { model: 'claude-nope-9' }), 404, 'not_found_error', /claude-nope-9/);
      await expectError(create(client, { messages: [{ role: 'user', content: 'x'.repeat(300_000) }] }), 413, 'request_too_large');
      stack.sim.enqueue({ status: 429, headers: { 'retry-after': '3' } });
      await assert.rejects(create(client), (error: InstanceType<typeof Anthropic.APIError>) => error.status === 429 && (error.error as { error: { type: string } }).error.type === 'rate_limit_error' && error.headers?.get('retry-after') === '3');
      await new Promise((resolve) => setTimeout(resolve, 3100));
      stack.sim.enqueue({ status: 500 });
      await expectError(create(client), 502, 'api_error');
      stack.sim.enqueue({ status: 500, errorBody: { message: 'INSUFFICIENT_MODEL_CAPACITY', reason: 'INSUFFICIENT_MODEL_CAPACITY' } });
      await expectError(create(client), 529, 'overloaded_error');
      stack.sim.enqueue({ firstByteDelayMs: 2500, events: [{ text: 'late' }] });
      await expectError(create(client), 504, 'timeout_error');
      stack.sim.enqueue({ status: 400, errorBody: { message: 'Input is too long.', reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' } });
      await expectError(create(client), 400, 'invalid_request_error', /^prompt is too long: \d+ tokens > 200000 maximum/);
    });
    const dir = mkdtempSync(join(tmpdir(), 'ki2api-anth-'));
    try {
      await withStack({ KIRO_ACCESS_TOKEN: undefined, KIRO_TOKEN_FILE: join(dir, 'none.json') }, async (stack) => {
        await expectError(create(new Anthropic({ apiKey: API_KEY, baseURL: stack.url, maxRetries: 0 })), 503, 'api_error', /log in/i);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a stream that Kiro refuses after it started ends in one error event with the type', async () => {
    await withStack({ STREAM_KEEPALIVE_MS: '100' }, async (stack) => {
      stack.sim.enqueue({ firstByteDelayMs: 400, status: 400, errorBody: { message: 'Input is too long.', reason: 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' } });
      const res = await fetch(`${stack.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'x' }] }) });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.match(text, /event: error\ndata: {"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: \d+ tokens > 200000 maximum/);
    });
  });

  it('image URLs go through the same network rules as everywhere', async () => {
    await withStack({}, async (stack) => {
      const client = new Anthropic({ apiKey: API_KEY, baseURL: stack.url, maxRetries: 0 });
      await expectError(create(client, { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'http://169.254.169.254/latest/meta-data' } }] }] }), 400, 'invalid_request_error', /private network/);
    });
  });
});

describe('sticky accounts', () => {
  it('a session stays on one account while it is healthy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki2api-sticky-'));
    const later = new Date(Date.now() + 3_600_000).toISOString();
    for (const name of ['a', 'b', 'c']) writeFileSync(join(dir, `${name}.json`), JSON.stringify({ accessToken: `aoa-${name}`, refreshToken: `aor-${name}`, authMethod: 'social', provider: 'Google', expiresAt: later }));
    try {
      await withStack({ KIRO_ACCESS_TOKEN: undefined, KIRO_TOKEN_FILE: dir }, async (stack) => {
        const tokens: string[] = [];
        for (let i = 0; i < 6; i++) {
          await fetch(`${stack.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'x-claude-code-session-id': 'sticky-session', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 20, messages: [{ role: 'user', content: 'x' }] }) });
          tokens.push(String(stack.sim.requests.at(-1)!.headers.authorization));
        }
        assert.equal(new Set(tokens).size, 1, tokens.join(' '));
        // Without a session, requests still spread over the accounts.
        const spread = new Set<string>();
        for (let i = 0; i < 3; i++) {
          await fetch(`${stack.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 20, messages: [{ role: 'user', content: 'x' }] }) });
          spread.add(String(stack.sim.requests.at(-1)!.headers.authorization));
        }
        assert.equal(spread.size, 3);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('@ai-sdk/anthropic against the gateway', () => {
  let stack: Stack;
  let anthropic: ReturnType<typeof createAnthropic>;
  before(async () => {
    stack = await startStack({}, { strict: true });
    anthropic = createAnthropic({ apiKey: API_KEY, baseURL: `${stack.url}/v1` });
  });
  after(() => stack.close());

  it('generateText', async () => {
    const result = await generateText({ model: anthropic('claude-sonnet-4-5-20250929'), prompt: 'Hello there', maxRetries: 0 });
    assert.match(result.text, /simulated answer/);
    assert.equal(result.finishReason, 'stop');
    assert.ok((result.usage.inputTokens ?? 0) > 0);
  });

  it('streamText through a multi-step tool loop, with no stream errors', async () => {
    const errors: unknown[] = [];
    const result = streamText({
      model: anthropic('claude-sonnet-4-5-20250929'),
      prompt: 'Weather in Paris?',
      maxRetries: 0,
      stopWhen: stepCountIs(3),
      tools: {
        get_weather: tool({
          description: 'Weather for a city',
          inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
          execute: async ({ city }) => `${city}: 18C`,
        }),
      },
      onError: ({ error }) => void errors.push(error),
    });
    let text = '';
    for await (const part of result.fullStream) if (part.type === 'text-delta') text += part.text;
    assert.deepEqual(errors, []);
    assert.match(text, /example: 18C/);
    assert.equal(await result.finishReason, 'stop');
    assert.equal((await result.steps).length, 2);
    assert.deepEqual(stack.sim.requests.map((r) => r.violation).filter(Boolean), []);
  });
});
