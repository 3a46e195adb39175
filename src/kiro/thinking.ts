// Kiro's "thinking mode" for Claude (kiro-protocol.md §9): a tag in the prompt makes the model
// open its answer with <thinking>…</thinking>, inline in the text. This parser splits that block
// off as reasoning, as it streams, holding back only what could be a partial tag.

const OPEN = '<thinking>';
const CLOSE = '</thinking>';

/** White space an answer may open with before <thinking> is no longer expected. */
const MAX_LEADING_SPACE = 256;

export const MIN_THINKING_BUDGET = 1024;
export const MAX_THINKING_BUDGET = 24576;

/** The prompt prefix that turns thinking on with a budget (clamped to what Kiro accepts). */
export function thinkingPrompt(budgetTokens: number): string {
  const budget = Math.min(MAX_THINKING_BUDGET, Math.max(MIN_THINKING_BUDGET, Math.round(budgetTokens)));
  return `<thinking_mode>enabled</thinking_mode><max_thinking_length>${budget}</max_thinking_length>`;
}

export interface Split {
  reasoning: string;
  text: string;
}

export class ThinkingTagParser {
  private state: 'start' | 'thinking' | 'answer' = 'start';
  private buffer = '';
  /** The newline right after <thinking> is layout, not thinking. */
  private stripAfterOpen = false;
  /** Newlines right after </thinking> (up to two) are layout, not answer. */
  private stripAfterClose = 0;

  push(delta: string): Split {
    if (this.state === 'answer') return { reasoning: '', text: this.stripLayout(delta) };
    this.buffer += delta;
    if (this.state === 'start') {
      const trimmed = this.buffer.trimStart();
      if (trimmed.startsWith(OPEN)) {
        this.state = 'thinking';
        this.buffer = trimmed.slice(OPEN.length);
        this.stripAfterOpen = true;
      } else if (OPEN.startsWith(trimmed) && this.buffer.length <= MAX_LEADING_SPACE) {
        // Maybe the start of <thinking>: wait (leading white space only goes so far).
        return { reasoning: '', text: '' };
      } else {
        this.state = 'answer';
        const text = this.buffer;
        this.buffer = '';
        return { reasoning: '', text };
      }
    }
    return this.inThinking();
  }

  flush(): Split {
    const rest = this.buffer;
    this.buffer = '';
    if (this.state === 'thinking') return { reasoning: rest, text: '' };
    return { reasoning: '', text: rest };
  }

  private stripLayout(text: string): string {
    let out = text;
    while (this.stripAfterClose > 0 && out.length > 0) {
      if (out.startsWith('\r\n')) out = out.slice(2);
      else if (out.startsWith('\n')) out = out.slice(1);
      else {
        this.stripAfterClose = 0;
        break;
      }
      this.stripAfterClose--;
    }
    return out;
  }

  private inThinking(): Split {
    if (this.stripAfterOpen && this.buffer.length > 0) {
      if (this.buffer === '\r') return { reasoning: '', text: '' };
      this.buffer = this.buffer.replace(/^\r?\n/, '');
      this.stripAfterOpen = false;
    }
    let from = 0;
    for (;;) {
      const at = this.buffer.indexOf(CLOSE, from);
      if (at === -1) break;
      // A tag the model is quoting (`</thinking>` or "</thinking>") is not the real end.
      const before = this.buffer[at - 1];
      if (before === '`' || before === '"' || before === "'") {
        from = at + CLOSE.length;
        continue;
      }
      const reasoning = this.buffer.slice(0, at);
      const rest = this.buffer.slice(at + CLOSE.length);
      this.buffer = '';
      this.state = 'answer';
      this.stripAfterClose = 2;
      return { reasoning, text: this.stripLayout(rest) };
    }
    const safe = Math.max(0, this.buffer.length - (CLOSE.length - 1));
    const reasoning = this.buffer.slice(0, safe);
    this.buffer = this.buffer.slice(safe);
    return { reasoning, text: '' };
  }
}
