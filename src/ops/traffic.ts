import type { FinishedRequest } from '../http/observe.js';

// The last hour of traffic, for the dashboard: one bucket per minute (requests by face and status
// class, latency and time to first token percentiles, tokens, credits) and the last failed
// requests. What is kept is what the access log already says — never a prompt, a token or a key.

export type Face = 'chat' | 'messages' | 'responses';
export type StatusClass = '2xx' | '4xx' | '5xx';

/** One finished request, as the access log saw it. */
export type RequestRecord = FinishedRequest;

export interface MinuteBucket {
  /** The minute's start (ISO 8601). */
  start: string;
  requests: Record<Face, Record<StatusClass, number>>;
  latency_ms: { p50: number; p95: number } | null;
  ttft_ms: { p50: number; p95: number } | null;
  tokens_in: number;
  tokens_out: number;
  credits: number;
}

export interface FailedRequest {
  at: string;
  method: string;
  route: string;
  model: string | null;
  account: string | null;
  status: number;
  code: string;
  message: string;
}

const MINUTE = 60_000;
const MINUTES = 60;
const SAMPLES = 512;
const FAILURES = 50;
const MESSAGE_CHARS = 300;

const FACES: readonly [string, Face][] = [
  ['/v1/chat/completions', 'chat'],
  ['/v1/messages', 'messages'],
  ['/v1/responses', 'responses'],
];

/** Which face a route belongs to (count_tokens and /v1/responses/{id} too), if any. */
export function faceOf(route: string): Face | undefined {
  return FACES.find(([prefix]) => route === prefix || route.startsWith(`${prefix}/`))?.[1];
}

/**
 * A stream that failed after its 200 counts with the server errors: the client got a failure
 * either way.
 */
export function statusClass(status: number, errorCode: string | undefined): StatusClass {
  if (status >= 500 || (status < 400 && errorCode !== undefined)) return '5xx';
  return status >= 400 ? '4xx' : '2xx';
}

interface Minute {
  start: number;
  requests: Record<Face, Record<StatusClass, number>>;
  latencies: Reservoir;
  ttfts: Reservoir;
  tokensIn: number;
  tokensOut: number;
  credits: number;
}

/** A bounded uniform sample of a minute's values: percentiles stay honest at any rate, memory does not grow. */
interface Reservoir {
  values: number[];
  seen: number;
}

function sample(reservoir: Reservoir, value: number): void {
  reservoir.seen++;
  if (reservoir.values.length < SAMPLES) reservoir.values.push(value);
  else {
    const slot = Math.floor(Math.random() * reservoir.seen);
    if (slot < SAMPLES) reservoir.values[slot] = value;
  }
}

const emptyCounts = (): Record<Face, Record<StatusClass, number>> => ({
  chat: { '2xx': 0, '4xx': 0, '5xx': 0 },
  messages: { '2xx': 0, '4xx': 0, '5xx': 0 },
  responses: { '2xx': 0, '4xx': 0, '5xx': 0 },
});

/** The value below which `q` of the sorted samples lie (nearest rank). */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

const spread = ({ values }: Reservoir) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { p50: round(percentile(sorted, 0.5)), p95: round(percentile(sorted, 0.95)) };
};

export class TrafficLog {
  private readonly minutes: Minute[] = [];
  private readonly failed: FailedRequest[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  record(record: RequestRecord): void {
    const face = faceOf(record.route);
    const klass = statusClass(record.status, record.errorCode);
    if (face) this.count(face, klass, record);
    // Failures of the API (not of the dashboard's own polling, nor of pages and probes).
    if (klass !== '2xx' && (face || record.route.startsWith('/v1/'))) {
      this.failed.unshift({
        at: new Date(record.at).toISOString(),
        method: record.method,
        route: record.route,
        model: record.model ?? null,
        account: record.account ?? null,
        status: record.status,
        code: record.errorCode ?? `http_${record.status}`,
        message: (record.errorMessage ?? '').slice(0, MESSAGE_CHARS),
      });
      if (this.failed.length > FAILURES) this.failed.length = FAILURES;
    }
  }

  private count(face: Face, klass: StatusClass, record: RequestRecord): void {
    const minute = this.minuteOf(record.at);
    minute.requests[face][klass]++;
    sample(minute.latencies, record.durationMs);
    if (record.ttftMs !== undefined) sample(minute.ttfts, record.ttftMs);
    minute.tokensIn += record.promptTokens ?? 0;
    minute.tokensOut += record.completionTokens ?? 0;
    minute.credits += record.credits ?? 0;
  }

  private minuteOf(at: number): Minute {
    const start = Math.floor(at / MINUTE) * MINUTE;
    let minute = this.minutes.at(-1);
    if (!minute || minute.start < start) {
      minute = { start, requests: emptyCounts(), latencies: { values: [], seen: 0 }, ttfts: { values: [], seen: 0 }, tokensIn: 0, tokensOut: 0, credits: 0 };
      this.minutes.push(minute);
      while (this.minutes.length > 0 && this.minutes[0]!.start <= start - MINUTES * MINUTE) this.minutes.shift();
    } else if (minute.start > start) {
      // A record from a minute already passed (it ended late): it joins the one it belongs to.
      minute = this.minutes.find((m) => m.start === start) ?? minute;
    }
    return minute;
  }

  /** The last hour, oldest first, one entry per minute (empty minutes included). */
  lastHour(): MinuteBucket[] {
    const current = Math.floor(this.now() / MINUTE) * MINUTE;
    const byStart = new Map(this.minutes.map((m) => [m.start, m]));
    return Array.from({ length: MINUTES }, (_, i) => {
      const start = current - (MINUTES - 1 - i) * MINUTE;
      const minute = byStart.get(start);
      return {
        start: new Date(start).toISOString(),
        requests: minute ? structuredClone(minute.requests) : emptyCounts(),
        latency_ms: minute ? spread(minute.latencies) : null,
        ttft_ms: minute ? spread(minute.ttfts) : null,
        tokens_in: minute?.tokensIn ?? 0,
        tokens_out: minute?.tokensOut ?? 0,
        credits: minute ? Math.round(minute.credits * 10_000) / 10_000 : 0,
      };
    });
  }

  /** The last failed requests, newest first. */
  failures(): FailedRequest[] {
    return [...this.failed];
  }
}

/**
 * Several replicas' last hours as one: counts, tokens and credits add up; the median is the
 * request-weighted mean of the replicas' medians and p95 the largest of theirs (an
 * approximation: the samples themselves stay on each replica); failures merge newest first.
 */
export function mergeTraffic(parts: readonly { minutes: MinuteBucket[]; failures: FailedRequest[] }[]): { minutes: MinuteBucket[]; failures: FailedRequest[] } {
  const byStart = new Map<string, MinuteBucket[]>();
  for (const part of parts) for (const minute of part.minutes) byStart.set(minute.start, [...(byStart.get(minute.start) ?? []), minute]);
  const total = (m: MinuteBucket) => Object.values(m.requests).reduce((n, counts) => n + counts['2xx'] + counts['4xx'] + counts['5xx'], 0);
  const combine = (spreads: { spread: { p50: number; p95: number } | null; weight: number }[]) => {
    const present = spreads.filter((s): s is { spread: { p50: number; p95: number }; weight: number } => s.spread !== null);
    if (present.length === 0) return null;
    const weight = present.reduce((n, s) => n + Math.max(1, s.weight), 0);
    const p50 = present.reduce((n, s) => n + s.spread.p50 * Math.max(1, s.weight), 0) / weight;
    return { p50: Math.round(p50 * 10) / 10, p95: Math.max(...present.map((s) => s.spread.p95)) };
  };
  const minutes = [...byStart.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .slice(-MINUTES)
    .map(([start, list]) => {
      const requests = emptyCounts();
      for (const minute of list) for (const face of Object.keys(requests) as Face[]) for (const klass of ['2xx', '4xx', '5xx'] as StatusClass[]) requests[face][klass] += minute.requests[face][klass];
      return {
        start,
        requests,
        latency_ms: combine(list.map((m) => ({ spread: m.latency_ms, weight: total(m) }))),
        ttft_ms: combine(list.map((m) => ({ spread: m.ttft_ms, weight: total(m) }))),
        tokens_in: list.reduce((n, m) => n + m.tokens_in, 0),
        tokens_out: list.reduce((n, m) => n + m.tokens_out, 0),
        credits: Math.round(list.reduce((n, m) => n + m.credits, 0) * 10_000) / 10_000,
      };
    });
  const failures = parts
    .flatMap((p) => p.failures)
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, FAILURES);
  return { minutes, failures };
}
