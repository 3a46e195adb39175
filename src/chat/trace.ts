import type { EventBatch, Usage } from './types.js';

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
  /** Accounts whose circuit breaker this request already counted a failure against (once per request). */
  readonly breakerCharged = new Set<string>();
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

  /** Note the first answer token and the final usage as batches go by. */
  note(batch: EventBatch): void {
    if (this.firstTokenAt === undefined && batch.some((event) => event.type !== 'finish')) this.firstTokenAt = performance.now();
    const last = batch[batch.length - 1];
    if (last?.type === 'finish') this.usage = last.usage;
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
