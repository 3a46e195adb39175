import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { API_KEY, startStack, type Stack } from './helpers.js';
import { assertConforms, SKIP_REASON, specAvailable } from './conformance.js';

// The official openai SDK (no one here wrote it) against the real gateway and the simulator.

describe('official openai SDK', () => {
  let stack: Stack;
  let client: OpenAI;
  const warnings: string[] = [];
  const originalWarn = console.warn;
  before(async () => {
    stack = await startStack();
    client = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
    console.warn = (...args: unknown[]) => void warnings.push(args.map(String).join(' '));
  });
  after(async () => {
    console.warn = originalWarn;
    await stack.close();
  });
  const conforms = (t: { skip: (m: string) => void }, name: string, value: unknown) => {
    if (!specAvailable()) return t.skip(SKIP_REASON);
    assertConforms(name, value);
  };

  it('models.list() and models.retrieve()', async (t) => {
    const page = await client.models.list();
    assert.ok(page.data.some((m) => m.id === 'claude-sonnet-4-5-20250929'));
    const model = await client.models.retrieve('gpt-4o');
    assert.equal(model.id, 'gpt-4o');
    conforms(t, 'Model', model);
    const raw = await (await fetch(`${stack.url}/v1/models`, { headers: { authorization: `Bearer ${API_KEY}` } })).json();
    conforms(t, 'ListModelsResponse', raw);
  });

  it('chat.completions.create() without stream', async (t) => {
    const completion = await client.chat.completions.create({
      model: 'claude-sonnet-4-5-20250929',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Say hi' },
      ],
    });
    assert.equal(completion.object, 'chat.completion');
    assert.match(completion.choices[0]!.message.content ?? '', /simulated/);
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
    assert.ok(completion.usage!.prompt_tokens > 0 && completion.usage!.completion_tokens > 0);
    conforms(t, 'CreateChatCompletionResponse', completion);
  });

  it('chat.completions.create() with stream and include_usage', async (t) => {
    const stream = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'Stream please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.equal(chunks[0]!.choices[0]!.delta.role, 'assistant');
    const usageChunk = chunks.at(-1)!;
    assert.deepEqual(usageChunk.choices, []);
    assert.ok(usageChunk.usage!.total_tokens > 0);
    assert.equal(chunks.at(-2)!.choices[0]!.finish_reason, 'stop');
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.match(text, /simulated answer/);
    for (const chunk of chunks) conforms(t, 'CreateChatCompletionStreamResponse', chunk);
  });

  it('streamed and non-streamed answers report the same usage', async () => {
    const messages = [{ role: 'user' as const, content: 'Same question twice' }];
    const plain = await client.chat.completions.create({ model: 'gpt-4o', messages });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages, stream: true, stream_options: { include_usage: true } });
    let usage;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    assert.deepEqual(usage, plain.usage);
  });

  it('the chat.completions.stream() helper and finalChatCompletion()', async () => {
    const runner = client.chat.completions.stream({ model: 'claude-sonnet-4-5-20250929', messages: [{ role: 'user', content: 'helper' }], stream_options: { include_usage: true } });
    let deltas = '';
    runner.on('content', (delta) => (deltas += delta));
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0]!.message.content, deltas);
    assert.equal(final.choices[0]!.finish_reason, 'stop');
    assert.ok(final.usage!.completion_tokens > 0);
  });

  it('tool calls stream into a final message the helper accepts', async () => {
    const runner = client.chat.completions.stream({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
    });
    const final = await runner.finalChatCompletion();
    const choice = final.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls!.length, 1);
    const call = choice.message.tool_calls![0]!;
    assert.equal(call.type === 'function' && call.function.name, 'get_weather');
    assert.deepEqual(call.type === 'function' && JSON.parse(call.function.arguments), { city: 'example' });
  });

  it('raises typed errors: BadRequestError with param, AuthenticationError with code, NotFoundError', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [] }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'messages');
    const anonymous = new OpenAI({ apiKey: 'wrong', baseURL: `${stack.url}/v1`, maxRetries: 0 });
    await assert.rejects(anonymous.models.list(), (e: unknown) => e instanceof OpenAI.AuthenticationError && e.code === 'invalid_api_key');
    await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found');
  });

  it('an upstream error mid-stream surfaces as an APIError from the iterator', async () => {
    stack.sim.enqueue({ events: [{ text: 'a' }, { text: 'b' }], corruptFrame: 1 });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stream: true });
    await assert.rejects(
      (async () => {
        for await (const _ of stream) void _;
      })(),
      (e: unknown) => e instanceof OpenAI.APIError && /corrupt/.test((e as Error).message),
    );
  });

  it('error bodies conform to OpenAI\'s ErrorResponse', async (t) => {
    const res = await fetch(`${stack.url}/v1/models/nope`, { headers: { authorization: `Bearer ${API_KEY}` } });
    conforms(t, 'ErrorResponse', await res.json());
  });

  it('printed no warnings', () => {
    assert.deepEqual(warnings, []);
  });
});

describe('the conformance check itself', () => {
  it('rejects what strict clients reject (missing refusal, float created, chunk tool call without index)', (t) => {
    if (!specAvailable()) return t.skip(SKIP_REASON);
    const good = {
      id: 'x',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    };
    assertConforms('CreateChatCompletionResponse', good);
    const noRefusal = structuredClone(good) as { choices: { message: Record<string, unknown> }[] };
    delete noRefusal.choices[0]!.message.refusal;
    assert.throws(() => assertConforms('CreateChatCompletionResponse', noRefusal));
    assert.throws(() => assertConforms('CreateChatCompletionResponse', { ...good, created: 1.5 }));
    const chunk = { id: 'x', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { tool_calls: [{ id: 'c', function: { arguments: '' } }] }, finish_reason: null }] };
    assert.throws(() => assertConforms('CreateChatCompletionStreamResponse', chunk));
  });
});
