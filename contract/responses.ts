import { extendApi } from '@anatine/zod-openapi';
import { z } from 'zod';

// OpenAI's Responses API, as Codex, the AI SDK's default OpenAI provider and `client.responses`
// speak it. Requests are `.passthrough()`: clients send fields no version of the SDK knows
// (Codex's `prompt_cache_key`, `include`, newer item types), and an unknown key is never a 400.

// ---------------------------------------------------------------- request: input items

const InputText = z.object({ type: z.literal('input_text'), text: z.string() }).passthrough();
const InputImage = z
  .object({ type: z.literal('input_image'), image_url: z.string().nullish().describe('A data URL, or an http(s) URL on a public address.'), detail: z.string().nullish(), file_id: z.string().nullish() })
  .passthrough();
const OutputText = z.object({ type: z.literal('output_text'), text: z.string() }).passthrough();
const Refusal = z.object({ type: z.literal('refusal'), refusal: z.string() }).passthrough();
const InputFile = z.object({ type: z.literal('input_file') }).passthrough().describe('Files cannot reach Kiro: a 400.');

export const ResponsesMessageItemSchema = extendApi(
  z
    .object({
      type: z.literal('message').optional(),
      id: z.string().nullish(),
      role: z.enum(['user', 'assistant', 'system', 'developer']),
      content: z.union([z.array(z.discriminatedUnion('type', [InputText, InputImage, OutputText, Refusal, InputFile])), z.string()]),
    })
    .passthrough(),
  { title: 'ResponsesInputMessage' },
);

const OutputParts = z.union([z.array(z.discriminatedUnion('type', [InputText, InputImage, OutputText, InputFile])), z.string()]);

export const ResponsesFunctionCallItemSchema = extendApi(
  z.object({ type: z.literal('function_call'), id: z.string().nullish(), call_id: z.string(), namespace: z.string().nullish(), name: z.string(), arguments: z.string() }).passthrough(),
  { title: 'ResponsesFunctionCallInput' },
);
export const ResponsesFunctionCallOutputItemSchema = extendApi(
  z.object({ type: z.literal('function_call_output'), id: z.string().nullish(), call_id: z.string(), output: OutputParts }).passthrough(),
  { title: 'ResponsesFunctionCallOutputInput' },
);
export const ResponsesCustomToolCallItemSchema = extendApi(
  z.object({ type: z.literal('custom_tool_call'), id: z.string().nullish(), call_id: z.string(), namespace: z.string().nullish(), name: z.string(), input: z.string() }).passthrough(),
  { title: 'ResponsesCustomToolCallInput' },
);
export const ResponsesCustomToolCallOutputItemSchema = extendApi(
  z.object({ type: z.literal('custom_tool_call_output'), id: z.string().nullish(), call_id: z.string(), output: OutputParts }).passthrough(),
  { title: 'ResponsesCustomToolCallOutputInput' },
);
export const ResponsesReasoningItemSchema = extendApi(
  z
    .object({
      type: z.literal('reasoning'),
      id: z.string().nullish(),
      summary: z.array(z.object({ type: z.string(), text: z.string() }).passthrough()).optional(),
      encrypted_content: z.string().nullish().describe('This gateway\'s own, from an earlier answer: it carries Kiro\'s signed thinking back.'),
    })
    .passthrough(),
  { title: 'ResponsesReasoningInput' },
);
export const ResponsesItemReferenceSchema = extendApi(z.object({ type: z.literal('item_reference'), id: z.string() }).passthrough(), {
  title: 'ResponsesItemReference',
  description: 'An item of an earlier stored response (what the AI SDK sends by default).',
});
export const ResponsesCompactionItemSchema = extendApi(z.object({ type: z.literal('compaction'), id: z.string().nullish(), encrypted_content: z.string() }).passthrough(), {
  title: 'ResponsesCompactionInput',
  description: 'A compaction item this gateway made (POST /v1/responses/compact): the summary of the conversation before it.',
});
export const ResponsesCompactionTriggerSchema = extendApi(z.object({ type: z.literal('compaction_trigger') }).passthrough(), {
  title: 'ResponsesCompactionTrigger',
  description: 'The last input item: compact the conversation instead of answering (the output is one compaction item).',
});

const KNOWN_ITEMS = ['message', 'function_call', 'function_call_output', 'custom_tool_call', 'custom_tool_call_output', 'reasoning', 'item_reference', 'compaction', 'compaction_trigger'];

export const ResponsesInputItemSchema = z.union([
  // The typed items first: a failed alternative costs zod an issue object, and most items are calls and results.
  z.discriminatedUnion('type', [
    ResponsesFunctionCallItemSchema,
    ResponsesFunctionCallOutputItemSchema,
    ResponsesCustomToolCallItemSchema,
    ResponsesCustomToolCallOutputItemSchema,
    ResponsesReasoningItemSchema,
    ResponsesItemReferenceSchema,
    ResponsesCompactionItemSchema,
    ResponsesCompactionTriggerSchema,
  ]),
  ResponsesMessageItemSchema,
  z
    .object({ type: z.string() })
    .passthrough()
    .refine((item) => !KNOWN_ITEMS.includes(item.type), { message: 'an item of a known type is missing a field or has a wrong one' })
    .describe('An item of any other type (web_search_call, local_shell_call, newer ones): accepted; what Kiro can read of it becomes text, the rest is left out.'),
]);

// ---------------------------------------------------------------- request: tools and options

const FunctionToolSchema = z.object({ type: z.literal('function'), name: z.string().min(1), description: z.string().nullish(), parameters: z.record(z.unknown()).nullish(), strict: z.boolean().nullish() }).passthrough();
const CustomToolSchema = z
  .object({ type: z.literal('custom'), name: z.string().min(1), description: z.string().nullish(), format: z.object({ type: z.string() }).passthrough().nullish() })
  .passthrough()
  .describe('A freeform tool (Codex\'s apply_patch): its input is one string, as its format says.');

export const ResponsesToolSchema = extendApi(
  z.union([
    FunctionToolSchema,
    CustomToolSchema,
    z
      .object({ type: z.literal('namespace'), name: z.string().min(1), description: z.string().nullish(), tools: z.array(z.discriminatedUnion('type', [FunctionToolSchema, CustomToolSchema])).min(1) })
      .passthrough()
      .describe('Function and custom tools grouped under a name (Codex\'s multi_agent_v1): their calls carry `namespace`.'),
    z
      .object({ type: z.string() })
      .passthrough()
      .refine((tool) => !['function', 'custom', 'namespace'].includes(tool.type), { message: 'a tool of a known type is missing a field or has a wrong one' })
      .describe('A hosted tool: `web_search` runs through Kiro\'s search; the others are a 400 naming the tool.'),
  ]),
  { title: 'ResponsesTool' },
);

export const ResponsesCreateRequestSchema = extendApi(
  z
    .object({
      model: z.string().min(1).describe('A model id from GET /v1/models, or an alias.'),
      input: z.union([z.array(ResponsesInputItemSchema), z.string()]).optional(),
      instructions: z.string().nullish(),
      tools: z.array(ResponsesToolSchema).nullish(),
      tool_choice: z.union([z.enum(['auto', 'none', 'required']), z.object({ type: z.string(), name: z.string().optional() }).passthrough()]).nullish(),
      parallel_tool_calls: z.boolean().nullish(),
      max_output_tokens: z.number().int().min(1).nullish(),
      reasoning: z.object({ effort: z.string().nullish(), summary: z.string().nullish() }).passthrough().nullish(),
      text: z
        .object({ format: z.object({ type: z.enum(['text', 'json_object', 'json_schema']), name: z.string().optional(), schema: z.record(z.unknown()).optional() }).passthrough().nullish() })
        .passthrough()
        .nullish(),
      include: z.array(z.string()).nullish().describe('`reasoning.encrypted_content` puts Kiro\'s signed thinking, sealed, into reasoning items.'),
      metadata: z.record(z.string()).nullish(),
      prompt_cache_key: z.string().nullish().describe('Keeps one Kiro conversation (and account) for the session.'),
      store: z.boolean().nullish().describe('Keep the response for previous_response_id and GET (default true).'),
      stream: z.boolean().nullish(),
      previous_response_id: z.string().nullish(),
      background: z.boolean().nullish().describe('Not supported: a 400.'),
      temperature: z.number().min(0).max(2).nullish(),
      top_p: z.number().min(0).max(1).nullish(),
    })
    .passthrough(),
  {
    title: 'ResponsesCreateRequest',
    example: { model: 'claude-sonnet-4-5-20250929', instructions: 'You are a concise assistant.', input: 'Say hello in three words.' },
  },
);
export type ResponsesCreateRequest = z.infer<typeof ResponsesCreateRequestSchema>;

export const ResponsesCompactRequestSchema = extendApi(
  z
    .object({
      model: z.string().min(1),
      input: z.union([z.array(ResponsesInputItemSchema), z.string()]).optional(),
      instructions: z.string().nullish(),
      previous_response_id: z.string().nullish(),
    })
    .passthrough(),
  { title: 'ResponsesCompactRequest', example: { model: 'claude-sonnet-4-5-20250929', input: [{ role: 'user', content: 'Plan the launch.' }] } },
);
export type ResponsesCompactRequest = z.infer<typeof ResponsesCompactRequestSchema>;

// ---------------------------------------------------------------- response

export const ResponseUsageSchema = extendApi(
  z.object({
    input_tokens: z.number().int().describe('All prompt tokens, cached ones included.'),
    input_tokens_details: z.object({ cached_tokens: z.number().int(), cache_write_tokens: z.number().int() }),
    output_tokens: z.number().int(),
    output_tokens_details: z.object({ reasoning_tokens: z.number().int() }),
    total_tokens: z.number().int(),
  }),
  { title: 'ResponseUsage' },
);

const OutputTextPart = extendApi(z.object({ type: z.literal('output_text'), text: z.string(), annotations: z.array(z.unknown()), logprobs: z.array(z.unknown()) }), { title: 'ResponseOutputText' });

export const ResponseOutputMessageSchema = extendApi(
  z.object({ type: z.literal('message'), id: z.string(), status: z.enum(['in_progress', 'completed', 'incomplete']), role: z.literal('assistant'), content: z.array(OutputTextPart) }),
  { title: 'ResponseOutputMessage' },
);
export const ResponseFunctionCallSchema = extendApi(
  z.object({ type: z.literal('function_call'), id: z.string(), status: z.enum(['in_progress', 'completed', 'incomplete']), call_id: z.string(), namespace: z.string().optional().describe('Set for a tool of a namespace: its name is then the name inside it.'), name: z.string(), arguments: z.string() }),
  { title: 'ResponseFunctionToolCall' },
);
export const ResponseCustomToolCallSchema = extendApi(
  z.object({ type: z.literal('custom_tool_call'), id: z.string(), status: z.enum(['in_progress', 'completed', 'incomplete']), call_id: z.string(), namespace: z.string().optional().describe('Set for a tool of a namespace: its name is then the name inside it.'), name: z.string(), input: z.string() }),
  { title: 'ResponseCustomToolCall' },
);
export const ResponseReasoningSchema = extendApi(
  z.object({
    type: z.literal('reasoning'),
    id: z.string(),
    status: z.enum(['in_progress', 'completed', 'incomplete']),
    summary: z.array(z.object({ type: z.literal('summary_text'), text: z.string() })),
    encrypted_content: z.string().nullable().optional(),
  }),
  { title: 'ResponseReasoningItem' },
);
export const ResponseWebSearchCallSchema = extendApi(
  z.object({ type: z.literal('web_search_call'), id: z.string(), status: z.enum(['in_progress', 'searching', 'completed', 'failed']), action: z.object({ type: z.literal('search'), query: z.string() }) }),
  { title: 'ResponseFunctionWebSearch' },
);
export const ResponseCompactionSchema = extendApi(z.object({ type: z.literal('compaction'), id: z.string(), encrypted_content: z.string() }), {
  title: 'ResponseCompactionItem',
  description: 'The sealed summary of a conversation: send it back as an input item and the gateway expands it.',
});

export const ResponseOutputItemSchema = z.discriminatedUnion('type', [
  ResponseOutputMessageSchema,
  ResponseFunctionCallSchema,
  ResponseCustomToolCallSchema,
  ResponseReasoningSchema,
  ResponseWebSearchCallSchema,
  ResponseCompactionSchema,
]);
export type ResponseOutputItem = z.infer<typeof ResponseOutputItemSchema>;

export const ResponseSchema = extendApi(
  z.object({
    id: z.string(),
    object: z.literal('response'),
    created_at: z.number().int(),
    status: z.enum(['completed', 'incomplete', 'in_progress', 'failed']),
    completed_at: z.number().int().nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    incomplete_details: z.object({ reason: z.enum(['max_output_tokens', 'content_filter']) }).nullable(),
    instructions: z.string().nullable(),
    max_output_tokens: z.number().int().nullable(),
    model: z.string().describe('The model name the client asked for.'),
    output: z.array(ResponseOutputItemSchema),
    parallel_tool_calls: z.boolean(),
    previous_response_id: z.string().nullable(),
    reasoning: z.object({ effort: z.string().nullable(), summary: z.string().nullable() }).nullable(),
    store: z.boolean(),
    temperature: z.number().nullable(),
    text: z.object({ format: z.object({ type: z.string() }).passthrough() }),
    tool_choice: z.unknown(),
    tools: z.array(z.unknown()),
    top_p: z.number().nullable(),
    truncation: z.literal('disabled'),
    // Absent while the response runs and on a failure, as OpenAI's own.
    usage: ResponseUsageSchema.optional(),
    metadata: z.record(z.string()),
  }),
  {
    title: 'Response',
    example: {
      id: 'resp_4f1c2d3e5b6a7980a1b2c3d4',
      object: 'response',
      created_at: 1767225600,
      status: 'completed',
      completed_at: 1767225601,
      error: null,
      incomplete_details: null,
      instructions: null,
      max_output_tokens: null,
      model: 'claude-sonnet-4-5-20250929',
      output: [{ type: 'message', id: 'msg_4f1c2d3e5b6a7980a1b2c3d4', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello there, friend!', annotations: [], logprobs: [] }] }],
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: null,
      store: true,
      temperature: null,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      top_p: null,
      truncation: 'disabled',
      usage: { input_tokens: 14, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 }, output_tokens: 6, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 20 },
      metadata: {},
    },
  },
);
export type Response = z.infer<typeof ResponseSchema>;

export const ResponseDeletedSchema = extendApi(z.object({ id: z.string(), object: z.literal('response'), deleted: z.literal(true) }), {
  title: 'ResponseDeleted',
  example: { id: 'resp_4f1c2d3e5b6a7980a1b2c3d4', object: 'response', deleted: true },
});

export const ResponseInputItemListSchema = extendApi(
  z.object({ object: z.literal('list'), data: z.array(z.record(z.unknown())), first_id: z.string().nullable(), last_id: z.string().nullable(), has_more: z.boolean() }),
  {
    title: 'ResponseItemList',
    example: { object: 'list', data: [{ id: 'msg_1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Hi' }] }], first_id: 'msg_1', last_id: 'msg_1', has_more: false },
  },
);

export const ResponseCompactedSchema = extendApi(
  z.object({ id: z.string(), object: z.literal('response.compaction'), created_at: z.number().int(), output: z.array(z.record(z.unknown())), usage: ResponseUsageSchema }),
  {
    title: 'ResponseCompaction',
    example: {
      id: 'resp_4f1c2d3e5b6a7980a1b2c3d4',
      object: 'response.compaction',
      created_at: 1767225600,
      output: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'Plan the launch.' }] }, { type: 'compaction', id: 'cmp_4f1c2d3e5b6a7980a1b2c3d4', encrypted_content: 'a2kyYXBpLmNvbXBhY3Rpb24…' }],
      usage: { input_tokens: 4200, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 }, output_tokens: 300, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 4500 },
    },
  },
);

// ---------------------------------------------------------------- stream events

const Seq = { sequence_number: z.number().int() };
const event = <T extends z.ZodRawShape>(type: string, title: string, shape: T) => extendApi(z.object({ type: z.literal(type), ...Seq, ...shape }), { title });
const ItemRef = { item_id: z.string(), output_index: z.number().int() };

export const ResponseStreamEventSchema = extendApi(
  z.union([
    event('response.created', 'ResponseCreatedEvent', { response: ResponseSchema }),
    event('response.in_progress', 'ResponseInProgressEvent', { response: ResponseSchema }),
    event('response.output_item.added', 'ResponseOutputItemAddedEvent', { output_index: z.number().int(), item: ResponseOutputItemSchema }),
    event('response.output_item.done', 'ResponseOutputItemDoneEvent', { output_index: z.number().int(), item: ResponseOutputItemSchema }),
    event('response.content_part.added', 'ResponseContentPartAddedEvent', { ...ItemRef, content_index: z.number().int(), part: OutputTextPart }),
    event('response.content_part.done', 'ResponseContentPartDoneEvent', { ...ItemRef, content_index: z.number().int(), part: OutputTextPart }),
    event('response.output_text.delta', 'ResponseTextDeltaEvent', { ...ItemRef, content_index: z.number().int(), delta: z.string(), logprobs: z.array(z.unknown()) }),
    event('response.output_text.done', 'ResponseTextDoneEvent', { ...ItemRef, content_index: z.number().int(), text: z.string(), logprobs: z.array(z.unknown()) }),
    event('response.function_call_arguments.delta', 'ResponseFunctionCallArgumentsDeltaEvent', { ...ItemRef, delta: z.string() }),
    event('response.function_call_arguments.done', 'ResponseFunctionCallArgumentsDoneEvent', { ...ItemRef, name: z.string(), arguments: z.string() }),
    event('response.custom_tool_call_input.delta', 'ResponseCustomToolCallInputDeltaEvent', { ...ItemRef, delta: z.string() }),
    event('response.custom_tool_call_input.done', 'ResponseCustomToolCallInputDoneEvent', { ...ItemRef, input: z.string() }),
    event('response.reasoning_summary_part.added', 'ResponseReasoningSummaryPartAddedEvent', { ...ItemRef, summary_index: z.number().int(), part: z.object({ type: z.literal('summary_text'), text: z.string() }) }),
    event('response.reasoning_summary_part.done', 'ResponseReasoningSummaryPartDoneEvent', { ...ItemRef, summary_index: z.number().int(), part: z.object({ type: z.literal('summary_text'), text: z.string() }) }),
    event('response.reasoning_summary_text.delta', 'ResponseReasoningSummaryTextDeltaEvent', { ...ItemRef, summary_index: z.number().int(), delta: z.string() }),
    event('response.reasoning_summary_text.done', 'ResponseReasoningSummaryTextDoneEvent', { ...ItemRef, summary_index: z.number().int(), text: z.string() }),
    event('response.web_search_call.in_progress', 'ResponseWebSearchCallInProgressEvent', ItemRef),
    event('response.web_search_call.searching', 'ResponseWebSearchCallSearchingEvent', ItemRef),
    event('response.web_search_call.completed', 'ResponseWebSearchCallCompletedEvent', ItemRef),
    event('response.completed', 'ResponseCompletedEvent', { response: ResponseSchema }),
    event('response.incomplete', 'ResponseIncompleteEvent', { response: ResponseSchema }),
    event('response.failed', 'ResponseFailedEvent', { response: ResponseSchema }),
  ]),
  {
    title: 'ResponseStreamEvent',
    description: [
      'One server-sent event of a streamed response (`"stream": true`), as `event: <type>` and `data: <json>` lines, each with a',
      'rising `sequence_number`: `response.created`, `response.in_progress`, then per output item `response.output_item.added`,',
      'its deltas and `response.output_item.done` (always carrying the whole item), and last `response.completed`, or',
      '`response.incomplete` when the output was cut short, or `response.failed` (with `response.error.code`) when the answer',
      'failed after the stream began. A stream never just stops. Lines starting with `:` are keep-alives.',
    ].join(' '),
  },
);
