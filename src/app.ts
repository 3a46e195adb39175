import { createExpressEndpoints } from '@ts-rest/express';
import compression from 'compression';
import cors from 'cors';
import express, { type Express, type RequestHandler } from 'express';
import { contract, type RouteMeta } from '../contract/index.js';
import type { ImageLoader } from './chat/images.js';
import type { ModelCatalog } from './chat/models.js';
import type { ChatUpstream } from './chat/types.js';
import { createKeyChecker } from './http/auth.js';
import { errorHandler, notFoundHandler, sendError, validationError } from './http/errors.js';
import { concurrentStreams, requestsPerMinute } from './http/limits.js';
import { jsonBody } from './http/json-body.js';
import { observeRequests } from './http/observe.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { CompletionCache } from './openai/cache.js';
import { createOpenAIRouter } from './openai/routes.js';
import { VERSION } from './version.js';

export interface AppDeps {
  upstream: ChatUpstream;
  catalog: ModelCatalog;
  logger: Logger;
  /** Accepted API keys; null turns auth off. */
  apiKeys: readonly string[] | null;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  keepAliveMs: number;
  metrics: Metrics;
  loadImage?: ImageLoader;
  cache?: CompletionCache;
  /** Serve /metrics without the API key. */
  metricsPublic?: boolean;
  /** Per-key limits; 0 or absent: none. */
  rateLimitRpm?: number;
  maxConcurrentStreams?: number;
  /** Browser origins allowed by CORS; null or absent: CORS off. */
  corsOrigins?: string[] | null;
  startedAt?: number;
}

/**
 * Users paste base URLs with and without `/v1`, and model ids may contain a raw `/`:
 * map both onto the contract's paths before routing.
 */
const canonicalPaths: RequestHandler = (req, _res, next) => {
  let path = req.path;
  if (path === '/chat/completions' || path === '/models' || path.startsWith('/models/')) path = `/v1${path}`;
  const model = /^\/v1\/models\/(.+)$/.exec(path);
  if (model && model[1]!.includes('/')) path = `/v1/models/${encodeURIComponent(model[1]!)}`;
  if (path !== req.path) req.url = path + req.url.slice(req.path.length);
  next();
};

const DOCS_PATH = /^\/(?:docs|openapi\.json)(?:\/|$)/;

/**
 * /docs and /openapi.json, built on their first visit: the OpenAPI generator, Swagger UI and the
 * document cost ~5 MB resident and ~100 ms at start-up, for pages most gateways never serve.
 */
function lazyDocs(): RequestHandler {
  let docs: Promise<RequestHandler> | undefined;
  return (req, res, next) => {
    if (!DOCS_PATH.test(req.path)) return next();
    docs ??= import('./http/docs.js').then((module) => module.docsRouter());
    docs.then((router) => router(req, res, next), next);
  };
}

/** Never compress a stream: gzip would hold chunks back until its buffer fills. */
const notEventStream: compression.CompressionFilter = (req, res) =>
  !String(res.getHeader('content-type') ?? '').startsWith('text/event-stream') && compression.filter(req, res);

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // No route takes query parameters: skip parsing them on every request.
  app.set('query parser', false);
  app.use(observeRequests(deps.logger, deps.metrics));
  app.use(canonicalPaths);
  if (deps.corsOrigins?.length) {
    app.use(cors({ origin: deps.corsOrigins.includes('*') ? '*' : deps.corsOrigins, exposedHeaders: ['x-request-id', 'x-ki2api-overhead-ms', 'retry-after'], maxAge: 600 }));
  }
  // compression() wraps every response it sees; only hand it those whose client can decode gzip.
  const compress = compression({ filter: notEventStream, threshold: 1024 });
  app.use((req, res, next) => (req.headers['accept-encoding'] ? compress(req, res, next) : next()));
  app.use(jsonBody(deps.bodyLimit));

  const checkKey = createKeyChecker(deps.apiKeys);
  const requireKey: RequestHandler = (req, res, next) => {
    const failure = checkKey(req.headers);
    if (failure) sendError(res, failure);
    else next();
  };
  app.get('/metrics', ...(deps.metricsPublic ? [] : [requireKey]), (_req, res, next) => {
    deps.metrics.registry.metrics().then((text) => res.type(deps.metrics.registry.contentType).send(text), next);
  });

  const auth: RequestHandler = (req, res, next) => {
    const meta = (req as unknown as { tsRestRoute?: { metadata?: RouteMeta } }).tsRestRoute?.metadata;
    if (meta?.public) next();
    else requireKey(req, res, next);
  };
  const chatOnly = (limit: RequestHandler): RequestHandler => (req, res, next) =>
    (req as unknown as { tsRestRoute?: unknown }).tsRestRoute === contract.createChatCompletion ? limit(req, res, next) : next();
  const limits = [
    ...(deps.rateLimitRpm ? [chatOnly(requestsPerMinute(deps.rateLimitRpm))] : []),
    ...(deps.maxConcurrentStreams ? [chatOnly(concurrentStreams(deps.maxConcurrentStreams))] : []),
  ];

  const router = createOpenAIRouter({
    upstream: deps.upstream,
    catalog: deps.catalog,
    logger: deps.logger,
    version: VERSION,
    startedAt: deps.startedAt ?? Date.now(),
    keepAliveMs: deps.keepAliveMs,
    ...(deps.loadImage && { loadImage: deps.loadImage }),
    ...(deps.cache && { cache: deps.cache }),
  });
  createExpressEndpoints(contract, router, app, {
    logInitialization: false,
    globalMiddleware: [auth, ...limits],
    requestValidationErrorHandler: (err, _req, res) => {
      if (err.body) sendError(res, validationError(err.body, 'body'));
      else if (err.pathParams) sendError(res, validationError(err.pathParams, 'path'));
      else if (err.query) sendError(res, validationError(err.query, 'query'));
      else if (err.headers) sendError(res, validationError(err.headers, 'headers'));
    },
  });
  // After the API routes: a chat request never walks past the docs' layers.
  app.use(lazyDocs());
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
