import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AccountStatus } from './chat/types.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];
const OVERHEAD_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1];

/** The gateway's Prometheus metrics, on a registry of its own (no global state). */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'ki2api_requests_total', help: 'HTTP requests by route, status and model.', labelNames: ['route', 'status', 'model'], registers: [this.registry] });
  readonly duration = new Histogram({ name: 'ki2api_request_duration_seconds', help: 'Request latency, until the response ended.', labelNames: ['route'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly ttft = new Histogram({ name: 'ki2api_time_to_first_token_seconds', help: 'Time from request to the first answer token.', labelNames: ['model'], buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly overhead = new Histogram({ name: 'ki2api_gateway_overhead_seconds', help: "The gateway's own time per request: total minus time waiting on Kiro.", labelNames: ['route'], buckets: OVERHEAD_BUCKETS, registers: [this.registry] });
  readonly errors = new Counter({ name: 'ki2api_errors_total', help: 'Error answers, by code (client and upstream alike).', labelNames: ['code'], registers: [this.registry] });
  readonly upstreamErrors = new Counter({ name: 'ki2api_upstream_errors_total', help: 'Failures that came from Kiro (or reaching it), by kind.', labelNames: ['kind'], registers: [this.registry] });
  readonly retries = new Counter({ name: 'ki2api_upstream_retries_total', help: 'Upstream attempts beyond the first.', registers: [this.registry] });
  readonly refreshes = new Counter({ name: 'ki2api_token_refreshes_total', help: 'Kiro token refreshes by result.', labelNames: ['result'], registers: [this.registry] });
  readonly inflightStreams = new Gauge({ name: 'ki2api_inflight_streams', help: 'Streaming responses in progress.', registers: [this.registry] });
  readonly tokens = new Counter({ name: 'ki2api_tokens_total', help: 'Tokens counted, by kind (prompt, completion).', labelNames: ['kind'], registers: [this.registry] });
  readonly cache = new Counter({ name: 'ki2api_cache_lookups_total', help: 'Response-cache lookups by result.', labelNames: ['result'], registers: [this.registry] });

  /** `replica`: with several replicas, every series carries this one's id (scrape them all). */
  constructor(accounts: () => AccountStatus[], replica?: string) {
    if (replica) this.registry.setDefaultLabels({ replica });
    collectDefaultMetrics({ register: this.registry, prefix: 'ki2api_' });
    new Gauge({
      name: 'ki2api_account_healthy',
      help: 'Per account (fingerprint): 1 when it can serve, 0 when cooling down, dead or unusable.',
      labelNames: ['account', 'state'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const account of accounts()) this.set({ account: account.fingerprint, state: account.state }, account.state === 'healthy' ? 1 : 0);
      },
    });
    // Kiro's own figures (getUsageLimits), for the accounts that have reported them.
    const credits = (name: string, help: string, pick: (usage: NonNullable<AccountStatus['usage']>) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['account'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const account of accounts()) if (account.usage) this.set({ account: account.fingerprint }, pick(account.usage));
        },
      });
    credits('ki2api_account_credits_used', 'Per account (fingerprint): credits used this period, as Kiro reports them.', (usage) => usage.used);
    credits('ki2api_account_credits_limit', 'Per account (fingerprint): the credits of its plan this period.', (usage) => usage.limit);
  }
}
