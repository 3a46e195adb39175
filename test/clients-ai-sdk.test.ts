import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, jsonSchema, streamText, tool } from 'ai';
import { API_KEY, startStack, type Stack } from './helpers.js';

// Vercel's @ai-sdk/openai-compatible (Kilo Code's engine): strict zod checks on every chunk.

describe('@ai-sdk/openai-compatible', () => {
  let stack: Stack;
  let provider: ReturnType<typeof createOpenAICompatible>;
  before(async () => {
    stack = await startStack();
    provider = createOpenAICompatible({ name: 'ki2api', apiKey: API_KEY, baseURL: `${stack.url}/v1`, includeUsage: true });
  });
  after(() => stack.close());

  it('generateText', async () => {
    const result = await generateText({ model: provider('claude-sonnet-4-5-20250929'), prompt: 'Hello there', maxRetries: 0 });
    assert.match(result.text, /simulated answer/);
    assert.equal(result.finishReason, 'stop');
    assert.ok((result.usage.inputTokens ?? 0) > 0);
  });

  it('streamText, with usage and no stream errors', async () => {
    const result = streamText({ model: provider('gpt-4o'), prompt: 'Stream to me', maxRetries: 0 });
    const errors: unknown[] = [];
    let text = '';
    for await (const part of result.fullStream) {
      if (part.type === 'text-delta') text += part.text;
      if (part.type === 'error') errors.push(part.error);
    }
    assert.deepEqual(errors, []);
    assert.match(text, /simulated answer/);
    assert.equal(await result.finishReason, 'stop');
    assert.ok(((await result.usage).outputTokens ?? 0) > 0);
  });

  it('streamText with a tool call', async () => {
    const result = streamText({
      model: provider('gpt-4o'),
      prompt: 'Weather in Paris?',
      maxRetries: 0,
      tools: { get_weather: tool({ description: 'Weather for a city', inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }) }) },
    });
    const calls: unknown[] = [];
    const errors: unknown[] = [];
    for await (const part of result.fullStream) {
      if (part.type === 'tool-call') calls.push(part.input);
      if (part.type === 'error') errors.push(part.error);
    }
    assert.deepEqual(errors, []);
    assert.deepEqual(calls, [{ city: 'example' }]);
    assert.equal(await result.finishReason, 'tool-calls');
  });
});
