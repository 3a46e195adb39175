import type { ChatCompletionRequest, ChatMessage as OpenAIMessage } from '../../../contract/index.js';
import { GatewayError } from '../../chat/errors.js';
import { imageFromDataUri, type ImageLoader } from '../../chat/images.js';
import type { ChatMessage, ChatRequest, ContentPart, ModelInfo, TextPart, ToolChoice } from '../../chat/types.js';

type Part = Exclude<Extract<OpenAIMessage, { role: 'user' }>['content'], string>[number];

const invalid = (message: string, param: string, code: string | null = null) => new GatewayError('invalid_request', message, { param, code });

/** Parameters Kiro has no equivalent for. They are accepted, ignored, and named in a response header. */
export const IGNORED_PARAMETERS = ['temperature', 'top_p', 'seed', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'logprobs', 'top_logprobs', 'service_tier'] as const;

export function ignoredParameters(body: Record<string, unknown>): string[] {
  return IGNORED_PARAMETERS.filter((name) => body[name] !== undefined && body[name] !== null && body[name] !== false);
}

/** Thinking-token budgets for OpenAI's reasoning_effort levels (Kiro accepts 1024–24576). */
export const REASONING_BUDGETS: Record<string, number> = { minimal: 1024, low: 4000, medium: 10000, high: 20000, xhigh: 24576, max: 24576 };

/** `reasoning_effort`, or a vendor `thinking` field, → a thinking budget; undefined = off (the default). */
export function reasoningBudget(body: ChatCompletionRequest): number | undefined {
  const effort = body.reasoning_effort;
  if (effort) return effort === 'none' ? undefined : REASONING_BUDGETS[effort];
  const thinking = (body as { thinking?: unknown }).thinking as { type?: unknown; budget_tokens?: unknown } | undefined;
  if (!thinking || typeof thinking !== 'object') return undefined;
  if (thinking.type === 'enabled') return typeof thinking.budget_tokens === 'number' ? thinking.budget_tokens : REASONING_BUDGETS.medium;
  if (thinking.type === 'adaptive') return REASONING_BUDGETS.medium;
  return undefined;
}

function textParts(content: string | readonly { type: string; text?: string; refusal?: string }[] | null | undefined): TextPart[] {
  if (content == null) return [];
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return content.flatMap((part): TextPart[] => {
    const text = part.type === 'refusal' ? part.refusal : part.text;
    return text ? [{ type: 'text', text }] : [];
  });
}

async function userParts(content: string | readonly Part[], param: string, loadImage: ImageLoader): Promise<ContentPart[]> {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return Promise.all(
    content.map(async (part, i): Promise<ContentPart | undefined> => {
      if (part.type !== 'image_url') return part.text ? { type: 'text', text: part.text } : undefined;
      const url = part.image_url.url;
      const where = `${param}.${i}.image_url.url`;
      if (url.startsWith('data:')) return { type: 'image', ...imageFromDataUri(url, where) };
      if (/^https?:\/\//i.test(url)) return { type: 'image', ...(await loadImage(url, where)) };
      throw invalid('An image_url must be a data URI (data:image/png;base64,…) or an http(s) URL.', where, 'invalid_image_url');
    }),
  ).then((parts) => parts.filter((p): p is ContentPart => p !== undefined));
}

const joined = (parts: TextPart[]) => parts.map((p) => p.text).join('\n');

/** OpenAI messages → neutral system + messages. Leading system/developer messages are the instructions. */
export async function toNeutralMessages(messages: readonly OpenAIMessage[], loadImage: ImageLoader): Promise<{ system: string[]; messages: ChatMessage[] }> {
  const system: string[] = [];
  const out: ChatMessage[] = [];
  for (const [index, message] of messages.entries()) {
    const param = `messages.${index}.content`;
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = joined(textParts(message.content));
        // Instructions that arrive mid-conversation keep their place as a user turn.
        if (out.length === 0) system.push(text);
        else if (text) out.push({ index, role: 'user', content: [{ type: 'text', text: `[${message.role} instructions]\n${text}` }] });
        break;
      }
      case 'user':
        out.push({ index, role: 'user', content: await userParts(message.content, param, loadImage) });
        break;
      case 'assistant':
        out.push({
          index,
          role: 'assistant',
          content: textParts(message.content),
          ...(message.tool_calls?.length && {
            toolCalls: message.tool_calls.map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments })),
          }),
          // Reasoning this gateway returned earlier; unsigned, so it is text to the upstream.
          ...(message.reasoning_content && { reasoning: [{ text: message.reasoning_content }] }),
        });
        break;
      case 'tool': {
        // Agents mark failed tool runs in several ways; keep the failure visible to the model.
        const isError = (message as { is_error?: unknown }).is_error === true || (message as { status?: unknown }).status === 'error';
        out.push({ index, role: 'tool', toolCallId: message.tool_call_id, content: textParts(message.content), ...(isError && { isError }) });
        break;
      }
    }
  }
  return { system, messages: out };
}

function toolChoice(choice: ChatCompletionRequest['tool_choice']): ToolChoice | undefined {
  if (choice == null) return undefined;
  if (typeof choice === 'string') return choice;
  return { name: choice.function.name };
}

const rejectRemoteImages: ImageLoader = async (_url, param) => {
  throw invalid('Image URLs are not enabled on this gateway: send the image inline as a data URI.', param, 'unsupported_image_url');
};

/** A validated OpenAI request → the neutral request for `model`. */
export async function toChatRequest(body: ChatCompletionRequest, model: ModelInfo, loadImage: ImageLoader = rejectRemoteImages): Promise<ChatRequest> {
  if (body.n != null && body.n > 1) {
    throw invalid('n > 1 is not supported: Kiro returns one answer per request. Send n separate requests instead.', 'n', 'unsupported_parameter');
  }
  const { system, messages } = await toNeutralMessages(body.messages, loadImage);
  const maxOutputTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const choice = toolChoice(body.tool_choice);
  if (typeof choice === 'object' && !body.tools?.some((t) => t.function.name === choice.name)) {
    throw invalid(`tool_choice names the tool \`${choice.name}\`, which is not in tools.`, 'tool_choice', 'invalid_value');
  }
  const stop = body.stop == null ? [] : (Array.isArray(body.stop) ? body.stop : [body.stop]).filter((s) => s.length > 0);
  const budget = reasoningBudget(body);
  const format = body.response_format;
  return {
    upstreamModel: model.upstreamId,
    system,
    messages,
    ...(body.tools?.length && {
      tools: body.tools.map((tool) => ({
        name: tool.function.name,
        ...(tool.function.description !== undefined && { description: tool.function.description }),
        ...(tool.function.parameters !== undefined && { parameters: tool.function.parameters }),
      })),
    }),
    ...(choice !== undefined && { toolChoice: choice }),
    ...(maxOutputTokens !== undefined && { maxOutputTokens }),
    ...(stop.length > 0 && { stop }),
    ...(budget !== undefined && { reasoning: { budgetTokens: budget } }),
    ...(format?.type === 'json_object' && { responseFormat: { type: 'json_object' as const } }),
    ...(format?.type === 'json_schema' && {
      responseFormat: { type: 'json_schema' as const, name: format.json_schema.name, ...(format.json_schema.schema && { schema: format.json_schema.schema }) },
    }),
    ...(body.parallel_tool_calls === false && { parallelToolCalls: false }),
  };
}
