import type { Express } from 'express';
import { Agent } from 'undici';
import { createApp } from './app.js';
import { createImageLoader } from './chat/images.js';
import { ModelCatalog } from './chat/models.js';
import { warmTokenizer } from './chat/tokens.js';
import type { ChatUpstream } from './chat/types.js';
import type { Config } from './config.js';
import { discoverAccounts } from './credentials/discovery.js';
import { KiroUpstream } from './kiro/upstream.js';
import type { Logger } from './logger.js';

export interface Gateway {
  app: Express;
  upstream: ChatUpstream;
  close(): Promise<void>;
}

/** The composition root: everything expensive (connection pool, tokenizer) is built here, once. */
export function createGateway(config: Config, logger: Logger, startedAt = Date.now()): Gateway {
  warmTokenizer();
  const dispatcher = new Agent({
    connections: 128,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 300_000,
    headersTimeout: config.firstByteTimeoutMs,
    bodyTimeout: config.idleTimeoutMs,
  });
  const upstream = new KiroUpstream({ baseUrl: config.baseUrl, credentials: discoverAccounts(config, logger, dispatcher), dispatcher });
  const catalog = new ModelCatalog(upstream.models, config.modelAliases);
  const app = createApp({
    upstream,
    catalog,
    logger,
    apiKeys: config.apiKeys,
    bodyLimit: config.bodyLimit,
    keepAliveMs: config.keepAliveMs,
    ...(config.imageMaxBytes > 0 && { loadImage: createImageLoader({ maxBytes: config.imageMaxBytes, timeoutMs: config.imageTimeoutMs }) }),
    startedAt,
  });
  return { app, upstream, close: () => upstream.close() };
}
