import { initContract } from '@ts-rest/core';
import { z } from 'zod';
import { ChatCompletionChunkSchema, ChatCompletionRequestSchema, ChatCompletionSchema } from './openai/chat.js';
import { ErrorResponseSchema } from './openai/errors.js';
import { ModelListSchema, ModelSchema } from './openai/models.js';
import { HealthSchema, ReadySchema } from './ops.js';

export * from './openai/chat.js';
export * from './openai/errors.js';
export * from './openai/models.js';
export * from './ops.js';

/** The API families the gateway speaks, each a face of its own; `ops` belongs to none. */
export type Face = 'chat' | 'ops';

/** Per-route facts that middleware and the OpenAPI generator read. */
export interface RouteMeta {
  /** Reachable without an API key. */
  public?: boolean;
  /** Schema of one `data:` event when the route answers `text/event-stream`. */
  sseChunk?: z.ZodTypeAny;
  /** Swagger UI section. */
  tag: 'Chat' | 'Models' | 'Health';
  /** Which face answers (and so which error envelope it uses). */
  face: Face;
}

const c = initContract();

const openaiErrors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  404: ErrorResponseSchema,
  408: ErrorResponseSchema,
  413: ErrorResponseSchema,
  429: ErrorResponseSchema,
  500: ErrorResponseSchema,
  502: ErrorResponseSchema,
  503: ErrorResponseSchema,
  504: ErrorResponseSchema,
} as const;

/** OpenAI Chat Completions. */
export const chatContract = c.router(
  {
    createChatCompletion: {
      method: 'POST',
      path: '/v1/chat/completions',
      summary: 'Create a chat completion',
      description:
        'Claude through Kiro. With `"stream": false` (default) the answer is one JSON object; with `"stream": true` it is ' +
        'a `text/event-stream` of CreateChatCompletionStreamResponse chunks ending with `data: [DONE]`. ' +
        'Also served at `/chat/completions`.',
      body: ChatCompletionRequestSchema,
      responses: { 200: ChatCompletionSchema, ...openaiErrors },
      metadata: { tag: 'Chat', face: 'chat', sseChunk: ChatCompletionChunkSchema } satisfies RouteMeta,
    },
  },
  { strictStatusCodes: true },
);

/** The model list, shared by every face. */
export const modelsContract = c.router(
  {
    listModels: {
      method: 'GET',
      path: '/v1/models',
      summary: 'List models',
      description: 'The models this gateway serves, aliases included. Also served at `/models`.',
      responses: { 200: ModelListSchema, 401: ErrorResponseSchema },
      metadata: { tag: 'Models', face: 'chat' } satisfies RouteMeta,
    },
    retrieveModel: {
      method: 'GET',
      path: '/v1/models/:model',
      summary: 'Retrieve a model',
      description: 'One model by id or alias. Also served at `/models/{model}`.',
      pathParams: z.object({ model: z.string().describe('A model id or alias, e.g. `claude-sonnet-4-5-20250929`.') }),
      responses: { 200: ModelSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema },
      metadata: { tag: 'Models', face: 'chat' } satisfies RouteMeta,
    },
  },
  { strictStatusCodes: true },
);

/** Operations: liveness and readiness, outside every face. */
export const opsContract = c.router(
  {
    health: {
      method: 'GET',
      path: '/health',
      summary: 'Health',
      description:
        'Liveness: always 200 while the process serves. Status, version, uptime and the state of every Kiro account; reveals no secret. ' +
        'Without an API key, file paths are left out.',
      responses: { 200: HealthSchema },
      metadata: { tag: 'Health', face: 'ops', public: true } satisfies RouteMeta,
    },
    healthz: {
      method: 'GET',
      path: '/healthz',
      summary: 'Health (alias)',
      description: 'Same as `/health`.',
      responses: { 200: HealthSchema },
      metadata: { tag: 'Health', face: 'ops', public: true } satisfies RouteMeta,
    },
    ready: {
      method: 'GET',
      path: '/ready',
      summary: 'Readiness',
      description: 'For load balancers: 200 while at least one Kiro account can serve, 503 while none can.',
      responses: { 200: ReadySchema, 503: ReadySchema },
      metadata: { tag: 'Health', face: 'ops', public: true } satisfies RouteMeta,
    },
  },
  { strictStatusCodes: true },
);

export const contract = c.router({ chat: chatContract, models: modelsContract, ops: opsContract });

export type Contract = typeof contract;
