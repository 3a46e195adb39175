import { generateSchema } from '@anatine/zod-openapi';
import type { AppRoute } from '@ts-rest/core';
import { generateOpenApi } from '@ts-rest/open-api';
import type { OperationObject, RequestBodyObject, ResponseObject } from 'openapi3-ts';
import { contract, type RouteMeta } from './index.js';

type Json = Record<string, unknown>;

const STATUS_DESCRIPTIONS: Record<string, string> = {
  200: 'OK',
  400: 'Invalid request: malformed JSON, a wrong field, or a request Kiro cannot take (`param` names the field).',
  401: 'Missing or wrong API key (`invalid_api_key`).',
  404: 'Unknown model (`model_not_found`) or route.',
  408: 'The request body did not arrive in time (`REQUEST_TIMEOUT_MS`).',
  413: 'Request body over the size limit.',
  429: 'Rate limited or out of quota upstream; honour `retry-after`.',
  500: 'Unexpected gateway error.',
  502: 'Kiro failed or sent a broken stream.',
  503: 'No usable Kiro credentials, or Kiro is temporarily unavailable.',
  504: 'Kiro did not answer in time.',
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

const SSE_EXAMPLE = [
  'data: {"id":"chatcmpl-4f1c2d3e5b6a7980a1b2c3d4","object":"chat.completion.chunk","created":1763721600,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}',
  'data: {"id":"chatcmpl-4f1c2d3e5b6a7980a1b2c3d4","object":"chat.completion.chunk","created":1763721600,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{"content":"1, 2, 3, 4, 5"},"logprobs":null,"finish_reason":null}]}',
  'data: {"id":"chatcmpl-4f1c2d3e5b6a7980a1b2c3d4","object":"chat.completion.chunk","created":1763721600,"model":"claude-sonnet-4-5-20250929","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}',
  'data: {"id":"chatcmpl-4f1c2d3e5b6a7980a1b2c3d4","object":"chat.completion.chunk","created":1763721600,"model":"claude-sonnet-4-5-20250929","choices":[],"usage":{"prompt_tokens":14,"completion_tokens":13,"total_tokens":27,"prompt_tokens_details":{"cached_tokens":0}}}',
  'data: [DONE]',
  '',
  '',
].join('\n\n');

/** Replace every sub-schema whose title is already a component with a `$ref` to it. */
function refKnownComponents(schema: Json, components: Record<string, Json>, isRoot = true): Json {
  const title = schema.title;
  if (!isRoot && typeof title === 'string' && components[title]) {
    return schema.nullable ? { nullable: true, allOf: [{ $ref: `#/components/schemas/${title}` }] } : { $ref: `#/components/schemas/${title}` };
  }
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties' && value && typeof value === 'object') {
      out[key] = Object.fromEntries(Object.entries(value as Record<string, Json>).map(([k, v]) => [k, refKnownComponents(v, components, false)]));
    } else if (key === 'items' && value && typeof value === 'object') {
      out[key] = refKnownComponents(value as Json, components, false);
    } else if ((key === 'oneOf' || key === 'anyOf' || key === 'allOf') && Array.isArray(value)) {
      out[key] = value.map((v: Json) => refKnownComponents(v, components, false));
    } else {
      out[key] = value;
    }
  }
  return out;
}

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
          'OpenAI-compatible gateway in front of Kiro: Claude models through your Kiro login. ' +
          'Authorize with the gateway API key (default `ki2api-key-2024`) as a bearer token.',
        license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
      },
      servers: [{ url: '/' }],
      tags: [
        { name: 'Chat', description: 'Chat completions, JSON or streamed.' },
        { name: 'Models', description: 'Available models and aliases.' },
        { name: 'Health', description: 'Liveness and credential status.' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'The gateway API key (`API_KEY`), e.g. `ki2api-key-2024`.' },
        },
      },
      security: [{ bearerAuth: [] }],
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
        if (meta.sseChunk) {
          const title = (generateSchema(meta.sseChunk, true) as Json).title as string;
          sseComponents[title] = generateSchema(meta.sseChunk, true) as Json;
          const ok = responses['200'] as ResponseObject & { content: Record<string, Json> };
          ok.description = 'The completion: JSON when `stream` is false, server-sent events when `stream` is true.';
          ok.content['text/event-stream'] = {
            schema: { $ref: `#/components/schemas/${title}` },
            example: SSE_EXAMPLE,
          };
          const body = operation.requestBody as (RequestBodyObject & { content: Record<string, Json> }) | undefined;
          if (body) {
            body.description = 'The chat request. Unknown fields are accepted and ignored.';
            body.content['application/json']!.examples = CHAT_EXAMPLES;
          }
        }
        return result;
      },
    },
  ) as Json;
  const components = doc.components as { schemas: Record<string, Json> };
  for (const [title, schema] of Object.entries(sseComponents)) {
    components.schemas[title] = refKnownComponents(schema, components.schemas);
  }
  return withNullInNullableEnums(JSON.parse(JSON.stringify(doc))) as Json;
}
