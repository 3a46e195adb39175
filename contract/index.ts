import { initContract } from '@ts-rest/core';
import { z } from 'zod';
import { ChatCompletionChunkSchema, ChatCompletionRequestSchema, ChatCompletionSchema } from './chat.js';
import { ErrorResponseSchema } from './errors.js';
import { HealthSchema } from './health.js';
import { ModelListSchema, ModelSchema } from './models.js';

export * from './chat.js';
export * from './errors.js';
export * from './health.js';
export * from './models.js';

/** Per-route facts that middleware and the OpenAPI generator read. */
export interface RouteMeta {
  /** Reachable without an API key. */
  public?: boolean;
  /** Schema of one `data:` event when the route answers `text/event-stream`. */
  sseChunk?: z.ZodTypeAny;
  /** Swagger UI section. */
  tag: 'Chat' | 'Models' | 'Health';
}

const c = initContract();

const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  404: ErrorResponseSchema,
  413: ErrorResponseSchema,
  429: ErrorResponseSchema,
  500: ErrorResponseSchema,
  502: ErrorResponseSchema,
  503: ErrorResponseSchema,
  504: ErrorResponseSchema,
} as const;

export const contract = c.router(
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
      responses: { 200: ChatCompletionSchema, ...errors },
      metadata: { tag: 'Chat', sseChunk: ChatCompletionChunkSchema } satisfies RouteMeta,
    },
    listModels: {
      method: 'GET',
      path: '/v1/models',
      summary: 'List models',
      description: 'The models this gateway serves, aliases included. Also served at `/models`.',
      responses: { 200: ModelListSchema, 401: ErrorResponseSchema },
      metadata: { tag: 'Models' } satisfies RouteMeta,
    },
    retrieveModel: {
      method: 'GET',
      path: '/v1/models/:model',
      summary: 'Retrieve a model',
      description: 'One model by id or alias. Also served at `/models/{model}`.',
      pathParams: z.object({ model: z.string().describe('A model id or alias, e.g. `claude-sonnet-4-5-20250929`.') }),
      responses: { 200: ModelSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema },
      metadata: { tag: 'Models' } satisfies RouteMeta,
    },
    health: {
      method: 'GET',
      path: '/health',
      summary: 'Health',
      description: 'Status, version, uptime and whether usable Kiro credentials were found. Public; reveals no secret.',
      responses: { 200: HealthSchema },
      metadata: { tag: 'Health', public: true } satisfies RouteMeta,
    },
    healthz: {
      method: 'GET',
      path: '/healthz',
      summary: 'Health (alias)',
      description: 'Same as `/health`.',
      responses: { 200: HealthSchema },
      metadata: { tag: 'Health', public: true } satisfies RouteMeta,
    },
  },
  { strictStatusCodes: true },
);

export type Contract = typeof contract;
