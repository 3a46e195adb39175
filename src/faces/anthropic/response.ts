import { randomUUID } from 'node:crypto';
import type { AnthropicMessage } from '../../../contract/index.js';
import type { ChatEvent, EventBatch, SearchResult, Usage } from '../../chat/types.js';
import type { SseEncoder } from '../../orchestrator/answer.js';

// Neutral events → Anthropic's stream (message_start, content blocks, message_delta, message_stop)
// and the same events folded into one message: one mapping, two outputs.

type Block = AnthropicMessage['content'][number];
type StopReason = NonNullable<AnthropicMessage['stop_reason']>;
type Finish = Extract<ChatEvent, { type: 'finish' }>;

export const messageId = (): string => `msg_${randomUUID().replaceAll('-', '').slice(0, 24)}`;

export function toAnthropicUsage(usage: Usage): AnthropicMessage['usage'] {
  return {
    // Anthropic counts cached input apart: input_tokens is what was neither read from nor written to the cache.
    input_tokens: Math.max(0, usage.promptTokens - usage.cacheReadTokens - usage.cacheWriteTokens),
    output_tokens: usage.completionTokens,
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cacheReadTokens,
    ...(usage.webSearches !== undefined && { server_tool_use: { web_search_requests: usage.webSearches } }),
  };
}

export function stopReason(finish: Finish): StopReason {
  switch (finish.reason) {
    case 'tool_calls':
      return 'tool_use';
    case 'length':
      return finish.lengthCause === 'context_window' ? 'model_context_window_exceeded' : 'max_tokens';
    case 'content_filter':
      return 'refusal';
    default:
      return finish.stopSequence !== undefined ? 'stop_sequence' : 'end_turn';
  }
}

/** Search results as Anthropic's web_search_result entries; the page text travels in encrypted_content. */
const searchResults = (results: readonly SearchResult[]) =>
  results.map((r) => ({ type: 'web_search_result' as const, url: r.url, title: r.title, encrypted_content: Buffer.from(JSON.stringify({ snippet: r.snippet }), 'utf8').toString('base64'), page_age: r.published ?? null }));

const serverToolResult = (event: Extract<ChatEvent, { type: 'server_tool_result' }>): Block => ({
  type: 'web_search_tool_result',
  tool_use_id: event.id,
  content: event.error ? { type: 'web_search_tool_result_error', error_code: event.error } : searchResults(event.results),
});

/**
 * Folds events into content blocks. Tool input is held until the call is complete: a call whose
 * input Kiro cut off is dropped whole, never handed out half-written (Claude Code would run it).
 */
class BlockAssembler {
  readonly blocks: Block[] = [];
  private open: Block | undefined;
  private readonly tools = new Map<number, { id: string; name: string; input: string }>();

  /** `keep`: hold the blocks' whole content (a folded message); a stream only needs to know what is open. */
  constructor(private readonly keep: boolean) {}

  /** Feed one event; `emit` hears each block as it opens, grows and closes (for the stream). */
  add(event: ChatEvent, emit?: StreamEmitter): void {
    switch (event.type) {
      case 'text':
        if (this.open?.type !== 'text') this.start({ type: 'text', text: '' }, emit);
        if (this.keep) (this.open as { text: string }).text += event.text;
        emit?.delta(this.count - 1, { type: 'text_delta', text: event.text });
        break;
      case 'reasoning':
        if (this.open?.type !== 'thinking') this.start({ type: 'thinking', thinking: '', signature: '' }, emit);
        if (this.keep) (this.open as { thinking: string }).thinking += event.text;
        emit?.delta(this.count - 1, { type: 'thinking_delta', thinking: event.text });
        break;
      case 'reasoning_signature':
        if (this.open?.type !== 'thinking') this.start({ type: 'thinking', thinking: '', signature: '' }, emit);
        (this.open as { signature: string }).signature = event.signature;
        // The whole signature, once, just before the block ends (clients keep only the last).
        emit?.delta(this.count - 1, { type: 'signature_delta', signature: event.signature });
        this.close(emit);
        break;
      case 'redacted_reasoning':
        this.start({ type: 'redacted_thinking', data: event.data }, emit);
        this.close(emit);
        break;
      case 'tool_call_start':
        this.close(emit);
        this.tools.set(event.index, { id: event.id, name: event.name, input: '' });
        break;
      case 'tool_call_delta':
        this.tools.get(event.index)!.input += event.argumentsDelta;
        break;
      case 'tool_call_end': {
        const tool = this.tools.get(event.index)!;
        this.tools.delete(event.index);
        this.start({ type: 'tool_use', id: tool.id, name: tool.name, input: {} }, emit);
        if (this.keep) (this.open as { input: unknown }).input = JSON.parse(tool.input) as Record<string, unknown>;
        emit?.delta(this.count - 1, { type: 'input_json_delta', partial_json: tool.input });
        this.close(emit);
        break;
      }
      case 'tool_call_dropped':
        this.tools.delete(event.index);
        break;
      case 'server_tool_call':
        this.start({ type: 'server_tool_use', id: event.id, name: event.name, input: { query: event.query } }, emit);
        this.close(emit);
        break;
      case 'server_tool_result':
        this.start(serverToolResult(event), emit);
        this.close(emit);
        break;
      case 'finish':
        this.close(emit);
        break;
    }
  }

  private count = 0;

  private start(block: Block, emit?: StreamEmitter): void {
    this.close(emit);
    if (this.keep) this.blocks.push(block);
    this.count++;
    this.open = block;
    emit?.start(this.count - 1, block);
  }

  private close(emit?: StreamEmitter): void {
    if (!this.open) return;
    this.open = undefined;
    emit?.stop(this.count - 1);
  }
}

interface StreamEmitter {
  start(index: number, block: Block): void;
  delta(index: number, delta: Record<string, unknown>): void;
  stop(index: number): void;
}

const sse = (type: string, data: unknown) => `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;

/** What a block looks like as it opens: text, thinking and tool input arrive in deltas. */
function opening(block: Block): Block {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: '' };
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: {} };
    default:
      // Server tool calls and results come whole, in their start event.
      return block;
  }
}

/** Writes Anthropic's stream: every event with its `event:` line, as the SDKs require. */
export class AnthropicStreamEncoder implements SseEncoder {
  readonly keepAlive = sse('ping', { type: 'ping' });
  readonly end = '';
  private readonly blocks = new BlockAssembler(false);
  private out = '';
  private readonly emit: StreamEmitter = {
    start: (index, block) => (this.out += sse('content_block_start', { type: 'content_block_start', index, content_block: opening(block) })),
    delta: (index, delta) => (this.out += sse('content_block_delta', { type: 'content_block_delta', index, delta })),
    stop: (index) => (this.out += sse('content_block_stop', { type: 'content_block_stop', index })),
  };

  constructor(
    private readonly id: string,
    private readonly model: string,
    /** The prompt's tokens before the upstream answers (message_start carries them). */
    private readonly inputTokens: Promise<number>,
  ) {}

  async start(): Promise<string> {
    const inputTokens = await this.inputTokens.catch(() => 0);
    const message: AnthropicMessage = {
      id: this.id,
      type: 'message',
      role: 'assistant',
      content: [],
      model: this.model,
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: inputTokens, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    };
    return sse('message_start', { type: 'message_start', message });
  }

  encode(batch: EventBatch): string {
    this.out = '';
    for (const event of batch) {
      this.blocks.add(event, this.emit);
      if (event.type === 'finish') {
        // Usage is cumulative: the final figures replace message_start's estimate.
        this.out += sse('message_delta', { type: 'message_delta', delta: { stop_reason: stopReason(event), stop_sequence: event.stopSequence ?? null }, usage: toAnthropicUsage(event.usage) });
        this.out += sse('message_stop', { type: 'message_stop' });
      }
    }
    return this.out;
  }
}

/** Fold a whole event stream into one message. */
export async function collectMessage(batches: AsyncIterable<EventBatch>, id: string, model: string): Promise<AnthropicMessage> {
  const blocks = new BlockAssembler(true);
  let finish: Finish | undefined;
  for await (const batch of batches) {
    for (const event of batch) {
      blocks.add(event);
      if (event.type === 'finish') finish = event;
    }
  }
  if (!finish) throw new Error('upstream events ended without a finish event');
  return { id, type: 'message', role: 'assistant', content: blocks.blocks, model, stop_reason: stopReason(finish), stop_sequence: finish.stopSequence ?? null, usage: toAnthropicUsage(finish.usage) };
}
