import { GatewayError } from '../chat/errors.js';
import { OutputLimiter, type OutputLimits } from '../chat/output-limits.js';
import { countTokensAsync } from '../chat/tokens.js';
import type { ChatEvent, FinishReason, LengthCause, Usage } from '../chat/types.js';
import { ThinkingTagParser } from './thinking.js';
import { ToolNameMap } from './tool-names.js';
import type { KiroFrame } from './wire.js';

// Kiro frames → neutral events (kiro-protocol.md §5.2–5.4, §8, §9). Deltas pass through unchanged,
// even when one repeats the previous one: Kiro sends pure increments, and a repeat is real text.

interface OpenTool {
  index: number;
  id: string;
  arguments: string;
}

const asString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const asCount = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? Math.round(value) : 0);

export interface TranslatorOptions {
  /** The request's tokens; counted while the answer streams, awaited at its end. */
  promptTokens: () => Promise<number>;
  /** Shortened tool names → the client's names. */
  toolNames?: ToolNameMap;
  /**
   * Thinking was requested: 'tags' splits a leading <thinking> block of the text off as
   * reasoning; 'native' thinking arrives in reasoningContentEvent frames of its own.
   */
  thinking?: 'tags' | 'native';
  limits?: OutputLimits;
}

/** Kiro's own token figures for the answer (metadataEvent.tokenUsage), when it sends them. */
interface ReportedUsage {
  uncached: number;
  cacheRead: number;
  cacheWrite: number;
  output: number;
}

export class KiroEventTranslator {
  private output = '';
  private reasoning = '';
  private toolArguments = '';
  private toolCount = 0;
  private openTool: OpenTool | undefined;
  private readonly closedToolIds = new Set<string>();
  private finishReason: FinishReason | undefined;
  private lengthCause: LengthCause | undefined;
  /** A frame or a limit ended the answer; finish() still has to be called. */
  private ended = false;
  private done = false;
  private promptCount: Promise<number> | undefined;
  /** A native thinking block is open; its signature arrives in fragments, closed as one. */
  private thinkingOpen = false;
  private signature = '';
  private reported: ReportedUsage | undefined;
  private credits: number | undefined;

  private readonly tags: ThinkingTagParser | undefined;
  private readonly limiter: OutputLimiter;
  private readonly toolNames: ToolNameMap;

  constructor(private readonly options: TranslatorOptions) {
    this.tags = options.thinking === 'tags' ? new ThinkingTagParser() : undefined;
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
        // The common case, plain text with no tool call or thinking block open: no intermediate arrays.
        if (!this.tags && !this.openTool && !this.thinkingOpen) return this.emitLimited(this.emitText(text));
        const split = this.tags ? this.tags.push(text) : { reasoning: '', text };
        return this.emitLimited([...this.closeThinking(), ...this.closeTool(), ...this.emitReasoning(split.reasoning), ...this.emitText(split.text)]);
      }
      case 'reasoningContentEvent':
        return this.emitLimited(this.onReasoning(p));
      case 'toolUseEvent':
        return this.onToolUse(p);
      case 'contextUsageEvent': {
        const percentage = typeof p.contextUsagePercentage === 'number' ? p.contextUsagePercentage : 0;
        if (percentage >= 100) {
          this.finishReason ??= 'length';
          this.lengthCause ??= 'context_window';
        }
        return [];
      }
      case 'meteringEvent':
        if (typeof p.usage === 'number' && Number.isFinite(p.usage)) this.credits = (this.credits ?? 0) + p.usage;
        return [];
      case 'metadataEvent':
      case 'messageMetadataEvent': {
        const usage = p.tokenUsage as Record<string, unknown> | undefined;
        if (usage && typeof usage === 'object') {
          this.reported = { uncached: asCount(usage.uncachedInputTokens), cacheRead: asCount(usage.cacheReadInputTokens), cacheWrite: asCount(usage.cacheWriteInputTokens), output: asCount(usage.outputTokens) };
        }
        return [];
      }
      default:
        // followupPromptEvent, codeReferenceEvent, …: nothing a client needs.
        return [];
    }
  }

  /** Native thinking: text deltas, a signature in fragments, or a redacted blob. */
  private onReasoning(p: Record<string, unknown>): ChatEvent[] {
    const events: ChatEvent[] = this.closeTool();
    const text = asString(p.text);
    if (text) {
      this.thinkingOpen = true;
      events.push(...this.emitReasoning(text));
    }
    const signature = asString(p.signature);
    if (signature) {
      this.thinkingOpen = true;
      this.signature += signature;
    }
    const redacted = asString(p.redactedContent);
    if (redacted) events.push(...this.closeThinking(), { type: 'redacted_reasoning', data: redacted });
    return events;
  }

  /** The open thinking block ends: its whole signature, once (clients keep only the last one they see). */
  private closeThinking(): ChatEvent[] {
    if (!this.thinkingOpen) return [];
    this.thinkingOpen = false;
    const signature = this.signature;
    this.signature = '';
    return signature ? [{ type: 'reasoning_signature', signature }] : [];
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
    if (this.limiter.hit === 'length') this.lengthCause = 'max_tokens';
    this.ended = true;
    return events;
  }

  /** Call at the end of the byte stream, or once `finished`: the last events, usage included. */
  async finish(): Promise<ChatEvent[]> {
    if (this.done) return [];
    const events = this.ended && this.limiter.hit ? [] : [...this.flushHeldText(), ...this.closeTool()];
    events.push(...this.closeThinking());
    if (this.limiter.hit) this.finishReason = this.limiter.hit;
    // Only thinking and nothing else: the model was cut off before it answered.
    if (!this.finishReason && this.toolCount === 0 && this.output === '' && this.reasoning !== '') {
      this.finishReason = 'length';
      this.lengthCause = 'upstream';
    }
    const reason: FinishReason = this.finishReason ?? (this.toolCount > 0 ? 'tool_calls' : 'stop');
    this.done = true;
    this.startCounting();
    const completion = this.output + this.reasoning + this.toolArguments;
    const [promptTokens, completionTokens, reasoningTokens] = await Promise.all([this.promptCount!, countTokensAsync(completion), countTokensAsync(this.reasoning)]);
    const usage: Usage = this.reported
      ? {
          // Kiro's own figures win when it sends them.
          promptTokens: this.reported.uncached + this.reported.cacheRead + this.reported.cacheWrite,
          completionTokens: this.reported.output,
          reasoningTokens: Math.min(reasoningTokens, this.reported.output),
          cacheReadTokens: this.reported.cacheRead,
          cacheWriteTokens: this.reported.cacheWrite,
          source: 'upstream',
        }
      : { promptTokens, completionTokens, reasoningTokens, cacheReadTokens: 0, cacheWriteTokens: 0, source: 'estimated' };
    if (this.credits !== undefined) usage.credits = Math.round(this.credits * 1e6) / 1e6;
    return [
      ...events,
      {
        type: 'finish',
        reason,
        usage,
        ...(reason === 'stop' && this.limiter.stopSequence !== undefined && { stopSequence: this.limiter.stopSequence }),
        ...(reason === 'length' && { lengthCause: this.lengthCause ?? 'upstream' }),
      },
    ];
  }

  private onException(frame: KiroFrame): ChatEvent[] {
    const name = frame.exceptionType ?? frame.errorCode ?? 'UnknownException';
    if (name === 'ContentLengthExceededException') {
      this.finishReason = 'length';
      this.lengthCause = 'upstream';
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
    const events: ChatEvent[] = this.openTool ? [] : [...this.closeThinking(), ...this.flushHeldText()];
    if (id && this.closedToolIds.has(id)) return events;
    if (id && this.openTool?.id !== id) {
      events.push(...this.closeTool());
      if (this.ended) return events;
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
    const tail = this.tags?.flush() ?? { reasoning: '', text: '' };
    return [...this.emitReasoning(tail.reasoning), ...this.emitText(tail.text), ...this.emitText(this.limiter.flush())];
  }

  /**
   * End the open tool call. Its arguments must be complete JSON: input that Kiro cut off (it does,
   * on long tool inputs, without a `stop`) is never passed on as a finished call — the call is
   * dropped and the answer ends there, at a length (clients then ask for the rest in smaller pieces).
   */
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
        this.finishReason = 'length';
        this.lengthCause = 'upstream';
        this.ended = true;
        this.toolArguments += tool.arguments;
        return [{ type: 'tool_call_dropped', index: tool.index, id: tool.id, argumentsLength: tool.arguments.length }];
      }
    }
    this.toolArguments += tool.arguments;
    events.push({ type: 'tool_call_end', index: tool.index });
    return events;
  }
}
