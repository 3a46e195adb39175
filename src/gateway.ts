import type { Express } from 'express';
import { Agent } from 'undici';
import { createApp } from './app.js';
import { ImageFetcher } from './chat/images.js';
import { ModelCatalog } from './chat/models.js';
import { warmTokenizer } from './chat/tokens.js';
import type { ChatUpstream, ModelInfo } from './chat/types.js';
import { ConfigError, type Config } from './config.js';
import { discoverAccounts } from './credentials/discovery.js';
import { CompletionCache } from './faces/openai-chat/cache.js';
import { RedisAnswerCache } from './faces/openai-chat/redis-cache.js';
import { MemoryResponseStore } from './faces/openai-responses/store.js';
import { RedisResponseStore } from './faces/openai-responses/redis-store.js';
import { GatewayError } from './chat/errors.js';
import { toOpenAIError } from './faces/openai-envelope.js';
import { createKeyChecker } from './http/auth.js';
import type { ServerOptions } from './http/server.js';
import { KiroUpstream } from './kiro/upstream.js';
import type { Logger } from './logger.js';
import { Metrics } from './metrics.js';
import { RedisAccountState } from './shared/accounts.js';
import { RedisFigures } from './shared/figures.js';
import { SharedRateStore, SharedStreamSlots } from './shared/limits.js';
import { RedisLogins } from './shared/logins.js';
import { defaultReplicaId, SharedRedis } from './shared/redis.js';
import { SharedTraffic } from './shared/traffic.js';
import { AccountAdmin } from './ops/account-admin.js';
import { TrafficLog } from './ops/traffic.js';

export interface Gateway {
  app: Express;
  /** What the HTTP server around `app` needs to know (deadlines, who may send a body). */
  serverOptions: ServerOptions;
  upstream: ChatUpstream;
  metrics: Metrics;
  /** Resolves once shared state (Redis) is reachable, or has been given a moment to be. */
  ready(): Promise<void>;
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
  // Several replicas share their state through Redis; without REDIS_URL, everything is in memory.
  const redis = config.redis && new SharedRedis({ url: config.redis.url, prefix: config.redis.prefix, replica: config.redis.replica ?? defaultReplicaId(), logger });
  const traffic = new TrafficLog();
  const sharedTraffic = redis && new SharedTraffic(redis, traffic);
  let metrics: Metrics | undefined;
  const credentials = discoverAccounts(
    config,
    logger,
    dispatcher,
    (result) => metrics?.refreshes.inc({ result }),
    Date.now,
    redis && { logins: new RedisLogins(redis, logger, config.redis!.lockMs), state: new RedisAccountState(redis) },
  );
  const upstream = new KiroUpstream({
    hosts: { runtime: config.urlTemplates.base, legacy: config.urlTemplates.q, management: config.urlTemplates.management },
    credentials,
    logger,
    dispatcher,
    firstTokenTimeoutMs: config.firstByteTimeoutMs,
    breakerThreshold: config.breakerThreshold,
    breakerCooldownMs: config.breakerCooldownMs,
    ...(redis && { sharedFigures: new RedisFigures(redis) }),
  });
  metrics = new Metrics(() => upstream.accounts(), redis?.replica);
  const catalog = modelCatalog(() => upstream.models, config.modelAliases);
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
    responses: redis ? new RedisResponseStore(redis, config.responsesTtlSeconds, config.responsesMaxStored) : new MemoryResponseStore(config.responsesTtlSeconds, config.responsesMaxStored),
    ...(redis && {
      shared: {
        rateStore: new SharedRateStore(redis),
        streamSlots: new SharedStreamSlots(redis, config.maxConcurrentStreams),
        cluster: () => ({ redis: redis.state, replica: redis.replica }),
      },
    }),
    dashboard: {
      traffic,
      ...(sharedTraffic && { allTraffic: () => sharedTraffic.merged() }),
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
    ...(config.cacheTtlSeconds > 0 && { cache: redis ? new RedisAnswerCache(redis, config.cacheTtlSeconds, config.cacheMaxEntries) : new CompletionCache(config.cacheTtlSeconds, config.cacheMaxEntries) }),
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
    ready: async () => {
      if (redis) {
        await redis.ready();
        sharedTraffic?.start();
      }
      upstream.start();
    },
    close: async () => {
      sharedTraffic?.stop();
      await Promise.all([upstream.close(), images?.close(), redis?.close()]);
    },
  };
}

/** The models and their aliases; an alias that points at no model is the configuration's fault. */
function modelCatalog(models: () => readonly ModelInfo[], aliases: Record<string, string>): ModelCatalog {
  try {
    return new ModelCatalog(models, aliases);
  } catch (error) {
    throw new ConfigError('MODEL_ALIASES', (error as Error).message, 'Point each alias at a model id from GET /v1/models.');
  }
}
