import { randomUUID } from 'node:crypto';
import { isGatewayError } from '../chat/errors.js';
import type { ChatEvent, ChatMessage, ChatRequest, EventBatch, PastReasoning, SearchFailure, SearchResult, ToolDefinition, Usage } from '../chat/types.js';

// Web search as a server tool: the client asks for search (Anthropic's `web_search_20250305`,
// Responses' `web_search`), the model gets a `web_search` tool, and when it calls it the gateway
// runs the search through the upstream (Kiro's MCP search), streams the call and its results,
// feeds them back, and streams the model's answer — as many rounds as `maxUses` allows. What the
// client sees is one answer.

export interface WebSearchOptions {
  /** The tool's name, as the client gave it. */
  name: string;
  /** At most this many searches in one answer (default 5). */
  maxUses?: number;
}

/** Runs one search; throws a GatewayError when the upstream will not search. */
export type Searcher = (query: string) => Promise<SearchResult[]>;

/** Opens the next answer of the loop (the first one, or one with the search results added). */
export type Opener = (request: ChatRequest) => Promise<AsyncIterable<EventBatch>>;

const DEFAULT_MAX_USES = 5;

export const webSearchTool = (name: string): ToolDefinition => ({
  name,
  description:
    'Search the web for current information: news, documentation, facts that may have changed since training. ' +
    'The results (titles, URLs, snippets) come back as the tool result; cite the URLs you use.',
  parameters: { type: 'object', properties: { query: { type: 'string', description: 'The search query.' } }, required: ['query'] },
});

/** What Claude Code's WebSearch tool sends: one request, web search its only tool, the query in its text. */
const CLAUDE_CODE_SEARCH = /^\s*Perform a web search for the query:\s*(.+)$/s;

/** Whether `request` is a search to run at once, before asking the model. */
export const isDirectSearch = (request: ChatRequest, options: WebSearchOptions): boolean => directQuery(request, options) !== undefined;

function directQuery(request: ChatRequest, options: WebSearchOptions): string | undefined {
  // The search tool is the only one (the client declared no other).
  if (request.tools?.length !== 1) return undefined;
  const first = request.messages.find((m) => m.role === 'user');
  if (!first || first.role !== 'user' || request.messages.length !== 1) return undefined;
  const text = first.content.map((p) => (p.type === 'text' ? p.text : '')).join('\n');
  const query = CLAUDE_CODE_SEARCH.exec(text)?.[1]?.trim();
  return query && request.tools[0]!.name === options.name ? query : undefined;
}

/** Search results as the text the model reads in its tool result. */
function resultText(results: readonly SearchResult[], error: SearchFailure | undefined): string {
  if (error === 'unavailable') return 'The web search is not available for this account (Kiro refused it). Tell the user you could not search the web.';
  if (error === 'max_uses_exceeded') return 'No more web searches are allowed in this answer. Answer with what you have.';
  if (error) return `The web search failed (${error}).`;
  if (results.length === 0) return 'The web search found nothing.';
  return results.map((r, i) => `[${i + 1}] ${r.title}\n${r.url}${r.published ? `\nPublished: ${r.published}` : ''}\n${r.snippet}`).join('\n\n');
}

const failureOf = (error: unknown): SearchFailure => {
  if (isGatewayError(error) && error.kind === 'rate_limit') return 'too_many_requests';
  return 'unavailable';
};

function sumUsage(a: Usage | undefined, b: Usage): Usage {
  if (!a) return b;
  return {
    promptTokens: a.promptTokens + b.promptTokens,
    completionTokens: a.completionTokens + b.completionTokens,
    reasoningTokens: a.reasoningTokens + b.reasoningTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
    source: a.source === 'upstream' && b.source === 'upstream' ? 'upstream' : 'estimated',
    ...((a.credits !== undefined || b.credits !== undefined) && { credits: (a.credits ?? 0) + (b.credits ?? 0) }),
  };
}

/** The request with the web search tool declared to the model. */
export function withWebSearchTool(request: ChatRequest, options: WebSearchOptions): ChatRequest {
  return { ...request, tools: [...(request.tools ?? []), webSearchTool(options.name)] };
}

/**
 * The loop. `request` already declares the search tool (withWebSearchTool); `first` is its open
 * answer, unless the request is Claude Code's search request, which is searched at once.
 */
export async function* searchingAnswer(request: ChatRequest, first: AsyncIterable<EventBatch> | undefined, open: Opener, search: Searcher, options: WebSearchOptions): AsyncGenerator<EventBatch> {
  const maxUses = options.maxUses ?? DEFAULT_MAX_USES;
  let searches = 0;
  let usage: Usage | undefined;
  let history: ChatMessage[] = [...request.messages];
  let toolIndex = 0;

  /** Runs one search and yields its call and result events; returns the history entries it adds. */
  async function* runSearch(id: string, query: string, before: { text: string; reasoning: PastReasoning[] }): AsyncGenerator<EventBatch, ChatMessage[]> {
    let results: SearchResult[] = [];
    let error: SearchFailure | undefined;
    if (searches >= maxUses) error = 'max_uses_exceeded';
    else {
      searches++;
      yield [{ type: 'server_tool_call', id, name: 'web_search', query }];
      try {
        results = await search(query);
      } catch (failure) {
        error = failureOf(failure);
      }
    }
    if (error === 'max_uses_exceeded') yield [{ type: 'server_tool_call', id, name: 'web_search', query }];
    yield [{ type: 'server_tool_result', id, name: 'web_search', results, ...(error && { error }) }];
    return [
      { role: 'assistant', content: before.text ? [{ type: 'text', text: before.text }] : [], toolCalls: [{ id, name: options.name, arguments: JSON.stringify({ query }) }], ...(before.reasoning.length > 0 && { reasoning: before.reasoning }) },
      { role: 'tool', toolCallId: id, content: [{ type: 'text', text: resultText(results, error) }] },
    ];
  }

  let answer = first;
  const direct = first === undefined ? directQuery(request, options) : undefined;
  if (direct !== undefined) history = [...history, ...(yield* runSearch(`srvtoolu_${randomUUID().replaceAll('-', '').slice(0, 24)}`, direct, { text: '', reasoning: [] }))];

  for (;;) {
    answer ??= await open({ ...request, messages: history });
    let text = '';
    const reasoning: PastReasoning[] = [];
    let thinking = '';
    /** The search call being received, and the tool-call index it had. */
    let pending: { index: number; id: string; input: string } | undefined;
    let call: { id: string; query: string } | undefined;
    let finish: Extract<ChatEvent, { type: 'finish' }> | undefined;
    // Client tool calls keep their order across rounds: indices go on from the last round's.
    const base = toolIndex;
    for await (const batch of answer) {
      const out: ChatEvent[] = [];
      for (const event of batch) {
        switch (event.type) {
          case 'text':
            text += event.text;
            out.push(event);
            break;
          case 'reasoning':
            thinking += event.text;
            out.push(event);
            break;
          case 'reasoning_signature':
            reasoning.push({ text: thinking, signature: event.signature });
            thinking = '';
            out.push(event);
            break;
          case 'tool_call_start':
            if (event.name === options.name) pending = { index: event.index, id: event.id, input: '' };
            else {
              toolIndex = Math.max(toolIndex, base + event.index + 1);
              out.push({ ...event, index: base + event.index });
            }
            break;
          case 'tool_call_delta':
            if (pending?.index === event.index) pending.input += event.argumentsDelta;
            else out.push({ ...event, index: base + event.index });
            break;
          case 'tool_call_end':
            if (pending?.index === event.index) {
              let query = '';
              try {
                query = String((JSON.parse(pending.input) as { query?: unknown }).query ?? '');
              } catch {
                // An unreadable call is an empty query: the search says it found nothing.
              }
              call ??= { id: pending.id, query };
              pending = undefined;
            } else out.push({ ...event, index: base + event.index });
            break;
          case 'tool_call_dropped':
            if (pending?.index === event.index) pending = undefined;
            else out.push({ ...event, index: base + event.index });
            break;
          case 'finish':
            usage = sumUsage(usage, event.usage);
            finish = event;
            break;
          default:
            out.push(event);
        }
      }
      if (out.length > 0) yield out;
    }
    if (!finish) return;
    if (call) {
      const added = yield* runSearch(call.id, call.query, { text, reasoning });
      // Only a search was asked for (no client tool, nothing cut short): feed the results back, ask again.
      if (toolIndex === base && (finish.reason === 'tool_calls' || finish.reason === 'stop')) {
        history = [...history, ...added];
        answer = undefined;
        continue;
      }
    }
    yield [{ ...finish, usage: { ...usage!, webSearches: searches } }];
    return;
  }
}
