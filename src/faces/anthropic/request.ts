import type { AnthropicCountTokensRequest, AnthropicCreateMessageRequest } from '../../../contract/index.js';
import { GatewayError } from '../../chat/errors.js';
import { checkImage, type ImageLoader } from '../../chat/images.js';
import type { ChatMessage, ChatRequest, ContentPart, ModelInfo, PastReasoning, ReasoningEffort, TextPart, ToolCall, ToolChoice, ToolDefinition } from '../../chat/types.js';

// Anthropic Messages → the neutral request. Pure, but for downloading image URLs.

type Body = AnthropicCreateMessageRequest | AnthropicCountTokensRequest;
type Block = { type: string } & Record<string, unknown>;

const invalid = (message: string, param: string, code = 'invalid_value') => new GatewayError('invalid_request', message, { param, code });

/** Parameters Kiro has no equivalent for: accepted, ignored, and named in a response header. */
export const IGNORED_PARAMETERS = ['temperature', 'top_p', 'top_k', 'service_tier', 'container', 'mcp_servers', 'context_management'] as const;

export function ignoredParameters(body: Record<string, unknown>): string[] {
  return IGNORED_PARAMETERS.filter((name) => body[name] !== undefined && body[name] !== null);
}

/** Betas that shape what the gateway does; every other one changes nothing here. */
const USED_BETAS = /^(interleaved-thinking|adaptive-thinking|effort|web-search|token-counting)-/;

export function ignoredBetas(header: string | string[] | undefined): string[] {
  const betas = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((b) => b.trim()).filter(Boolean);
  return betas.filter((beta) => !USED_BETAS.test(beta));
}

/** Thinking budgets for adaptive thinking, by effort (Kiro's tag mode takes 1024–24576). */
const ADAPTIVE_BUDGET: Record<ReasoningEffort, number> = { low: 4000, medium: 10_000, high: 20_000, max: 24_576 };

function reasoning(body: Body): ChatRequest['reasoning'] {
  const thinking = body.thinking;
  if (!thinking || thinking.type === 'disabled') return undefined;
  const said = body.output_config?.effort;
  const effort: ReasoningEffort | undefined = said === 'xhigh' ? 'max' : (said ?? undefined);
  if (thinking.type === 'enabled') return { budgetTokens: thinking.budget_tokens, ...(effort && { effort }) };
  return { budgetTokens: ADAPTIVE_BUDGET[effort ?? 'medium'], ...(effort && { effort }) };
}

const textOf = (content: string | readonly Block[]): string =>
  typeof content === 'string'
    ? content
    : content
        .filter((b) => b.type === 'text')
        .map((b) => b.text as string)
        .join('\n');

async function image(block: Block, param: string, loadImage: ImageLoader): Promise<ContentPart> {
  const source = block.source as { type: string; media_type?: string; data?: string; url?: string };
  if (source.type === 'base64') {
    const data = String(source.data ?? '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data)) throw invalid('The image\'s base64 data is not valid base64.', `${param}.source.data`, 'invalid_image');
    return { type: 'image', ...checkImage(Buffer.from(data, 'base64'), source.media_type, param) };
  }
  if (source.type === 'url') {
    if (!/^https?:\/\//i.test(String(source.url))) throw invalid('An image url source must be an http(s) URL.', `${param}.source.url`, 'invalid_image_url');
    return { type: 'image', ...(await loadImage(String(source.url), `${param}.source.url`)) };
  }
  throw invalid(`Image sources of type "${source.type}" cannot reach Kiro: send the image as base64 or an http(s) URL.`, `${param}.source`, 'unsupported_image_source');
}

/** A document Kiro can read is text; anything else (PDF, URL, file) is a 400 naming the block. */
function documentText(block: Block, param: string): TextPart {
  const source = block.source as { type: string; data?: unknown; content?: unknown };
  let text: string | undefined;
  if (source.type === 'text' && typeof source.data === 'string') text = source.data;
  if (source.type === 'content') text = typeof source.content === 'string' ? source.content : textOf((source.content ?? []) as Block[]);
  if (text === undefined) throw invalid(`This document (source type "${source.type}") cannot reach Kiro, which reads only text: send its text instead.`, param, 'unsupported_document');
  const title = typeof block.title === 'string' ? `${block.title}\n` : '';
  const context = typeof block.context === 'string' ? `${block.context}\n` : '';
  return { type: 'text', text: `<document>\n${title}${context}${text}\n</document>` };
}

/** The search a server_tool_use made and what it found, as text the model reads in history. */
function pastSearch(block: Block): string {
  if (block.type === 'server_tool_use') return `[Searched the web for: ${JSON.stringify((block.input as { query?: unknown })?.query ?? '')}]`;
  const content = block.content;
  if (!Array.isArray(content)) return '[The web search failed.]';
  return `[Web search results]\n${content.map((r: { title?: string; url?: string }) => `- ${r.title ?? ''} (${r.url ?? ''})`).join('\n')}`;
}

async function toNeutralMessages(body: Body, loadImage: ImageLoader): Promise<{ system: string[]; messages: ChatMessage[] }> {
  const system: string[] = [];
  if (typeof body.system === 'string') system.push(body.system);
  else for (const block of body.system ?? []) system.push(block.text);
  const messages: ChatMessage[] = [];
  for (const [index, message] of body.messages.entries()) {
    const blocks: Block[] = typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : (message.content as Block[]);
    const param = (j: number) => `messages.${index}.content.${j}`;
    if (message.role === 'system') {
      const text = textOf(blocks);
      // Instructions that arrive mid-conversation keep their place as a user turn.
      if (messages.length === 0) system.push(text);
      else if (text) messages.push({ index, role: 'user', content: [{ type: 'text', text: `[system instructions]\n${text}` }] });
      continue;
    }
    if (message.role === 'assistant') {
      const content: TextPart[] = [];
      const toolCalls: ToolCall[] = [];
      const past: PastReasoning[] = [];
      for (const block of blocks) {
        if (block.type === 'text' && typeof block.text === 'string') content.push({ type: 'text', text: block.text });
        else if (block.type === 'tool_use') toolCalls.push({ id: String(block.id), name: String(block.name), arguments: '', input: block.input as Record<string, unknown> });
        else if (block.type === 'thinking') past.push({ text: String(block.thinking), ...(typeof block.signature === 'string' && block.signature && { signature: block.signature }) });
        else if (block.type === 'redacted_thinking') past.push({ text: '', redacted: String(block.data) });
        else if (block.type === 'server_tool_use' || block.type === 'web_search_tool_result') content.push({ type: 'text', text: pastSearch(block) });
      }
      messages.push({ index, role: 'assistant', content, ...(toolCalls.length > 0 && { toolCalls }), ...(past.length > 0 && { reasoning: past }) });
      continue;
    }
    // A user turn: its tool results first (each answers a call of the turn before), then the rest.
    const rest: ContentPart[] = [];
    for (const [j, block] of blocks.entries()) {
      switch (block.type) {
        case 'text':
          rest.push({ type: 'text', text: String(block.text) });
          break;
        case 'image':
          rest.push(await image(block, param(j), loadImage));
          break;
        case 'document':
          rest.push(documentText(block, param(j)));
          break;
        case 'tool_result': {
          const raw = block.content;
          const parts: ContentPart[] = [];
          if (typeof raw === 'string') parts.push({ type: 'text', text: raw });
          else if (Array.isArray(raw)) {
            for (const [k, inner] of (raw as Block[]).entries()) {
              if (inner.type === 'text') parts.push({ type: 'text', text: String(inner.text) });
              else if (inner.type === 'image') parts.push(await image(inner, `${param(j)}.content.${k}`, loadImage));
              else if (inner.type === 'document') parts.push(documentText(inner, `${param(j)}.content.${k}`));
            }
          }
          messages.push({ index, role: 'tool', toolCallId: String(block.tool_use_id), content: parts, ...(block.is_error === true && { isError: true }) });
          break;
        }
        default:
        // Thinking in a user turn, search results, newer block types: nothing Kiro can take.
      }
    }
    if (rest.length > 0 || !blocks.some((b) => b.type === 'tool_result')) messages.push({ index, role: 'user', content: rest });
  }
  return { system, messages };
}

/** The server tools Kiro can serve; the others are a 400 naming the tool. */
export interface ServerTools {
  /** Web search (`web_search_20250305` and later), through Kiro's MCP search. */
  webSearch?: { name: string; maxUses?: number };
}

function tools(body: Body): { tools: ToolDefinition[]; server: ServerTools } {
  const out: ToolDefinition[] = [];
  const server: ServerTools = {};
  for (const [i, tool] of (body.tools ?? []).entries()) {
    if ('input_schema' in tool && (tool.type === undefined || tool.type === null || tool.type === 'custom')) {
      out.push({ name: tool.name, ...(typeof tool.description === 'string' && { description: tool.description }), parameters: tool.input_schema as Record<string, unknown> });
    } else if (typeof tool.type === 'string' && tool.type.startsWith('web_search_')) {
      const maxUses = (tool as { max_uses?: number | null }).max_uses;
      server.webSearch = { name: tool.name, ...(typeof maxUses === 'number' && { maxUses }) };
    } else {
      throw invalid(`The server tool \`${tool.type}\` cannot run through Kiro; only web_search can. Remove it, or give it as a client tool with an input_schema.`, `tools.${i}`, 'unsupported_tool');
    }
  }
  return { tools: out, server };
}

function toolChoice(body: Body): { choice?: ToolChoice; parallel?: false } {
  const choice = body.tool_choice;
  if (!choice) return {};
  const parallel = choice.disable_parallel_tool_use === true ? { parallel: false as const } : {};
  if (choice.type === 'tool') {
    if (!body.tools?.some((t) => t.name === choice.name)) throw invalid(`tool_choice names the tool \`${choice.name}\`, which is not in tools.`, 'tool_choice.name');
    return { choice: { name: choice.name }, ...parallel };
  }
  return { choice: choice.type === 'any' ? 'required' : choice.type, ...parallel };
}

export interface AnthropicRequest {
  chat: ChatRequest;
  server: ServerTools;
}

/** A validated Anthropic request → the neutral request for `model`. */
export async function toChatRequest(body: Body, model: ModelInfo, loadImage: ImageLoader, session?: string): Promise<AnthropicRequest> {
  const { system, messages } = await toNeutralMessages(body, loadImage);
  const { tools: defined, server } = tools(body);
  const { choice, parallel } = toolChoice(body);
  const thinking = reasoning(body);
  const full = body as Partial<AnthropicCreateMessageRequest>;
  const stop = (full.stop_sequences ?? []).filter((s) => s.length > 0);
  return {
    chat: {
      upstreamModel: model.upstreamId,
      system,
      messages,
      ...(defined.length > 0 && { tools: defined }),
      ...(choice !== undefined && { toolChoice: choice }),
      ...(parallel === false && { parallelToolCalls: false }),
      ...(full.max_tokens !== undefined && { maxOutputTokens: full.max_tokens }),
      ...(stop.length > 0 && { stop }),
      ...(thinking && { reasoning: thinking }),
      ...(session !== undefined && { session }),
    },
    server,
  };
}

/**
 * The client's session, for a stable Kiro conversation and a sticky account: Claude Code's
 * `X-Claude-Code-Session-Id`, else the session in `metadata.user_id` — newer Claude Code writes
 * JSON there (`{"session_id":…}`), older builds `…_session_<uuid>`.
 */
export function sessionOf(header: string | string[] | undefined, body: Body): string | undefined {
  const id = Array.isArray(header) ? header[0] : header;
  if (id && SESSION.test(id)) return id;
  const userId = (body as { metadata?: { user_id?: string | null } }).metadata?.user_id;
  if (typeof userId !== 'string') return undefined;
  try {
    const parsed = JSON.parse(userId) as { session_id?: unknown };
    if (typeof parsed?.session_id === 'string' && SESSION.test(parsed.session_id)) return parsed.session_id;
  } catch {
    // Not JSON: the older form.
  }
  return /_session_([\w-]{8,})/.exec(userId)?.[1];
}

const SESSION = /^[\w.:-]{1,200}$/;
