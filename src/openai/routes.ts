import { initServer } from '@ts-rest/express';
import type { Response } from 'express';
import { contract, type ChatCompletionRequest, type Health, type Model } from '../../contract/index.js';
import { GatewayError, isGatewayError } from '../chat/errors.js';
import type { ImageLoader } from '../chat/images.js';
import type { ModelCatalog } from '../chat/models.js';
import type { ChatUpstream, ModelInfo } from '../chat/types.js';
import { asGatewayError, toErrorResponse } from '../http/errors.js';
import { sseBody } from '../http/sse.js';
import type { Logger } from '../logger.js';
import { traceOf } from '../http/observe.js';
import type { CompletionCache } from './cache.js';
import { ignoredParameters, toChatRequest } from './request.js';
import { collectCompletion, completionId, SseChunkEncoder, unixSeconds } from './response.js';

export interface OpenAIRouteDeps {
  upstream: ChatUpstream;
  catalog: ModelCatalog;
  logger: Logger;
  version: string;
  startedAt: number;
  /** Keep-alive interval for streams, and how long to wait for Kiro before committing to a stream. */
  keepAliveMs: number;
  /** Downloads http(s) image URLs. */
  loadImage?: ImageLoader;
  /** Opt-in cache of non-streaming answers. */
  cache?: CompletionCache;
}

const toModel = (name: string, model: ModelInfo): Model => ({ id: name, object: 'model', created: model.created, owned_by: model.ownedBy });

const modelNotFound = (name: string) =>
  new GatewayError('not_found', `The model \`${name}\` does not exist. GET /v1/models lists the available models.`, {
    param: 'model',
    code: 'model_not_found',
  });

const clientGone = () => new GatewayError('invalid_request', 'The client closed the connection.', { code: 'client_closed' });

/** Wait for `promise` at most `ms`; true if it settled (fulfilled or rejected) in time. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function createOpenAIRouter(deps: OpenAIRouteDeps) {
  const s = initServer();

  async function createChatCompletion(body: ChatCompletionRequest, res: Response) {
    const model = deps.catalog.resolve(body.model);
    if (!model) throw modelNotFound(body.model);
    res.locals.model = model.id;
    res.locals.stream = body.stream === true;
    const trace = traceOf(res);
    const cacheKey = !body.stream && deps.cache ? deps.cache.key(body) : undefined;
    const cached = cacheKey ? deps.cache!.get(cacheKey) : undefined;
    if (cacheKey) {
      res.locals.cache = cached ? 'hit' : 'miss';
      res.setHeader('x-ki2api-cache', res.locals.cache as string);
    }
    if (cached) return { status: 200 as const, body: cached };

    const chatRequest = await toChatRequest(body, model, deps.loadImage);
    const ignored = ignoredParameters(body);
    if (ignored.length > 0) res.setHeader('x-ki2api-ignored-params', ignored.join(','));
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort(clientGone());
    });
    const id = completionId();
    const created = unixSeconds();
    // Whatever the upstream throws (before or during the answer) is an upstream error, for the metrics.
    const fromUpstream = (error: unknown) => {
      res.locals.upstreamError = isGatewayError(error) ? error.kind : 'server';
      throw error;
    };
    const opened = deps.upstream.stream(chatRequest, controller.signal, trace).catch(fromUpstream);

    if (!body.stream) {
      const completion = await collectCompletion(await opened, id, body.model, created, (batch) => trace.note(batch)).catch(fromUpstream);
      if (cacheKey) deps.cache!.set(cacheKey, completion);
      return { status: 200 as const, body: completion };
    }

    // Give Kiro a moment to accept or refuse, so a refusal is still a plain HTTP error that clients
    // retry by status. Past that, commit to the stream and keep it alive while Kiro thinks; nothing
    // but keep-alive comments goes out until Kiro's first event (retries stay invisible).
    opened.catch(() => undefined);
    const answered = await settlesWithin(opened, deps.keepAliveMs);
    if (answered) await opened;
    const encoder = new SseChunkEncoder(id, body.model, created, body.stream_options?.include_usage === true);
    async function* sseText() {
      const batches = await opened;
      let text = encoder.start();
      for await (const batch of batches) {
        trace.note(batch);
        yield text + encoder.encode(batch);
        text = '';
      }
    }
    const stream = sseBody(
      res,
      sseText(),
      {
        keepAliveMs: deps.keepAliveMs,
        // Kiro still silent: the headers go now and keep-alives follow. Otherwise the headers leave
        // with the first chunk, in one write.
        headersFirst: !answered,
        errorEvent: (error) => {
          const gatewayError = asGatewayError(error, deps.logger);
          res.locals.errorCode = gatewayError.code ?? gatewayError.kind;
          res.locals.upstreamError = gatewayError.kind;
          return toErrorResponse(gatewayError);
        },
      },
      () => controller.abort(clientGone()),
    );
    return { status: 200 as const, body: stream as never };
  }

  const health = async (): Promise<{ status: 200; body: Health }> => {
    const credentials = deps.upstream.credentialStatus();
    return {
      status: 200,
      body: {
        status: credentials.usable ? 'ok' : 'degraded',
        version: deps.version,
        uptime_seconds: Math.floor((Date.now() - deps.startedAt) / 1000),
        upstream: deps.upstream.name,
        credentials: {
          found: credentials.found,
          usable: credentials.usable,
          source: credentials.source,
          auth_method: credentials.authMethod,
          expires_at: credentials.expiresAt,
          problem: credentials.problem,
          fix: credentials.fix,
        },
        accounts: deps.upstream.accounts().map((a) => ({
          fingerprint: a.fingerprint,
          source: a.source,
          auth_method: a.authMethod,
          state: a.state,
          expires_at: a.expiresAt,
          cooldown_until: a.cooldownUntil,
          problem: a.problem,
          fix: a.fix,
        })),
      },
    };
  };

  return s.router(contract, {
    createChatCompletion: async ({ body, res }) => createChatCompletion(body, res),
    listModels: async () => ({
      status: 200,
      body: { object: 'list', data: deps.catalog.entries().map(({ name, model }) => toModel(name, model)) },
    }),
    retrieveModel: async ({ params }) => {
      const entry = deps.catalog.lookup(params.model);
      if (!entry) throw modelNotFound(params.model);
      return { status: 200, body: toModel(entry.name, entry.model) };
    },
    health,
    healthz: health,
  });
}
