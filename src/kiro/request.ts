import type { ChatMessage, ChatRequest, ContentPart, TextPart } from '../chat/types.js';
import type {
  KiroHistoryEntry,
  KiroImage,
  KiroRequestBody,
  KiroTool,
  KiroToolResult,
  KiroToolUse,
  KiroUserInputMessage,
} from './wire.js';

// Neutral request → Kiro `conversationState` (kiro-protocol.md §3). Each step is a pure function
// over a list of turns, so each of Kiro's unwritten rules lives in exactly one place.

export const EMPTY_HISTORY_TEXT = '(empty)';
export const CONTINUE_TEXT = 'Continue';
export const TOOL_RESULTS_TEXT = 'Tool results provided.';

export interface UserTurn {
  role: 'user';
  text: string;
  images: KiroImage[];
  toolResults: KiroToolResult[];
}
export interface AssistantTurn {
  role: 'assistant';
  text: string;
  toolUses: KiroToolUse[];
}
export type Turn = UserTurn | AssistantTurn;

const joinText = (parts: readonly ContentPart[]): string =>
  parts
    .filter((p): p is TextPart => p.type === 'text')
    .map((p) => p.text)
    .join('\n');

const IMAGE_FORMATS: Record<string, KiroImage['format']> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

function parseToolInput(json: string): Record<string, unknown> {
  if (json.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(json);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    // Kiro needs an object; keep the client's text rather than lose it.
    return { raw_arguments: json };
  }
}

/** One turn per neutral message; tool messages become user turns that carry a tool result. */
export function toTurns(messages: readonly ChatMessage[]): Turn[] {
  return messages.map((message): Turn => {
    switch (message.role) {
      case 'user':
        return {
          role: 'user',
          text: joinText(message.content),
          images: message.content.flatMap((p) =>
            p.type === 'image' ? [{ format: IMAGE_FORMATS[p.mediaType] ?? 'png', source: { bytes: p.data } }] : [],
          ),
          toolResults: [],
        };
      case 'assistant':
        return {
          role: 'assistant',
          text: joinText(message.content),
          toolUses: (message.toolCalls ?? []).map((call) => ({
            toolUseId: call.id,
            name: call.name,
            input: parseToolInput(call.arguments),
          })),
        };
      case 'tool':
        return {
          role: 'user',
          text: '',
          images: [],
          toolResults: [
            {
              toolUseId: message.toolCallId,
              content: [{ text: joinText(message.content) || EMPTY_HISTORY_TEXT }],
              status: message.isError ? 'error' : 'success',
            },
          ],
        };
    }
  });
}

/** Kiro rejects two turns of the same role in a row: merge them (texts joined by a blank line). */
export function mergeAdjacentTurns(turns: readonly Turn[]): Turn[] {
  const merged: Turn[] = [];
  for (const turn of turns) {
    const last = merged.at(-1);
    if (last && last.role === turn.role) {
      const text = [last.text, turn.text].filter((t) => t.length > 0).join('\n\n');
      if (last.role === 'user' && turn.role === 'user') {
        merged[merged.length - 1] = {
          role: 'user',
          text,
          images: [...last.images, ...turn.images],
          toolResults: [...last.toolResults, ...turn.toolResults],
        };
      } else if (last.role === 'assistant' && turn.role === 'assistant') {
        merged[merged.length - 1] = { role: 'assistant', text, toolUses: [...last.toolUses, ...turn.toolUses] };
      }
    } else {
      merged.push(turn);
    }
  }
  return merged;
}

/** History must start with a user turn. */
export function ensureStartsWithUser(turns: readonly Turn[]): Turn[] {
  if (turns[0]?.role === 'user') return [...turns];
  return [{ role: 'user', text: EMPTY_HISTORY_TEXT, images: [], toolResults: [] }, ...turns];
}

/**
 * The current message must be a user turn. A trailing assistant turn (a "prefill") moves into
 * history and the current message asks the model to continue.
 */
export function ensureEndsWithUser(turns: readonly Turn[]): Turn[] {
  if (turns.at(-1)?.role === 'user') return [...turns];
  return [...turns, { role: 'user', text: CONTINUE_TEXT, images: [], toolResults: [] }];
}

/** Kiro has no system field: the instructions lead the first user turn. */
export function foldSystemPrompt(turns: readonly Turn[], system: readonly string[]): Turn[] {
  const instructions = system.filter((s) => s.trim().length > 0).join('\n\n');
  if (!instructions) return [...turns];
  const [first, ...rest] = turns;
  if (!first || first.role !== 'user') throw new Error('foldSystemPrompt needs turns that start with a user turn');
  return [{ ...first, text: first.text ? `${instructions}\n\n${first.text}` : instructions }, ...rest];
}

/** Kiro rejects empty content anywhere. */
export function fillEmptyContent(turns: readonly Turn[]): Turn[] {
  return turns.map((turn, i) => {
    if (turn.text.trim().length > 0) return turn;
    const isCurrent = i === turns.length - 1;
    if (turn.role === 'assistant') return { ...turn, text: turn.toolUses.length > 0 ? ' ' : EMPTY_HISTORY_TEXT };
    if (turn.toolResults.length > 0) return { ...turn, text: TOOL_RESULTS_TEXT };
    return { ...turn, text: isCurrent ? CONTINUE_TEXT : EMPTY_HISTORY_TEXT };
  });
}

function toUserInputMessage(turn: UserTurn, modelId: string, tools: KiroTool[] | undefined): KiroUserInputMessage {
  const message: KiroUserInputMessage = { content: turn.text, modelId, origin: 'AI_EDITOR' };
  if (turn.images.length > 0) message.images = turn.images;
  if (turn.toolResults.length > 0 || tools) {
    message.userInputMessageContext = {};
    if (tools) message.userInputMessageContext.tools = tools;
    if (turn.toolResults.length > 0) message.userInputMessageContext.toolResults = turn.toolResults;
  }
  return message;
}

function toHistoryEntry(turn: Turn, modelId: string): KiroHistoryEntry {
  if (turn.role === 'user') return { userInputMessage: toUserInputMessage(turn, modelId, undefined) };
  const message: KiroHistoryEntry = { assistantResponseMessage: { content: turn.text } };
  if (turn.toolUses.length > 0) message.assistantResponseMessage.toolUses = turn.toolUses;
  return message;
}

export function toKiroTools(request: ChatRequest): KiroTool[] | undefined {
  if (!request.tools || request.tools.length === 0) return undefined;
  return request.tools.map((tool) => ({
    toolSpecification: {
      name: tool.name,
      description: tool.description?.trim() || `Tool: ${tool.name}`,
      inputSchema: { json: tool.parameters ?? { type: 'object', properties: {} } },
    },
  }));
}

/** The Kiro turns for a request, every rule applied, current message last. */
export function normaliseTurns(request: ChatRequest): Turn[] {
  let turns = mergeAdjacentTurns(toTurns(request.messages));
  turns = ensureStartsWithUser(turns);
  turns = ensureEndsWithUser(turns);
  turns = foldSystemPrompt(turns, request.system);
  return fillEmptyContent(turns);
}

export interface KiroRequestOptions {
  conversationId: string;
  profileArn?: string;
}

export function buildKiroRequest(request: ChatRequest, options: KiroRequestOptions): KiroRequestBody {
  const turns = normaliseTurns(request);
  const current = turns.at(-1) as UserTurn;
  const history = turns.slice(0, -1).map((turn) => toHistoryEntry(turn, request.upstreamModel));
  const body: KiroRequestBody = {
    conversationState: {
      chatTriggerType: 'MANUAL',
      conversationId: options.conversationId,
      agentTaskType: 'vibe',
      currentMessage: { userInputMessage: toUserInputMessage(current, request.upstreamModel, toKiroTools(request)) },
    },
  };
  if (history.length > 0) body.conversationState.history = history;
  if (options.profileArn) body.profileArn = options.profileArn;
  return body;
}

/** All the text the model reads from a request (for prompt-token counting), without JSON overhead. */
export function kiroPromptText(body: KiroRequestBody): string {
  const parts: string[] = [];
  const user = (m: KiroUserInputMessage) => {
    parts.push(m.content);
    for (const result of m.userInputMessageContext?.toolResults ?? []) for (const c of result.content) parts.push(c.text);
    for (const tool of m.userInputMessageContext?.tools ?? []) parts.push(JSON.stringify(tool.toolSpecification));
  };
  for (const entry of body.conversationState.history ?? []) {
    if ('userInputMessage' in entry) user(entry.userInputMessage);
    else {
      parts.push(entry.assistantResponseMessage.content);
      for (const use of entry.assistantResponseMessage.toolUses ?? []) parts.push(use.name, JSON.stringify(use.input));
    }
  }
  user(body.conversationState.currentMessage.userInputMessage);
  return parts.join('\n');
}
