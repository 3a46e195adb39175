import { initContract } from '@ts-rest/core';
import { z } from 'zod';
import {
  AnthropicCountTokensRequestSchema,
  AnthropicCountTokensResponseSchema,
  AnthropicCreateMessageRequestSchema,
  AnthropicErrorResponseSchema,
  AnthropicMessageSchema,
  AnthropicModelListSchema,
  AnthropicModelSchema,
  AnthropicStreamEventSchema,
} from './anthropic.js';
import { ChatCompletionChunkSchema, ChatCompletionRequestSchema, ChatCompletionSchema } from './openai/chat.js';
import {
  ResponseCompactedSchema,
  ResponseDeletedSchema,
  ResponseInputItemListSchema,
  ResponseSchema,
  ResponsesCompactRequestSchema,
  ResponsesCreateRequestSchema,
  ResponseStreamEventSchema,
} from './responses.js';
import { ErrorResponseSchema } from './openai/errors.js';
import { ModelListSchema, ModelSchema } from './openai/models.js';
import { HealthSchema, ReadySchema } from './ops.js';
import {
  AccountActionSchema,
  DashboardOverviewSchema,
  DashboardTrafficSchema,
  DeviceLoginRequestSchema,
  ImportRequestSchema,
  LoginStateSchema,
  SocialCallbackRequestSchema,
  SocialLoginRequestSchema,
} from './dashboard.js';

export * from './anthropic.js';
export * from './openai/chat.js';
export * from './openai/errors.js';
export * from './openai/models.js';
export * from './responses.js';
export * from './ops.js';
export * from './dashboard.js';

/** The API families the gateway speaks, each a face of its own; `ops` and `models` belong to none. */
export type Face = 'chat' | 'responses' | 'messages' | 'models' | 'ops';

/** Per-route facts that middleware and the OpenAPI generator read. */
export interface RouteMeta {
  /** Reachable without an API key. */
  public?: boolean;
  /** Schema of one `data:` event when the route answers `text/event-stream`. */
  sseChunk?: z.ZodTypeAny;
  /** Swagger UI section. */
  tag: 'Chat' | 'Responses' | 'Anthropic Messages' | 'Models' | 'Health' | 'Dashboard';
  /** Also needs ADMIN_KEY, as `x-admin-key`. */
  admin?: boolean;
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

const ResponseId = z.object({ id: z.string().describe('A response id (`resp_…`).') });

/** OpenAI Responses, for Codex, the AI SDK's default OpenAI provider and `client.responses`. */
export const responsesContract = c.router(
  {
    createResponse: {
      method: 'POST',
      path: '/v1/responses',
      summary: 'Create a response',
      description:
        'Claude through Kiro in OpenAI\'s Responses format. With `"stream": true` the answer is a `text/event-stream` of ResponseStreamEvent ' +
        'events; otherwise one Response. Stored (unless `store: false`) for `previous_response_id`, `item_reference` and GET, for ' +
        '`RESPONSES_TTL_SECONDS`. HTTP only: a WebSocket upgrade gets a 400 (Codex: `supports_websockets = false`). Also served at `/responses`.',
      body: ResponsesCreateRequestSchema,
      responses: { 200: ResponseSchema, ...openaiErrors },
      metadata: { tag: 'Responses', face: 'responses', sseChunk: ResponseStreamEventSchema } satisfies RouteMeta,
    },
    compactResponse: {
      method: 'POST',
      path: '/v1/responses/compact',
      summary: 'Compact a conversation',
      description:
        'Summarises the conversation through Kiro and returns it compacted: its user messages, then one `compaction` item holding the ' +
        'sealed summary. Sent back as input, the compaction item stands for everything before it. What Codex calls before its context fills.',
      body: ResponsesCompactRequestSchema,
      responses: { 200: ResponseCompactedSchema, ...openaiErrors },
      metadata: { tag: 'Responses', face: 'responses' } satisfies RouteMeta,
    },
    getResponse: {
      method: 'GET',
      path: '/v1/responses/:id',
      summary: 'Retrieve a response',
      description: 'A stored response of this API key.',
      pathParams: ResponseId,
      responses: { 200: ResponseSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema },
      metadata: { tag: 'Responses', face: 'responses' } satisfies RouteMeta,
    },
    deleteResponse: {
      method: 'DELETE',
      path: '/v1/responses/:id',
      summary: 'Delete a response',
      description: 'Forgets a stored response of this API key.',
      pathParams: ResponseId,
      responses: { 200: ResponseDeletedSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema },
      metadata: { tag: 'Responses', face: 'responses' } satisfies RouteMeta,
    },
    listInputItems: {
      method: 'GET',
      path: '/v1/responses/:id/input_items',
      summary: 'List a response\'s input items',
      description: 'The input items of a stored response, item references and a previous response\'s items resolved; newest first (`?order=asc` for oldest first).',
      pathParams: ResponseId,
      responses: { 200: ResponseInputItemListSchema, 401: ErrorResponseSchema, 404: ErrorResponseSchema },
      metadata: { tag: 'Responses', face: 'responses' } satisfies RouteMeta,
    },
  },
  { strictStatusCodes: true },
);

const anthropicErrors = {
  400: AnthropicErrorResponseSchema,
  401: AnthropicErrorResponseSchema,
  403: AnthropicErrorResponseSchema,
  404: AnthropicErrorResponseSchema,
  408: AnthropicErrorResponseSchema,
  413: AnthropicErrorResponseSchema,
  429: AnthropicErrorResponseSchema,
  500: AnthropicErrorResponseSchema,
  502: AnthropicErrorResponseSchema,
  503: AnthropicErrorResponseSchema,
  504: AnthropicErrorResponseSchema,
  529: AnthropicErrorResponseSchema,
} as const;

/** Anthropic Messages, for Claude Code and the Anthropic SDKs. */
export const messagesContract = c.router(
  {
    createMessage: {
      method: 'POST',
      path: '/v1/messages',
      summary: 'Create a message (Anthropic)',
      description:
        'Claude through Kiro in Anthropic\'s Messages format. With `"stream": true` the answer is a `text/event-stream` of ' +
        'AnthropicMessageStreamEvent events (`event:` and `data:` lines); otherwise one AnthropicMessage. Authenticate with ' +
        '`x-api-key` or `Authorization: Bearer`; any `anthropic-version` and `anthropic-beta` are accepted (betas that change ' +
        'nothing here are named in `x-ki2api-ignored-betas`). A query string (Claude Code sends `?beta=true`) is ignored.',
      body: AnthropicCreateMessageRequestSchema,
      responses: { 200: AnthropicMessageSchema, ...anthropicErrors },
      metadata: { tag: 'Anthropic Messages', face: 'messages', sseChunk: AnthropicStreamEventSchema } satisfies RouteMeta,
    },
    countTokens: {
      method: 'POST',
      path: '/v1/messages/count_tokens',
      summary: 'Count the tokens of a message (Anthropic)',
      description:
        'The prompt tokens of the request as Kiro would get it, counted the way `usage.input_tokens` is, plus 10 %: Claude Code ' +
        'decides when to compact from this figure, so it errs high. Nothing is sent to Kiro.',
      body: AnthropicCountTokensRequestSchema,
      responses: { 200: AnthropicCountTokensResponseSchema, ...anthropicErrors },
      metadata: { tag: 'Anthropic Messages', face: 'messages' } satisfies RouteMeta,
    },
  },
  { strictStatusCodes: true },
);

const ModelHeaders = z.object({
  'anthropic-version': z.string().optional().describe('When present, the answer has Anthropic\'s shape (what Claude Code and the Anthropic SDKs read); otherwise OpenAI\'s.'),
});

/** The model list, shared by every face: OpenAI's shape, or Anthropic's for a client that says `anthropic-version`. */
export const modelsContract = c.router(
  {
    listModels: {
      method: 'GET',
      path: '/v1/models',
      summary: 'List models',
      description: 'The models this gateway serves, aliases included. Also served at `/models`.',
      headers: ModelHeaders,
      responses: { 200: z.union([ModelListSchema, AnthropicModelListSchema]), 401: z.union([ErrorResponseSchema, AnthropicErrorResponseSchema]) },
      metadata: { tag: 'Models', face: 'models' } satisfies RouteMeta,
    },
    retrieveModel: {
      method: 'GET',
      path: '/v1/models/:model',
      summary: 'Retrieve a model',
      description: 'One model by id or alias. Also served at `/models/{model}`.',
      pathParams: z.object({ model: z.string().describe('A model id or alias, e.g. `claude-sonnet-4-5-20250929`.') }),
      headers: ModelHeaders,
      responses: {
        200: z.union([ModelSchema, AnthropicModelSchema]),
        401: z.union([ErrorResponseSchema, AnthropicErrorResponseSchema]),
        404: z.union([ErrorResponseSchema, AnthropicErrorResponseSchema]),
      },
      metadata: { tag: 'Models', face: 'models' } satisfies RouteMeta,
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

const adminErrors = { ...openaiErrors, 403: ErrorResponseSchema };
const AccountId = z.object({ id: z.string().describe('An account fingerprint, as /health and the dashboard show it.') });
const LoginId = z.object({ id: z.string().describe('A login started here (`login_…`).') });
const ADMIN = ' Needs `x-admin-key: <ADMIN_KEY>` as well as the API key; 403 `admin_disabled` while ADMIN_KEY is unset.';

/** The dashboard's data (GET /dashboard is the page that reads it) and its account management. */
export const dashboardContract = c.router(
  {
    overview: {
      method: 'GET',
      path: '/dashboard/api/overview',
      summary: 'Dashboard: gateway and accounts',
      description: 'Version, uptime, the settings that matter, how to connect, and every account with its state, credits and models.',
      responses: { 200: DashboardOverviewSchema, ...openaiErrors },
      metadata: { tag: 'Dashboard', face: 'ops' } satisfies RouteMeta,
    },
    traffic: {
      method: 'GET',
      path: '/dashboard/api/traffic',
      summary: 'Dashboard: the last hour of traffic',
      description: 'One bucket per minute for the last hour (requests by face and status class, latency and time to first token, tokens, credits), and the last 50 failed requests.',
      responses: { 200: DashboardTrafficSchema, ...openaiErrors },
      metadata: { tag: 'Dashboard', face: 'ops' } satisfies RouteMeta,
    },
    startDeviceLogin: {
      method: 'POST',
      path: '/dashboard/api/logins/device',
      summary: 'Add an account: device code',
      description: `Starts an AWS Builder ID (or, with \`start_url\`, IAM Identity Center) login: the answer has the URL and code to show; the login then finishes by itself once the user allows it (poll GET /dashboard/api/logins/{id}).${ADMIN}`,
      body: DeviceLoginRequestSchema,
      responses: { 200: LoginStateSchema, ...adminErrors },
      metadata: { tag: 'Dashboard', face: 'ops', admin: true } satisfies RouteMeta,
    },
    startSocialLogin: {
      method: 'POST',
      path: '/dashboard/api/logins/social',
      summary: 'Add an account: Google or GitHub',
      description: `Starts a social login: the answer has the URL to sign in at; the browser then ends on a kiro://… address, which goes to POST /dashboard/api/logins/{id}/callback.${ADMIN}`,
      body: SocialLoginRequestSchema,
      responses: { 200: LoginStateSchema, ...adminErrors },
      metadata: { tag: 'Dashboard', face: 'ops', admin: true } satisfies RouteMeta,
    },
    login: {
      method: 'GET',
      path: '/dashboard/api/logins/:id',
      pathParams: LoginId,
      summary: 'A login in progress',
      description: `Waiting, done (with the new account), or failed (with what to do).${ADMIN}`,
      responses: { 200: LoginStateSchema, ...adminErrors },
      metadata: { tag: 'Dashboard', face: 'ops', admin: true } satisfies RouteMeta,
    },
    finishSocialLogin: {
      method: 'POST',
      path: '/dashboard/api/logins/:id/callback',
      pathParams: LoginId,
      summary: 'Finish a social login',
      description: `The address the browser ended on; its state is checked and its code exchanged, and the account saved.${ADMIN}`,
      body: SocialCallbackRequestSchema,
      responses: { 200: LoginStateSchema, ...adminErrors },
      metadata: { tag: 'Dashboard', face: 'ops', admin: true } satisfies RouteMeta,
    },
    importAccount: {
      method: 'POST',
      path: '/dashboard/api/accounts/import',
      summary: 'Add an account: a refresh token',
      description: `Checks the refresh token by refreshing it once, then saves the account (an IdC one needs its client id and secret).${ADMIN}`,
      body: ImportRequestSchema,
      responses: { 200: AccountActionSchema, ...adminErrors },
      metadata: { tag: 'Dashboard', face: 'ops', admin: true } satisfies RouteMeta,
    },
    refreshAccount: {
      method: 'POST',
      path: '/dashboard/api/accounts/:id/refresh',
      pathParams: AccountId,
      body: c.noBody(),
      summary: 'Refresh an account',
      description: `Renews its token now and asks Kiro again for its models and credits.${ADMIN}`,
      responses: { 200: AccountActionSchema, ...adminErrors },
      metadata: { tag: 'Dashboard', face: 'ops', admin: true } satisfies RouteMeta,
    },
    removeAccount: {
      method: 'POST',
      path: '/dashboard/api/accounts/:id/remove',
      pathParams: AccountId,
      body: c.noBody(),
      summary: 'Remove a saved account',
      description: `Deletes an account saved in KIRO_ACCOUNTS_DIR (not the IDE's own login); the gateway stops using it within seconds.${ADMIN}`,
      responses: { 200: AccountActionSchema, ...adminErrors },
      metadata: { tag: 'Dashboard', face: 'ops', admin: true } satisfies RouteMeta,
    },
  },
  { strictStatusCodes: true },
);

export const contract = c.router({ chat: chatContract, responses: responsesContract, messages: messagesContract, models: modelsContract, ops: opsContract, dashboard: dashboardContract });

export type Contract = typeof contract;
