import { randomUUID } from 'node:crypto';
import type { ChatCompletion, ChatCompletionChunk, Usage as OpenAIUsage } from '../../../contract/index.js';
import { GatewayError } from '../../chat/errors.js';
import type { EventBatch, Usage } from '../../chat/types.js';
import type { SseEncoder } from '../../orchestrator/answer.js';

// Neutral events → OpenAI chunks (as SSE text), and the same events folded into one
// chat.completion. One mapping, two outputs, so streamed and non-streamed answers never disagree.

// randomUUID draws from a pooled entropy buffer: much cheaper per call than randomBytes.
export const completionId = (): string => `chatcmpl-${randomUUID().replaceAll('-', '').slice(0, 24)}`;
export const unixSeconds = (): number => Math.floor(Date.now() / 1000);

export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cacheReadTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}

/**
 * A tool call whose input Kiro cut off. OpenAI's chunks carried its arguments as they came, so
 * there is no taking it back: the answer ends in an error that says what happened.
 */
export const truncatedToolInput = (event: { id: string; argumentsLength: number }) =>
  new GatewayError(
    'upstream',
    `Kiro cut off the input of tool call ${event.id} (${event.argumentsLength} characters, not valid JSON). The tool input was truncated; ask the model to write smaller pieces.`,
    { code: 'tool_input_truncated' },
  );

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/** Closes a one-key delta and its chunk, finish_reason still null. */
const DELTA_TAIL = '},"logprobs":null,"finish_reason":null}]}\n\n';

/**
 * Writes chat.completion.chunk events as SSE text, in the order strict clients require: role first,
 * tool calls with index/id/type/name/arguments:"" first, finish_reason last, then usage if asked.
 * The envelope of every chunk is built once per answer; only the delta is serialised per chunk,
 * because this runs for every chunk of every stream.
 */
export class SseChunkEncoder implements SseEncoder {
  readonly keepAlive = ': keep-alive\n\n';
  readonly end = 'data: [DONE]\n\n';
  private readonly head: string;
  private readonly usageHead: string;
  private readonly contentHead: string;
  private readonly reasoningHead: string;

  constructor(id: string, model: string, created: number, private readonly includeUsage: boolean) {
    const envelope = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(model)},"choices":`;
    this.head = `data: ${envelope}[{"index":0,"delta":`;
    this.usageHead = `data: ${envelope}[],"usage":`;
    this.contentHead = `${this.head}{"content":`;
    this.reasoningHead = `${this.head}{"reasoning_content":`;
  }

  private chunk(delta: Delta | string, finishReason: string | null = null): string {
    const json = typeof delta === 'string' ? delta : JSON.stringify(delta);
    return `${this.head}${json},"logprobs":null,"finish_reason":${finishReason === null ? 'null' : `"${finishReason}"`}}]}\n\n`;
  }

  /** The first chunk: role, with empty content. */
  start(): string {
    return this.chunk('{"role":"assistant","content":""}');
  }

  encode(batch: EventBatch): string {
    let out = '';
    for (const event of batch) {
      switch (event.type) {
        // Text deltas are nearly every chunk: the parts around the text are ready strings.
        case 'text':
          out += this.contentHead + JSON.stringify(event.text) + DELTA_TAIL;
          break;
        case 'reasoning':
          out += this.reasoningHead + JSON.stringify(event.text) + DELTA_TAIL;
          break;
        case 'tool_call_start':
          out += this.chunk({ tool_calls: [{ index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: '' } }] });
          break;
        case 'tool_call_delta':
          out += this.chunk({ tool_calls: [{ index: event.index, function: { arguments: event.argumentsDelta } }] });
          break;
        case 'tool_call_end':
        case 'reasoning_signature':
        case 'redacted_reasoning':
          break;
        case 'tool_call_dropped':
          throw truncatedToolInput(event);
        case 'finish':
          out += this.chunk('{}', event.reason);
          if (this.includeUsage) out += `${this.usageHead}${JSON.stringify(toOpenAIUsage(event.usage))}}\n\n`;
          break;
      }
    }
    return out;
  }
}

/** Fold a whole event stream into one chat.completion. */
export async function collectCompletion(batches: AsyncIterable<EventBatch>, id: string, model: string, created: number): Promise<ChatCompletion> {
  let content = '';
  let reasoning = '';
  const calls: { id: string; name: string; arguments: string }[] = [];
  let finish: Extract<EventBatch[number], { type: 'finish' }> | undefined;
  for await (const batch of batches) {
    for (const event of batch) {
      switch (event.type) {
        case 'text':
          content += event.text;
          break;
        case 'reasoning':
          reasoning += event.text;
          break;
        case 'tool_call_start':
          calls[event.index] = { id: event.id, name: event.name, arguments: '' };
          break;
        case 'tool_call_delta':
          calls[event.index]!.arguments += event.argumentsDelta;
          break;
        case 'tool_call_dropped':
          throw truncatedToolInput(event);
        case 'finish':
          finish = event;
          break;
      }
    }
  }
  if (!finish) throw new Error('upstream events ended without a finish event');
  const toolCalls = calls.filter(Boolean).map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } }));
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: content === '' && toolCalls.length > 0 ? null : content,
          refusal: null,
          ...(reasoning && { reasoning_content: reasoning }),
          ...(toolCalls.length > 0 && { tool_calls: toolCalls }),
        },
        logprobs: null,
        finish_reason: finish.reason,
      },
    ],
    usage: toOpenAIUsage(finish.usage),
  };
}
