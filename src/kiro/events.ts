import { GatewayError } from '../chat/errors.js';
import { OutputLimiter, type OutputLimits } from '../chat/output-limits.js';
import { countTokensAsync } from '../chat/tokens.js';
import type { ChatEvent, FinishReason } from '../chat/types.js';
import { ThinkingTagParser } from './thinking.js';
import { ToolNameMap } from './tool-names.js';
import type { KiroFrame } from './wire.js';

// Kiro frames → neutral events (kiro-protocol.md §5.2–5.4). Deltas pass through unchanged, even
// when one repeats the previous one: Kiro sends pure increments, and a repeat is real text.

interface OpenTool {
  index: number;
  id: string;
  arguments: string;
}

const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export interface TranslatorOptions {
  /** The request's tokens; counted while the answer streams, awaited at its end. */
  promptTokens: () => Promise<number>;
  /** Shortened tool names → the client's names. */
  toolNames?: ToolNameMap;
  /** Thinking mode was requested: split a leading <thinking> block off as reasoning. */
  thinking?: boolean;
  limits?: OutputLimits;
}

export class KiroEventTranslator {
  private output = '';
  private reasoning = '';
  private toolArguments = '';
  private toolCount = 0;
  private openTool: OpenTool | undefined;
  private readonly closedToolIds = new Set<string>();
  private finishReason: FinishReason | undefined;
  /** A frame or a limit ended the answer; finish() still has to be called. */
  private ended = false;
  private done = false;
  private promptCount: Promise<number> | undefined;

  private readonly thinking: ThinkingTagParser | undefined;
  private readonly limiter: OutputLimiter;
  private readonly toolNames: ToolNameMap;

  constructor(private readonly options: TranslatorOptions) {
    this.thinking = options.thinking ? new ThinkingTagParser() : undefined;
    this.limiter = new OutputLimiter(options.limits ?? {});
    this.toolNames = options.toolNames ?? new ToolNameMap();
  }

  /** True once a frame ended the answer (e.g. the output hit Kiro's length limit): call finish(). */
  get finished(): boolean {
    return this.ended || this.done;
  }

  /** Start counting the prompt now, while the answer streams (the count yields to other requests). */
  startCounting(): void {
    this.promptCount ??= this.options.promptTokens();
    this.promptCount.catch(() => undefined);
  }

  translate(frame: KiroFrame): ChatEvent[] {
    if (this.ended || this.done) return [];
    if (frame.messageType === 'exception' || frame.messageType === 'error') return this.onException(frame);
    const p = frame.payload;
    switch (frame.eventType) {
      case 'assistantResponseEvent': {
        const text = asString(p.content);
        if (!text || p.followupPrompt !== undefined) return [];
        // The common case, plain text with no tool call open: no intermediate arrays per frame.
        if (!this.thinking && !this.openTool) return this.emitLimited(this.emitText(text));
        const split = this.thinking ? this.thinking.push(text) : { reasoning: '', text };
        return this.emitLimited([...this.closeTool(), ...this.emitReasoning(split.reasoning), ...this.emitText(split.text)]);
      }
      case 'reasoningContentEvent':
        return this.emitLimited(this.emitReasoning(asString(p.text) ?? ''));
      case 'toolUseEvent':
        return this.onToolUse(p);
      case 'contextUsageEvent': {
        const percentage = typeof p.contextUsagePercentage === 'number' ? p.contextUsagePercentage : 0;
        if (percentage >= 100) this.finishReason ??= 'length';
        return [];
      }
      default:
        // meteringEvent, metadataEvent, followupPromptEvent, …: nothing a client needs.
        return [];
    }
  }

  private emitReasoning(text: string): ChatEvent[] {
    const allowed = this.limiter.reasoning(text);
    if (!allowed) return [];
    this.reasoning += allowed;
    return [{ type: 'reasoning', text: allowed }];
  }

  private emitText(text: string): ChatEvent[] {
    const allowed = this.limiter.active ? this.limiter.text(text) : text;
    if (!allowed) return [];
    this.output += allowed;
    return [{ type: 'text', text: allowed }];
  }

  /** Once a stop sequence or the token cap is reached, the answer ends here. */
  private emitLimited(events: ChatEvent[]): ChatEvent[] {
    if (!this.limiter.hit) return events;
    this.finishReason = this.limiter.hit;
    this.ended = true;
    return events;
  }

  /** Call at the end of the byte stream, or once `finished`: the last events, usage included. */
  async finish(): Promise<ChatEvent[]> {
    if (this.done) return [];
    const events = this.ended && this.limiter.hit ? [] : [...this.flushHeldText(), ...this.closeTool()];
    if (this.limiter.hit) this.finishReason = this.limiter.hit;
    const reason: FinishReason = this.finishReason ?? (this.toolCount > 0 ? 'tool_calls' : 'stop');
    this.done = true;
    this.startCounting();
    const completion = this.output + this.reasoning + this.toolArguments;
    const [promptTokens, completionTokens, reasoningTokens] = await Promise.all([this.promptCount!, countTokensAsync(completion), countTokensAsync(this.reasoning)]);
    return [...events, { type: 'finish', reason, usage: { promptTokens, completionTokens, reasoningTokens } }];
  }

  private onException(frame: KiroFrame): ChatEvent[] {
    const name = frame.exceptionType ?? frame.errorCode ?? 'UnknownException';
    if (name === 'ContentLengthExceededException') {
      this.finishReason = 'length';
      this.ended = true;
      return [...this.flushHeldText(), ...this.closeTool()];
    }
    const detail = asString(frame.payload.message) ?? '';
    if (/Throttl/i.test(name)) throw new GatewayError('rate_limit', `Kiro throttled the answer mid-stream (${name}). ${detail}`.trim(), { code: 'rate_limit_exceeded' });
    throw new GatewayError('upstream', `Kiro failed mid-answer with ${name}${detail ? `: ${detail}` : ''}`, { code: 'upstream_error' });
  }

  private onToolUse(p: Record<string, unknown>): ChatEvent[] {
    const id = asString(p.toolUseId);
    // Text the limiter or the thinking parser still holds goes out before the tool call.
    const events: ChatEvent[] = this.openTool ? [] : this.flushHeldText();
    if (id && this.closedToolIds.has(id)) return events;
    if (id && this.openTool?.id !== id) {
      events.push(...this.closeTool());
      const name = this.toolNames.fromKiro(asString(p.name) ?? 'unknown_tool');
      this.openTool = { index: this.toolCount++, id, arguments: '' };
      events.push({ type: 'tool_call_start', index: this.openTool.index, id, name });
    }
    const tool = this.openTool;
    if (!tool) return events;
    let fragment = '';
    if (typeof p.input === 'string') fragment = p.input;
    else if (p.input && typeof p.input === 'object' && tool.arguments === '') fragment = JSON.stringify(p.input);
    if (fragment) {
      tool.arguments += fragment;
      events.push({ type: 'tool_call_delta', index: tool.index, argumentsDelta: fragment });
    }
    if (p.stop === true) events.push(...this.closeTool());
    return events;
  }

  private flushHeldText(): ChatEvent[] {
    const tail = this.thinking?.flush() ?? { reasoning: '', text: '' };
    return [...this.emitReasoning(tail.reasoning), ...this.emitText(tail.text), ...this.emitText(this.limiter.flush())];
  }

  /** End the open tool call; its arguments must be complete JSON. */
  private closeTool(): ChatEvent[] {
    const tool = this.openTool;
    if (!tool) return [];
    this.openTool = undefined;
    this.closedToolIds.add(tool.id);
    const events: ChatEvent[] = [];
    if (tool.arguments.trim() === '') {
      tool.arguments = '{}';
      events.push({ type: 'tool_call_delta', index: tool.index, argumentsDelta: '{}' });
    } else {
      try {
        JSON.parse(tool.arguments);
      } catch {
        throw new GatewayError(
          'upstream',
          `Kiro cut off the input of tool call ${tool.id} (${tool.arguments.length} characters, not valid JSON). ` +
            'The tool input was truncated; ask the model to write smaller pieces.',
          { code: 'tool_input_truncated' },
        );
      }
    }
    this.toolArguments += tool.arguments;
    events.push({ type: 'tool_call_end', index: tool.index });
    return events;
  }
}
