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
import { Metrics } from './metrics.js';
import { CompletionCache } from './openai/cache.js';

export interface Gateway {
  app: Express;
  upstream: ChatUpstream;
  metrics: Metrics;
  close(): Promise<void>;
}

/** The composition root: everything expensive (connection pool, tokenizer) is built here, once. */
export function createGateway(config: Config, logger: Logger, startedAt = Date.now()): Gateway {
  warmTokenizer();
  // No cap on connections: every open stream holds one, and a cap would stall streams in a queue.
  const dispatcher = new Agent({
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 300_000,
    connect: { timeout: config.connectTimeoutMs },
    // Kiro may hold its headers back until the first token: the first-token timer covers that wait.
    headersTimeout: config.firstByteTimeoutMs,
    bodyTimeout: config.idleTimeoutMs,
  });
  let metrics: Metrics | undefined;
  const credentials = discoverAccounts(config, logger, dispatcher, (result) => metrics?.refreshes.inc({ result }));
  const upstream = new KiroUpstream({
    baseUrl: config.baseUrl,
    credentials,
    dispatcher,
    firstTokenTimeoutMs: config.firstByteTimeoutMs,
    retries: config.retries,
    retryMaxWaitMs: config.retryMaxWaitMs,
    breakerThreshold: config.breakerThreshold,
    breakerCooldownMs: config.breakerCooldownMs,
  });
  metrics = new Metrics(() => upstream.accounts());
  const catalog = new ModelCatalog(upstream.models, config.modelAliases);
  const app = createApp({
    upstream,
    catalog,
    logger,
    metrics,
    apiKeys: config.apiKeys,
    bodyLimit: config.bodyLimit,
    keepAliveMs: config.keepAliveMs,
    metricsPublic: config.metricsPublic,
    rateLimitRpm: config.rateLimitRpm,
    maxConcurrentStreams: config.maxConcurrentStreams,
    corsOrigins: config.corsOrigins,
    ...(config.imageMaxBytes > 0 && { loadImage: createImageLoader({ maxBytes: config.imageMaxBytes, timeoutMs: config.imageTimeoutMs }) }),
    ...(config.cacheTtlSeconds > 0 && { cache: new CompletionCache(config.cacheTtlSeconds, config.cacheMaxEntries) }),
    startedAt,
  });
  return { app, upstream, metrics, close: () => upstream.close() };
}
