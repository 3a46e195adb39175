import type { RequestTrace } from './trace.js';

// The neutral chat model: what a surface (OpenAI today, Anthropic later) hands to an upstream,
// and what the upstream streams back. No surface and no upstream wire format leaks in here.

export type TextPart = { type: 'text'; text: string };
/** `data` is base64 without a `data:` prefix; `mediaType` is e.g. `image/png`. */
export type ImagePart = { type: 'image'; mediaType: string; data: string };
export type ContentPart = TextPart | ImagePart;

export interface ToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments, as the client sent it. */
  arguments: string;
}

/** `index` is the message's position in the client's request, for error messages. */
export type ChatMessage = { index?: number } & (
  | { role: 'user'; content: ContentPart[] }
  | { role: 'assistant'; content: TextPart[]; toolCalls?: ToolCall[]; reasoning?: string }
  | { role: 'tool'; toolCallId: string; content: TextPart[]; isError?: boolean }
);

export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON Schema of the arguments. */
  parameters?: Record<string, unknown>;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat = { type: 'json_object' } | { type: 'json_schema'; name: string; schema?: Record<string, unknown> };

export interface ChatRequest {
  /** The upstream's own id of the resolved model. */
  upstreamModel: string;
  /** System and developer instructions, in order. */
  system: string[];
  messages: ChatMessage[];
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  maxOutputTokens?: number;
  /** Stop sequences: the answer ends before the first one. */
  stop?: string[];
  /** Thinking on, with this budget of thinking tokens. */
  reasoning?: { budgetTokens: number };
  responseFormat?: ResponseFormat;
  /** false: the client wants at most one tool call per answer. */
  parallelToolCalls?: boolean;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
}

/** What an upstream streams back. Tool-call `index` counts 0, 1, … within one answer. */
export type ChatEvent =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'tool_call_start'; index: number; id: string; name: string }
  | { type: 'tool_call_delta'; index: number; argumentsDelta: string }
  | { type: 'tool_call_end'; index: number }
  | { type: 'finish'; reason: FinishReason; usage: Usage };

/** Events that arrived together (one upstream network read); passed on as one unit, at once. */
export type EventBatch = readonly ChatEvent[];

/** Facts about a model that a surface may publish. */
export interface ModelInfo {
  id: string;
  upstreamId: string;
  /** Unix seconds. */
  created: number;
  ownedBy: string;
  contextWindow: number;
  /** Other names that select this model. */
  aliases: string[];
}

/** One upstream login, as /health shows it: a fingerprint, never a secret. */
export interface AccountStatus {
  fingerprint: string;
  source: string;
  authMethod: 'social' | 'idc' | null;
  state: 'healthy' | 'cooling_down' | 'dead' | 'unusable';
  expiresAt: string | null;
  cooldownUntil: string | null;
  problem: string | null;
  fix: string | null;
}

export interface CredentialStatus {
  found: boolean;
  usable: boolean;
  source: string | null;
  authMethod: string | null;
  expiresAt: string | null;
  problem: string | null;
  fix: string | null;
}

/**
 * A chat upstream. `stream` resolves once the upstream has started its answer, so failures before
 * that can still be retried or become a plain HTTP error; failures later are thrown from the
 * iterator. Events come in batches, one per upstream read, each passed on as soon as it arrives.
 * Aborting `signal` must release the upstream connection at once.
 */
export interface ChatUpstream {
  readonly name: string;
  readonly models: readonly ModelInfo[];
  stream(request: ChatRequest, signal: AbortSignal, trace?: RequestTrace): Promise<AsyncIterable<EventBatch>>;
  credentialStatus(): CredentialStatus;
  accounts(): AccountStatus[];
  close(): Promise<void>;
}
