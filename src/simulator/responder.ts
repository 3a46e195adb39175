import { randomBytes } from 'node:crypto';
import type { SimEvent } from './scenario.js';
import { wantsNativeThinking, type ThinkingSigner } from './thinking.js';

// The simulator's own answers (demo, and tests that need no script). They say plainly that they
// are simulated. With tools declared and no tool result yet, the "model" calls the first tool;
// once results arrive, it answers with text, so agent loops run end to end.

type Json = Record<string, unknown>;

function sampleValue(schema: Json | undefined): unknown {
  switch (schema?.type) {
    case 'string':
      return Array.isArray(schema.enum) && schema.enum.length > 0 ? schema.enum[0] : 'example';
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'array':
      return [sampleValue(schema.items as Json | undefined)];
    case 'object':
      return sampleObject(schema);
    default:
      return 'example';
  }
}

function sampleObject(schema: Json | undefined): Json {
  const properties = (schema?.properties ?? {}) as Record<string, Json>;
  const required = Array.isArray(schema?.required) ? (schema.required as string[]) : Object.keys(properties);
  return Object.fromEntries(required.filter((k) => k in properties).map((k) => [k, sampleValue(properties[k])]));
}

/** Cut `text` into n roughly equal string fragments (n ≥ 1). */
function fragments(text: string, n: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / n));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

const words = (text: string): string[] => text.match(/\S+\s*/g) ?? [text];

/** Where a request turned Kiro's thinking mode on, the model opens with a <thinking> block (§9). */
const wantsThinking = (body: unknown): boolean => JSON.stringify(body).includes('<thinking_mode>enabled</thinking_mode>');

function imageCount(body: unknown): number {
  const state = (body as Json)?.conversationState as Json | undefined;
  const current = ((state?.currentMessage as Json | undefined)?.userInputMessage ?? {}) as Json;
  return Array.isArray(current.images) ? current.images.length : 0;
}

/**
 * `[sim frames=200 delay=10]` in the user's message asks for an answer of exactly that many text
 * frames, that far apart (ms): how the benchmark shapes its load without a script per request.
 */
export function loadDirective(body: unknown): { frames: number; delayMs: number } | undefined {
  const state = (body as Json)?.conversationState as Json | undefined;
  const current = ((state?.currentMessage as Json | undefined)?.userInputMessage ?? {}) as Json;
  const match = /\[sim frames=(\d+)(?: delay=(\d+))?\]/.exec(typeof current.content === 'string' ? current.content : '');
  return match ? { frames: Number(match[1]), delayMs: Number(match[2] ?? 0) } : undefined;
}

/**
 * `[sim tool=Name input={…}]` in the user's message makes the "model" call that tool with that
 * input (when the request declares it and brings no tool result yet): how a test has a real
 * client — Claude Code, Codex — run one of its own tools.
 */
export function toolDirective(text: string): { name: string; input: string } | undefined {
  const match = /\[sim tool=([\w.-]+) input=(\{.*?\})\]/s.exec(text);
  return match ? { name: match[1]!, input: match[2]! } : undefined;
}

/** Thinking as a native-thinking model streams it: text, then its signature in two fragments. */
function nativeThinking(signer: ThinkingSigner | undefined, about: string): SimEvent[] {
  const text = `The user asked about ${about.slice(0, 60)}; this thinking is simulated.`;
  const signature = signer?.sign(text) ?? 'unsigned';
  const half = Math.floor(signature.length / 2);
  return [...words(text).map((chunk) => ({ reasoning: chunk })), { reasoningSignature: signature.slice(0, half) }, { reasoningSignature: signature.slice(half) }];
}

function sameJson(value: unknown, text: string): boolean {
  try {
    return JSON.stringify(value) === JSON.stringify(JSON.parse(text));
  } catch {
    return false;
  }
}

/** The tool uses of the conversation's earlier assistant turns. */
function historyCalls(state: Json | undefined): { name?: string; input?: unknown }[] {
  const history = (state?.history ?? []) as Json[];
  return history.flatMap((turn) => ((turn.assistantResponseMessage as Json | undefined)?.toolUses ?? []) as { name?: string; input?: unknown }[]);
}

export function simulatedAnswer(body: unknown, signer?: ThinkingSigner, followedDirectives?: Set<string>): SimEvent[] {
  const load = loadDirective(body);
  if (load) return [...Array.from({ length: load.frames }, (_, i) => ({ text: `tok${i} ` })), { metering: 0.01 }, { contextUsage: 1 }];
  const state = (body as Json)?.conversationState as Json | undefined;
  const current = ((state?.currentMessage as Json | undefined)?.userInputMessage ?? {}) as Json;
  const context = (current.userInputMessageContext ?? {}) as Json;
  const tools = (context.tools ?? []) as { toolSpecification: { name: string; inputSchema?: { json?: Json } } }[];
  const toolResults = (context.toolResults ?? []) as { content?: { text?: string }[] }[];
  const userText = typeof current.content === 'string' ? current.content : '';
  const tail = [{ metering: 0.0125 }, { contextUsage: 1.5 }];
  const thinking = wantsNativeThinking(body) ? nativeThinking(signer, userText || 'the tool results') : [];

  const directive = toolDirective(userText);
  // A directive is followed once per conversation, as a model that has made the call would not make it again —
  // even when the call has been compacted out of the history since.
  const key = directive && `${String(state?.conversationId)} ${directive.name} ${directive.input}`;
  const followed = directive !== undefined && (historyCalls(state).some((use) => use.name === directive.name && sameJson(use.input, directive.input)) || (key !== undefined && followedDirectives?.has(key) === true));
  if (tools.length > 0 && toolResults.length === 0 && !followed) {
    const chosen = (directive && tools.find((t) => t.toolSpecification.name === directive.name)) || tools[0]!;
    const tool = chosen.toolSpecification;
    const input = directive?.name === tool.name ? directive.input : JSON.stringify(sampleObject(tool.inputSchema?.json));
    const toolUseId = `tooluse_${randomBytes(8).toString('hex')}`;
    if (key && directive?.name === tool.name) followedDirectives?.add(key);
    return [
      ...thinking,
      { text: `(Simulated Kiro) Calling ${tool.name}.` },
      ...fragments(input, 3).map((fragment) => ({ toolUse: { name: tool.name, toolUseId, input: fragment } })),
      { toolUse: { name: tool.name, toolUseId, stop: true } },
      ...tail,
    ];
  }

  const results = toolResults.flatMap((r) => r.content ?? []).map((c) => c.text ?? '').join(' ');
  const quoted = (results || userText)
    .replace(/<thinking_mode>.*?<\/max_thinking_length>/s, '')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(-160);
  const images = imageCount(body);
  const answer =
    `This is a simulated answer from the ki2api Kiro simulator; no real model was called. ` +
    (images > 0 ? `I received ${images} image${images > 1 ? 's' : ''}. ` : '') +
    (results ? `I received the tool results: "${quoted}".` : `You said: "${quoted}".`);
  const tagged = wantsThinking(body) ? words('<thinking>\nThe user wants an answer; this thinking is simulated too.\n</thinking>\n\n') : [];
  return [...thinking, ...[...tagged, ...words(answer)].map((text) => ({ text })), ...tail];
}
