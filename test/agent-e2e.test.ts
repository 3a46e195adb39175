import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { PNG_1X1 } from './fixtures/images.js';
import { API_KEY, startStack, type Stack } from './helpers.js';

// Agent-style sessions through real clients, against the simulator in strict mode: it rejects
// anything real Kiro would answer with "Improperly formed request".

const weather: ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

describe('agent sessions (strict simulator)', () => {
  let stack: Stack;
  let client: OpenAI;
  let imageServer: Server;
  let imageUrl = '';
  before(async () => {
    stack = await startStack({ IMAGE_URL_ALLOW_PRIVATE: 'true' }, { strict: true });
    client = new OpenAI({ apiKey: API_KEY, baseURL: `${stack.url}/v1`, maxRetries: 0 });
    imageServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from(PNG_1X1, 'base64')));
    await new Promise<void>((resolve) => imageServer.listen(0, '127.0.0.1', resolve));
    imageUrl = `http://127.0.0.1:${(imageServer.address() as AddressInfo).port}/cat.png`;
  });
  after(async () => {
    imageServer.closeAllConnections();
    imageServer.close();
    await stack.close();
  });
  const noViolations = () => assert.deepEqual(stack.sim.requests.filter((r) => r.violation).map((r) => r.violation), []);

  it('one tool call: streamed deltas the helper assembles, and the same call without streaming', async () => {
    const final = await client.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weather] }).finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0]!;
    assert.equal(call.type, 'function');
    assert.equal(call.type === 'function' && call.function.name, 'get_weather');
    assert.match(call.id, /^tooluse_/);
    const plain = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools: [weather] });
    assert.equal(plain.choices[0]!.finish_reason, 'tool_calls');
    assert.equal(plain.choices[0]!.message.tool_calls!.length, 1);
    noViolations();
  });

  it('two parallel tool calls get indices 0 and 1, with text before them kept', async () => {
    stack.sim.enqueue({
      events: [
        { text: 'Checking both.' },
        { toolUse: { name: 'get_weather', toolUseId: 'tu_1', input: '{"city":' } },
        { toolUse: { name: 'get_weather', toolUseId: 'tu_1', input: '"Paris"}' } },
        { toolUse: { name: 'get_weather', toolUseId: 'tu_1', stop: true } },
        { toolUse: { name: 'get_weather', toolUseId: 'tu_2', input: '{"city":"Rome"}' } },
        { toolUse: { name: 'get_weather', toolUseId: 'tu_2', stop: true } },
      ],
      split: 7,
    });
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Paris and Rome?' }], tools: [weather], stream: true });
    const indices: number[] = [];
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk);
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) indices.push(call.index);
    }
    assert.deepEqual([...new Set(indices)], [0, 1]);
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Checking both.');
    assert.equal(chunks.at(-1)!.choices[0]!.finish_reason, 'tool_calls');
    stack.sim.enqueue({
      events: [
        { toolUse: { name: 'get_weather', toolUseId: 'tu_1', input: '{"city":"Paris"}', stop: true } },
        { toolUse: { name: 'get_weather', toolUseId: 'tu_2', input: '{"city":"Rome"}', stop: true } },
      ],
    });
    const plain = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Paris and Rome?' }], tools: [weather] });
    assert.deepEqual(plain.choices[0]!.message.tool_calls!.map((c) => c.type === 'function' && JSON.parse(c.function.arguments)), [{ city: 'Paris' }, { city: 'Rome' }]);
    assert.equal(plain.choices[0]!.message.content, null);
  });

  it('a tool with no arguments yields "{}"', async () => {
    stack.sim.enqueue({ events: [{ toolUse: { name: 'list_files', toolUseId: 'tu_0', input: '' } }, { toolUse: { name: 'list_files', toolUseId: 'tu_0', stop: true } }] });
    const final = await client.chat.completions
      .stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'List' }], tools: [{ type: 'function', function: { name: 'list_files', parameters: { type: 'object', properties: {} } } }] })
      .finalChatCompletion();
    const call = final.choices[0]!.message.tool_calls![0]!;
    assert.equal(call.type === 'function' && call.function.arguments, '{}');
  });

  it('a truncated tool input ends the answer with a clear error', async () => {
    stack.sim.enqueue({ events: [{ toolUse: { name: 'get_weather', toolUseId: 'tu_t', input: '{"city":"Par' } }, { toolUse: { name: 'get_weather', toolUseId: 'tu_t', stop: true } }] });
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], tools: [weather] }), (e: unknown) => e instanceof OpenAI.APIError && /truncated/.test((e as Error).message));
  });

  it('a 20-turn tool loop (call → result → answer) never draws a 400 from strict Kiro', async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: 'system', content: 'You are a coding agent.' }];
    const tools: ChatCompletionTool[] = [weather, { type: 'function', function: { name: 'read_file', description: 'Read a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } } }];
    for (let turn = 0; turn < 20; turn++) {
      messages.push({ role: 'user', content: `Task ${turn}: check the weather.` });
      const call = await client.chat.completions.create({ model: 'claude-sonnet-4-5-20250929', messages, tools, stream: turn % 2 === 0 ? undefined : false });
      const message = call.choices[0]!.message;
      assert.equal(call.choices[0]!.finish_reason, 'tool_calls', `turn ${turn}`);
      messages.push({ role: 'assistant', content: message.content, tool_calls: message.tool_calls });
      for (const toolCall of message.tool_calls!) messages.push({ role: 'tool', tool_call_id: toolCall.id, content: `Sunny, turn ${turn}` });
      const answer = await client.chat.completions.create({ model: 'claude-sonnet-4-5-20250929', messages, tools });
      assert.equal(answer.choices[0]!.finish_reason, 'stop', `turn ${turn}`);
      assert.match(answer.choices[0]!.message.content ?? '', new RegExp(`Sunny, turn ${turn}`));
      messages.push({ role: 'assistant', content: answer.choices[0]!.message.content });
    }
    noViolations();
    const last = stack.sim.requests.at(-1)!.body as { conversationState: { history: unknown[] } };
    assert.equal(last.conversationState.history.length, 78);
  });

  it('a 70-character tool name makes the round trip; Kiro only ever sees a short name', async () => {
    const name = `mcp__filesystem_server__read_text_file_with_encoding_and_${'x'.repeat(13)}`;
    assert.equal(name.length, 70);
    const tools: ChatCompletionTool[] = [{ type: 'function', function: { name, description: `Use ${name} to read.`, parameters: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } } }];
    const first = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'read it' }], tools }).catch((e) => { console.log('CAUSE', e.cause, stack.logs().slice(-1500)); throw e; });
    const call = first.choices[0]!.message.tool_calls![0]!;
    assert.equal(call.type === 'function' && call.function.name, name);
    const streamed = await client.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'user', content: 'read it' }], tools }).finalChatCompletion();
    const streamedCall = streamed.choices[0]!.message.tool_calls![0]!;
    assert.equal(streamedCall.type === 'function' && streamedCall.function.name, name);
    const second = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'read it' }, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: 'file contents' }],
      tools,
    });
    assert.equal(second.choices[0]!.finish_reason, 'stop');
    for (const recorded of stack.sim.requests.slice(-3)) assert.ok(!JSON.stringify(recorded.body).includes(name));
    noViolations();
  });

  it('images: a data URI with a wrong declared type and an http URL both reach Kiro as png', async () => {
    const answer = await client.chat.completions.create({
      model: 'gpt-4o',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What do you see?' },
            { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${PNG_1X1}` } },
            { type: 'image_url', image_url: { url: imageUrl } },
          ],
        },
      ],
    });
    assert.match(answer.choices[0]!.message.content ?? '', /I received 2 images/);
    const sent = stack.sim.requests.at(-1)!.body as { conversationState: { currentMessage: { userInputMessage: { images: unknown[] } } } };
    assert.deepEqual(sent.conversationState.currentMessage.userInputMessage.images, [
      { format: 'png', source: { bytes: PNG_1X1 } },
      { format: 'png', source: { bytes: PNG_1X1 } },
    ]);
  });

  it('reasoning: thinking arrives as reasoning_content, never inside content; off by default', async () => {
    const plain = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Think?' }] });
    assert.equal((plain.choices[0]!.message as { reasoning_content?: string }).reasoning_content, undefined);
    assert.ok(!JSON.stringify(stack.sim.requests.at(-1)!.body).includes('thinking_mode'));

    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Think hard' }], reasoning_effort: 'high' });
    const message = completion.choices[0]!.message as { content: string; reasoning_content?: string };
    assert.match(message.reasoning_content ?? '', /thinking is simulated/);
    assert.doesNotMatch(message.content, /<\/?thinking>/);
    assert.match(message.content, /^This is a simulated answer/);
    assert.ok(completion.usage!.completion_tokens_details!.reasoning_tokens! > 0);
    assert.match(JSON.stringify(stack.sim.requests.at(-1)!.body), /<thinking_mode>enabled<\/thinking_mode><max_thinking_length>20000</);

    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Think hard' }], reasoning_effort: 'low', stream: true });
    let reasoning = '';
    let content = '';
    for await (const chunk of stream) {
      reasoning += (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '';
      content += chunk.choices[0]?.delta.content ?? '';
    }
    assert.equal(reasoning.trim(), (message.reasoning_content ?? '').trim());
    assert.equal(content, message.content);
  });

  it('stop sequences end the answer at the stop string, streaming or not', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stop: ['simulator'] });
    assert.equal(completion.choices[0]!.message.content, 'This is a simulated answer from the ki2api Kiro ');
    assert.equal(completion.choices[0]!.finish_reason, 'stop');
    const stream = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], stop: 'answer', stream: true });
    let text = '';
    let finish: string | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, 'This is a simulated ');
    assert.equal(finish, 'stop');
  });

  it('max_tokens caps the output with finish_reason length', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], max_tokens: 5 });
    assert.equal(completion.choices[0]!.finish_reason, 'length');
    assert.equal(completion.usage!.completion_tokens, 5);
  });

  it('usage: prompt tokens cover system, history and tools; streamed and plain answers agree; cached_tokens is 0', async () => {
    const base = { model: 'gpt-4o', messages: [{ role: 'user' as const, content: 'Weather?' }] };
    const small = await client.chat.completions.create(base);
    const withTools = await client.chat.completions.create({ ...base, tools: [weather], tool_choice: 'none' });
    assert.ok(withTools.usage!.prompt_tokens > small.usage!.prompt_tokens + 10);
    assert.equal(small.usage!.prompt_tokens_details!.cached_tokens, 0);
    const stream = await client.chat.completions.create({ ...base, tools: [weather], stream: true, stream_options: { include_usage: true } });
    let usage;
    for await (const chunk of stream) usage = chunk.usage ?? usage;
    const plain = await client.chat.completions.create({ ...base, tools: [weather] });
    assert.equal(usage!.prompt_tokens, plain.usage!.prompt_tokens);
    assert.equal(usage!.completion_tokens, plain.usage!.completion_tokens);
  });

  it('parameters Kiro lacks: n > 1 is a 400, ignored ones are named in a header, response_format becomes an instruction', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'gpt-4o', n: 2, messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'n');
    const { response } = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }], temperature: 0.3, seed: 1, response_format: { type: 'json_object' } }).withResponse();
    assert.equal(response.headers.get('x-ki2api-ignored-params'), 'temperature,seed');
    assert.match(JSON.stringify(stack.sim.requests.at(-1)!.body), /Reply with a single valid JSON value/);
  });

  it('the Vercel AI SDK runs a whole tool loop (call → execute → answer)', async () => {
    const provider = createOpenAICompatible({ name: 'ki2api', apiKey: API_KEY, baseURL: `${stack.url}/v1`, includeUsage: true });
    const executed: unknown[] = [];
    const result = await generateText({
      model: provider('claude-sonnet-4-5-20250929'),
      prompt: 'Weather in Paris?',
      maxRetries: 0,
      stopWhen: stepCountIs(3),
      tools: {
        get_weather: tool({
          description: 'Weather for a city',
          inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }),
          execute: async (input) => {
            executed.push(input);
            return 'Sunny and 21C';
          },
        }),
      },
    });
    assert.deepEqual(executed, [{ city: 'example' }]);
    assert.match(result.text, /Sunny and 21C/);
    assert.equal(result.steps.length, 2);
    noViolations();
  });
});

describe('agent sessions through @ai-sdk/openai-compatible (strict simulator)', () => {
  let stack: Stack;
  let provider: ReturnType<typeof createOpenAICompatible>;
  before(async () => {
    stack = await startStack({}, { strict: true });
    provider = createOpenAICompatible({ name: 'ki2api', apiKey: API_KEY, baseURL: `${stack.url}/v1`, includeUsage: true });
  });
  after(() => stack.close());
  const weatherTool = tool({ description: 'Weather for a city', inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }) });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any tool set
  async function collect(result: ReturnType<typeof streamText<any>>) {
    const calls: { toolName: string; input: unknown }[] = [];
    const errors: unknown[] = [];
    let reasoning = '';
    for await (const part of result.fullStream) {
      if (part.type === 'tool-call') calls.push({ toolName: part.toolName, input: part.input });
      if (part.type === 'reasoning-delta') reasoning += part.text;
      if (part.type === 'error') errors.push(part.error);
    }
    return { calls, errors, reasoning, text: await result.text, finishReason: await result.finishReason };
  }

  it('two parallel tool calls and a zero-argument tool', async () => {
    stack.sim.enqueue({
      events: [
        { toolUse: { name: 'get_weather', toolUseId: 'a1', input: '{"city":"Paris"}', stop: true } },
        { toolUse: { name: 'get_weather', toolUseId: 'a2', input: '{"city":' } },
        { toolUse: { name: 'get_weather', toolUseId: 'a2', input: '"Rome"}', stop: true } },
        { toolUse: { name: 'list_files', toolUseId: 'a3', stop: true } },
      ],
      split: 5,
    });
    const listFiles = tool({ description: 'List files', inputSchema: jsonSchema<Record<string, never>>({ type: 'object', properties: {} }) });
    const out = await collect(streamText({ model: provider('gpt-4o'), prompt: 'Paris, Rome, and files', maxRetries: 0, tools: { get_weather: weatherTool, list_files: listFiles } }));
    assert.deepEqual(out.errors, []);
    assert.deepEqual(out.calls, [
      { toolName: 'get_weather', input: { city: 'Paris' } },
      { toolName: 'get_weather', input: { city: 'Rome' } },
      { toolName: 'list_files', input: {} },
    ]);
    assert.equal(out.finishReason, 'tool-calls');
  });

  it('a 70-character tool name comes back under its own name', async () => {
    const name = `mcp__filesystem_server__read_text_file_with_encoding_and_${'y'.repeat(13)}`;
    const out = await collect(streamText({ model: provider('gpt-4o'), prompt: 'read', maxRetries: 0, tools: { [name]: tool({ description: 'Read', inputSchema: jsonSchema<{ path: string }>({ type: 'object', properties: { path: { type: 'string' } }, required: ['path'] }) }) } }));
    assert.deepEqual(out.errors, []);
    assert.deepEqual(out.calls, [{ toolName: name, input: { path: 'example' } }]);
  });

  it('an image, reasoning, and stop sequences', async () => {
    const seen = await generateText({
      model: provider('gpt-4o'),
      maxRetries: 0,
      messages: [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image', image: Buffer.from(PNG_1X1, 'base64'), mediaType: 'image/png' }] }],
    });
    assert.match(seen.text, /I received 1 image/);

    const thought = await collect(streamText({ model: provider('gpt-4o'), prompt: 'Think', maxRetries: 0, providerOptions: { ki2api: { reasoningEffort: 'medium' } } }));
    assert.deepEqual(thought.errors, []);
    assert.match(thought.reasoning, /thinking is simulated/);
    assert.doesNotMatch(thought.text, /<\/?thinking>/);

    const stopped = await generateText({ model: provider('gpt-4o'), prompt: 'x', maxRetries: 0, stopSequences: ['simulated'] });
    assert.equal(stopped.text, 'This is a ');
    assert.equal(stopped.finishReason, 'stop');
    assert.deepEqual(stack.sim.requests.filter((r) => r.violation), []);
  });
});
