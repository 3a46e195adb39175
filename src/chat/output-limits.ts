import { countTokens, firstTokens } from './tokens.js';

// Kiro has no `stop` and no output-token cap, so the gateway applies both to the text as it
// streams: text is held back only as long as it could still be the start of a stop sequence.

export interface OutputLimits {
  stop?: readonly string[];
  maxTokens?: number;
}

export type LimitHit = 'stop' | 'length';

export class OutputLimiter {
  private held = '';
  private used = 0;
  private readonly stops: string[];
  private readonly holdBack: number;
  /** Set once a limit was reached; no more output is allowed. */
  hit: LimitHit | undefined;

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
    for (const stop of this.stops) {
      const at = buffer.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      this.held = '';
      const out = this.charge(buffer.slice(0, cut));
      this.hit ??= 'stop';
      return out;
    }
    const safe = Math.max(0, buffer.length - this.holdBack);
    this.held = buffer.slice(safe);
    return this.charge(buffer.slice(0, safe));
  }

  /** At the end of the answer: whatever was held back (it matched no stop sequence). */
  flush(): string {
    const out = this.hit ? '' : this.charge(this.held);
    this.held = '';
    return out;
  }

  private charge(text: string): string {
    if (this.hit || text === '' || this.limits.maxTokens === undefined) return this.hit ? '' : text;
    const tokens = countTokens(text);
    const left = this.limits.maxTokens - this.used;
    if (tokens <= left) {
      this.used += tokens;
      return text;
    }
    this.used = this.limits.maxTokens;
    this.hit = 'length';
    return left > 0 ? firstTokens(text, left) : '';
  }
}
