import { initServer } from '@ts-rest/express';
import type { Response } from 'express';
import { chatContract, type ChatCompletionRequest } from '../../../contract/index.js';
import { GatewayError } from '../../chat/errors.js';
import type { ImageFetcher } from '../../chat/images.js';
import type { ModelCatalog } from '../../chat/models.js';
import { releaseBody } from '../../http/json-body.js';
import { clientSignal } from '../../http/observe.js';
import type { Orchestrator } from '../../orchestrator/answer.js';
import type { AnswerCache } from './cache.js';
import { ignoredParameters, toChatRequest } from './request.js';
import { collectCompletion, completionId, SseChunkEncoder, unixSeconds } from './response.js';

export interface ChatFaceDeps {
  orchestrator: Orchestrator;
  catalog: ModelCatalog;
  /** Downloads http(s) image URLs; without it, image URLs are refused. */
  images?: ImageFetcher;
  /** Opt-in cache of non-streaming answers. */
  cache?: AnswerCache;
}

/** The OpenAI Chat Completions face: OpenAI JSON in, neutral request to the orchestrator, events out as chunks. */
export function createChatRouter(deps: ChatFaceDeps) {
  const s = initServer();

  async function createChatCompletion(body: ChatCompletionRequest, res: Response) {
    const model = deps.catalog.require(body.model);
    res.locals.model = model.id;
    res.locals.stream = body.stream === true;
    const cacheKey = !body.stream && deps.cache ? deps.cache.key(body, res.locals.client as string) : undefined;
    const cached = cacheKey ? await deps.cache!.get(cacheKey) : undefined;
    if (cacheKey) {
      res.locals.cache = cached ? 'hit' : 'miss';
      res.setHeader('x-ki2api-cache', res.locals.cache as string);
    }
    if (cached) return { status: 200 as const, body: cached };

    const chatRequest = await toChatRequest(body, model, deps.images?.forRequest(clientSignal(res)));
    const ignored = ignoredParameters(body);
    if (ignored.length > 0) res.setHeader('x-ki2api-ignored-params', ignored.join(','));
    const id = completionId();
    const created = unixSeconds();
    const answer = await deps.orchestrator.open(res, chatRequest, body.stream === true);
    if (!body.stream) {
      const completion = await collectCompletion(answer.events, id, body.model, created);
      if (cacheKey) await deps.cache!.set(cacheKey, completion);
      return { status: 200 as const, body: completion };
    }
    const encoder = new SseChunkEncoder(id, body.model, created, body.stream_options?.include_usage === true);
    return { status: 200 as const, body: deps.orchestrator.sse(res, answer, encoder) as never };
  }

  return s.router(chatContract, {
    createChatCompletion: async ({ body, req, res }) => {
      releaseBody(req);
      return createChatCompletion(body, res);
    },
  });
}
