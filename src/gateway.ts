import type { Express } from 'express';
import { Agent } from 'undici';
import { createApp } from './app.js';
import { ImageFetcher } from './chat/images.js';
import { ModelCatalog } from './chat/models.js';
import { warmTokenizer } from './chat/tokens.js';
import type { ChatUpstream } from './chat/types.js';
import type { Config } from './config.js';
import { discoverAccounts } from './credentials/discovery.js';
import { CompletionCache } from './faces/openai-chat/cache.js';
import { MemoryResponseStore } from './faces/openai-responses/store.js';
import { GatewayError } from './chat/errors.js';
import { toOpenAIError } from './faces/openai-envelope.js';
import { createKeyChecker } from './http/auth.js';
import type { ServerOptions } from './http/server.js';
import { KiroUpstream } from './kiro/upstream.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { AccountAdmin } from './ops/account-admin.js';
import { TrafficLog } from './ops/traffic.js';

export interface Gateway {
  app: Express;
  /** What the HTTP server around `app` needs to know (deadlines, who may send a body). */
  serverOptions: ServerOptions;
  upstream: ChatUpstream;
  metrics: Metrics;
  close(): Promise<void>;
}

/** The composition root: everything expensive (connection pools, tokenizer) is built here, once. */
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
    hosts: { runtime: config.urlTemplates.base, legacy: config.urlTemplates.q, management: config.urlTemplates.management },
    credentials,
    logger,
    dispatcher,
    firstTokenTimeoutMs: config.firstByteTimeoutMs,
    breakerThreshold: config.breakerThreshold,
    breakerCooldownMs: config.breakerCooldownMs,
  });
  metrics = new Metrics(() => upstream.accounts());
  const catalog = new ModelCatalog(() => upstream.models, config.modelAliases);
  const images =
    config.imageMaxBytes > 0 && config.imageMaxPerRequest > 0
      ? new ImageFetcher({
          maxBytes: config.imageMaxBytes,
          timeoutMs: config.imageTimeoutMs,
          maxPerRequest: config.imageMaxPerRequest,
          maxTotalBytes: config.imageMaxTotalBytes,
          allowPrivate: config.imageUrlAllowPrivate,
        })
      : undefined;
  const app = createApp({
    upstream,
    catalog,
    logger,
    metrics,
    apiKeys: config.apiKeys,
    bodyLimit: config.bodyLimit,
    requestTimeoutMs: config.requestTimeoutMs,
    keepAliveMs: config.keepAliveMs,
    totalTimeoutMs: config.totalTimeoutMs,
    retries: config.retries,
    retryMaxWaitMs: config.retryMaxWaitMs,
    metricsPublic: config.metricsPublic,
    rateLimitRpm: config.rateLimitRpm,
    maxConcurrentStreams: config.maxConcurrentStreams,
    authFailuresPerMinute: config.authFailuresPerMinute,
    corsOrigins: config.corsOrigins,
    privatePaths: config.tokenFile.split(','),
    responses: new MemoryResponseStore(config.responsesTtlSeconds, config.responsesMaxStored),
    dashboard: {
      traffic: new TrafficLog(),
      settings: {
        rate_limit_rpm: config.rateLimitRpm,
        max_concurrent_streams: config.maxConcurrentStreams,
        body_limit_bytes: config.bodyLimit,
        upstream_retries: config.retries,
        cache_ttl_seconds: config.cacheTtlSeconds,
        responses_ttl_seconds: config.responsesTtlSeconds,
        accounts_dir: config.accountsDir,
      },
      ...(config.adminKey && {
        admin: {
          key: config.adminKey,
          accounts: new AccountAdmin({
            accountsDir: config.accountsDir,
            authUrl: config.urlTemplates.auth,
            oidcUrl: config.urlTemplates.oidc,
            region: config.region,
            refreshAccount: (fingerprint) => upstream.refreshAccount(fingerprint),
          }),
        },
      }),
    },
    ...(images && { images }),
    ...(config.cacheTtlSeconds > 0 && { cache: new CompletionCache(config.cacheTtlSeconds, config.cacheMaxEntries) }),
    startedAt,
  });
  const checkKey = createKeyChecker(config.apiKeys);
  const serverOptions: ServerOptions = {
    requestTimeoutMs: config.requestTimeoutMs,
    // Only a client with a valid key and a body under the limit is asked to send its body.
    allowContinue: (req) => !checkKey(req.headers) && !(Number(req.headers['content-length'] ?? 0) > config.bodyLimit),
    refuseUpgrade: () => ({
      status: 400,
      body: toOpenAIError(
        new GatewayError('invalid_request', 'This gateway serves the Responses API over HTTP (server-sent events), not WebSocket. In Codex, set supports_websockets = false for this provider.', {
          code: 'websocket_not_supported',
        }),
      ),
    }),
  };
  return {
    app,
    serverOptions,
    upstream,
    metrics,
    close: async () => {
      await Promise.all([upstream.close(), images?.close()]);
    },
  };
}
