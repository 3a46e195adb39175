import { GatewayError } from '../chat/errors.js';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../chat/json-depth.js';
import type { ChatMessage, ChatRequest, ContentPart, PastReasoning, TextPart, ToolChoice } from '../chat/types.js';
import { thinkingPrompt } from './thinking.js';
import type { BodyLease } from '../buffers.js';
import { ToolNameMap } from './tool-names.js';
import type {
  KiroHistoryEntry,
  KiroImage,
  KiroModelRequestFields,
  KiroReasoningContent,
  KiroRequestBody,
  KiroTool,
  KiroToolResult,
  KiroToolUse,
  KiroUserInputMessage,
} from './wire.js';

// Neutral request → Kiro `conversationState` (kiro-protocol.md §3). Kiro answers any rule it
// dislikes with an opaque 400 "Improperly formed request", so each of its unwritten rules is one
// pure step here, and what cannot be repaired becomes a 400 that names the rule and the message.

export const EMPTY_HISTORY_TEXT = '(empty)';
export const CONTINUE_TEXT = 'Continue';
export const TOOL_RESULTS_TEXT = 'Tool results provided.';
export const OLD_IMAGE_TEXT = '[An image was shared here earlier in the conversation.]';
/** Kiro's hard limit is about 615 KB; stay clear of it (kiro-protocol.md §3.3). */
export const MAX_PAYLOAD_BYTES = 600_000;
export const MAX_TOOL_DESCRIPTION = 10_000;
/** History images older than this many history entries become a placeholder (§3.3). */
export const HISTORY_IMAGE_WINDOW = 5;

export interface UserTurn {
  role: 'user';
  text: string;
  images: KiroImage[];
  toolResults: KiroToolResult[];
  /** Client message indices this turn came from. */
  sources: number[];
}
export interface AssistantTurn {
  role: 'assistant';
  text: string;
  toolUses: KiroToolUse[];
  /** Signed (or redacted) thinking of this turn, replayed natively. */
  reasoning?: KiroReasoningContent;
  sources: number[];
}

/**
 * How earlier thinking goes back to Kiro: 'native' as signed reasoningContent (what a model with
 * native thinking needs to keep thinking after a tool call), 'tags' inline the way the prompt-tag
 * mode writes it (§3.2 rule 9), 'none' not at all.
 */
export type ThinkingReplay = 'native' | 'tags' | 'none';
export type Turn = UserTurn | AssistantTurn;

const joinText = (parts: readonly ContentPart[]): string =>
  parts
    .filter((p): p is TextPart => p.type === 'text')
    .map((p) => p.text)
    .join('\n');

const FORMATS: Record<string, KiroImage['format']> = { 'image/png': 'png', 'image/jpeg': 'jpeg', 'image/gif': 'gif', 'image/webp': 'webp' };

/**
 * Kiro takes tool inputs as objects, and rejects empty-string keys (§3.2 rule 8). Arguments
 * nested past MAX_JSON_DEPTH are a 400 naming `param`: no conversion could carry them.
 */
export function toolInput(json: string, param = 'tool_calls'): Record<string, unknown> {
  let value: unknown;
  try {
    value = json.trim() === '' ? {} : JSON.parse(json);
  } catch {
    return { raw_arguments: json };
  }
  if (nestedDeeperThan(value)) {
    throw new GatewayError('invalid_request', `The tool call's arguments nest objects or arrays more than ${MAX_JSON_DEPTH} levels deep.`, { param, code: 'too_deeply_nested' });
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { value };
  return Object.fromEntries(Object.entries(value).filter(([key]) => key !== ''));
}

const imagesOf = (parts: readonly ContentPart[]): KiroImage[] =>
  parts.flatMap((p) => (p.type === 'image' ? [{ format: FORMATS[p.mediaType] ?? 'png', source: { bytes: p.data } }] : []));

/** An assistant turn's earlier thinking, the way `replay` sends it: its reasoningContent, or its text prefix. */
function pastThinking(reasoning: readonly PastReasoning[] | undefined, replay: ThinkingReplay): { reasoning?: KiroReasoningContent; prefix: string } {
  if (!reasoning?.length || replay === 'none') return { prefix: '' };
  if (replay === 'tags') {
    const text = reasoning.map((r) => r.text).filter(Boolean).join('\n\n');
    return { prefix: text ? `<thinking>${text}</thinking>\n\n` : '' };
  }
  // Only what Kiro signed can go back as thinking: unsigned thinking would be refused.
  const signed = reasoning.find((r) => r.signature && r.text);
  if (signed) return { reasoning: { reasoningText: { text: signed.text, signature: signed.signature! } }, prefix: '' };
  const redacted = reasoning.find((r) => r.redacted);
  return redacted ? { reasoning: { redactedContent: redacted.redacted! }, prefix: '' } : { prefix: '' };
}

/** One turn per neutral message; tool messages become user turns that carry a tool result (and its images). */
export function toTurns(messages: readonly ChatMessage[], names: ToolNameMap = new ToolNameMap(), replay: ThinkingReplay = 'tags'): Turn[] {
  return messages.map((message, i): Turn => {
    const sources = [message.index ?? i];
    switch (message.role) {
      case 'user':
        return { role: 'user', text: joinText(message.content), images: imagesOf(message.content), toolResults: [], sources };
      case 'assistant': {
        const thinking = pastThinking(message.reasoning, replay);
        return {
          role: 'assistant',
          text: thinking.prefix + joinText(message.content),
          toolUses: (message.toolCalls ?? []).map((call, k) => ({
            toolUseId: call.id,
            name: names.toKiro(call.name),
            input: call.input ?? toolInput(call.arguments, `messages.${sources[0]}.tool_calls.${k}.function.arguments`),
          })),
          ...(thinking.reasoning && { reasoning: thinking.reasoning }),
          sources,
        };
      }
      case 'tool':
        return {
          role: 'user',
          text: '',
          images: imagesOf(message.content),
          toolResults: [{ toolUseId: message.toolCallId, content: [{ text: joinText(message.content) || EMPTY_HISTORY_TEXT }], status: message.isError ? 'error' : 'success' }],
          sources,
        };
    }
  });
}

const joinTexts = (a: string, b: string) => [a, b].filter((t) => t.length > 0).join('\n\n');

/**
 * Kiro rejects two turns of the same role in a row: merge them (§3.2 rule 2). A run of same-role
 * turns is gathered and joined once, so 100,000 one-letter messages take no longer than one of
 * 100,000 letters.
 */
export function mergeAdjacentTurns(turns: readonly Turn[]): Turn[] {
  const merged: Turn[] = [];
  for (let i = 0; i < turns.length; ) {
    let end = i + 1;
    while (end < turns.length && turns[end]!.role === turns[i]!.role) end++;
    merged.push(end === i + 1 ? turns[i]! : mergeRun(turns.slice(i, end)));
    i = end;
  }
  return merged;
}

function mergeRun(run: readonly Turn[]): Turn {
  const text = run.map((turn) => turn.text).filter((t) => t.length > 0).join('\n\n');
  const sources = run.flatMap((turn) => turn.sources);
  if (run[0]!.role === 'assistant') {
    const assistants = run as AssistantTurn[];
    const reasoning = assistants.find((turn) => turn.reasoning)?.reasoning;
    return { role: 'assistant', text, toolUses: assistants.flatMap((turn) => turn.toolUses), ...(reasoning && { reasoning }), sources };
  }
  const users = run as UserTurn[];
  return { role: 'user', text, images: users.flatMap((turn) => turn.images), toolResults: users.flatMap((turn) => turn.toolResults), sources };
}

/**
 * Tool uses and results must pair up exactly between an assistant turn and the next user turn
 * (§3.2 rule 6): duplicate ids are dropped, a result that answers nothing becomes plain text (so
 * its content is not lost), and a tool use that never got a result is removed.
 */
export function pairToolResults(turns: readonly Turn[]): Turn[] {
  const out = turns.map((t) => ({ ...t })) as Turn[];
  for (let i = 0; i < out.length; i++) {
    const turn = out[i]!;
    if (turn.role === 'assistant') {
      const seen = new Set<string>();
      turn.toolUses = turn.toolUses.filter((use) => !seen.has(use.toolUseId) && seen.add(use.toolUseId));
      continue;
    }
    const previous = out[i - 1];
    const open = new Set(previous?.role === 'assistant' ? previous.toolUses.map((u) => u.toolUseId) : []);
    const answered = new Set<string>();
    const orphans: string[] = [];
    turn.toolResults = turn.toolResults.filter((result) => {
      if (open.has(result.toolUseId) && !answered.has(result.toolUseId)) {
        answered.add(result.toolUseId);
        return true;
      }
      if (!answered.has(result.toolUseId)) orphans.push(`[Tool result for ${result.toolUseId}${result.status === 'error' ? ' (error)' : ''}]\n${result.content.map((c) => c.text).join('\n')}`);
      return false;
    });
    if (orphans.length > 0) turn.text = joinTexts(turn.text, orphans.join('\n\n'));
    if (previous?.role === 'assistant') previous.toolUses = previous.toolUses.filter((u) => answered.has(u.toolUseId));
  }
  // A last assistant turn's tool uses can have no answer at all.
  const last = out.at(-1);
  if (last?.role === 'assistant') last.toolUses = [];
  return out;
}

const emptyUser = (text: string): UserTurn => ({ role: 'user', text, images: [], toolResults: [], sources: [] });

/** History must start with a user turn (§3.2 rule 2). */
export function ensureStartsWithUser(turns: readonly Turn[]): Turn[] {
  return turns[0]?.role === 'user' ? [...turns] : [emptyUser(EMPTY_HISTORY_TEXT), ...turns];
}

/** The current message must be a user turn: a trailing assistant "prefill" moves to history (§3.2 rule 1). */
export function ensureEndsWithUser(turns: readonly Turn[]): Turn[] {
  return turns.at(-1)?.role === 'user' ? [...turns] : [...turns, emptyUser(CONTINUE_TEXT)];
}

/** Kiro has no system field: the instructions lead the first user turn (§3.2 rule 4). */
export function foldSystemPrompt(turns: readonly Turn[], instructions: readonly string[]): Turn[] {
  const text = instructions.filter((s) => s.trim().length > 0).join('\n\n');
  if (!text) return [...turns];
  const [first, ...rest] = turns;
  if (!first || first.role !== 'user') throw new Error('foldSystemPrompt needs turns that start with a user turn');
  return [{ ...first, text: first.text ? `${text}\n\n${first.text}` : text }, ...rest];
}

/** Only recent history keeps its image bytes; older images become a placeholder (§3.3). */
export function limitHistoryImages(turns: readonly Turn[], window = HISTORY_IMAGE_WINDOW): Turn[] {
  const historyLength = turns.length - 1;
  return turns.map((turn, i) => {
    if (turn.role !== 'user' || turn.images.length === 0 || i === turns.length - 1 || historyLength - i <= window) return turn;
    return { ...turn, images: [], text: joinTexts(turn.text, turn.images.map(() => OLD_IMAGE_TEXT).join('\n')) };
  });
}

/** Kiro rejects empty content anywhere (§3.2 rule 5). */
export function fillEmptyContent(turns: readonly Turn[]): Turn[] {
  return turns.map((turn, i) => {
    if (turn.text.trim().length > 0) return turn;
    if (turn.role === 'assistant') return { ...turn, text: turn.toolUses.length > 0 ? ' ' : EMPTY_HISTORY_TEXT };
    if (turn.toolResults.length > 0) return { ...turn, text: TOOL_RESULTS_TEXT };
    return { ...turn, text: i === turns.length - 1 ? CONTINUE_TEXT : EMPTY_HISTORY_TEXT };
  });
}

/** Drop what JSON-schema validators upstream choke on (§3.3), and make the top level an object schema. */
export function sanitizeSchema(schema: Record<string, unknown> | undefined): Record<string, unknown> {
  const clean = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(clean);
    if (!node || typeof node !== 'object') return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$schema' || key === '$id' || key === '$comment') continue;
      if (key === 'required' && Array.isArray(value) && value.length === 0) continue;
      out[key] = clean(value);
    }
    return out;
  };
  const result = (clean(schema ?? {}) ?? {}) as Record<string, unknown>;
  return { ...result, type: 'object', properties: (result.properties as Record<string, unknown> | undefined) ?? {} };
}

export interface ToolPlan {
  tools: KiroTool[] | undefined;
  /** Tool descriptions too long for a tool spec, moved into the instructions in full. */
  instructions: string[];
}

/**
 * The tool specs for the current message (§3.1, §3.3): names shortened, descriptions never empty,
 * an over-long description moved into the instructions (nothing is lost), schemas sanitized, and a
 * placeholder for every tool the history uses that the client no longer declares (§3.2 rule 7).
 */
export function planTools(request: ChatRequest, turns: readonly Turn[], names: ToolNameMap): ToolPlan {
  const instructions: string[] = [];
  // Every name first: the descriptions may mention any of them.
  const kiroNames = (request.tools ?? []).map((tool) => names.toKiro(tool.name));
  const tools: KiroTool[] = (request.tools ?? []).map((tool, i) => {
    const name = kiroNames[i]!;
    let description = names.rewriteText(tool.description?.trim() || `Tool: ${tool.name}`);
    if (description.length > MAX_TOOL_DESCRIPTION) {
      instructions.push(`## Tool: ${name}\n${description}`);
      description = `${description.slice(0, 400)}… (The full description of this tool is in the instructions under "## Tool: ${name}".)`;
    }
    return { toolSpecification: { name, description, inputSchema: { json: sanitizeSchema(tool.parameters) } } };
  });
  const declared = new Set(tools.map((t) => t.toolSpecification.name.toLowerCase()));
  for (const turn of turns) {
    if (turn.role !== 'assistant') continue;
    for (const use of turn.toolUses) {
      if (declared.has(use.name.toLowerCase())) continue;
      declared.add(use.name.toLowerCase());
      tools.push({
        toolSpecification: {
          name: use.name,
          description: 'A tool used earlier in this conversation. It is no longer available: do not call it.',
          inputSchema: { json: { type: 'object', properties: {} } },
        },
      });
    }
  }
  return { tools: tools.length > 0 ? tools : undefined, instructions };
}

/** Kiro has no tool_choice: the choice becomes an instruction (the model honours it, Kiro cannot enforce it). */
export function toolChoiceInstruction(choice: ToolChoice | undefined, names: ToolNameMap): string | undefined {
  if (choice === undefined || choice === 'auto') return undefined;
  if (choice === 'none') return 'Do not call any tool in this answer; reply with text only.';
  if (choice === 'required') return 'You must call at least one of the available tools in this answer.';
  return `You must call the tool \`${names.toKiro(choice.name)}\` in this answer.`;
}

export function responseFormatInstruction(request: ChatRequest): string | undefined {
  const format = request.responseFormat;
  if (!format) return undefined;
  const rule = 'Reply with a single valid JSON value and nothing else: no prose, no Markdown, no code fences.';
  if (format.type === 'json_object') return `${rule} The value must be a JSON object.`;
  return format.schema ? `${rule} It must conform to this JSON Schema (named "${format.name}"):\n${JSON.stringify(format.schema)}` : rule;
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
  const entry: KiroHistoryEntry = { assistantResponseMessage: { content: turn.text } };
  if (turn.toolUses.length > 0) entry.assistantResponseMessage.toolUses = turn.toolUses;
  if (turn.reasoning) entry.assistantResponseMessage.reasoningContent = turn.reasoning;
  return entry;
}

export interface KiroRequestOptions {
  conversationId: string;
  profileArn?: string;
  maxPayloadBytes?: number;
  /** How the model thinks (see ModelInfo.thinking); 'tags' when unsaid. */
  thinking?: 'native' | 'tags';
  /** false: send no earlier thinking at all (Kiro refused a signature; the retry goes without). */
  replayThinking?: boolean;
}

/** A thinking budget as the effort level native reasoning takes (kiro-protocol.md §9). */
export function effortFor(reasoning: NonNullable<ChatRequest['reasoning']>): NonNullable<KiroModelRequestFields['output_config']>['effort'] {
  if (reasoning.effort) return reasoning.effort;
  const budget = reasoning.budgetTokens;
  return budget <= 4000 ? 'low' : budget <= 12_000 ? 'medium' : budget <= 24_000 ? 'high' : 'max';
}

export interface BuiltKiroRequest {
  body: KiroRequestBody;
  /** Maps shortened tool names in Kiro's answer back to the client's names. */
  toolNames: ToolNameMap;
  /** Byte length of the JSON body. */
  bytes: number;
  /** The JSON body in pieces, each small (see jsonPieces); joined, they are JSON.stringify(body). */
  pieces: readonly string[];
  /** The JSON body as one string (joined when asked: the request path writes the pieces instead). */
  readonly json: string;
}

/**
 * JSON.stringify(value), as pieces that join to it: objects and arrays down to `depth` levels are
 * taken apart, deeper values are stringified whole. A long conversation as one string is a large
 * allocation — over 128 KB V8 takes fresh memory from the kernel for it, which cost more than the
 * stringifying — and it would be copied once more into the buffer that is sent. Its pieces (a
 * history entry each) are small, and are written into a reused buffer one by one.
 */
export function jsonPieces(value: unknown, depth = 3, out: string[] = []): string[] {
  if (depth === 0 || value === null || typeof value !== 'object') {
    out.push(JSON.stringify(value) ?? 'null');
    return out;
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, i) => {
      if (i > 0) out.push(',');
      jsonPieces(item, depth - 1, out);
    });
    out.push(']');
    return out;
  }
  out.push('{');
  let first = true;
  for (const [key, item] of Object.entries(value)) {
    if (item === undefined || typeof item === 'function') continue;
    out.push(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    jsonPieces(item, depth - 1, out);
  }
  out.push('}');
  return out;
}

/**
 * A built request. A class, not an object literal with a `json` getter: V8 keeps a literal's
 * accessors in the old generation, and what the getter's closure held (the request's pieces and
 * body) survived every scavenge — ~900 KB copied and promoted per scavenge with 115 KB Claude Code
 * requests, 1–2 ms and ~50 page faults per request.
 */
class Built implements BuiltKiroRequest {
  readonly bytes: number;
  readonly pieces: readonly string[];

  constructor(
    readonly body: KiroRequestBody,
    readonly toolNames: ToolNameMap,
  ) {
    this.pieces = jsonPieces(body);
    let bytes = 0;
    for (const piece of this.pieces) bytes += Buffer.byteLength(piece);
    this.bytes = bytes;
  }

  get json(): string {
    return this.pieces.join('');
  }
}

function assemble(turns: readonly Turn[], tools: KiroTool[] | undefined, request: ChatRequest, options: KiroRequestOptions): KiroRequestBody {
  const current = turns.at(-1) as UserTurn;
  const history = turns.slice(0, -1).map((turn) => toHistoryEntry(turn, request.upstreamModel));
  const body: KiroRequestBody = {
    conversationState: {
      chatTriggerType: 'MANUAL',
      conversationId: options.conversationId,
      agentTaskType: 'vibe',
      currentMessage: { userInputMessage: toUserInputMessage(current, request.upstreamModel, tools) },
    },
  };
  if (history.length > 0) body.conversationState.history = history;
  if (request.reasoning && options.thinking === 'native') {
    body.additionalModelRequestFields = { thinking: { type: 'adaptive', display: 'summarized' }, output_config: { effort: effortFor(request.reasoning) } };
  }
  if (options.profileArn) body.profileArn = options.profileArn;
  return body;
}

/** What replaces the body's closing brace to add the profile ARN (ASCII: a character is a byte). */
const arnTail = (profileArn: string) => `,"profileArn":${JSON.stringify(profileArn)}}`;

/** Writes the body's JSON into `target`, piece by piece; returns the bytes written. */
export function writeKiroBody(built: BuiltKiroRequest, target: Buffer): number {
  let at = 0;
  for (const piece of built.pieces) at += target.write(piece, at, 'utf8');
  return at;
}

/** Room kept after a pooled body for the profile ARN an account adds (an ARN is ~80 characters). */
const ARN_ROOM = 1024;

/**
 * A built body as it is sent: its JSON once, as bytes in a reused buffer (a large body) or as a
 * string (a small one), with what the answer needs — and not the body itself. A request keeps
 * this while Kiro is asked, so the body's objects and pieces are garbage the moment it is made,
 * before the garbage collector would copy them (a long conversation is ~1 MB of them).
 */
export interface KiroPayload {
  readonly toolNames: ToolNameMap;
  /** Whether the history replays earlier thinking (a refused signature is retried without). */
  readonly pastThinking: boolean;
  /** The UTF-8 length of the body as built (without an ARN it lacks). */
  readonly bytes: number;
  /** Whether release() gave a reused buffer back: the bytes are gone, and a retry builds again. */
  readonly released: boolean;
  /** The body to send, with `profileArn` added unless it has one (undefined: as built). */
  body(profileArn: string | undefined): Buffer | string;
  /** Gives a reused buffer back (a string stays); call once nothing refers to what body() returned. */
  release(): void;
}

/** The built body as sent (see KiroPayload); `take` lends the reused buffer of a large body. */
export function toKiroPayload(built: BuiltKiroRequest, take: ((bytes: number) => BodyLease) | undefined): KiroPayload {
  const { toolNames, bytes } = built;
  const pastThinking = (built.body.conversationState.history ?? []).some((entry) => 'assistantResponseMessage' in entry && entry.assistantResponseMessage.reasoningContent !== undefined);
  const hasArn = built.body.profileArn !== undefined;
  if (!take) {
    const json = built.json;
    return { toolNames, pastThinking, bytes, released: false, body: (arn) => (arn === undefined || hasArn ? json : `${json.slice(0, -1)}${arnTail(arn)}`), release: () => undefined };
  }
  const lease = take(bytes + ARN_ROOM);
  writeKiroBody(built, lease.bytes);
  const payload: KiroPayload = {
    toolNames,
    pastThinking,
    bytes,
    released: false,
    body(arn) {
      if (payload.released) throw new Error('a released Kiro payload was sent');
      if (arn === undefined || hasArn) return lease.bytes.subarray(0, bytes);
      const tail = arnTail(arn);
      // An ARN too long for the room (never a real one) goes as a string.
      if (tail.length > ARN_ROOM) return `${lease.bytes.toString('utf8', 0, bytes - 1)}${tail}`;
      return lease.bytes.subarray(0, bytes - 1 + lease.bytes.write(tail, bytes - 1, 'latin1'));
    },
    release() {
      (payload as { released: boolean }).released = true;
      lease.release();
    },
  };
  return payload;
}

const turnBytes = (turn: Turn): number => Buffer.byteLength(JSON.stringify(turn));

/** The largest turn and its size, each measured once. */
function largestTurn(turns: readonly Turn[]): { turn: Turn; bytes: number } {
  let largest = { turn: turns[0]!, bytes: -1 };
  for (const turn of turns) {
    const bytes = turnBytes(turn);
    if (bytes > largest.bytes) largest = { turn, bytes };
  }
  return largest;
}

/** Every rule applied, in order; the result is a body Kiro's validator accepts. */
export function buildKiroRequest(request: ChatRequest, options: KiroRequestOptions): BuiltKiroRequest {
  const names = new ToolNameMap();
  const native = options.thinking === 'native';
  const replay: ThinkingReplay = options.replayThinking === false ? 'none' : native ? 'native' : 'tags';
  let turns = pairToolResults(mergeAdjacentTurns(toTurns(request.messages, names, replay)));
  turns = ensureEndsWithUser(ensureStartsWithUser(turns));
  const plan = planTools(request, turns, names);
  const instructions = [
    // Models without native thinking are asked to think in tags (kiro-protocol.md §9).
    ...(request.reasoning && !native ? [thinkingPrompt(request.reasoning.budgetTokens)] : []),
    ...request.system.map((s) => names.rewriteText(s)),
    ...plan.instructions,
    toolChoiceInstruction(request.toolChoice, names),
    request.parallelToolCalls === false && request.tools?.length ? 'Call at most one tool per answer.' : undefined,
    responseFormatInstruction(request),
  ].filter((s): s is string => s !== undefined);
  turns = fillEmptyContent(limitHistoryImages(foldSystemPrompt(turns, instructions)));

  const limit = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  let result = new Built(assemble(turns, plan.tools, request, options), names);
  if (result.bytes > limit) {
    // Old images are the one thing that can go without losing the conversation.
    turns = limitHistoryImages(turns, 0);
    result = new Built(assemble(turns, plan.tools, request, options), names);
  }
  const bytes = result.bytes;
  if (bytes > limit) {
    const largest = largestTurn(turns);
    const index = largest.turn.sources.at(-1);
    throw new GatewayError(
      'context_length',
      `The request is ${bytes} bytes once converted for Kiro, over Kiro's request-size limit of about ${limit} bytes (rule: payload size). ` +
        `The largest part is ${index === undefined ? 'the instructions' : `messages[${index}]`} (${largest.bytes} bytes): shorten it, or compact the conversation.`,
      { code: 'request_too_large_for_kiro', param: index === undefined ? 'messages' : `messages.${index}` },
    );
  }
  return result;
}

/**
 * All the text the model reads from a request (for prompt-token counting), without JSON overhead,
 * in parts: a conversation resends the same parts turn after turn, so each is counted once.
 */
export function kiroPromptParts(body: KiroRequestBody): string[] {
  const parts: string[] = [];
  const user = (m: KiroUserInputMessage) => {
    parts.push(m.content);
    for (const result of m.userInputMessageContext?.toolResults ?? []) for (const c of result.content) parts.push(c.text);
    // A tool's description as it is (the client's string, which the count cache knows from the last
    // turn), not inside its spec's JSON: that made ~100 KB of new strings per Claude Code request.
    for (const { toolSpecification: spec } of m.userInputMessageContext?.tools ?? []) parts.push(spec.name, spec.description, JSON.stringify(spec.inputSchema.json));
  };
  for (const entry of body.conversationState.history ?? []) {
    if ('userInputMessage' in entry) user(entry.userInputMessage);
    else {
      parts.push(entry.assistantResponseMessage.content);
      const reasoning = entry.assistantResponseMessage.reasoningContent;
      if (reasoning && 'reasoningText' in reasoning) parts.push(reasoning.reasoningText.text);
      for (const use of entry.assistantResponseMessage.toolUses ?? []) parts.push(use.name, JSON.stringify(use.input));
    }
  }
  user(body.conversationState.currentMessage.userInputMessage);
  return parts;
}
