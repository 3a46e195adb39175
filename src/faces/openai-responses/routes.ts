import { initServer } from '@ts-rest/express';
import type { Request, Response as ExpressResponse } from 'express';
import { responsesContract, type Response, type ResponseOutputItem, type ResponsesCompactRequest, type ResponsesCreateRequest } from '../../../contract/index.js';
import { GatewayError } from '../../chat/errors.js';
import type { ImageFetcher, ImageLoader } from '../../chat/images.js';
import type { ModelCatalog } from '../../chat/models.js';
import type { ChatRequest, ModelInfo } from '../../chat/types.js';
import { releaseBody } from '../../http/json-body.js';
import { clientSignal } from '../../http/observe.js';
import type { Orchestrator } from '../../orchestrator/answer.js';
import { ignoredParameters, inputItems, newItemId, resolveItems, toChatRequest } from './request.js';
import { collectResponse, ResponsesStreamEncoder, toResponsesUsage, type ResponseFrame } from './response.js';
import { sealCompaction } from './sealed.js';
import type { Item, ResponseStore } from './store.js';

export interface ResponsesFaceDeps {
  orchestrator: Orchestrator;
  catalog: ModelCatalog;
  store: ResponseStore;
  /** Downloads image URLs; without it, image URLs are refused. */
  images?: ImageFetcher;
}

const refuseImageUrls: ImageLoader = async (_url, param) => {
  throw new GatewayError('invalid_request', 'Image URLs are not enabled on this gateway: send the image as a data URL.', { param, code: 'unsupported_image_url' });
};

/** What a compaction asks the model for, when the client sends no instructions of its own. */
const COMPACTION_PROMPT =
  'You are performing a context checkpoint compaction. Write a summary of the conversation so far that lets the work go on ' +
  'without it: the task and its constraints, what has been done (files, commands, results), decisions and their reasons, open ' +
  'problems, and the next steps. Be complete and concrete; leave out pleasantries. Reply with the summary only.';

/** The user's own messages of a compacted conversation are kept, as the API does, newest last, within this many characters. */
const KEPT_USER_CHARS = 80_000;

function keptUserMessages(items: readonly Item[]): Item[] {
  const kept: Item[] = [];
  let chars = 0;
  for (const item of [...items].reverse()) {
    if (item.type !== 'message' || item.role !== 'user') continue;
    const size = JSON.stringify(item.content).length;
    if (chars + size > KEPT_USER_CHARS) break;
    chars += size;
    const { id: _, ...rest } = item;
    kept.unshift(rest as Item);
  }
  return kept;
}

const compactionItem = (summary: string): ResponseOutputItem => ({ type: 'compaction', id: newItemId('cmp'), encrypted_content: sealCompaction(summary) });

/** The OpenAI Responses face: Responses JSON in, the neutral request to the orchestrator, items and events out. */
export function createResponsesRouter(deps: ResponsesFaceDeps) {
  const s = initServer();

  const resolve = (name: string): ModelInfo => deps.catalog.require(name);

  const clientOf = (res: ExpressResponse) => res.locals.client as string;

  /** The request's input items: a previous response's first, item references resolved. */
  async function inputFor(body: { input?: ResponsesCreateRequest['input']; previous_response_id?: string | null }, client: string): Promise<Item[]> {
    let previous: Item[] = [];
    if (body.previous_response_id) {
      const stored = await deps.store.get(client, body.previous_response_id);
      if (!stored) {
        throw new GatewayError(
          'invalid_request',
          `Previous response with id '${body.previous_response_id}' not found: it was never stored (store: false), has expired (RESPONSES_TTL_SECONDS) or was deleted, or belongs to another API key.`,
          { param: 'previous_response_id', code: 'previous_response_not_found' },
        );
      }
      previous = [...stored.input, ...(stored.response.output as Item[])];
    }
    return [...previous, ...(await resolveItems(inputItems(body.input), (id) => deps.store.item(client, id)))];
  }

  function frameOf(body: ResponsesCreateRequest, id: string, created: number): ResponseFrame {
    return {
      id,
      object: 'response',
      created_at: created,
      instructions: body.instructions ?? null,
      max_output_tokens: body.max_output_tokens ?? null,
      model: body.model,
      parallel_tool_calls: body.parallel_tool_calls ?? true,
      previous_response_id: body.previous_response_id ?? null,
      reasoning: body.reasoning ? { effort: body.reasoning.effort ?? null, summary: body.reasoning.summary ?? null } : null,
      store: body.store !== false,
      temperature: body.temperature ?? null,
      text: { format: body.text?.format ?? { type: 'text' } },
      tool_choice: body.tool_choice ?? 'auto',
      tools: body.tools ?? [],
      top_p: body.top_p ?? null,
      truncation: 'disabled',
      metadata: body.metadata ?? {},
    };
  }

  /** The session for a stable conversation and account: prompt_cache_key, else Codex's session_id header. */
  const sessionOf = (body: ResponsesCreateRequest, req: Request, res: ExpressResponse): string | undefined => {
    const header = req.headers.session_id;
    const key = body.prompt_cache_key ?? (typeof header === 'string' ? header : undefined);
    return key ? `${clientOf(res)}:${key.slice(0, 200)}` : undefined;
  };

  /**
   * Stores a finished response with its input. Made apart from createResponse so that its closure
   * holds only what it stores: it lives as long as the answer streams, and a response that is not
   * stored need not keep the conversation that long.
   */
  const rememberer = (client: string, input: Item[], includeEncrypted: boolean) => async (response: Response, internal: ResponseOutputItem[]) => {
    await deps.store.put(client, { response: { ...response, output: internal }, input, includeEncrypted });
  };
  const forget = async () => undefined;

  async function createResponse(body: ResponsesCreateRequest, req: Request, res: ExpressResponse) {
    const model = resolve(body.model);
    res.locals.model = model.id;
    res.locals.stream = body.stream === true;
    const client = clientOf(res);
    const items = await inputFor(body, client);
    const loader = deps.images?.forRequest(clientSignal(res)) ?? refuseImageUrls;
    const converted = await toChatRequest(body, items, model, loader, sessionOf(body, req, res));
    const ignored = ignoredParameters(body);
    if (ignored.length > 0) res.setHeader('x-ki2api-ignored-params', ignored.join(','));
    let chat: ChatRequest = converted.chat;
    if (converted.compaction) chat = { ...chat, tools: [], messages: [...chat.messages, { role: 'user', content: [{ type: 'text', text: COMPACTION_PROMPT }] }] };

    const frame = frameOf(body, newItemId('resp'), Math.floor(Date.now() / 1000));
    const options = { custom: converted.custom, namespaced: converted.namespaced, includeEncrypted: body.include?.includes('reasoning.encrypted_content') ?? false };
    const remember = body.store === false ? forget : rememberer(client, items, options.includeEncrypted);
    const compact = converted.compaction ? compactionItem : undefined;
    const answer = await deps.orchestrator.open(res, chat, body.stream === true, converted.webSearch && !converted.compaction ? { webSearch: converted.webSearch } : {});
    if (!body.stream) {
      const { response, internal } = await collectResponse(answer.events, frame, options, compact);
      await remember(response, internal);
      return { status: 200 as const, body: response };
    }
    const encoder = new ResponsesStreamEncoder(frame, options, remember, compact);
    return { status: 200 as const, body: deps.orchestrator.sse(res, answer, encoder) as never };
  }

  async function compactResponse(body: ResponsesCompactRequest, res: ExpressResponse) {
    const model = resolve(body.model);
    res.locals.model = model.id;
    const items = await inputFor(body, clientOf(res));
    const converted = await toChatRequest({ ...body, instructions: null } as ResponsesCreateRequest, items, model, deps.images?.forRequest(clientSignal(res)) ?? refuseImageUrls);
    // Codex sends its own compaction instructions; they lead. The conversation is the history.
    const chat: ChatRequest = { ...converted.chat, tools: [], system: [body.instructions ?? COMPACTION_PROMPT], messages: [...converted.chat.messages, { role: 'user', content: [{ type: 'text', text: 'Write the summary now.' }] }] };
    const answer = await deps.orchestrator.open(res, chat, false);
    const { response } = await collectResponse(answer.events, frameOf({ model: body.model } as ResponsesCreateRequest, newItemId('resp'), 0), { custom: new Set(), includeEncrypted: false }, compactionItem);
    return {
      status: 200 as const,
      body: { id: response.id, object: 'response.compaction' as const, created_at: Math.floor(Date.now() / 1000), output: [...keptUserMessages(items), ...(response.output as Item[])], usage: response.usage ?? toResponsesUsage({ promptTokens: 0, completionTokens: 0, reasoningTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0, source: 'estimated' }) },
    };
  }

  const notFound = (id: string) => new GatewayError('not_found', `No response found with id '${id}' for this API key (stored responses last RESPONSES_TTL_SECONDS).`, { param: 'id', code: 'response_not_found' });

  return s.router(responsesContract, {
    createResponse: async ({ body, req, res }) => {
      releaseBody(req);
      return createResponse(body, req, res);
    },
    compactResponse: async ({ body, res }) => compactResponse(body, res),
    getResponse: async ({ params, res }) => {
      const stored = await deps.store.get(clientOf(res), params.id);
      if (!stored) throw notFound(params.id);
      const output = stored.response.output.map((item) => (item.type === 'reasoning' && !stored.includeEncrypted ? (({ encrypted_content: _, ...rest }) => rest)(item) : item)) as ResponseOutputItem[];
      return { status: 200, body: { ...stored.response, output } };
    },
    deleteResponse: async ({ params, res }) => {
      if (!(await deps.store.delete(clientOf(res), params.id))) throw notFound(params.id);
      return { status: 200, body: { id: params.id, object: 'response' as const, deleted: true as const } };
    },
    listInputItems: async ({ params, req, res }) => {
      const stored = await deps.store.get(clientOf(res), params.id);
      if (!stored) throw notFound(params.id);
      const ascending = new URLSearchParams(req.url.split('?')[1] ?? '').get('order') === 'asc';
      const data = ascending ? stored.input : [...stored.input].reverse();
      return { status: 200, body: { object: 'list' as const, data, first_id: (data[0]?.id as string | undefined) ?? null, last_id: (data.at(-1)?.id as string | undefined) ?? null, has_more: false } };
    },
  });
}
