import type { ChatEvent, Usage } from './types.js';

/**
 * What one request did, filled in as it runs: for the log line, the metrics, and the overhead
 * header. "Upstream wait" is every millisecond spent waiting on Kiro (its answers, its stream, its
 * token service); everything else — queueing, parsing, validation, conversion, framing, writing —
 * is the gateway's own overhead.
 */
export class RequestTrace {
  readonly startedAt = performance.now();
  /** Fingerprint of the account that served the request. */
  account: string | undefined;
  /** Upstream attempts (1 = no retry). */
  attempts = 0;
  upstreamMs = 0;
  firstTokenAt: number | undefined;
  usage: Usage | undefined;

  /** Await `promise`, counting the time as upstream wait. */
  async waitFor<T>(promise: Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await promise;
    } finally {
      this.upstreamMs += performance.now() - start;
    }
  }

  /** Chunks of `source`, with the time spent waiting for each counted as upstream wait. */
  async *timed<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
    const iterator = source[Symbol.asyncIterator]();
    try {
      for (;;) {
        const start = performance.now();
        const next = await iterator.next();
        this.upstreamMs += performance.now() - start;
        if (next.done) return;
        yield next.value;
      }
    } finally {
      await iterator.return?.();
    }
  }

  /** Pass `events` through, noting the first answer token and the final usage. */
  async *observe(events: AsyncIterable<ChatEvent>): AsyncGenerator<ChatEvent> {
    for await (const event of events) {
      if (this.firstTokenAt === undefined && event.type !== 'finish') this.firstTokenAt = performance.now();
      if (event.type === 'finish') this.usage = event.usage;
      yield event;
    }
  }

  elapsedMs(now = performance.now()): number {
    return now - this.startedAt;
  }

  overheadMs(now = performance.now()): number {
    return Math.max(0, this.elapsedMs(now) - this.upstreamMs);
  }

  ttftMs(): number | undefined {
    return this.firstTokenAt === undefined ? undefined : this.firstTokenAt - this.startedAt;
  }
}
