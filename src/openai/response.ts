import { randomBytes } from 'node:crypto';
import type { ChatCompletion, ChatCompletionChunk, Usage as OpenAIUsage } from '../../contract/index.js';
import type { ChatEvent, FinishReason, Usage } from '../chat/types.js';

// Neutral events → OpenAI chunks, and the same events folded into one chat.completion.
// One mapping, two outputs, so streamed and non-streamed answers never disagree.

export const completionId = (): string => `chatcmpl-${randomBytes(12).toString('hex')}`;
export const unixSeconds = (): number => Math.floor(Date.now() / 1000);

export function toOpenAIUsage(usage: Usage): OpenAIUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}

type Delta = ChatCompletionChunk['choices'][number]['delta'];

/** Turns neutral events into chat.completion.chunk objects, in the order strict clients require. */
export class ChunkEncoder {
  private started = false;

  constructor(
    private readonly id: string,
    private readonly model: string,
    private readonly created: number,
    private readonly includeUsage: boolean,
  ) {}

  private chunk(delta: Delta, finishReason: FinishReason | null = null): ChatCompletionChunk {
    return {
      id: this.id,
      object: 'chat.completion.chunk',
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
  }

  /** The first chunk: role, with empty content. */
  start(): ChatCompletionChunk {
    this.started = true;
    return this.chunk({ role: 'assistant', content: '' });
  }

  encode(event: ChatEvent): ChatCompletionChunk[] {
    const out: ChatCompletionChunk[] = this.started ? [] : [this.start()];
    switch (event.type) {
      case 'text':
        out.push(this.chunk({ content: event.text }));
        break;
      case 'reasoning':
        out.push(this.chunk({ reasoning_content: event.text }));
        break;
      case 'tool_call_start':
        out.push(
          this.chunk({
            tool_calls: [{ index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: '' } }],
          }),
        );
        break;
      case 'tool_call_delta':
        out.push(this.chunk({ tool_calls: [{ index: event.index, function: { arguments: event.argumentsDelta } }] }));
        break;
      case 'tool_call_end':
        break;
      case 'finish':
        out.push(this.chunk({}, event.reason));
        if (this.includeUsage) {
          out.push({
            id: this.id,
            object: 'chat.completion.chunk',
            created: this.created,
            model: this.model,
            choices: [],
            usage: toOpenAIUsage(event.usage),
          });
        }
        break;
    }
    return out;
  }
}

/** Fold a whole event stream into one chat.completion. */
export async function collectCompletion(events: AsyncIterable<ChatEvent>, id: string, model: string, created: number): Promise<ChatCompletion> {
  let content = '';
  let reasoning = '';
  const calls: { id: string; name: string; arguments: string }[] = [];
  let finish: Extract<ChatEvent, { type: 'finish' }> | undefined;
  for await (const event of events) {
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
      case 'finish':
        finish = event;
        break;
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
