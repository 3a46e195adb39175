import { generateSchema } from '@anatine/zod-openapi';
import type { AppRoute } from '@ts-rest/core';
import { generateOpenApi } from '@ts-rest/open-api';
import type { ExampleObject, OperationObject, RequestBodyObject, ResponseObject } from 'openapi3-ts';
import { contract, type RouteMeta } from './index.js';

type Json = Record<string, unknown>;

const STATUS_DESCRIPTIONS: Record<string, string> = {
  200: 'OK',
  400: 'Invalid request: malformed JSON, a wrong field, or a request Kiro cannot take (`param` names the field).',
  401: 'Missing or wrong API key (`invalid_api_key`).',
  403: 'Not allowed (the key may not do this).',
  404: 'Unknown model (`model_not_found`) or route.',
  408: 'The request body did not arrive in time (`REQUEST_TIMEOUT_MS`).',
  413: 'Request body over the size limit.',
  429: 'Rate limited or out of quota upstream; honour `retry-after`.',
  500: 'Unexpected gateway error.',
  502: 'Kiro failed or sent a broken stream.',
  503: 'No usable Kiro credentials, or Kiro is temporarily unavailable.',
  504: 'Kiro did not answer in time.',
  529: 'Kiro has no capacity right now (Anthropic\'s `overloaded_error`); retry with backoff.',
};

const CHAT_EXAMPLES = {
  simple: {
    summary: 'A short answer (JSON)',
    value: {
      model: 'claude-sonnet-4-5-20250929',
      messages: [
        { role: 'system', content: 'You are a concise assistant.' },
        { role: 'user', content: 'Say hello in three words.' },
      ],
    },
  },
  streaming: {
    summary: 'Streamed answer (text/event-stream) with usage',
    value: {
      model: 'claude-sonnet-4-5-20250929',
      messages: [{ role: 'user', content: 'Count from 1 to 5.' }],
      stream: true,
      stream_options: { include_usage: true },
    },
  },
  alias: {
    summary: 'An alias model name and content parts',
    value: {
      model: 'gpt-4o',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Name one prime number.' }] }],
      max_tokens: 100,
    },
  },
};

const MESSAGE_EXAMPLES = {
  simple: { summary: 'A short answer (JSON)', value: { model: 'claude-sonnet-4-5-20250929', max_tokens: 1024, system: 'You are a concise assistant.', messages: [{ role: 'user', content: 'Say hello in three words.' }] } },
  streaming: { summary: 'Streamed answer (text/event-stream)', value: { model: 'claude-sonnet-4-5-20250929', max_tokens: 1024, stream: true, messages: [{ role: 'user', content: 'Count from 1 to 5.' }] } },
  tools: {
    summary: 'A tool the model may call',
    value: {
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 1024,
      tools: [{ name: 'get_weather', description: 'Current weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
      messages: [{ role: 'user', content: 'Weather in Paris?' }],
    },
  },
};

const MESSAGE_SSE_EXAMPLE = [
  'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_01AbCdEfGhIjKlMnOpQrStUv","type":"message","role":"assistant","content":[],"model":"claude-sonnet-4-5-20250929","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":14,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}}',
  'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}',
  'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"1, 2, 3, 4, 5"}}',
  'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}',
  'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":14,"output_tokens":13,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}}',
  'event: message_stop\ndata: {"type":"message_stop"}',
  '',
  '',
].join('\n\n');

const RESPONSE_EXAMPLES = {
  simple: { summary: 'A short answer (JSON)', value: { model: 'claude-sonnet-4-5-20250929', instructions: 'You are a concise assistant.', input: 'Say hello in three words.' } },
  streaming: { summary: 'Streamed answer (text/event-stream)', value: { model: 'claude-sonnet-4-5-20250929', input: 'Count from 1 to 5.', stream: true } },
  tools: {
    summary: 'A function the model may call, state kept for the next turn',
    value: {
      model: 'claude-sonnet-4-5-20250929',
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'Weather in Paris?' }] }],
      tools: [{ type: 'function', name: 'get_weather', description: 'Current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }],
      store: true,
    },
  },
};

const RESPONSE_SSE_EXAMPLE = [
  'event: response.created\ndata: {"type":"response.created","sequence_number":0,"response":{"id":"resp_1","object":"response","status":"in_progress","output":[],"usage":null}}',
  'event: response.output_item.added\ndata: {"type":"response.output_item.added","sequence_number":2,"output_index":0,"item":{"type":"message","id":"msg_1","status":"in_progress","role":"assistant","content":[]}}',
  'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":4,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"1, 2, 3, 4, 5","logprobs":[]}',
  'event: response.output_item.done\ndata: {"type":"response.output_item.done","sequence_number":7,"output_index":0,"item":{"type":"message","id":"msg_1","status":"completed","role":"assistant","content":[{"type":"output_text","text":"1, 2, 3, 4, 5","annotations":[],"logprobs":[]}]}}',
  'event: response.completed\ndata: {"type":"response.completed","sequence_number":8,"response":{"id":"resp_1","object":"response","status":"completed","output":["…"],"usage":{"input_tokens":12,"output_tokens":13,"total_tokens":25}}}',
  '',
  '',
].join('\n\n');

const SSE_EXAMPLE = [
  'data: {"id":"chatcmpl-4f1c2d3e5b6a7980a1b2c3d4","object":"chat.completion.chunk","created":1763721600,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}',
  'data: {"id":"chatcmpl-4f1c2d3e5b6a7980a1b2c3d4","object":"chat.completion.chunk","created":1763721600,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"content":"1, 2, 3, 4, 5"},"logprobs":null,"finish_reason":null}]}',
  'data: {"id":"chatcmpl-4f1c2d3e5b6a7980a1b2c3d4","object":"chat.completion.chunk","created":1763721600,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}',
  'data: {"id":"chatcmpl-4f1c2d3e5b6a7980a1b2c3d4","object":"chat.completion.chunk","created":1763721600,"model":"claude-sonnet-4-5-20250929","choices":[],"usage":{"prompt_tokens":14,"completion_tokens":13,"total_tokens":27,"prompt_tokens_details":{"cached_tokens":0}}}',
  'data: [DONE]',
  '',
  '',
].join('\n\n');

/**
 * A nullable enum must list null among its values, or a validator (and a client generated from the
 * document) rejects the null it allows: `finish_reason` is null on every chunk but the last.
 */
function withNullInNullableEnums(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withNullInNullableEnums);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) out[key] = withNullInNullableEnums(value);
  if (out.nullable === true && Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  return out;
}

/** Per streaming route: its request examples, the stream example and how its body is described. */
const STREAMING_ROUTES: Record<string, { examples: Record<string, ExampleObject>; sse: string; body: string; ok: string }> = {
  '/v1/chat/completions': {
    examples: CHAT_EXAMPLES,
    sse: SSE_EXAMPLE,
    body: 'The chat request. Unknown fields are accepted and ignored.',
    ok: 'The completion: JSON when `stream` is false, server-sent events when `stream` is true.',
  },
  '/v1/responses': {
    examples: RESPONSE_EXAMPLES,
    sse: RESPONSE_SSE_EXAMPLE,
    body: 'The response request. Unknown fields are accepted and ignored.',
    ok: 'The response: JSON when `stream` is false, server-sent events when `stream` is true.',
  },
  '/v1/messages': {
    examples: MESSAGE_EXAMPLES,
    sse: MESSAGE_SSE_EXAMPLE,
    body: 'The message request. Unknown fields (`context_management`, `cache_control`, …) are accepted and ignored.',
    ok: 'The message: JSON when `stream` is false, server-sent events when `stream` is true.',
  },
};

/**
 * `schema` with every titled sub-schema a `$ref` to a component of its own (made when it is not one
 * yet): each event of a stream is then a named schema a client generator turns into a type.
 */
function componentsOfTitled(schema: Json, components: Record<string, Json>, isRoot = true): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, Json>).map(([k, v]) => [k, componentsOfTitled(v, components, false)]));
    } else if ((key === 'items' || key === 'additionalProperties') && value && typeof value === 'object') {
      out[key] = componentsOfTitled(value as Json, components, false);
    } else if ((key === 'oneOf' || key === 'anyOf' || key === 'allOf') && Array.isArray(value)) {
      out[key] = value.map((v: Json) => componentsOfTitled(v, components, false));
    } else {
      out[key] = value;
    }
  }
  const title = out.title;
  if (isRoot || typeof title !== 'string') return out;
  const { nullable, ...named } = out;
  components[title] ??= named;
  return nullable ? { nullable: true, allOf: [{ $ref: `#/components/schemas/${title}` }] } : { $ref: `#/components/schemas/${title}` };
}

/** The OpenAPI 3.0 document of the whole public API. Deterministic: no dates, no environment. */
export function buildOpenApiDocument(version: string): Json {
  const sseComponents: Record<string, Json> = {};
  const doc = generateOpenApi(
    contract,
    {
      info: {
        title: 'ki2api',
        version,
        description:
          'Gateway in front of Kiro: Claude models through your Kiro login, in OpenAI\'s and Anthropic\'s APIs. ' +
          'Authorize with the gateway API key (default `ki2api-key-2024`) as a bearer token or as `x-api-key`.',
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      servers: [{ url: '/' }],
      tags: [
        { name: 'Chat', description: 'OpenAI Chat Completions, JSON or streamed.' },
        { name: 'Responses', description: 'OpenAI Responses (Codex, the AI SDK, `client.responses`), JSON or streamed, with stored state.' },
        { name: 'Anthropic Messages', description: 'Anthropic\'s Messages API (Claude Code, the Anthropic SDKs), JSON or streamed.' },
        { name: 'Models', description: 'Available models and aliases.' },
        { name: 'Health', description: 'Liveness and credential status.' },
        { name: 'Dashboard', description: 'What the page at /dashboard shows, and account management (with ADMIN_KEY).' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'The gateway API key (`API_KEY`), e.g. `ki2api-key-2024`.' },
          apiKeyAuth: { type: 'apiKey', in: 'header', name: 'x-api-key', description: 'The same key as an `x-api-key` header (what Anthropic clients send).' },
          adminKey: { type: 'apiKey', in: 'header', name: 'x-admin-key', description: 'ADMIN_KEY, for account management from the dashboard (with the API key).' },
        },
      },
      security: [{ bearerAuth: [] }, { apiKeyAuth: [] }],
    },
    {
      setOperationId: true,
      operationMapper: (operation: OperationObject, route: AppRoute): OperationObject => {
        const meta = route.metadata as RouteMeta;
        const responses = operation.responses as Record<string, ResponseObject>;
        for (const [status, response] of Object.entries(responses)) {
          response.description = STATUS_DESCRIPTIONS[status] ?? status;
        }
        const result: OperationObject = { ...operation, tags: [meta.tag] };
        if (meta.public) result.security = [];
        if (meta.admin) result.security = [{ bearerAuth: [], adminKey: [] }, { apiKeyAuth: [], adminKey: [] }];
        const streaming = STREAMING_ROUTES[route.path];
        if (meta.sseChunk && streaming) {
          const title = (generateSchema(meta.sseChunk, true) as Json).title as string;
          sseComponents[title] = generateSchema(meta.sseChunk, true) as Json;
          const ok = responses['200'] as ResponseObject & { content: Record<string, Json> };
          ok.description = streaming.ok;
          ok.content['text/event-stream'] = { schema: { $ref: `#/components/schemas/${title}` }, example: streaming.sse };
          const body = operation.requestBody as (RequestBodyObject & { content: Record<string, Json> }) | undefined;
          if (body) {
            body.description = streaming.body;
            body.content['application/json']!.examples = streaming.examples;
          }
        }
        return result;
      },
    },
  ) as Json;
  const components = doc.components as { schemas: Record<string, Json> };
  for (const [title, schema] of Object.entries(sseComponents)) {
    components.schemas[title] = componentsOfTitled(schema, components.schemas);
  }
  return withNullInNullableEnums(JSON.parse(JSON.stringify(doc))) as Json;
}
