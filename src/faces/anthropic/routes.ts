import { initServer } from '@ts-rest/express';
import type { Request, Response } from 'express';
import { messagesContract, type AnthropicCountTokensRequest, type AnthropicCreateMessageRequest } from '../../../contract/index.js';
import { GatewayError, isGatewayError } from '../../chat/errors.js';
import type { ImageFetcher, ImageLoader } from '../../chat/images.js';
import type { ModelCatalog } from '../../chat/models.js';
import type { ChatRequest, EventBatch, ModelInfo } from '../../chat/types.js';
import { releaseBody } from '../../http/json-body.js';
import { clientSignal } from '../../http/observe.js';
import type { Orchestrator } from '../../orchestrator/answer.js';
import { promptTooLong } from './errors.js';
import { ignoredBetas, ignoredParameters, sessionOf, toChatRequest } from './request.js';
import { AnthropicStreamEncoder, collectMessage, messageId } from './response.js';

export interface MessagesFaceDeps {
  orchestrator: Orchestrator;
  catalog: ModelCatalog;
  /** Downloads image URLs; without it, image URLs are refused. */
  images?: ImageFetcher;
}

const refuseImageUrls: ImageLoader = async (_url, param) => {
  throw new GatewayError('invalid_request', 'Image URLs are not enabled on this gateway: send the image as base64.', { param, code: 'unsupported_image_url' });
};

/** Counting needs no image bytes (images are not counted as text): URLs are not downloaded for it. */
const noDownload: ImageLoader = async () => ({ mediaType: 'image/png', data: '' });

/** A flat, generous allowance per image: a large image is ~1,600 tokens to Claude. */
const IMAGE_TOKENS = 1600;

const imagesIn = (request: ChatRequest): number => request.messages.reduce((n, m) => n + (m.role === 'assistant' ? 0 : m.content.filter((p) => p.type === 'image').length), 0);

/**
 * The prompt's count, asked for at most once. It holds the request only until it is asked: the
 * closure lives as long as the answer streams, and the request (the whole conversation) need not.
 */
function countOnce(orchestrator: Orchestrator, request: ChatRequest): () => Promise<number> {
  let unasked: ChatRequest | undefined = request;
  let counted: Promise<number> | undefined;
  return () => {
    if (unasked) {
      counted = orchestrator.countTokens(unasked);
      unasked = undefined;
    }
    return counted!;
  };
}

/** The Anthropic Messages face: Anthropic JSON in, the neutral request to the orchestrator, events out as Anthropic's. */
export function createMessagesRouter(deps: MessagesFaceDeps) {
  const s = initServer();

  const resolve = (name: string): ModelInfo => deps.catalog.require(name);

  /** A context Kiro finds too long becomes the error Claude Code compacts on, before or during the stream. */
  const reworded = (count: () => Promise<number>, model: ModelInfo) => async (error: unknown): Promise<never> => {
    if (isGatewayError(error) && error.kind === 'context_length') throw promptTooLong(error, await count().catch(() => 0), model.contextWindow);
    throw error;
  };

  async function* rewordEvents(events: AsyncIterable<EventBatch>, reword: (error: unknown) => Promise<never>): AsyncGenerator<EventBatch> {
    try {
      yield* events;
    } catch (error) {
      await reword(error);
    }
  }

  async function createMessage(body: AnthropicCreateMessageRequest, req: Request, res: Response) {
    const model = resolve(body.model);
    res.locals.model = model.id;
    res.locals.stream = body.stream === true;
    const said = sessionOf(req.headers['x-claude-code-session-id'], body);
    const session = said === undefined ? undefined : `${res.locals.client as string}:${said}`;
    const loader = deps.images?.forRequest(clientSignal(res)) ?? refuseImageUrls;
    const { chat, server } = await toChatRequest(body, model, loader, session);
    const ignored = ignoredParameters(body);
    if (ignored.length > 0) res.setHeader('x-ki2api-ignored-params', ignored.join(','));
    const betas = ignoredBetas(req.headers['anthropic-beta']);
    if (betas.length > 0) res.setHeader('x-ki2api-ignored-betas', betas.join(','));

    const count = countOnce(deps.orchestrator, chat);
    const reword = reworded(count, model);
    const answer = await deps.orchestrator.open(res, chat, body.stream === true, server).catch(reword);
    const events = rewordEvents(answer.events, reword);
    const id = messageId();
    if (!body.stream) return { status: 200 as const, body: await collectMessage(events, id, body.model) };
    // message_start carries the prompt's tokens: counted while Kiro is asked, awaited only if needed.
    const encoder = new AnthropicStreamEncoder(id, body.model, count());
    return { status: 200 as const, body: deps.orchestrator.sse(res, { ...answer, events }, encoder) as never };
  }

  async function countTokens(body: AnthropicCountTokensRequest) {
    const model = resolve(body.model);
    const { chat } = await toChatRequest(body, model, noDownload);
    const tokens = await deps.orchestrator.countTokens(chat);
    // Errs high: Claude Code compacts by this figure, and too low a one ends in "prompt is too long".
    return { status: 200 as const, body: { input_tokens: Math.ceil(tokens * 1.1) + imagesIn(chat) * IMAGE_TOKENS } };
  }

  return s.router(messagesContract, {
    createMessage: async ({ body, req, res }) => {
      releaseBody(req);
      return createMessage(body, req, res);
    },
    countTokens: async ({ body, res }) => {
      res.locals.model = deps.catalog.resolve(body.model)?.id;
      return countTokens(body);
    },
  });
}
