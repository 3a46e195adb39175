import { randomUUID } from 'node:crypto';
import type { ResponsesCreateRequest } from '../../../contract/index.js';
import { GatewayError } from '../../chat/errors.js';
import { imageFromDataUri, type ImageLoader } from '../../chat/images.js';
import type { ChatMessage, ChatRequest, ContentPart, ModelInfo, PastReasoning, ReasoningEffort, TextPart, ToolChoice, ToolDefinition } from '../../chat/types.js';
import { openCompaction, openReasoning } from './sealed.js';
import type { Item } from './store.js';

// Responses input → the neutral request. Items are resolved first (item references, a previous
// response's items), then folded into turns: a reasoning item belongs to the assistant turn after
// it, function and custom tool calls are that turn's tool calls, their outputs tool results.

const invalid = (message: string, param: string, code = 'invalid_value') => new GatewayError('invalid_request', message, { param, code });

/** Parameters Kiro has no equivalent for: accepted, ignored, and named in a response header. */
export const IGNORED_PARAMETERS = ['temperature', 'top_p', 'service_tier', 'truncation', 'top_logprobs', 'safety_identifier', 'prompt_cache_retention', 'user'] as const;

export function ignoredParameters(body: Record<string, unknown>): string[] {
  return IGNORED_PARAMETERS.filter((name) => body[name] !== undefined && body[name] !== null);
}

export const newItemId = (prefix: string): string => `${prefix}_${randomUUID().replaceAll('-', '')}`;

/** The input as items, a string being one user message. */
export function inputItems(input: ResponsesCreateRequest['input']): Item[] {
  if (input === undefined) return [];
  if (typeof input === 'string') return [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: input }] }];
  return input.map((item) => ({ ...(item as Item), type: (item as { type?: string }).type ?? 'message' }));
}

/**
 * Every item_reference replaced by the item it names (a stored one of this client), and every
 * item given an id — what is stored and listed as the response's input.
 */
export async function resolveItems(items: readonly Item[], lookup: (id: string) => Promise<Item | undefined>): Promise<Item[]> {
  const out: Item[] = [];
  for (const [i, item] of items.entries()) {
    if (item.type === 'item_reference') {
      const found = await lookup(String(item.id));
      if (!found) throw invalid(`Item \`${String(item.id)}\` was not found: it was never stored (store: false), has expired (RESPONSES_TTL_SECONDS), or belongs to another key.`, `input.${i}.id`, 'item_not_found');
      out.push(found);
    } else {
      out.push(item.id ? item : { ...item, id: newItemId(item.type === 'message' ? 'msg' : 'item') });
    }
  }
  return out;
}

/** Budgets for OpenAI's reasoning efforts (Kiro's tag mode takes 1024–24576). */
const EFFORT_BUDGET: Record<string, { budget: number; effort: ReasoningEffort }> = {
  minimal: { budget: 1024, effort: 'low' },
  low: { budget: 4000, effort: 'low' },
  medium: { budget: 10_000, effort: 'medium' },
  high: { budget: 20_000, effort: 'high' },
  xhigh: { budget: 24_576, effort: 'max' },
};

type Part = { type: string; text?: string; refusal?: string; image_url?: string | null; file_id?: string | null };

async function parts(content: unknown, param: string, loadImage: ImageLoader): Promise<ContentPart[]> {
  if (typeof content === 'string') return content ? [{ type: 'text', text: content }] : [];
  const out: ContentPart[] = [];
  for (const [j, part] of ((content ?? []) as Part[]).entries()) {
    const where = `${param}.${j}`;
    if (part.type === 'input_text' || part.type === 'output_text') {
      if (part.text) out.push({ type: 'text', text: part.text });
    } else if (part.type === 'refusal') {
      if (part.refusal) out.push({ type: 'text', text: part.refusal });
    } else if (part.type === 'input_image') {
      const url = part.image_url ?? '';
      if (url.startsWith('data:')) out.push({ type: 'image', ...imageFromDataUri(url, `${where}.image_url`) });
      else if (/^https?:\/\//i.test(url)) out.push({ type: 'image', ...(await loadImage(url, `${where}.image_url`)) });
      else throw invalid('An input_image must carry an image_url: a data URL or an http(s) URL (file ids cannot reach Kiro).', where, 'invalid_image_url');
    } else if (part.type === 'input_file') {
      throw invalid('Files cannot reach Kiro: send their text as input_text.', where, 'unsupported_file');
    }
  }
  return out;
}

const textOnly = (content: ContentPart[]): TextPart[] => content.filter((p): p is TextPart => p.type === 'text');

/** What the model reads of an item the gateway cannot take as such (a web search call, a local shell call). */
function itemText(item: Item): string | undefined {
  if (item.type === 'web_search_call') return `[Searched the web for: ${JSON.stringify((item.action as { query?: unknown } | undefined)?.query ?? '')}]`;
  if (item.type === 'local_shell_call') return `[Ran: ${JSON.stringify((item.action as { command?: unknown } | undefined)?.command ?? '')}]`;
  return undefined;
}

/** The name Kiro knows a past call's tool by. */
const callName = (item: Item): string => (typeof item.namespace === 'string' && item.namespace ? namespacedName(item.namespace, String(item.name)) : String(item.name));

/** Input items → neutral system and messages. */
async function toNeutralMessages(items: readonly Item[], instructions: string | null | undefined, loadImage: ImageLoader): Promise<{ system: string[]; messages: ChatMessage[] }> {
  const system: string[] = instructions ? [instructions] : [];
  const messages: ChatMessage[] = [];
  let reasoning: PastReasoning[] = [];
  const assistant = (index: number): Extract<ChatMessage, { role: 'assistant' }> => {
    const last = messages.at(-1);
    // Calls right after the assistant's message (or each other) are that same turn.
    if (last?.role === 'assistant' && reasoning.length === 0) return last;
    const turn: Extract<ChatMessage, { role: 'assistant' }> = { index, role: 'assistant', content: [], ...(reasoning.length > 0 && { reasoning }) };
    reasoning = [];
    messages.push(turn);
    return turn;
  };
  for (const [index, item] of items.entries()) {
    const param = `input.${index}`;
    switch (item.type) {
      case 'message': {
        const role = item.role as string;
        const content = await parts(item.content, `${param}.content`, loadImage);
        if (role === 'system' || role === 'developer') {
          const text = textOnly(content).map((p) => p.text).join('\n');
          if (messages.length === 0) system.push(text);
          else if (text) messages.push({ index, role: 'user', content: [{ type: 'text', text: `[${role} instructions]\n${text}` }] });
        } else if (role === 'assistant') {
          assistant(index).content.push(...textOnly(content));
        } else {
          messages.push({ index, role: 'user', content });
        }
        break;
      }
      case 'reasoning': {
        // The gateway's own sealed thinking replays signed; anyone else's is its summary, unsigned.
        const sealed = openReasoning(item.encrypted_content as string | undefined);
        const summary = ((item.summary ?? []) as { text?: string }[]).map((s) => s.text ?? '').join('\n');
        if (sealed) reasoning.push(sealed);
        else if (summary) reasoning.push({ text: summary });
        break;
      }
      case 'function_call':
        (assistant(index).toolCalls ??= []).push({ id: String(item.call_id), name: callName(item), arguments: String(item.arguments ?? '') });
        break;
      case 'custom_tool_call':
        (assistant(index).toolCalls ??= []).push({ id: String(item.call_id), name: callName(item), arguments: '', input: { input: String(item.input ?? '') } });
        break;
      case 'function_call_output':
      case 'custom_tool_call_output':
        messages.push({ index, role: 'tool', toolCallId: String(item.call_id), content: await parts(item.output, `${param}.output`, loadImage) });
        break;
      case 'compaction': {
        const summary = openCompaction(item.encrypted_content as string | undefined);
        if (summary === undefined) throw invalid('This compaction item was not made by this gateway: its summary cannot be read.', param, 'invalid_compaction');
        messages.push({ index, role: 'user', content: [{ type: 'text', text: `[Summary of the conversation so far]\n${summary}` }] });
        break;
      }
      default: {
        const text = itemText(item);
        if (text) assistant(index).content.push({ type: 'text', text });
      }
    }
  }
  return { system, messages };
}

/** Hosted tools Kiro cannot run. */
const HOSTED = /^(file_search|code_interpreter|computer_use|computer|image_generation|mcp|local_shell|shell|apply_patch|tool_search)/;

type ToolParam = { type: string; name?: string; description?: string | null; parameters?: Record<string, unknown> | null; format?: { type: string; syntax?: string; definition?: string } | null; tools?: ToolParam[] };

/** A namespaced tool's name as Kiro sees it (Kiro's names are flat: letters, digits, `_`, `-`). */
export const namespacedName = (namespace: string, name: string): string => `${namespace}__${name}`;

/** The tools Kiro is given, and what the answer's calls need to be told apart. */
export interface ToolPlan {
  tools: ToolDefinition[];
  /** Freeform tools (by Kiro name): their calls are custom_tool_call items with a string input. */
  custom: Set<string>;
  /** Kiro name → the namespace and name the client gave (Codex's multi_agent_v1 tools). */
  namespaced: Map<string, { namespace: string; name: string }>;
  webSearch?: { name: string };
}

function declare(plan: ToolPlan, t: ToolParam, name: string, where: string, context = ''): void {
  if (t.type === 'function') {
    const description = `${context}${t.description ?? ''}`;
    plan.tools.push({ name, ...(description && { description }), ...(t.parameters && { parameters: t.parameters }) });
  } else if (t.type === 'custom') {
    plan.custom.add(name);
    const grammar = t.format?.type === 'grammar' && t.format.definition ? `\n\nThe input must follow this ${t.format.syntax ?? ''} grammar:\n${t.format.definition}` : '';
    plan.tools.push({
      name,
      description: `${context}${t.description ?? `Tool: ${t.name}`}${grammar}\n\nGive the whole raw input as the one string \`input\` (not wrapped in JSON of its own).`,
      parameters: { type: 'object', properties: { input: { type: 'string', description: 'The raw input of the tool.' } }, required: ['input'] },
    });
  } else {
    throw invalid(`A namespace holds function and custom tools only, not \`${t.type}\`.`, `${where}.type`, 'unsupported_tool');
  }
}

function tools(body: ResponsesCreateRequest): ToolPlan {
  const plan: ToolPlan = { tools: [], custom: new Set(), namespaced: new Map() };
  for (const [i, tool] of (body.tools ?? []).entries()) {
    const t = tool as ToolParam;
    if (t.type === 'function' || t.type === 'custom') {
      declare(plan, t, t.name!, `tools.${i}`);
    } else if (t.type === 'namespace') {
      const namespace = t.name ?? '';
      if (!namespace || !Array.isArray(t.tools)) throw invalid('A namespace tool needs a name and a list of tools.', `tools.${i}`, 'invalid_value');
      // The namespace's description goes with each of its tools: Kiro has no groups.
      const context = t.description ? `[${namespace}: ${t.description}]\n` : '';
      for (const [j, inner] of t.tools.entries()) {
        const name = namespacedName(namespace, inner.name ?? '');
        plan.namespaced.set(name, { namespace, name: inner.name ?? '' });
        declare(plan, inner, name, `tools.${i}.tools.${j}`, context);
      }
    } else if (t.type.startsWith('web_search')) {
      // Kiro's search is always live: external_web_access (OpenAI's cached-only mode) cannot be honoured, and is not needed to.
      plan.webSearch = { name: 'web_search' };
    } else if (HOSTED.test(t.type)) {
      throw invalid(`The hosted tool \`${t.type}\` cannot run through Kiro; only web_search can. Remove it, or give it as a function tool.`, `tools.${i}`, 'unsupported_tool');
    } else {
      throw invalid(`Unknown tool type \`${t.type}\`.`, `tools.${i}.type`, 'unsupported_tool');
    }
  }
  return plan;
}

function toolChoice(choice: ResponsesCreateRequest['tool_choice'], defined: readonly ToolDefinition[]): ToolChoice | undefined {
  if (choice == null) return undefined;
  if (typeof choice === 'string') return choice;
  if ((choice.type === 'function' || choice.type === 'custom') && choice.name) {
    const name = typeof choice.namespace === 'string' ? namespacedName(choice.namespace, choice.name) : choice.name;
    if (!defined.some((t) => t.name === name)) throw invalid(`tool_choice names the tool \`${choice.name}\`, which is not in tools.`, 'tool_choice.name');
    return { name };
  }
  return 'auto';
}

export interface ResponsesRequest extends Omit<ToolPlan, 'tools'> {
  chat: ChatRequest;
  /** The last input item asked for a compaction instead of an answer. */
  compaction: boolean;
}

/** Resolved input items (see resolveItems) + the request → the neutral request for `model`. */
export async function toChatRequest(body: ResponsesCreateRequest, items: Item[], model: ModelInfo, loadImage: ImageLoader, session?: string): Promise<ResponsesRequest> {
  if (body.background) throw invalid('background responses are not supported: Kiro answers while the connection is open. Leave background unset.', 'background', 'unsupported_parameter');
  const compaction = items.at(-1)?.type === 'compaction_trigger';
  const { system, messages } = await toNeutralMessages(compaction ? items.slice(0, -1) : items, body.instructions, loadImage);
  const { tools: defined, ...calls } = tools(body);
  const choice = toolChoice(body.tool_choice, defined);
  const effort = body.reasoning?.effort ? EFFORT_BUDGET[body.reasoning.effort] : undefined;
  const format = body.text?.format;
  return {
    chat: {
      upstreamModel: model.upstreamId,
      system,
      messages,
      ...(defined.length > 0 && { tools: defined }),
      ...(choice !== undefined && { toolChoice: choice }),
      ...(body.parallel_tool_calls === false && { parallelToolCalls: false }),
      ...(body.max_output_tokens != null && { maxOutputTokens: body.max_output_tokens }),
      ...(effort && { reasoning: { budgetTokens: effort.budget, effort: effort.effort } }),
      ...(format?.type === 'json_object' && { responseFormat: { type: 'json_object' as const } }),
      ...(format?.type === 'json_schema' && { responseFormat: { type: 'json_schema' as const, name: format.name ?? 'response', ...(format.schema && { schema: format.schema }) } }),
      ...(session !== undefined && { session }),
    },
    ...calls,
    compaction,
  };
}
