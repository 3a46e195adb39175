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
  /** JSON text of the arguments, as the client sent it… */
  arguments: string;
  /** …or, when the client sent an object (Anthropic's tool_use.input), that object. */
  input?: Record<string, unknown>;
}

/**
 * Thinking the model did in an earlier turn, as the client sends it back. `signature` is the
 * upstream's own, when it signed the thinking (only then can the upstream take it back as
 * thinking); `redacted` is thinking the upstream sent encrypted.
 */
export interface PastReasoning {
  text: string;
  signature?: string;
  redacted?: string;
}

/** `index` is the message's position in the client's request, for error messages. */
export type ChatMessage = { index?: number } & (
  | { role: 'user'; content: ContentPart[] }
  | { role: 'assistant'; content: TextPart[]; toolCalls?: ToolCall[]; reasoning?: PastReasoning[] }
  | { role: 'tool'; toolCallId: string; content: ContentPart[]; isError?: boolean }
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
  /** Thinking on, with this budget of thinking tokens (and, where the client said, this effort). */
  reasoning?: { budgetTokens: number; effort?: ReasoningEffort };
  responseFormat?: ResponseFormat;
  /** false: the client wants at most one tool call per answer. */
  parallelToolCalls?: boolean;
  /**
   * A stable key for the client's session (Claude Code's session id, a prompt cache key): the
   * upstream keeps one conversation and, while it stays healthy, one account for it, so its
   * prompt cache keeps hitting.
   */
  session?: string;
}

export type ReasoningEffort = 'low' | 'medium' | 'high' | 'max';

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

/** Why an answer ended at a length: the client's cap, the upstream cutting it, or a full context. */
export type LengthCause = 'max_tokens' | 'upstream' | 'context_window';

export interface Usage {
  /** All prompt tokens, cached or not. */
  promptTokens: number;
  completionTokens: number;
  reasoningTokens: number;
  /** Of promptTokens: read from the upstream's prompt cache, and written to it (only when the upstream says). */
  cacheReadTokens: number;
  cacheWriteTokens: number;
  /** 'upstream': the figures are the upstream's own; 'estimated': the gateway counted them. */
  source: 'upstream' | 'estimated';
  /** What the upstream charged for the answer, in its unit (Kiro: credits), when it says. */
  credits?: number;
  /** Web searches the gateway ran for the answer. */
  webSearches?: number;
}

/** One result of a web search the gateway ran for the model. */
export interface SearchResult {
  title: string;
  url: string;
  snippet: string;
  /** When the page was published, as the search service says (free text), if it does. */
  published?: string;
}

/** Why a web search gave no results. */
export type SearchFailure = 'unavailable' | 'max_uses_exceeded' | 'too_many_requests' | 'invalid_tool_input' | 'query_too_long';

/**
 * What an upstream streams back. Tool-call `index` counts 0, 1, … within one answer. A thinking
 * block is `reasoning` deltas, closed by one `reasoning_signature` when the upstream signed it.
 * A tool call whose input the upstream cut off ends in `tool_call_dropped` instead of
 * `tool_call_end`, and the answer ends there with reason `length`.
 */
export type ChatEvent =
  | { type: 'text'; text: string }
  | { type: 'reasoning'; text: string }
  | { type: 'reasoning_signature'; signature: string }
  | { type: 'redacted_reasoning'; data: string }
  | { type: 'tool_call_start'; index: number; id: string; name: string }
  | { type: 'tool_call_delta'; index: number; argumentsDelta: string }
  | { type: 'tool_call_end'; index: number }
  | { type: 'tool_call_dropped'; index: number; id: string; argumentsLength: number }
  /** The gateway ran a server tool (web search) for the model: the call, then its result. */
  | { type: 'server_tool_call'; id: string; name: 'web_search'; query: string }
  | { type: 'server_tool_result'; id: string; name: 'web_search'; results: SearchResult[]; error?: SearchFailure }
  | { type: 'finish'; reason: FinishReason; usage: Usage; stopSequence?: string; lengthCause?: LengthCause };

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
  /** A human name, e.g. "Claude Sonnet 4.5". */
  displayName: string;
  /**
   * How the upstream thinks for this model: 'native' streams real, signed thinking; 'tags' asks
   * the model to think inline in <thinking> tags (no signature).
   */
  thinking: 'native' | 'tags';
}

/** What an upstream account has used of its plan, as the upstream reports it. */
export interface AccountUsage {
  /** Credits used this period (to 0.01), the free trial and bonuses included. */
  used: number;
  limit: number;
  plan: string | null;
  /** When the period resets (ISO 8601). */
  resetsAt: string | null;
  /** Past the limit the account keeps working (overage billing). */
  overage: boolean;
}

/** One upstream login, as /health shows it: a fingerprint, never a secret. */
export interface AccountStatus {
  fingerprint: string;
  source: string;
  authMethod: 'social' | 'idc' | null;
  /** The kind of login: social (Google, GitHub), AWS Builder ID, or IAM Identity Center. */
  loginKind: 'social' | 'builder-id' | 'idc' | null;
  /** The host that serves it, and its API region. */
  endpoint: string | null;
  region: string | null;
  state: 'healthy' | 'cooling_down' | 'dead' | 'unusable';
  expiresAt: string | null;
  cooldownUntil: string | null;
  problem: string | null;
  fix: string | null;
  /** Its plan's usage, when the upstream has said. */
  usage: AccountUsage | null;
  /** The upstream ids of the models it may use, when the upstream has said. */
  models: string[] | null;
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
  /** The prompt tokens of `request` as the upstream would get it (what usage reports when the upstream does not). */
  countTokens(request: ChatRequest): Promise<number>;
  /** Runs a web search for the model, when the upstream can (Kiro: its MCP search); `session` keeps the account. */
  webSearch?(query: string, signal: AbortSignal, session?: string): Promise<SearchResult[]>;
  credentialStatus(): CredentialStatus;
  accounts(): AccountStatus[];
  /** Renew one account's credentials and what the upstream says about it; false if there is no such account. */
  refreshAccount?(fingerprint: string): Promise<boolean>;
  close(): Promise<void>;
}
