import { initServer } from '@ts-rest/express';
import type { RequestHandler } from 'express';
import { opsContract, type Health } from '../../contract/index.js';
import type { AccountStatus, ChatUpstream } from '../chat/types.js';
import type { Metrics } from '../metrics.js';

// Operations routes, outside every face: liveness (/health, /healthz), readiness (/ready), the
// Prometheus scrape (/metrics), and the `HEAD /` probe Claude Code sends before anything else.

export interface OpsDeps {
  upstream: ChatUpstream;
  metrics: Metrics;
  version: string;
  startedAt: number;
  /** Paths an unauthenticated caller must not see (the configured token file spec). */
  privatePaths: readonly string[];
  /** The replicas' shared state: Redis's state and this replica's id. */
  cluster?: () => { redis: 'off' | 'connecting' | 'connected' | 'unreachable'; replica: string | null };
}

const HIDDEN = '<token file>';

/** `text` with every private path replaced; longest first, so a folder never hides part of a file path. */
function redact(text: string | null, paths: readonly string[]): string | null {
  if (text === null) return null;
  let out = text;
  for (const path of [...paths].sort((a, b) => b.length - a.length)) if (path) out = out.split(path).join(HIDDEN);
  return out;
}

/** One account as /health (and the dashboard) shows it. */
export function accountHealth(a: AccountStatus): Health['accounts'][number] {
  return {
    fingerprint: a.fingerprint,
    source: a.source,
    auth_method: a.authMethod,
    login_kind: a.loginKind,
    endpoint: a.endpoint,
    region: a.region,
    state: a.state,
    expires_at: a.expiresAt,
    cooldown_until: a.cooldownUntil,
    problem: a.problem,
    fix: a.fix,
    usage: a.usage && { used: a.usage.used, limit: a.usage.limit, plan: a.usage.plan, resets_at: a.usage.resetsAt, overage: a.usage.overage },
    models: a.models,
  };
}

export function createOpsRouter(deps: OpsDeps) {
  const s = initServer();

  /** Full detail for a caller with a valid key; without one, no file paths. */
  const health = (authenticated: boolean): Health => {
    const credentials = deps.upstream.credentialStatus();
    const accounts = deps.upstream.accounts();
    const paths = [...deps.privatePaths, ...accounts.map((a) => a.source).filter((source) => source !== 'env')];
    const shown = (text: string | null) => (authenticated ? text : redact(text, paths));
    const source = (text: string | null) => (authenticated || text === null || text === 'env' || /^\d+ accounts$/.test(text) ? text : 'file');
    const cluster = deps.cluster?.() ?? { redis: 'off' as const, replica: null };
    return {
      status: credentials.usable && cluster.redis !== 'unreachable' ? 'ok' : 'degraded',
      version: deps.version,
      uptime_seconds: Math.floor((Date.now() - deps.startedAt) / 1000),
      upstream: deps.upstream.name,
      credentials: {
        found: credentials.found,
        usable: credentials.usable,
        source: source(credentials.source),
        auth_method: credentials.authMethod,
        expires_at: credentials.expiresAt,
        problem: shown(credentials.problem),
        fix: shown(credentials.fix),
      },
      accounts: accounts.map((a) => ({ ...accountHealth(a), source: source(a.source)!, problem: shown(a.problem), fix: shown(a.fix) })),
      cluster,
    };
  };
  const healthRoute = async ({ res }: { res: { locals: Record<string, unknown> } }) => ({ status: 200 as const, body: health(res.locals.authenticated === true) });

  return s.router(opsContract, {
    health: healthRoute,
    healthz: healthRoute,
    ready: async ({ res }) => {
      const credentials = deps.upstream.credentialStatus();
      if (credentials.usable) return { status: 200, body: { ready: true, problem: null } };
      const problem = credentials.problem ?? 'no Kiro account can serve';
      return { status: 503, body: { ready: false, problem: res.locals.authenticated === true ? problem : redact(problem, deps.privatePaths) } };
    },
  });
}

/** GET /metrics: Prometheus text exposition. */
export const metricsRoute =
  (metrics: Metrics): RequestHandler =>
  (_req, res, next) => {
    metrics.registry.metrics().then((text) => res.type(metrics.registry.contentType).send(text), next);
  };
