import { countTokens, firstTokens } from './tokens.js';

// Kiro has no `stop` and no output-token cap, so the gateway applies both to the text as it
// streams: text is held back only as long as it could still be the start of a stop sequence.

export interface OutputLimits {
  stop?: readonly string[];
  maxTokens?: number;
}

export type LimitHit = 'stop' | 'length';

/** A tail longer than this is set aside even without a word boundary (see RunningTokenCount). */
const MAX_TAIL = 4096;

/**
 * Counts the tokens of a growing text without re-encoding all of it on every delta. BPE never
 * merges across a space that starts a word, so the text before the last such space is counted
 * once and set aside; only the short tail after it is re-encoded. A tail that grows past MAX_TAIL
 * without such a space (one enormous word) is set aside as it is, so each delta costs at most that
 * much counting: the running count may then differ from the exact one by a token per 4 KB.
 */
class RunningTokenCount {
  private committed = 0;
  private tail = '';

  /** Tokens of everything so far plus `more`. */
  peek(more: string): number {
    return this.committed + countTokens(this.tail + more);
  }

  /**
   * A bound that is never below peek(more), and costs nothing: no byte is ever more than one
   * token. Far from the limit this answers "fits" without counting the tail again on every delta.
   */
  atMost(more: string): number {
    return this.committed + Buffer.byteLength(this.tail) + Buffer.byteLength(more);
  }

  add(text: string): void {
    const start = this.tail.length;
    this.tail += text;
    // Only the new text can hold the last word boundary; the old tail had none.
    const boundary = this.tail.lastIndexOf(' ', this.tail.length - 2);
    if (boundary > 0 && boundary >= start - 1 && /\S/.test(this.tail[boundary + 1]!)) {
      this.committed += countTokens(this.tail.slice(0, boundary));
      this.tail = this.tail.slice(boundary);
    } else if (this.tail.length > MAX_TAIL) {
      this.committed += countTokens(this.tail);
      this.tail = '';
    }
  }

  /** The longest prefix of `more` that keeps the total at or under `max` tokens. */
  fit(more: string, max: number): string {
    const prefix = firstTokens(this.tail + more, Math.max(0, max - this.committed));
    return prefix.length > this.tail.length ? prefix.slice(this.tail.length) : '';
  }
}

export class OutputLimiter {
  private held = '';
  private readonly count = new RunningTokenCount();
  private readonly stops: string[];
  private readonly holdBack: number;
  /** Set once a limit was reached; no more output is allowed. */
  hit: LimitHit | undefined;
  /** The stop sequence that ended the answer, when one did. */
  stopSequence: string | undefined;

  constructor(private readonly limits: OutputLimits) {
    this.stops = (limits.stop ?? []).filter((s) => s.length > 0);
    this.holdBack = Math.max(0, ...this.stops.map((s) => s.length - 1));
  }

  get active(): boolean {
    return this.stops.length > 0 || this.limits.maxTokens !== undefined;
  }

  /** Charge thinking text to the token budget; returns the part that fits. */
  reasoning(text: string): string {
    return this.charge(text);
  }

  /** Feed answer text; returns what may be sent now. */
  text(delta: string): string {
    if (this.hit) return '';
    if (this.stops.length === 0) return this.charge(delta);
    const buffer = this.held + delta;
    let cut = -1;
    let found: string | undefined;
    for (const stop of this.stops) {
      const at = buffer.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) {
        cut = at;
        found = stop;
      }
    }
    if (cut !== -1) {
      this.held = '';
      const out = this.charge(buffer.slice(0, cut));
      if (!this.hit) {
        this.hit = 'stop';
        this.stopSequence = found;
      }
      return out;
    }
    const keep = this.possibleStopStart(buffer);
    this.held = buffer.slice(buffer.length - keep);
    return this.charge(buffer.slice(0, buffer.length - keep));
  }

  /** At the end of the answer: whatever was held back (it matched no stop sequence). */
  flush(): string {
    const out = this.hit ? '' : this.charge(this.held);
    this.held = '';
    return out;
  }

  /** Length of the longest tail of `buffer` that could still grow into a stop sequence. */
  private possibleStopStart(buffer: string): number {
    for (let k = Math.min(this.holdBack, buffer.length); k > 0; k--) {
      const tail = buffer.slice(buffer.length - k);
      if (this.stops.some((stop) => stop.startsWith(tail))) return k;
    }
    return 0;
  }

  private charge(text: string): string {
    if (this.hit) return '';
    const max = this.limits.maxTokens;
    if (text === '' || max === undefined) return text;
    if (this.count.atMost(text) <= max || this.count.peek(text) <= max) {
      this.count.add(text);
      return text;
    }
    this.hit = 'length';
    const fitting = this.count.fit(text, max);
    this.count.add(fitting);
    return fitting;
  }
}
