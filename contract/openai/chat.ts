import { extendApi } from '@anatine/zod-openapi';
import { z } from 'zod';

// Request schemas are `.passthrough()` on purpose: clients send many vendor extras
// (`cache_control`, `thinking`, `extra_body`, …) and an unknown key must never be a 400.

// ---------------------------------------------------------------- request: content parts

export const TextPartSchema = z
  .object({ type: z.literal('text'), text: z.string() })
  .passthrough()
  .describe('A text part. Extra keys such as `cache_control` are accepted and ignored.');

export const ImagePartSchema = z
  .object({
    type: z.literal('image_url'),
    image_url: z
      .object({
        url: z.string().describe('A `data:image/...;base64,` URI or an http(s) URL.'),
        detail: z.enum(['auto', 'low', 'high']).optional(),
      })
      .passthrough(),
  })
  .passthrough();

export const RefusalPartSchema = z.object({ type: z.literal('refusal'), refusal: z.string() }).passthrough();

const TextContentSchema = z.union([z.string(), z.array(TextPartSchema)]);
const UserContentSchema = z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPartSchema, ImagePartSchema]))]);
const AssistantContentSchema = z.union([z.string(), z.array(z.discriminatedUnion('type', [TextPartSchema, RefusalPartSchema]))]);

// ---------------------------------------------------------------- request: messages

export const ToolCallSchema = extendApi(
  z
    .object({
      id: z.string(),
      type: z.literal('function'),
      function: z.object({
        name: z.string(),
        arguments: z.string().describe('The arguments as a JSON-encoded string.'),
      }),
    })
    .passthrough(),
  { title: 'ChatCompletionMessageToolCall' },
);

const SystemMessageSchema = z
  .object({ role: z.literal('system'), content: TextContentSchema, name: z.string().optional() })
  .passthrough();
const DeveloperMessageSchema = z
  .object({ role: z.literal('developer'), content: TextContentSchema, name: z.string().optional() })
  .passthrough();
const UserMessageSchema = z
  .object({ role: z.literal('user'), content: UserContentSchema, name: z.string().optional() })
  .passthrough();
const AssistantMessageSchema = z
  .object({
    role: z.literal('assistant'),
    content: AssistantContentSchema.nullish(),
    name: z.string().optional(),
    refusal: z.string().nullish(),
    tool_calls: z.array(ToolCallSchema).nullish(),
    reasoning_content: z.string().nullish().describe('Earlier reasoning, as this gateway returned it. Optional.'),
  })
  .passthrough();
const ToolMessageSchema = z
  .object({ role: z.literal('tool'), content: TextContentSchema, tool_call_id: z.string() })
  .passthrough();

export const ChatMessageSchema = extendApi(
  z.discriminatedUnion('role', [
    SystemMessageSchema,
    DeveloperMessageSchema,
    UserMessageSchema,
    AssistantMessageSchema,
    ToolMessageSchema,
  ]),
  { title: 'ChatCompletionRequestMessage' },
);
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

// ---------------------------------------------------------------- request: tools and options

export const ToolSchema = extendApi(
  z
    .object({
      type: z.literal('function'),
      function: z
        .object({
          name: z.string().min(1),
          description: z.string().optional(),
          parameters: z.record(z.unknown()).optional().describe('JSON Schema of the arguments.'),
          strict: z.boolean().nullish(),
        })
        .passthrough(),
    })
    .passthrough(),
  { title: 'ChatCompletionTool' },
);

const ToolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) }).passthrough(),
]);

const ResponseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }).passthrough(),
  z.object({ type: z.literal('json_object') }).passthrough(),
  z
    .object({
      type: z.literal('json_schema'),
      json_schema: z
        .object({ name: z.string(), description: z.string().optional(), schema: z.record(z.unknown()).optional(), strict: z.boolean().nullish() })
        .passthrough(),
    })
    .passthrough(),
]);

export const ReasoningEffortSchema = z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh', 'max']);

export const ChatCompletionRequestSchema = extendApi(
  z
    .object({
      model: z.string().min(1).describe('A model id from GET /v1/models, or an alias (e.g. `gpt-4o`).'),
      messages: z.array(ChatMessageSchema).min(1),
      stream: z.boolean().nullish().describe('Stream the answer as server-sent events (`text/event-stream`).'),
      stream_options: z
        .object({
          include_usage: z.boolean().optional().describe('Send a final chunk with `choices: []` and `usage` before `[DONE]`.'),
          include_obfuscation: z.boolean().optional(),
        })
        .passthrough()
        .nullish(),
      max_tokens: z.number().int().min(1).nullish().describe('Alias of `max_completion_tokens`.'),
      max_completion_tokens: z.number().int().min(1).nullish(),
      temperature: z.number().min(0).max(2).nullish(),
      top_p: z.number().min(0).max(1).nullish(),
      n: z.number().int().min(1).nullish(),
      stop: z.union([z.string(), z.array(z.string())]).nullish(),
      tools: z.array(ToolSchema).nullish(),
      tool_choice: ToolChoiceSchema.nullish(),
      parallel_tool_calls: z.boolean().nullish(),
      response_format: ResponseFormatSchema.nullish(),
      reasoning_effort: ReasoningEffortSchema.nullish(),
      user: z.string().nullish(),
      metadata: z.record(z.string()).nullish(),
      seed: z.number().int().nullish(),
      presence_penalty: z.number().nullish(),
      frequency_penalty: z.number().nullish(),
    })
    .passthrough(),
  {
    title: 'CreateChatCompletionRequest',
    example: {
      model: 'claude-sonnet-4-5-20250929',
      messages: [
        { role: 'system', content: 'You are a concise assistant.' },
        { role: 'user', content: 'Say hello in three words.' },
      ],
      stream: false,
    },
  },
);
export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequestSchema>;

// ---------------------------------------------------------------- response

export const FinishReasonSchema = z.enum(['stop', 'length', 'tool_calls', 'content_filter']);

export const UsageSchema = extendApi(
  z.object({
    prompt_tokens: z.number().int(),
    completion_tokens: z.number().int(),
    total_tokens: z.number().int(),
    prompt_tokens_details: z.object({ cached_tokens: z.number().int() }).optional(),
    completion_tokens_details: z.object({ reasoning_tokens: z.number().int() }).optional(),
  }),
  {
    title: 'CompletionUsage',
    description: 'Token counts. Kiro reports none, so the gateway counts them with a Claude tokenizer (see README, "Usage").',
  },
);
export type Usage = z.infer<typeof UsageSchema>;

export const ChatCompletionSchema = extendApi(
  z.object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number().int().describe('Unix time (seconds).'),
    model: z.string().describe('The model name the client asked for.'),
    choices: z.array(
      z.object({
        index: z.number().int(),
        message: z.object({
          role: z.literal('assistant'),
          content: z.string().nullable(),
          refusal: z.string().nullable(),
          reasoning_content: z.string().optional().describe('The model\'s thinking, when reasoning was requested.'),
          tool_calls: z.array(ToolCallSchema).optional(),
        }),
        logprobs: z.object({}).nullable().describe('Always null: Kiro does not return log probabilities.'),
        finish_reason: FinishReasonSchema,
      }),
    ),
    usage: UsageSchema,
    system_fingerprint: z.string().nullable().optional(),
  }),
  {
    title: 'CreateChatCompletionResponse',
    example: {
      id: 'chatcmpl-4f1c2d3e5b6a7980a1b2c3d4',
      object: 'chat.completion',
      created: 1763721600,
      model: 'claude-sonnet-4-5-20250929',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello there, friend!', refusal: null },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: { prompt_tokens: 19, completion_tokens: 6, total_tokens: 25, prompt_tokens_details: { cached_tokens: 0 } },
    },
  },
);
export type ChatCompletion = z.infer<typeof ChatCompletionSchema>;

export const ToolCallChunkSchema = z.object({
  index: z.number().int(),
  id: z.string().optional(),
  type: z.literal('function').optional(),
  function: z.object({ name: z.string().optional(), arguments: z.string().optional() }),
});

export const ChatCompletionChunkSchema = extendApi(
  z.object({
    id: z.string(),
    object: z.literal('chat.completion.chunk'),
    created: z.number().int(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number().int(),
        delta: z.object({
          role: z.literal('assistant').optional(),
          content: z.string().nullable().optional(),
          reasoning_content: z.string().optional(),
          refusal: z.string().nullable().optional(),
          tool_calls: z.array(ToolCallChunkSchema).optional(),
        }),
        logprobs: z.object({}).nullable().optional(),
        finish_reason: FinishReasonSchema.nullable(),
      }),
    ),
    usage: UsageSchema.nullable().optional(),
    system_fingerprint: z.string().nullable().optional(),
  }),
  {
    title: 'CreateChatCompletionStreamResponse',
    description: [
      'One server-sent event of a streamed chat completion (`"stream": true`), sent as `data: <json>`.',
      'The first chunk carries `delta.role: "assistant"`; the last choice chunk carries `finish_reason`;',
      'with `stream_options.include_usage` a final chunk has `choices: []` and `usage`. The stream ends with',
      'the literal line `data: [DONE]`. Lines starting with `:` are keep-alive comments. An error after the',
      'stream has started arrives as one `data: {"error":{...}}` event (an ErrorResponse), then the stream ends.',
    ].join(' '),
    example: {
      id: 'chatcmpl-4f1c2d3e5b6a7980a1b2c3d4',
      object: 'chat.completion.chunk',
      created: 1763721600,
      model: 'claude-sonnet-4-5-20250929',
      choices: [{ index: 0, delta: { content: 'Hello' }, finish_reason: null }],
    },
  },
);
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunkSchema>;
