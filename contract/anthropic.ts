import { extendApi } from '@anatine/zod-openapi';
import { z } from 'zod';

// Anthropic's Messages API, as Claude Code and the Anthropic SDKs speak it. Request schemas are
// `.passthrough()`: Claude Code sends fields no SDK type has (`context_management`,
// `cache_control.scope`, `output_config`), and an unknown key must never be a 400.

const CacheControl = z.object({ type: z.string() }).passthrough().describe('Accepted and ignored: Kiro has no request-side cache control.');

// ---------------------------------------------------------------- request: content blocks

export const AnthropicTextBlockParamSchema = extendApi(
  z.object({ type: z.literal('text'), text: z.string(), cache_control: CacheControl.nullish() }).passthrough(),
  { title: 'AnthropicTextBlockParam' },
);

const ImageSource = z.discriminatedUnion('type', [
  z.object({ type: z.literal('base64'), media_type: z.string().describe('image/png, image/jpeg, image/gif or image/webp.'), data: z.string() }).passthrough(),
  z.object({ type: z.literal('url'), url: z.string().describe('An http(s) URL on a public address; the gateway downloads it.') }).passthrough(),
  z.object({ type: z.literal('file'), file_id: z.string() }).passthrough(),
]);

export const AnthropicImageBlockParamSchema = extendApi(
  z.object({ type: z.literal('image'), source: ImageSource, cache_control: CacheControl.nullish() }).passthrough(),
  { title: 'AnthropicImageBlockParam' },
);

export const AnthropicDocumentBlockParamSchema = extendApi(
  z
    .object({
      type: z.literal('document'),
      source: z.object({ type: z.string().describe('`text` (or `content`) documents become text; PDFs and URLs are a 400: Kiro cannot read them.') }).passthrough(),
      title: z.string().nullish(),
      context: z.string().nullish(),
    })
    .passthrough(),
  { title: 'AnthropicDocumentBlockParam' },
);

export const AnthropicToolUseBlockParamSchema = extendApi(
  z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.record(z.unknown()) }).passthrough(),
  { title: 'AnthropicToolUseBlockParam' },
);

export const AnthropicToolResultBlockParamSchema = extendApi(
  z
    .object({
      type: z.literal('tool_result'),
      tool_use_id: z.string(),
      content: z.union([z.array(z.union([AnthropicTextBlockParamSchema, AnthropicImageBlockParamSchema, z.object({ type: z.string() }).passthrough()])), z.string()]).optional(),
      is_error: z.boolean().nullish(),
    })
    .passthrough(),
  { title: 'AnthropicToolResultBlockParam' },
);

export const AnthropicThinkingBlockParamSchema = extendApi(
  z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string() }).passthrough(),
  { title: 'AnthropicThinkingBlockParam', description: 'Thinking from an earlier answer, sent back unchanged. Only thinking Kiro signed goes back to Kiro as thinking.' },
);

export const AnthropicRedactedThinkingBlockParamSchema = extendApi(
  z.object({ type: z.literal('redacted_thinking'), data: z.string() }).passthrough(),
  { title: 'AnthropicRedactedThinkingBlockParam' },
);

export const AnthropicServerToolUseBlockParamSchema = extendApi(
  z.object({ type: z.literal('server_tool_use'), id: z.string(), name: z.string(), input: z.record(z.unknown()) }).passthrough(),
  { title: 'AnthropicServerToolUseBlockParam' },
);

export const AnthropicWebSearchToolResultBlockParamSchema = extendApi(
  z.object({ type: z.literal('web_search_tool_result'), tool_use_id: z.string(), content: z.unknown() }).passthrough(),
  { title: 'AnthropicWebSearchToolResultBlockParam' },
);

const KNOWN_BLOCKS = ['text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', 'redacted_thinking', 'server_tool_use', 'web_search_tool_result'];

export const AnthropicContentBlockParamSchema = z.union([
  z.discriminatedUnion('type', [
    AnthropicTextBlockParamSchema,
    AnthropicImageBlockParamSchema,
    AnthropicDocumentBlockParamSchema,
    AnthropicToolUseBlockParamSchema,
    AnthropicToolResultBlockParamSchema,
    AnthropicThinkingBlockParamSchema,
    AnthropicRedactedThinkingBlockParamSchema,
    AnthropicServerToolUseBlockParamSchema,
    AnthropicWebSearchToolResultBlockParamSchema,
  ]),
  z
    .object({ type: z.string() })
    .passthrough()
    .refine((block) => !KNOWN_BLOCKS.includes(block.type), { message: 'a block of a known type is missing a field or has a wrong one' })
    .describe('A block of any other type (a newer one): accepted, and left out of what Kiro gets.'),
]);

export const AnthropicMessageParamSchema = extendApi(
  z
    .object({
      role: z.enum(['user', 'assistant', 'system']).describe('`system` inside messages (newer Claude Code builds) is taken as instructions.'),
      content: z.union([z.array(AnthropicContentBlockParamSchema), z.string()]),
    })
    .passthrough(),
  { title: 'AnthropicMessageParam' },
);

// ---------------------------------------------------------------- request: tools and options

export const AnthropicToolSchema = extendApi(
  z.union([
    z
      .object({
        name: z.string().min(1),
        description: z.string().optional(),
        input_schema: z.record(z.unknown()).describe('JSON Schema of the tool input.'),
        type: z.literal('custom').nullish(),
        cache_control: CacheControl.nullish(),
      })
      .passthrough(),
    z
      .object({
        type: z.string().regex(/^[a-z_]+_\d{8}$/).describe('A server tool, e.g. `web_search_20250305` (served through Kiro\'s web search). Others are a 400.'),
        name: z.string(),
        max_uses: z.number().int().min(1).nullish(),
      })
      .passthrough(),
  ]),
  { title: 'AnthropicTool' },
);

const ToolChoiceSchema = z.union([
  z.object({ type: z.enum(['auto', 'any', 'none']), disable_parallel_tool_use: z.boolean().nullish() }).passthrough(),
  z.object({ type: z.literal('tool'), name: z.string(), disable_parallel_tool_use: z.boolean().nullish() }).passthrough(),
]);

const ThinkingConfigSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('enabled'), budget_tokens: z.number().int().min(1), display: z.string().nullish() }).passthrough(),
  z.object({ type: z.literal('adaptive'), display: z.string().nullish() }).passthrough(),
  z.object({ type: z.literal('disabled') }).passthrough(),
]);

const SystemSchema = z.union([z.array(AnthropicTextBlockParamSchema), z.string()]);

const MessagesRequestShape = {
  model: z.string().min(1).describe('A model id from GET /v1/models (Claude Code\'s ids resolve, `[1m]` suffixes included).'),
  messages: z.array(AnthropicMessageParamSchema).min(1),
  system: SystemSchema.optional(),
  tools: z.array(AnthropicToolSchema).optional(),
  tool_choice: ToolChoiceSchema.optional(),
  thinking: ThinkingConfigSchema.optional(),
  output_config: z.object({ effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max']).nullish() }).passthrough().nullish(),
};

export const AnthropicCreateMessageRequestSchema = extendApi(
  z
    .object({
      ...MessagesRequestShape,
      max_tokens: z.number().int().min(1).describe('The answer ends (stop_reason `max_tokens`) once it reaches this many tokens.'),
      stream: z.boolean().optional(),
      stop_sequences: z.array(z.string()).optional(),
      temperature: z.number().min(0).max(1).optional(),
      top_p: z.number().min(0).max(1).optional(),
      top_k: z.number().int().min(0).optional(),
      metadata: z.object({ user_id: z.string().nullish() }).passthrough().optional(),
    })
    .passthrough(),
  {
    title: 'AnthropicCreateMessageRequest',
    example: { model: 'claude-sonnet-4-5-20250929', max_tokens: 1024, messages: [{ role: 'user', content: 'Say hello in three words.' }] },
  },
);
export type AnthropicCreateMessageRequest = z.infer<typeof AnthropicCreateMessageRequestSchema>;

export const AnthropicCountTokensRequestSchema = extendApi(z.object(MessagesRequestShape).passthrough(), {
  title: 'AnthropicCountTokensRequest',
  example: { model: 'claude-sonnet-4-5-20250929', messages: [{ role: 'user', content: 'How many tokens is this?' }] },
});
export type AnthropicCountTokensRequest = z.infer<typeof AnthropicCountTokensRequestSchema>;

// ---------------------------------------------------------------- response

export const AnthropicStopReasonSchema = z.enum(['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded']);

export const AnthropicUsageSchema = extendApi(
  z.object({
    input_tokens: z.number().int().describe('Prompt tokens not read from the cache.'),
    output_tokens: z.number().int(),
    cache_creation_input_tokens: z.number().int().nullable(),
    cache_read_input_tokens: z.number().int().nullable().describe('Kiro\'s own figure when it reports one; never invented.'),
    server_tool_use: z.object({ web_search_requests: z.number().int() }).nullable().optional(),
  }),
  { title: 'AnthropicUsage' },
);

export const AnthropicTextBlockSchema = extendApi(z.object({ type: z.literal('text'), text: z.string(), citations: z.null().optional() }), { title: 'AnthropicTextBlock' });
export const AnthropicThinkingBlockSchema = extendApi(z.object({ type: z.literal('thinking'), thinking: z.string(), signature: z.string().describe('Kiro\'s own signature; empty for models that think in prompt tags.') }), { title: 'AnthropicThinkingBlock' });
export const AnthropicRedactedThinkingBlockSchema = extendApi(z.object({ type: z.literal('redacted_thinking'), data: z.string() }), { title: 'AnthropicRedactedThinkingBlock' });
export const AnthropicToolUseBlockSchema = extendApi(z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.record(z.unknown()) }), { title: 'AnthropicToolUseBlock' });
export const AnthropicServerToolUseBlockSchema = extendApi(
  z.object({ type: z.literal('server_tool_use'), id: z.string(), name: z.string(), input: z.record(z.unknown()) }),
  { title: 'AnthropicServerToolUseBlock' },
);
export const AnthropicWebSearchResultSchema = extendApi(
  z.object({ type: z.literal('web_search_result'), url: z.string(), title: z.string(), encrypted_content: z.string(), page_age: z.string().nullable() }),
  { title: 'AnthropicWebSearchResult' },
);
export const AnthropicWebSearchToolResultBlockSchema = extendApi(
  z.object({
    type: z.literal('web_search_tool_result'),
    tool_use_id: z.string(),
    content: z.union([
      z.array(AnthropicWebSearchResultSchema),
      z.object({ type: z.literal('web_search_tool_result_error'), error_code: z.enum(['invalid_tool_input', 'unavailable', 'max_uses_exceeded', 'too_many_requests', 'query_too_long']) }),
    ]),
  }),
  { title: 'AnthropicWebSearchToolResultBlock' },
);

export const AnthropicContentBlockSchema = z.discriminatedUnion('type', [
  AnthropicTextBlockSchema,
  AnthropicThinkingBlockSchema,
  AnthropicRedactedThinkingBlockSchema,
  AnthropicToolUseBlockSchema,
  AnthropicServerToolUseBlockSchema,
  AnthropicWebSearchToolResultBlockSchema,
]);

export const AnthropicMessageSchema = extendApi(
  z.object({
    id: z.string(),
    type: z.literal('message'),
    role: z.literal('assistant'),
    content: z.array(AnthropicContentBlockSchema),
    model: z.string().describe('The model name the client asked for.'),
    stop_reason: AnthropicStopReasonSchema.nullable(),
    stop_sequence: z.string().nullable(),
    usage: AnthropicUsageSchema,
  }),
  {
    title: 'AnthropicMessage',
    example: {
      id: 'msg_01AbCdEfGhIjKlMnOpQrStUv',
      type: 'message',
      role: 'assistant',
      content: [{ type: 'text', text: 'Hello there, friend!' }],
      model: 'claude-sonnet-4-5-20250929',
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 14, output_tokens: 6, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
    },
  },
);
export type AnthropicMessage = z.infer<typeof AnthropicMessageSchema>;

// ---------------------------------------------------------------- stream events

export const AnthropicMessageStartEventSchema = extendApi(z.object({ type: z.literal('message_start'), message: AnthropicMessageSchema }), { title: 'AnthropicMessageStartEvent' });
export const AnthropicContentBlockStartEventSchema = extendApi(z.object({ type: z.literal('content_block_start'), index: z.number().int(), content_block: AnthropicContentBlockSchema }), { title: 'AnthropicContentBlockStartEvent' });
export const AnthropicContentBlockDeltaEventSchema = extendApi(
  z.object({
    type: z.literal('content_block_delta'),
    index: z.number().int(),
    delta: z.discriminatedUnion('type', [
      z.object({ type: z.literal('text_delta'), text: z.string() }),
      z.object({ type: z.literal('input_json_delta'), partial_json: z.string() }),
      z.object({ type: z.literal('thinking_delta'), thinking: z.string() }),
      z.object({ type: z.literal('signature_delta'), signature: z.string() }),
    ]),
  }),
  { title: 'AnthropicContentBlockDeltaEvent' },
);
export const AnthropicContentBlockStopEventSchema = extendApi(z.object({ type: z.literal('content_block_stop'), index: z.number().int() }), { title: 'AnthropicContentBlockStopEvent' });
export const AnthropicMessageDeltaEventSchema = extendApi(
  z.object({
    type: z.literal('message_delta'),
    delta: z.object({ stop_reason: AnthropicStopReasonSchema.nullable(), stop_sequence: z.string().nullable() }),
    usage: AnthropicUsageSchema.describe('Cumulative for the whole message.'),
  }),
  { title: 'AnthropicMessageDeltaEvent' },
);
export const AnthropicMessageStopEventSchema = extendApi(z.object({ type: z.literal('message_stop') }), { title: 'AnthropicMessageStopEvent' });
export const AnthropicPingEventSchema = extendApi(z.object({ type: z.literal('ping') }), { title: 'AnthropicPingEvent', description: 'Sent while Kiro is silent.' });

export const AnthropicErrorResponseSchema = extendApi(
  z.object({
    type: z.literal('error'),
    error: z.object({
      type: z.string().describe('invalid_request_error, authentication_error, permission_error, not_found_error, request_too_large, rate_limit_error, api_error, timeout_error or overloaded_error.'),
      message: z.string(),
    }),
    request_id: z.string().optional(),
  }),
  {
    title: 'AnthropicErrorResponse',
    example: { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 210118 tokens > 200000 maximum' }, request_id: 'req_0123456789abcdef01234567' },
  },
);
export type AnthropicErrorResponse = z.infer<typeof AnthropicErrorResponseSchema>;

export const AnthropicStreamEventSchema = extendApi(
  z.union([
    AnthropicMessageStartEventSchema,
    AnthropicContentBlockStartEventSchema,
    AnthropicContentBlockDeltaEventSchema,
    AnthropicContentBlockStopEventSchema,
    AnthropicMessageDeltaEventSchema,
    AnthropicMessageStopEventSchema,
    AnthropicPingEventSchema,
    AnthropicErrorResponseSchema,
  ]),
  {
    title: 'AnthropicMessageStreamEvent',
    description: [
      'One server-sent event of a streamed message (`"stream": true`), as `event: <type>` and `data: <json>` lines:',
      '`message_start`, then per content block `content_block_start`, `content_block_delta`… and `content_block_stop`,',
      'then `message_delta` (stop reason, cumulative usage) and `message_stop`. `ping` may come at any time; a failure',
      'after the stream started is one `error` event (an AnthropicErrorResponse), and the stream ends. There is no `[DONE]`.',
    ].join(' '),
  },
);

export const AnthropicCountTokensResponseSchema = extendApi(z.object({ input_tokens: z.number().int() }), { title: 'AnthropicCountTokensResponse', example: { input_tokens: 2048 } });

// ---------------------------------------------------------------- models

export const AnthropicModelSchema = extendApi(
  z.object({ type: z.literal('model'), id: z.string(), display_name: z.string(), created_at: z.string().describe('RFC 3339 release date.') }),
  { title: 'AnthropicModel', example: { type: 'model', id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' } },
);
export type AnthropicModel = z.infer<typeof AnthropicModelSchema>;

export const AnthropicModelListSchema = extendApi(
  z.object({ data: z.array(AnthropicModelSchema), has_more: z.boolean(), first_id: z.string().nullable(), last_id: z.string().nullable() }),
  {
    title: 'AnthropicModelList',
    example: { data: [{ type: 'model', id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z' }], has_more: false, first_id: 'claude-sonnet-4-5-20250929', last_id: 'claude-sonnet-4-5-20250929' },
  },
);
export type AnthropicModelList = z.infer<typeof AnthropicModelListSchema>;
