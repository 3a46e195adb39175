import { createExpressEndpoints } from '@ts-rest/express';
import express, { type Express, type RequestHandler } from 'express';
import { contract, type RouteMeta } from '../contract/index.js';
import { buildOpenApiDocument } from '../contract/openapi.js';
import type { ImageLoader } from './chat/images.js';
import type { ModelCatalog } from './chat/models.js';
import type { ChatUpstream } from './chat/types.js';
import { accessLog } from './http/access-log.js';
import { createKeyChecker } from './http/auth.js';
import { docsRouter } from './http/docs.js';
import { errorHandler, notFoundHandler, sendError, validationError } from './http/errors.js';
import type { Logger } from './logger.js';
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
  loadImage?: ImageLoader;
  startedAt?: number;
}

/** The committed openapi.json, as text: what `npm run openapi` writes and `/openapi.json` serves. */
export const openapiJsonText = (): string => `${JSON.stringify(buildOpenApiDocument(VERSION), null, 2)}\n`;

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

export function createApp(deps: AppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(accessLog(deps.logger));
  // Parse JSON whatever the content type says: `curl -d` sends form-urlencoded by default.
  app.use(express.json({ limit: deps.bodyLimit, type: () => true }));
  app.use(canonicalPaths);
  app.use(docsRouter(openapiJsonText()));

  const checkKey = createKeyChecker(deps.apiKeys);
  const auth: RequestHandler = (req, res, next) => {
    const meta = (req as unknown as { tsRestRoute?: { metadata?: RouteMeta } }).tsRestRoute?.metadata;
    const failure = meta?.public ? undefined : checkKey(req.headers);
    if (failure) sendError(res, failure);
    else next();
  };

  const router = createOpenAIRouter({
    upstream: deps.upstream,
    catalog: deps.catalog,
    logger: deps.logger,
    version: VERSION,
    startedAt: deps.startedAt ?? Date.now(),
    keepAliveMs: deps.keepAliveMs,
    ...(deps.loadImage && { loadImage: deps.loadImage }),
  });
  createExpressEndpoints(contract, router, app, {
    logInitialization: false,
    globalMiddleware: [auth],
    requestValidationErrorHandler: (err, _req, res) => {
      if (err.body) sendError(res, validationError(err.body, 'body'));
      else if (err.pathParams) sendError(res, validationError(err.pathParams, 'path'));
      else if (err.query) sendError(res, validationError(err.query, 'query'));
      else if (err.headers) sendError(res, validationError(err.headers, 'headers'));
    },
  });
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
