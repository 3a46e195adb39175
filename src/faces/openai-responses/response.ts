import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Response, ResponseOutputItem } from '../../../contract/index.js';
import type { GatewayError } from '../../chat/errors.js';
import type { ChatEvent, EventBatch, Usage } from '../../chat/types.js';
import { sseString, type SseText } from '../../http/sse.js';
import type { SseEncoder } from '../../orchestrator/answer.js';
import { newItemId } from './request.js';
import { sealReasoning } from './sealed.js';

// Neutral events → Responses output items, and the stream that builds them: every event with its
// `event:` line and a rising sequence_number, every item added before its deltas and done with the
// whole item (what Codex reads), and one terminal event — completed, incomplete, or failed.

type Finish = Extract<ChatEvent, { type: 'finish' }>;
type Status = 'in_progress' | 'completed' | 'incomplete';

export function toResponsesUsage(usage: Usage): NonNullable<Response['usage']> {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cacheReadTokens, cache_write_tokens: usage.cacheWriteTokens },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

/** The response as it stands, without the fields that change as it runs. */
export type ResponseFrame = Omit<Response, 'status' | 'completed_at' | 'error' | 'incomplete_details' | 'output' | 'usage'>;

/** Codex reads these codes from response.failed (compacting, backing off, telling the user about quota). */
export function failureCode(error: GatewayError): string {
  if (error.kind === 'context_length') return 'context_length_exceeded';
  if (error.kind === 'rate_limit') return 'rate_limit_exceeded';
  if (error.kind === 'quota') return 'insufficient_quota';
  if (error.code === 'upstream_overloaded' || error.code === 'upstream_unavailable') return 'server_is_overloaded';
  if (error.kind === 'invalid_request') return 'invalid_prompt';
  return 'server_error';
}

/** The failure's message, with the delay Codex parses ("try again in 20s") when there is one. */
export function failureMessage(error: GatewayError): string {
  return error.retryAfter !== undefined && !/try again in/i.test(error.message) ? `${error.message} Please try again in ${error.retryAfter}s.` : error.message;
}

interface OpenItem {
  index: number;
  item: ResponseOutputItem;
  /** The tool-call index of the neutral events, for calls. */
  call?: number;
  text: string;
}

/** What the builder needs of the request. */
export interface BuildOptions {
  /** Freeform tools: their calls become custom_tool_call items, their input the one string argument. */
  custom: ReadonlySet<string>;
  /** Kiro name → namespace and name, for the calls of namespaced tools. */
  namespaced?: ReadonlyMap<string, { namespace: string; name: string }>;
  /** Put the sealed thinking in reasoning items' encrypted_content (include: reasoning.encrypted_content). */
  includeEncrypted: boolean;
}

/** Folds events into output items, and (with `emit`) writes the events of each step. */
export class OutputBuilder {
  readonly output: ResponseOutputItem[] = [];
  private open: OpenItem | undefined;
  private readonly calls = new Map<number, OpenItem>();
  private signature = '';

  constructor(
    private readonly options: BuildOptions,
    private readonly emit?: (type: string, data: Record<string, unknown>) => void,
  ) {}

  add(event: ChatEvent): void {
    switch (event.type) {
      case 'text': {
        const open = this.ensure('message', () => ({ type: 'message', id: newItemId('msg'), status: 'in_progress', role: 'assistant', content: [] }));
        if (open.text === '') this.emit?.('response.content_part.added', { item_id: open.item.id, output_index: open.index, content_index: 0, part: textPart('') });
        open.text += event.text;
        this.emit?.('response.output_text.delta', { item_id: open.item.id, output_index: open.index, content_index: 0, delta: event.text, logprobs: [] });
        break;
      }
      case 'reasoning': {
        const open = this.ensure('reasoning', () => ({ type: 'reasoning', id: newItemId('rs'), status: 'in_progress', summary: [] }));
        if (open.text === '') this.emit?.('response.reasoning_summary_part.added', { item_id: open.item.id, output_index: open.index, summary_index: 0, part: { type: 'summary_text', text: '' } });
        open.text += event.text;
        this.emit?.('response.reasoning_summary_text.delta', { item_id: open.item.id, output_index: open.index, summary_index: 0, delta: event.text });
        break;
      }
      case 'reasoning_signature':
        this.signature = event.signature;
        if (this.open?.item.type === 'reasoning') this.close();
        break;
      case 'redacted_reasoning':
        this.closeOpen();
        this.start({ type: 'reasoning', id: newItemId('rs'), status: 'in_progress', summary: [], encrypted_content: sealReasoning({ text: '', redacted: event.data }) });
        this.close();
        break;
      case 'tool_call_start': {
        this.closeOpen();
        const custom = this.options.custom.has(event.name);
        const named = this.options.namespaced?.get(event.name) ?? { name: event.name };
        const item: ResponseOutputItem = custom
          ? { type: 'custom_tool_call', id: newItemId('ctc'), status: 'in_progress', call_id: event.id, ...named, input: '' }
          : { type: 'function_call', id: newItemId('fc'), status: 'in_progress', call_id: event.id, ...named, arguments: '' };
        const open = this.start(item, event.index);
        this.calls.set(event.index, open);
        this.open = undefined;
        break;
      }
      case 'tool_call_delta': {
        const open = this.calls.get(event.index);
        if (!open) break;
        open.text += event.argumentsDelta;
        // Freeform input is the one string inside the JSON arguments: it comes whole, at the end.
        if (open.item.type === 'function_call') this.emit?.('response.function_call_arguments.delta', { item_id: open.item.id, output_index: open.index, delta: event.argumentsDelta });
        break;
      }
      case 'tool_call_end': {
        const open = this.calls.get(event.index);
        if (!open) break;
        this.calls.delete(event.index);
        this.finishCall(open);
        break;
      }
      case 'tool_call_dropped':
        // Cut off by Kiro: never done, so never run (Codex runs the calls of output_item.done).
        this.calls.delete(event.index);
        break;
      case 'server_tool_call': {
        this.closeOpen();
        const open = this.start({ type: 'web_search_call', id: newItemId('ws'), status: 'in_progress', action: { type: 'search', query: event.query } });
        this.calls.set(-1, open);
        this.open = undefined;
        this.emit?.('response.web_search_call.in_progress', { item_id: open.item.id, output_index: open.index });
        this.emit?.('response.web_search_call.searching', { item_id: open.item.id, output_index: open.index });
        break;
      }
      case 'server_tool_result': {
        const open = this.calls.get(-1);
        if (!open) break;
        this.calls.delete(-1);
        (open.item as { status: string }).status = event.error ? 'failed' : 'completed';
        this.emit?.('response.web_search_call.completed', { item_id: open.item.id, output_index: open.index });
        this.emit?.('response.output_item.done', { output_index: open.index, item: this.shown(open.item) });
        break;
      }
      case 'finish':
        this.closeOpen();
        break;
    }
  }

  /** A compaction item, whole (the answer to a compaction trigger). */
  addWhole(item: ResponseOutputItem): void {
    this.closeOpen();
    this.start(item);
    this.emit?.('response.output_item.done', { output_index: this.output.length - 1, item });
  }

  private ensure(type: ResponseOutputItem['type'], make: () => ResponseOutputItem): OpenItem {
    if (this.open?.item.type === type) return this.open;
    this.closeOpen();
    return this.start(make());
  }

  private start(item: ResponseOutputItem, call?: number): OpenItem {
    const open: OpenItem = { index: this.output.length, item, text: '', ...(call !== undefined && { call }) };
    this.output.push(item);
    this.open = open;
    this.emit?.('response.output_item.added', { output_index: open.index, item: structuredClone(item) });
    return open;
  }

  private closeOpen(): void {
    if (this.open) this.close();
  }

  /** The open message or reasoning item is complete. */
  private close(): void {
    const open = this.open!;
    this.open = undefined;
    const { item } = open;
    if (item.type === 'message') {
      const part = textPart(open.text);
      item.content = [part];
      this.emit?.('response.output_text.done', { item_id: item.id, output_index: open.index, content_index: 0, text: open.text, logprobs: [] });
      this.emit?.('response.content_part.done', { item_id: item.id, output_index: open.index, content_index: 0, part });
    } else if (item.type === 'reasoning' && item.encrypted_content === undefined) {
      item.summary = open.text ? [{ type: 'summary_text', text: open.text }] : [];
      item.encrypted_content = sealReasoning({ text: open.text, ...(this.signature && { signature: this.signature }) });
      this.signature = '';
      if (open.text) {
        this.emit?.('response.reasoning_summary_text.done', { item_id: item.id, output_index: open.index, summary_index: 0, text: open.text });
        this.emit?.('response.reasoning_summary_part.done', { item_id: item.id, output_index: open.index, summary_index: 0, part: { type: 'summary_text', text: open.text } });
      }
    }
    (item as { status: Status }).status = 'completed';
    this.emit?.('response.output_item.done', { output_index: open.index, item: this.shown(item) });
  }

  private finishCall(open: OpenItem): void {
    const { item } = open;
    if (item.type === 'custom_tool_call') {
      item.input = freeformInput(open.text);
      this.emit?.('response.custom_tool_call_input.delta', { item_id: item.id, output_index: open.index, delta: item.input });
      this.emit?.('response.custom_tool_call_input.done', { item_id: item.id, output_index: open.index, input: item.input });
    } else if (item.type === 'function_call') {
      item.arguments = open.text;
      this.emit?.('response.function_call_arguments.done', { item_id: item.id, output_index: open.index, name: item.name, arguments: open.text });
    }
    (item as { status: Status }).status = 'completed';
    this.emit?.('response.output_item.done', { output_index: open.index, item: this.shown(item) });
  }

  /** An item as the client sees it: sealed thinking only when it asked for it. */
  shown(item: ResponseOutputItem): ResponseOutputItem {
    if (item.type !== 'reasoning' || this.options.includeEncrypted) return structuredClone(item);
    const { encrypted_content: _, ...rest } = item;
    return structuredClone(rest) as ResponseOutputItem;
  }

  /** Every item complete (the dropped calls gone): the response's output. */
  completed(): ResponseOutputItem[] {
    return this.output.filter((item) => (item as { status?: string }).status !== 'in_progress');
  }
}

const textPart = (text: string) => ({ type: 'output_text' as const, text, annotations: [], logprobs: [] });

/** The one string a freeform call's JSON arguments carry (or the arguments themselves if they are not that). */
function freeformInput(json: string): string {
  try {
    const value = JSON.parse(json) as { input?: unknown };
    if (typeof value?.input === 'string') return value.input;
  } catch {
    // Not JSON: take it as it came.
  }
  return json;
}

/** A finished answer's status: cut short (by the client's cap, Kiro, or a full context) is incomplete. */
export function outcome(finish: Finish): Pick<Response, 'status' | 'incomplete_details'> {
  if (finish.reason === 'length') return { status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' } };
  if (finish.reason === 'content_filter') return { status: 'incomplete', incomplete_details: { reason: 'content_filter' } };
  return { status: 'completed', incomplete_details: null };
}

const now = () => Math.floor(Date.now() / 1000);

/** The whole response, once its answer ended. */
export function finishedResponse(frame: ResponseFrame, output: ResponseOutputItem[], finish: Finish, shown: (item: ResponseOutputItem) => ResponseOutputItem = (item) => item): Response {
  return { ...frame, ...outcome(finish), completed_at: now(), error: null, output: output.map(shown), usage: toResponsesUsage(finish.usage) };
}

/** The frame's fields that echo the request, large for agents. */
const ECHOED = ['instructions', 'tools'] as const;
/** Stands in for an echo while its snapshot is stringified; no text a client sends holds it (NUL and a per-process random part). */
const PLACEHOLDER = `\u0000ki2api-echo-${randomBytes(8).toString('hex')}-`;

/**
 * Echoes as UTF-8, by their JSON: a session sends the same instructions and tools every turn, and
 * each of its streams writes them three times. Encoding 75 KB of mostly two-byte text costs more
 * than the rest of the stream; looking it up costs a comparison.
 */
const echoBytes = new LRUCache<string, Buffer>({ max: 256, maxSize: 16 * 1024 * 1024, sizeCalculation: (bytes) => Math.max(1, bytes.length) });

function encodedEcho(json: string): Buffer {
  let bytes = echoBytes.get(json);
  if (!bytes) echoBytes.set(json, (bytes = Buffer.from(json)));
  return bytes;
}

/** Writes the Responses stream. `onFinished` stores the response before the terminal event goes out. */
export class ResponsesStreamEncoder implements SseEncoder {
  readonly keepAlive = ': keep-alive\n\n';
  readonly end = '';
  private sequence = 0;
  private out: (string | Uint8Array)[] = [];
  private summary = '';
  private readonly builder: OutputBuilder;

  constructor(
    private readonly frame: ResponseFrame,
    options: BuildOptions,
    private readonly onFinished: (response: Response, internal: ResponseOutputItem[]) => Promise<void>,
    /** A compaction: the answer's text is the summary, and the output is the one item made of it. */
    private readonly compact?: (summary: string) => ResponseOutputItem,
  ) {
    this.builder = new OutputBuilder(options, (type, data) => this.write(type, data));
  }

  /**
   * The frame's echoes of the request — `instructions` and `tools`, which for Codex or a Claude
   * Code-sized prompt are 50–100 KB — serialised and encoded once: every response snapshot in the
   * stream (created, in_progress, completed) carries them, and stringifying them each time was most
   * of what the Responses stream cost on agent-sized requests.
   */
  private readonly echoes = new Map<string, Buffer>();

  private write(type: string, data: Record<string, unknown>): void {
    const response = data.response as Record<string, unknown> | undefined;
    if (!response) {
      this.out.push(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...data })}\n\n`);
      return;
    }
    // Placeholders stand in for the echoes; the text is cut where they are and the echoes' bytes go between.
    const light: Record<string, unknown> = { ...response };
    const used: [string, Buffer][] = [];
    for (const key of ECHOED) {
      if (response[key] === undefined || response[key] !== (this.frame as Record<string, unknown>)[key]) continue;
      let bytes = this.echoes.get(key);
      if (bytes === undefined) this.echoes.set(key, (bytes = encodedEcho(JSON.stringify(response[key]))));
      const placeholder = `${PLACEHOLDER}${key}`;
      light[key] = placeholder;
      used.push([JSON.stringify(placeholder), bytes]);
    }
    const text = `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...data, response: light })}\n\n`;
    let from = 0;
    for (const [at, placeholder, bytes] of used.map(([placeholder, bytes]) => [text.indexOf(placeholder), placeholder, bytes] as const).sort((a, b) => a[0] - b[0])) {
      this.out.push(text.slice(from, at), bytes);
      from = at + placeholder.length;
    }
    this.out.push(from === 0 ? text : text.slice(from));
  }

  /** What was written since the last call, as one string where it is all text. */
  private taken(): SseText {
    const out = this.out;
    this.out = [];
    return out.every((piece) => typeof piece === 'string') ? out.join('') : out;
  }

  private snapshot(): Response {
    return { ...this.frame, status: 'in_progress', completed_at: null, error: null, incomplete_details: null, output: [] };
  }

  start(): SseText {
    this.write('response.created', { response: this.snapshot() });
    this.write('response.in_progress', { response: this.snapshot() });
    return this.taken();
  }

  async encode(batch: EventBatch): Promise<SseText> {
    for (const event of batch) {
      if (!this.compact) this.builder.add(event);
      else if (event.type === 'text') this.summary += event.text;
      else if (event.type === 'finish') this.builder.addWhole(this.compact(this.summary));
      if (event.type === 'finish') {
        const internal = this.builder.completed();
        const response = finishedResponse(this.frame, internal, event, (item) => this.builder.shown(item));
        // Stored before the client hears it is done: its next request may name it at once.
        await this.onFinished(response, internal);
        this.write(response.status === 'completed' ? 'response.completed' : 'response.incomplete', { response });
      }
    }
    return this.taken();
  }

  /** A failure after the stream began: response.failed, with the code Codex acts on. */
  error(error: GatewayError): string {
    this.out = [];
    this.write('response.failed', { response: { ...this.snapshot(), status: 'failed', error: { code: failureCode(error), message: failureMessage(error) }, output: this.builder.completed().map((item) => this.builder.shown(item)) } });
    return sseString(this.taken());
  }
}

/** Fold a whole answer into one response. */
export async function collectResponse(batches: AsyncIterable<EventBatch>, frame: ResponseFrame, options: BuildOptions, compact?: (summary: string) => ResponseOutputItem): Promise<{ response: Response; internal: ResponseOutputItem[] }> {
  const builder = new OutputBuilder(options);
  let finish: Finish | undefined;
  let summary = '';
  for await (const batch of batches) {
    for (const event of batch) {
      if (event.type === 'finish') finish = event;
      else if (!compact) builder.add(event);
      else if (event.type === 'text') summary += event.text;
    }
  }
  if (!finish) throw new Error('upstream events ended without a finish event');
  if (compact) builder.addWhole(compact(summary));
  builder.add(finish);
  const internal = builder.completed();
  return { response: finishedResponse(frame, internal, finish, (item) => builder.shown(item)), internal };
}
