import type { ChatCompletionRequest, ChatMessage as OpenAIMessage } from '../../contract/index.js';
import { GatewayError } from '../chat/errors.js';
import type { ChatMessage, ChatRequest, ContentPart, ModelInfo, TextPart, ToolChoice } from '../chat/types.js';

type Part = Exclude<Extract<OpenAIMessage, { role: 'user' }>['content'], string>[number];

const DATA_URI = /^data:([^;,]+)(?:;[^,]*)?;base64,(.*)$/s;

const invalid = (message: string, param: string, code: string | null = null) =>
  new GatewayError('invalid_request', message, { param, code });

function imagePart(url: string, param: string): ContentPart {
  const match = DATA_URI.exec(url);
  if (match) return { type: 'image', mediaType: match[1]!.toLowerCase(), data: match[2]! };
  if (/^https?:\/\//i.test(url)) {
    throw invalid('Image URLs are not supported yet: send the image inline as a data URI (data:image/png;base64,…).', param, 'unsupported_image_url');
  }
  throw invalid('An image_url must be a data URI (data:image/png;base64,…) or an http(s) URL.', param, 'invalid_image_url');
}

function textParts(content: string | readonly { type: string; text?: string; refusal?: string }[] | null | undefined): TextPart[] {
  if (content == null) return [];
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return content.flatMap((part): TextPart[] => {
    const text = part.type === 'refusal' ? part.refusal : part.text;
    return text ? [{ type: 'text', text }] : [];
  });
}

function userParts(content: string | readonly Part[], param: string): ContentPart[] {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  return content.flatMap((part, i): ContentPart[] => {
    if (part.type === 'image_url') return [imagePart(part.image_url.url, `${param}.${i}.image_url.url`)];
    return part.text ? [{ type: 'text', text: part.text }] : [];
  });
}

const joined = (parts: TextPart[]) => parts.map((p) => p.text).join('\n');

/** OpenAI messages → neutral system + messages. Leading system/developer messages are the instructions. */
export function toNeutralMessages(messages: readonly OpenAIMessage[]): { system: string[]; messages: ChatMessage[] } {
  const system: string[] = [];
  const out: ChatMessage[] = [];
  messages.forEach((message, i) => {
    const param = `messages.${i}.content`;
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = joined(textParts(message.content));
        // Instructions that arrive mid-conversation keep their place as a user turn.
        if (out.length === 0) system.push(text);
        else if (text) out.push({ role: 'user', content: [{ type: 'text', text: `[${message.role} instructions]\n${text}` }] });
        break;
      }
      case 'user':
        out.push({ role: 'user', content: userParts(message.content, param) });
        break;
      case 'assistant':
        out.push({
          role: 'assistant',
          content: textParts(message.content),
          ...(message.tool_calls?.length && {
            toolCalls: message.tool_calls.map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments })),
          }),
          ...(message.reasoning_content && { reasoning: message.reasoning_content }),
        });
        break;
      case 'tool':
        out.push({ role: 'tool', toolCallId: message.tool_call_id, content: textParts(message.content) });
        break;
    }
  });
  return { system, messages: out };
}

function toolChoice(choice: ChatCompletionRequest['tool_choice']): ToolChoice | undefined {
  if (choice == null) return undefined;
  if (typeof choice === 'string') return choice;
  return { name: choice.function.name };
}

/** A validated OpenAI request → the neutral request for `model`. */
export function toChatRequest(body: ChatCompletionRequest, model: ModelInfo): ChatRequest {
  if (body.n != null && body.n > 1) {
    throw invalid('n > 1 is not supported: Kiro returns one answer per request. Send n separate requests instead.', 'n', 'unsupported_parameter');
  }
  const { system, messages } = toNeutralMessages(body.messages);
  const maxOutputTokens = body.max_completion_tokens ?? body.max_tokens ?? undefined;
  const choice = toolChoice(body.tool_choice);
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
  };
}
