import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import onHeaders from 'on-headers';
import { GatewayError } from '../chat/errors.js';
import { RequestTrace } from '../chat/trace.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import { printablePath } from './errors.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;
const QUIET = /^\/(health|healthz|ready|metrics|docs|openapi\.json|dashboard)/;

export const traceOf = (res: Response): RequestTrace => res.locals.trace as RequestTrace;

/** The contract route that served the request (bounded label set), or what kind of page it was. */
function routeLabel(req: Request, path: string): string {
  const route = (req.route as { path?: string } | undefined)?.path;
  if (route) return route;
  if (path.startsWith('/docs')) return '/docs';
  return 'unmatched';
}

/**
 * First middleware of every request: a request id (the client's `x-request-id` if sane, echoed
 * back), a trace, the `x-ki2api-overhead-ms` header written just before the headers go out, and
 * when the response ends one log line and the metrics. No headers or bodies are ever logged.
 */
/** What the access log saw of a finished request, for whoever keeps traffic (the dashboard). */
export interface FinishedRequest {
  at: number;
  method: string;
  route: string;
  status: number;
  durationMs: number;
  ttftMs?: number;
  promptTokens?: number;
  completionTokens?: number;
  credits?: number;
  model?: string;
  account?: string;
  errorCode?: string;
  errorMessage?: string;
}

export function observeRequests(logger: Logger, metrics: Metrics, onFinished?: (request: FinishedRequest) => void): RequestHandler {
  return (req, res, next) => {
    const trace = new RequestTrace();
    // As it arrived: mounted routers (the docs) rewrite req.path while they handle it.
    const path = req.path;
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : `req_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
    res.locals.trace = trace;
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    let streaming = false;
    onHeaders(res, () => {
      res.setHeader('x-ki2api-overhead-ms', trace.overheadMs().toFixed(3));
      streaming = String(res.getHeader('content-type') ?? '').startsWith('text/event-stream');
      if (streaming) metrics.inflightStreams.inc();
    });

    res.once('close', () => {
      if (streaming) metrics.inflightStreams.dec();
      const route = routeLabel(req, path);
      const seconds = trace.elapsedMs() / 1000;
      const model = (res.locals.model as string | undefined) ?? 'none';
      const ttft = trace.ttftMs();
      const errorCode = res.locals.errorCode as string | undefined;
      metrics.requests.inc({ route, status: String(res.statusCode), model });
      metrics.duration.observe({ route }, seconds);
      metrics.overhead.observe({ route }, trace.overheadMs() / 1000);
      if (ttft !== undefined) metrics.ttft.observe({ model }, ttft / 1000);
      if (trace.usage) {
        metrics.tokens.inc({ kind: 'prompt' }, trace.usage.promptTokens);
        metrics.tokens.inc({ kind: 'completion' }, trace.usage.completionTokens);
      }
      if (trace.attempts > 1) metrics.retries.inc(trace.attempts - 1);
      if (errorCode) metrics.errors.inc({ code: errorCode });
      if (res.locals.upstreamError) metrics.upstreamErrors.inc({ kind: res.locals.upstreamError as string });
      if (res.locals.cache) metrics.cache.inc({ result: res.locals.cache as string });

      const entry = {
        request_id: requestId,
        method: req.method,
        route,
        // Which route a client looked for, when it matched none.
        ...(route === 'unmatched' && { path: printablePath(path) }),
        status: res.statusCode,
        duration_ms: round(trace.elapsedMs()),
        overhead_ms: round(trace.overheadMs()),
        ...(res.locals.model && { model }),
        ...(res.locals.stream !== undefined && { stream: res.locals.stream }),
        ...(trace.account && { account: trace.account }),
        ...(ttft !== undefined && { ttft_ms: round(ttft) }),
        ...(trace.usage && { prompt_tokens: trace.usage.promptTokens, completion_tokens: trace.usage.completionTokens }),
        ...(trace.attempts > 1 && { retries: trace.attempts - 1 }),
        ...(errorCode && { error: errorCode }),
        ...(!res.writableFinished && { client_closed: true }),
      };
      onFinished?.({
        at: Date.now(),
        method: req.method,
        route,
        status: res.statusCode,
        durationMs: trace.elapsedMs(),
        ...(ttft !== undefined && { ttftMs: ttft }),
        ...(trace.usage && { promptTokens: trace.usage.promptTokens, completionTokens: trace.usage.completionTokens, ...(trace.usage.credits !== undefined && { credits: trace.usage.credits }) }),
        ...(res.locals.model && { model }),
        ...(trace.account && { account: trace.account }),
        ...(errorCode && { errorCode }),
        ...(res.locals.errorMessage && { errorMessage: res.locals.errorMessage as string }),
      });
      if (res.statusCode >= 500) logger.warn(entry, 'request failed');
      else if (QUIET.test(path) && res.statusCode < 400) logger.debug(entry, 'request');
      else logger.info(entry, 'request');
    });
    next();
  };
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/**
 * Aborted when the client goes away before its answer is complete (once per request, however many
 * ask): whatever works for the request — image downloads, the upstream call — listens to it.
 */
export function clientSignal(res: Response): AbortSignal {
  let controller = res.locals.clientGone as AbortController | undefined;
  if (!controller) {
    const created = new AbortController();
    controller = created;
    res.locals.clientGone = created;
    res.once('close', () => {
      if (!res.writableFinished) created.abort(new GatewayError('invalid_request', 'The client closed the connection.', { code: 'client_closed' }));
    });
  }
  return controller.signal;
}
