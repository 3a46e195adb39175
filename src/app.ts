import { initServer, createExpressEndpoints } from '@ts-rest/express';
import type { AppRoute, AppRouter } from '@ts-rest/core';
import compression from 'compression';
import cors from 'cors';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { chatContract, contract, dashboardContract, messagesContract, modelsContract, opsContract, responsesContract, type RouteMeta } from '../contract/index.js';
import { GatewayError } from './chat/errors.js';
import type { ImageFetcher } from './chat/images.js';
import type { ModelCatalog } from './chat/models.js';
import type { ChatUpstream } from './chat/types.js';
import { anthropicErrors } from './faces/anthropic/errors.js';
import { anthropicModelList, toAnthropicModel } from './faces/anthropic/models.js';
import { createMessagesRouter } from './faces/anthropic/routes.js';
import type { AnswerCache } from './faces/openai-chat/cache.js';
import { openaiModelList, toOpenAIModel } from './faces/openai-chat/models.js';
import { createChatRouter } from './faces/openai-chat/routes.js';
import { openaiErrors } from './faces/openai-envelope.js';
import { responsesErrors } from './faces/openai-responses/errors.js';
import { createResponsesRouter } from './faces/openai-responses/routes.js';
import type { ResponseStore } from './faces/openai-responses/store.js';
import { authenticate } from './http/auth.js';
import { errorHandler, notFoundHandler, sendError, useFaceErrors, validationError } from './http/errors.js';
import { jsonBody } from './http/json-body.js';
import type { Store } from 'express-rate-limit';
import { concurrentStreams, requestsPerMinute, type StreamSlots } from './http/limits.js';
import { observeRequests } from './http/observe.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { createDashboardRouter, dashboardPage, isDashboardPage, type DashboardDeps } from './ops/dashboard.js';
import { createOpsRouter, metricsRoute } from './ops/routes.js';
import type { TrafficLog } from './ops/traffic.js';
import { Orchestrator } from './orchestrator/answer.js';
import { VERSION } from './version.js';

export interface AppDeps {
  upstream: ChatUpstream;
  catalog: ModelCatalog;
  logger: Logger;
  /** Accepted API keys; null turns auth off. */
  apiKeys: readonly string[] | null;
  /** Largest accepted request body, in bytes. */
  bodyLimit: number;
  /** Headers and body must arrive within this long. */
  requestTimeoutMs: number;
  keepAliveMs: number;
  /** The longest one request may take (KIRO_TOTAL_TIMEOUT_MS). */
  totalTimeoutMs: number;
  retries: number;
  retryMaxWaitMs: number;
  metrics: Metrics;
  /** Downloads image URLs; absent: image URLs are refused. */
  images?: ImageFetcher;
  cache?: AnswerCache;
  /** Serve /metrics without the API key. */
  metricsPublic?: boolean;
  /** Per-key limits; 0 or absent: none. */
  rateLimitRpm?: number;
  maxConcurrentStreams?: number;
  /** Failed key checks per address and minute before 429; 0: no limit. */
  authFailuresPerMinute?: number;
  /** Browser origins allowed by CORS; null or absent: CORS off. */
  corsOrigins?: string[] | null;
  /** Paths /health hides from callers without a key. */
  privatePaths?: readonly string[];
  /** Where stored responses live (previous_response_id, GET /v1/responses/{id}). */
  responses: ResponseStore;
  startedAt?: number;
  /** The dashboard: the traffic it shows, its settings, and (with ADMIN_KEY) account management. Absent: no dashboard. */
  dashboard?: Omit<DashboardDeps, 'upstream' | 'startedAt'>;
  /** Several replicas: where the client limits count (Redis), and the shared state's health. */
  shared?: {
    rateStore?: Store;
    streamSlots?: StreamSlots;
    cluster: () => { redis: 'off' | 'connecting' | 'connected' | 'unreachable'; replica: string | null };
  };
}

/**
 * Users paste base URLs with and without `/v1`, and model ids may contain a raw `/`:
 * map both onto the contract's paths before routing.
 */
const canonicalPaths: RequestHandler = (req, _res, next) => {
  let path = req.path;
  if (/^\/(chat\/completions|models|messages|responses)(\/|$)/.test(path)) path = `/v1${path}`;
  const model = /^\/v1\/models\/(.+)$/.exec(path);
  if (model && model[1]!.includes('/')) path = `/v1/models/${encodeURIComponent(model[1]!)}`;
  if (path !== req.path) req.url = path + req.url.slice(req.path.length);
  next();
};

const DOCS_PATH = /^\/(?:docs|openapi\.json)(?:\/|$)/;

/**
 * /docs and /openapi.json, built on their first visit: the OpenAPI generator, Swagger UI and the
 * document cost ~5 MB resident and ~100 ms at start-up, for pages most gateways never serve.
 * They are pages to read: only GET and HEAD.
 */
function lazyDocs(): RequestHandler {
  let docs: Promise<RequestHandler> | undefined;
  return (req, res, next) => {
    if (!DOCS_PATH.test(req.path)) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return sendError(res, new GatewayError('invalid_request', `${req.method} is not allowed here: /docs and /openapi.json answer GET and HEAD.`, { code: 'method_not_allowed', status: 405, allow: 'GET, HEAD' }));
    }
    docs ??= import('./http/docs.js').then((module) => module.docsRouter());
    docs.then((router) => router(req, res, next), next);
  };
}

/** Never compress a stream: gzip would hold chunks back until its buffer fills. */
const notEventStream: compression.CompressionFilter = (req, res) =>
  !String(res.getHeader('content-type') ?? '').startsWith('text/event-stream') && compression.filter(req, res);

/** `METHOD path` of every contract route whose metadata says it is public. */
function publicRoutes(router: AppRouter): Set<string> {
  const out = new Set<string>();
  const walk = (node: AppRouter | AppRoute) => {
    if ('method' in node && typeof node.method === 'string') {
      if ((node.metadata as RouteMeta | undefined)?.public) out.add(`${node.method} ${node.path}`);
      return;
    }
    for (const child of Object.values(node as AppRouter)) walk(child as AppRouter | AppRoute);
  };
  walk(router);
  return out;
}

/** The routes that run a model: limits apply to them only. */
const ANSWER_PATHS: ReadonlySet<string> = new Set([chatContract.createChatCompletion.path, messagesContract.createMessage.path, responsesContract.createResponse.path, responsesContract.compactResponse.path]);

/** A client of Anthropic's API: it says which version it speaks. */
const speaksAnthropic = (req: Request) => req.headers['anthropic-version'] !== undefined;

/** Which face's error envelope a request gets: Anthropic's for its routes (and for its clients on shared ones). */
const FACE_ERRORS = [
  { matches: (req: Request) => req.path.startsWith('/v1/responses'), errors: responsesErrors },
  { matches: (req: Request) => req.path.startsWith('/v1/messages') || (speaksAnthropic(req) && !req.path.startsWith('/v1/chat')), errors: anthropicErrors },
];

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // No route takes query parameters: skip parsing them on every request.
  app.set('query parser', false);
  const traffic: TrafficLog | undefined = deps.dashboard?.traffic;
  app.use(observeRequests(deps.logger, deps.metrics, traffic && ((request) => traffic.record(request))));
  app.use(canonicalPaths);
  app.use(useFaceErrors(FACE_ERRORS, openaiErrors));
  if (deps.corsOrigins?.length) {
    app.use(cors({ origin: deps.corsOrigins.includes('*') ? '*' : deps.corsOrigins, exposedHeaders: ['x-request-id', 'x-ki2api-overhead-ms', 'retry-after'], maxAge: 600 }));
  }
  // compression() wraps every response it sees; only hand it those whose client can decode gzip.
  const compress = compression({ filter: notEventStream, threshold: 1024 });
  app.use((req, res, next) => (req.headers['accept-encoding'] ? compress(req, res, next) : next()));

  // The key is checked before a byte of the body is read.
  const open = publicRoutes(contract);
  const isPublic = (req: Request) => {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    return (
      open.has(`${method} ${req.path}`) ||
      DOCS_PATH.test(req.path) ||
      (deps.dashboard !== undefined && method === 'GET' && isDashboardPage(req.path)) ||
      (req.method === 'HEAD' && req.path === '/') ||
      (deps.metricsPublic === true && req.path === '/metrics')
    );
  };
  app.use(authenticate({ keys: deps.apiKeys, isPublic, failuresPerMinute: deps.authFailuresPerMinute ?? 0, drainMs: deps.requestTimeoutMs }));
  app.use(jsonBody({ limit: deps.bodyLimit, timeoutMs: deps.requestTimeoutMs }));

  app.get('/metrics', metricsRoute(deps.metrics));
  // Claude Code's first probe of a base URL.
  app.head('/', (_req, res) => void res.status(200).end());

  const answersOnly = (limit: RequestHandler): RequestHandler => (req, res, next) => (ANSWER_PATHS.has(req.path) ? limit(req, res, next) : next());
  const limits = [
    ...(deps.rateLimitRpm ? [answersOnly(requestsPerMinute(deps.rateLimitRpm, deps.shared?.rateStore))] : []),
    ...(deps.maxConcurrentStreams ? [answersOnly(concurrentStreams(deps.maxConcurrentStreams, deps.shared?.streamSlots))] : []),
  ];
  const endpoints = {
    logInitialization: false,
    globalMiddleware: limits,
    requestValidationErrorHandler: (err: { body: unknown; pathParams: unknown; query: unknown; headers: unknown }, _req: Request, res: express.Response) => {
      if (err.body) sendError(res, validationError(err.body as never, 'body'));
      else if (err.pathParams) sendError(res, validationError(err.pathParams as never, 'path'));
      else if (err.query) sendError(res, validationError(err.query as never, 'query'));
      else if (err.headers) sendError(res, validationError(err.headers as never, 'headers'));
    },
  };

  const orchestrator = new Orchestrator({
    upstream: deps.upstream,
    logger: deps.logger,
    keepAliveMs: deps.keepAliveMs,
    totalTimeoutMs: deps.totalTimeoutMs,
    retries: deps.retries,
    retryMaxWaitMs: deps.retryMaxWaitMs,
  });
  const chat = createChatRouter({
    orchestrator,
    catalog: deps.catalog,
    ...(deps.images && { images: deps.images }),
    ...(deps.cache && { cache: deps.cache }),
  });
  createExpressEndpoints(chatContract, chat, app, endpoints);
  const responses = createResponsesRouter({ orchestrator, catalog: deps.catalog, store: deps.responses, ...(deps.images && { images: deps.images }) });
  createExpressEndpoints(responsesContract, responses, app, endpoints);
  const messages = createMessagesRouter({ orchestrator, catalog: deps.catalog, ...(deps.images && { images: deps.images }) });
  createExpressEndpoints(messagesContract, messages, app, endpoints);

  // One model list, in the shape the client speaks.
  const s = initServer();
  const models = s.router(modelsContract, {
    listModels: async ({ req }) => ({ status: 200, body: speaksAnthropic(req) ? anthropicModelList(deps.catalog) : openaiModelList(deps.catalog) }),
    retrieveModel: async ({ params, req }) => {
      const entry = deps.catalog.lookup(params.model) ?? { name: params.model, model: deps.catalog.require(params.model) };
      return { status: 200, body: speaksAnthropic(req) ? toAnthropicModel(entry.name, entry.model) : toOpenAIModel(entry.name, entry.model) };
    },
  });
  createExpressEndpoints(modelsContract, models, app, endpoints);

  const ops = createOpsRouter({
    upstream: deps.upstream,
    metrics: deps.metrics,
    version: VERSION,
    startedAt: deps.startedAt ?? Date.now(),
    privatePaths: deps.privatePaths ?? [],
    ...(deps.shared && { cluster: deps.shared.cluster }),
  });
  createExpressEndpoints(opsContract, ops, app, endpoints);
  if (deps.dashboard) {
    app.use(dashboardPage());
    createExpressEndpoints(dashboardContract, createDashboardRouter({ ...deps.dashboard, upstream: deps.upstream, startedAt: deps.startedAt ?? Date.now() }), app, endpoints);
  }

  // After the API routes: a chat request never walks past the docs' layers.
  app.use(lazyDocs());
  app.use(notFoundHandler('/v1/chat/completions, /v1/responses, /v1/messages, /v1/models, /health, /ready, /docs and /dashboard'));
  app.use(errorHandler(deps.logger));
  return app;
}
