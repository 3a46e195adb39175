import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countTokens } from '../src/chat/tokens.js';
import type { ChatEvent } from '../src/chat/types.js';
import { KiroEventTranslator, type TranslatorOptions } from '../src/kiro/events.js';
import type { KiroFrame } from '../src/kiro/wire.js';

const event = (eventType: string, payload: Record<string, unknown>): KiroFrame => ({ messageType: 'event', eventType, exceptionType: undefined, errorCode: undefined, payload });
const exception = (exceptionType: string, message = ''): KiroFrame => ({ messageType: 'exception', eventType: undefined, exceptionType, errorCode: undefined, payload: { message } });

async function run(frames: KiroFrame[], options: Partial<TranslatorOptions> = {}): Promise<ChatEvent[]> {
  const t = new KiroEventTranslator({ promptTokens: async () => 7, ...options });
  const out: ChatEvent[] = [];
  for (const frame of frames) {
    out.push(...t.translate(frame));
    if (t.finished) break;
  }
  return [...out, ...(await t.finish())];
}

describe('Kiro events → neutral events', () => {
  it('passes text deltas through, keeping a delta that repeats the previous one', async () => {
    const out = await run([event('assistantResponseEvent', { content: '66' }), event('assistantResponseEvent', { content: '66' }), event('assistantResponseEvent', { content: '66' })]);
    assert.deepEqual(out.filter((e) => e.type === 'text').map((e) => (e as { text: string }).text).join(''), '666666');
  });

  it('skips follow-up prompt payloads and ignores metering/context usage below 100 %', async () => {
    const out = await run([
      event('assistantResponseEvent', { content: 'Hi' }),
      event('assistantResponseEvent', { content: 'Suggest', followupPrompt: { content: 'x' } }),
      event('meteringEvent', { usage: 0.01 }),
      event('contextUsageEvent', { contextUsagePercentage: 3 }),
    ]);
    assert.deepEqual(out.slice(0, -1), [{ type: 'text', text: 'Hi' }]);
    assert.deepEqual(out.at(-1), {
      type: 'finish',
      reason: 'stop',
      usage: { promptTokens: 7, completionTokens: countTokens('Hi'), reasoningTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, source: 'estimated', credits: 0.01 },
    });
  });

  it('ends with finish_reason length on ContentLengthExceededException, keeping the text so far', async () => {
    const out = await run([event('assistantResponseEvent', { content: 'partial' }), exception('ContentLengthExceededException'), event('assistantResponseEvent', { content: 'never' })]);
    assert.deepEqual(out.map((e) => e.type), ['text', 'finish']);
    assert.equal((out[1] as { reason: string }).reason, 'length');
  });

  it('reports length when the context is full (contextUsagePercentage ≥ 100)', async () => {
    const out = await run([event('assistantResponseEvent', { content: 'x' }), event('contextUsageEvent', { contextUsagePercentage: 100 })]);
    assert.equal((out.at(-1) as { reason: string }).reason, 'length');
  });

  it('throws an upstream error for other exception frames, naming them', async () => {
    await assert.rejects(run([exception('InternalServerException', 'boom')]), /InternalServerException: boom/);
    await assert.rejects(run([exception('ThrottlingException')]), (e: Error & { kind?: string }) => e.kind === 'rate_limit');
  });

  it('assembles tool calls by toolUseId, streaming each fragment, indices 0, 1, …', async () => {
    const out = await run([
      event('assistantResponseEvent', { content: 'Checking.' }),
      event('toolUseEvent', { name: 'get_weather', toolUseId: 'a', input: '{"ci' }),
      event('toolUseEvent', { name: 'get_weather', toolUseId: 'a', input: 'ty":"Paris"}' }),
      event('toolUseEvent', { name: 'get_weather', toolUseId: 'a', stop: true }),
      event('toolUseEvent', { name: 'list', toolUseId: 'b', input: '' }),
      event('toolUseEvent', { name: 'list', toolUseId: 'b', stop: true }),
    ]);
    assert.deepEqual(out.slice(0, -1), [
      { type: 'text', text: 'Checking.' },
      { type: 'tool_call_start', index: 0, id: 'a', name: 'get_weather' },
      { type: 'tool_call_delta', index: 0, argumentsDelta: '{"ci' },
      { type: 'tool_call_delta', index: 0, argumentsDelta: 'ty":"Paris"}' },
      { type: 'tool_call_end', index: 0 },
      { type: 'tool_call_start', index: 1, id: 'b', name: 'list' },
      { type: 'tool_call_delta', index: 1, argumentsDelta: '{}' },
      { type: 'tool_call_end', index: 1 },
    ]);
    assert.equal((out.at(-1) as { reason: string }).reason, 'tool_calls');
  });

  it('accepts an object input and closes a tool that never got stop:true at end of stream', async () => {
    const out = await run([event('toolUseEvent', { name: 'f', toolUseId: 'x', input: { a: 1 } })]);
    assert.deepEqual(out.slice(0, 3), [
      { type: 'tool_call_start', index: 0, id: 'x', name: 'f' },
      { type: 'tool_call_delta', index: 0, argumentsDelta: '{"a":1}' },
      { type: 'tool_call_end', index: 0 },
    ]);
  });

  it('drops a tool call whose input Kiro cut off (not valid JSON) and ends the answer at a length', async () => {
    const out = await run([
      event('toolUseEvent', { name: 'write', toolUseId: 'w', input: '{"content":"abc' }),
      event('toolUseEvent', { name: 'write', toolUseId: 'w', stop: true }),
      event('assistantResponseEvent', { content: 'never' }),
    ]);
    assert.deepEqual(out.map((e) => e.type), ['tool_call_start', 'tool_call_delta', 'tool_call_dropped', 'finish']);
    assert.deepEqual(out[2], { type: 'tool_call_dropped', index: 0, id: 'w', argumentsLength: 15 });
    assert.equal((out[3] as { reason: string }).reason, 'length');
    assert.equal((out[3] as { lengthCause: string }).lengthCause, 'upstream');
  });

  it('takes Kiro\'s own token figures when it reports them, and sums the credits', async () => {
    const out = await run([
      event('assistantResponseEvent', { content: 'Hi' }),
      event('metadataEvent', { tokenUsage: { uncachedInputTokens: 120, cacheReadInputTokens: 18_300, cacheWriteInputTokens: 40, outputTokens: 9 } }),
      event('meteringEvent', { usage: 0.0125 }),
      event('meteringEvent', { usage: 0.0025 }),
    ]);
    assert.deepEqual((out.at(-1) as { usage: unknown }).usage, { promptTokens: 18_460, completionTokens: 9, reasoningTokens: 0, cacheReadTokens: 18_300, cacheWriteTokens: 40, source: 'upstream', credits: 0.015 });
  });

  it('native thinking: text deltas, then the signature gathered from its fragments and sent once, before the answer', async () => {
    const out = await run(
      [
        event('reasoningContentEvent', { text: 'Let me ' }),
        event('reasoningContentEvent', { text: 'think.' }),
        event('reasoningContentEvent', { signature: 'sig-part-1' }),
        event('reasoningContentEvent', { signature: '-part-2' }),
        event('assistantResponseEvent', { content: 'Answer' }),
      ],
      { thinking: 'native' },
    );
    assert.deepEqual(out.slice(0, -1), [
      { type: 'reasoning', text: 'Let me ' },
      { type: 'reasoning', text: 'think.' },
      { type: 'reasoning_signature', signature: 'sig-part-1-part-2' },
      { type: 'text', text: 'Answer' },
    ]);
    const redacted = await run([event('reasoningContentEvent', { redactedContent: 'EmwKAhgB' }), event('assistantResponseEvent', { content: 'x' })], { thinking: 'native' });
    assert.deepEqual(redacted[0], { type: 'redacted_reasoning', data: 'EmwKAhgB' });
  });

  it('names the stop sequence that ended the answer', async () => {
    const out = await run([event('assistantResponseEvent', { content: 'one two STOP three' })], { limits: { stop: ['STOP', 'two'] } });
    assert.deepEqual(out.filter((e) => e.type === 'text').map((e) => (e as { text: string }).text).join(''), 'one ');
    assert.equal((out.at(-1) as { stopSequence?: string }).stopSequence, 'two');
  });

  it('maps reasoning events to reasoning deltas and counts them as completion tokens', async () => {
    const out = await run([event('reasoningContentEvent', { text: 'think think' }), event('assistantResponseEvent', { content: 'Answer' })]);
    assert.deepEqual(out.slice(0, 2), [{ type: 'reasoning', text: 'think think' }, { type: 'text', text: 'Answer' }]);
    const finish = out.at(-1) as Extract<ChatEvent, { type: 'finish' }>;
    assert.equal(finish.usage.reasoningTokens, countTokens('think think'));
    assert.equal(finish.usage.completionTokens, countTokens('Answerthink think'));
  });
});
