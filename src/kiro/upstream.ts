import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { BrokenCircuitError, circuitBreaker, ConsecutiveBreaker, handleWhen, type CircuitBreakerPolicy } from 'cockatiel';
import { request, type Dispatcher } from 'undici';
import { GatewayError, isGatewayError } from '../chat/errors.js';
import { promptCounter } from '../chat/tokens.js';
import { RequestTrace } from '../chat/trace.js';
import type { AccountStatus, ChatEvent, ChatRequest, ChatUpstream, CredentialStatus, EventBatch, ModelInfo, SearchResult } from '../chat/types.js';
import type { AccountLease, CredentialProvider, KiroCredentials } from '../credentials/types.js';
import { bodyBuffers, POOLED_FROM } from '../buffers.js';
import { KiroEndpoints, sendsProfile, type KiroHostTemplates } from './endpoints.js';
import { mapKiroHttpError, mapTransportError } from './errors.js';
import { decodeFrame, MessageFramer } from './eventstream.js';
import { KiroEventTranslator } from './events.js';
import { kiroHeaders } from './headers.js';
import { AccountInsights, type SharedFigures } from './insights.js';
import type { Logger } from '../logger.js';
import { buildKiroRequest, kiroPromptParts, toKiroPayload, type BuiltKiroRequest, type KiroPayload } from './request.js';

export interface ResilienceOptions {
  /** Give up (and maybe retry) when Kiro has not started answering in this long. */
  firstTokenTimeoutMs: number;
  /** Consecutive failures (5xx, network, timeouts) that open an account's circuit… */
  breakerThreshold: number;
  /** …and how long it stays open before one trial request. */
  breakerCooldownMs: number;
}

export interface KiroUpstreamOptions extends ResilienceOptions {
  /** The hosts, `{region}` standing for each account's region (runtime.{region}.kiro.dev, …). */
  hosts: KiroHostTemplates;
  credentials: CredentialProvider;
  logger: Logger;
  /** Look the accounts' models and usage up (ListAvailableModels, getUsageLimits) once start() is called; off in some tests. */
  insights?: boolean;
  /** Models and credits shared with other replicas (Redis). */
  sharedFigures?: SharedFigures;
  /** The one connection pool every Kiro call goes through (built once, at start-up). */
  dispatcher: Dispatcher;
}

type ResponseBody = Dispatcher.ResponseData['body'];

/** A request ready for Kiro: the bytes to send, and the prompt's count, shared by every attempt. */
interface Prepared {
  payload: KiroPayload;
  promptTokens: () => Promise<number>;
}

/** How one exchange with one account ended, short of success. */
type Rejection = { kind: 'rejected'; error: GatewayError };
type Accepted = { kind: 'events'; events: AsyncIterable<EventBatch> };

/**
 * Failures that say Kiro, or the way to it, is unwell — what the circuit breaker counts. Not
 * counted: what one request caused (a 400, a plain 500 Kiro answers for that request, a tool
 * input cut off) and what has its own handling (quota, throttling, auth).
 */
const UNHEALTHY = new Set(['upstream_unreachable', 'upstream_timeout', 'upstream_unavailable', 'upstream_overloaded', 'upstream_bad_gateway', 'upstream_stream_broken', 'upstream_stream_corrupt']);
/** The longest a stream is translated before other requests get a turn. */
const TURN_MS = 4;
/** The errors chargedOnce() marked for the breaker to count. */
const BREAKER_FAILURES = new WeakSet<Error>();

/** The Kiro adapter: neutral request → generateAssistantResponse → neutral events. */
export class KiroUpstream implements ChatUpstream {
  readonly name = 'kiro';
  readonly insights: AccountInsights;
  private readonly endpoints: KiroEndpoints;
  private readonly breakers = new Map<string, CircuitBreakerPolicy>();
  /** A retried request is built for Kiro once (again only once Kiro has read its bytes). */
  private readonly prepared = new WeakMap<ChatRequest, Prepared>();
  private readonly preparedWithoutThinking = new WeakMap<ChatRequest, Prepared>();

  constructor(private readonly options: KiroUpstreamOptions) {
    this.endpoints = new KiroEndpoints(options.hosts);
    this.insights = new AccountInsights({ credentials: options.credentials, endpoints: this.endpoints, dispatcher: options.dispatcher, logger: options.logger, ...(options.sharedFigures && { shared: options.sharedFigures }) });
  }

  /** Starts looking at the accounts (their models and credits); after shared state is ready, so its first refresh is shared too. */
  start(): void {
    if (this.options.insights !== false) this.insights.start();
  }

  /** The models the accounts may use (their union), or the built-in table before any has said. */
  get models(): readonly ModelInfo[] {
    return this.insights.modelList();
  }

  credentialStatus(): CredentialStatus {
    return this.options.credentials.status();
  }

  accounts(): AccountStatus[] {
    return this.options.credentials.accounts().map(({ host, region, ...account }) => ({
      ...account,
      endpoint: this.endpoints.hostName({ host, region }),
      region,
      usage: this.insights.usage(account.fingerprint),
      models: this.insights.models(account.fingerprint),
    }));
  }

  /**
   * One attempt, over as many accounts as it takes. Resolves once Kiro has sent the first event of
   * its answer, so every failure before that — refused, throttled, broken, silent — can still be
   * retried or answered as a plain HTTP error.
   */
  async stream(chatRequest: ChatRequest, signal: AbortSignal, trace = new RequestTrace()): Promise<AsyncIterable<EventBatch>> {
    return this.withAccounts(chatRequest, this.prepare(chatRequest), signal, trace);
  }

  /**
   * Kiro's web search: JSON-RPC `tools/call` of `web_search` on its MCP endpoint, the profile ARN
   * in the body. The results come as a JSON string inside a text part. An account that may not
   * search gets 403: that is `web_search_unavailable`, which the model is told.
   */
  async webSearch(query: string, signal: AbortSignal, session?: string): Promise<SearchResult[]> {
    const lease = await this.options.credentials.acquire(new Set(), session);
    const { accessToken, fingerprint } = lease.credentials;
    const profileArn = sendsProfile(lease.credentials) ? lease.credentials.profileArn : undefined;
    const id = `web_search_tooluse_${randomBytes(11).toString('hex').slice(0, 22)}_${Date.now()}_${randomBytes(4).toString('hex')}`;
    const body = { id, jsonrpc: '2.0', method: 'tools/call', params: { name: 'web_search', arguments: { query } }, ...(profileArn && { profileArn }) };
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.endpoints.mcp(lease.credentials), {
        method: 'POST',
        headers: { ...kiroHeaders(accessToken, fingerprint), accept: 'application/json', ...(profileArn && { 'x-amzn-kiro-profile-arn': profileArn }) },
        body: JSON.stringify(body),
        dispatcher: this.options.dispatcher,
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      throw mapTransportError(error);
    }
    const text = await response.body.text().catch(() => '');
    if (response.statusCode === 401 || response.statusCode === 403) {
      throw new GatewayError('permission', 'Kiro refused the web search for this account (its plan may not include it).', { code: 'web_search_unavailable' });
    }
    if (response.statusCode !== 200) throw mapKiroHttpError(response.statusCode, text, response.headers['retry-after']);
    return parseSearchResults(text);
  }

  /** Renews an account's token now, then asks Kiro again for its models and credits. */
  async refreshAccount(fingerprint: string): Promise<boolean> {
    const lease = await this.options.credentials.lease(fingerprint);
    if (!lease) return false;
    await lease.refresh();
    return this.insights.refreshAccount(fingerprint);
  }

  async countTokens(chatRequest: ChatRequest): Promise<number> {
    const prepared = this.prepared.get(chatRequest);
    // Counting alone (count_tokens) needs no bytes to send.
    return (prepared?.promptTokens ?? promptCounter(kiroPromptParts(this.build(chatRequest, true).body)))();
  }

  private build(chatRequest: ChatRequest, replayThinking: boolean): BuiltKiroRequest {
    return buildKiroRequest(chatRequest, {
      conversationId: chatRequest.session ? conversationIdFor(chatRequest.session) : randomUUID(),
      thinking: this.thinkingOf(chatRequest.upstreamModel),
      replayThinking,
    });
  }

  /**
   * The request as sent to Kiro, built once however often it is sent or counted, and built again
   * only when a retry comes after Kiro read (and the gateway let go of) its bytes. What it keeps is
   * the bytes and the prompt's count, not the body: see KiroPayload.
   */
  private prepare(chatRequest: ChatRequest, replayThinking = true): Prepared {
    const cache = replayThinking ? this.prepared : this.preparedWithoutThinking;
    const known = cache.get(chatRequest);
    if (known && !known.payload.released) return known;
    const built = this.build(chatRequest, replayThinking);
    const prepared = {
      payload: toKiroPayload(built, built.bytes >= POOLED_FROM ? (bytes) => bodyBuffers.take(bytes) : undefined),
      promptTokens: known?.promptTokens ?? promptCounter(kiroPromptParts(built.body)),
    };
    cache.set(chatRequest, prepared);
    return prepared;
  }

  private thinkingOf(upstreamModel: string): 'native' | 'tags' {
    return this.models.find((model) => model.upstreamId === upstreamModel)?.thinking ?? 'tags';
  }

  /**
   * Tries the accounts in turn: a 403 gets one refresh and one retry; quota (402), throttling (429)
   * and a second 403 rest that account and move on to the next, so the client only sees an error
   * when no account can serve.
   */
  private async withAccounts(chatRequest: ChatRequest, prepared: Prepared, signal: AbortSignal, trace: RequestTrace): Promise<AsyncIterable<EventBatch>> {
    const tried = new Set<string>();
    let lastError: GatewayError | undefined;
    const model = chatRequest.upstreamModel;
    if (!this.insights.anyServes(model)) {
      throw new GatewayError('not_found', `No Kiro account of this gateway may use the model \`${model}\`. GET /v1/models lists the ones they may.`, { param: 'model', code: 'model_not_found' });
    }
    // Only accounts that have the model; the ones with the most credits left first.
    const choice = { eligible: (fingerprint: string) => this.insights.serves(fingerprint, model), rank: (fingerprint: string) => this.insights.creditRank(fingerprint) };
    for (;;) {
      let lease: AccountLease;
      try {
        lease = await trace.waitFor(this.options.credentials.acquire(tried, chatRequest.session, choice));
      } catch (error) {
        throw lastError ?? error;
      }
      const account = lease.credentials.fingerprint;
      this.insights.noticed(account);
      tried.add(account);
      trace.account = account;
      let outcome: Accepted | Rejection;
      try {
        outcome = await this.breakerFor(account).execute(() => this.chargedOnce(account, trace, () => this.exchange(lease, chatRequest, prepared, signal, trace)));
      } catch (error) {
        if (error instanceof BrokenCircuitError) {
          lastError = new GatewayError('unavailable', `Kiro kept failing for account ${account}; ki2api pauses requests to it for up to ${Math.ceil(this.options.breakerCooldownMs / 1000)} s.`, {
            code: 'upstream_circuit_open',
            retryAfter: Math.ceil(this.options.breakerCooldownMs / 1000),
          });
        } else if (isGatewayError(error) && (error.kind === 'upstream_auth' || error.code === 'token_refresh_failed') && tried.size < this.options.credentials.size) {
          lastError = error;
        } else {
          throw error;
        }
        if (tried.size >= this.options.credentials.size) throw lastError;
        continue;
      }
      if (outcome.kind === 'events') {
        lease.report({ kind: 'ok' });
        return outcome.events;
      }
      const error = outcome.error;
      if (error.code === 'upstream_token_invalid') lease.report({ kind: 'auth_rejected' });
      else if (error.code === 'insufficient_quota') {
        lease.report({ kind: 'quota' });
        // Kiro's figures say until when: the account then rests exactly that long.
        void this.insights.refreshUsage(account);
      }
      else lease.report({ kind: 'throttled', ...(error.retryAfter !== undefined && { retryAfterSeconds: error.retryAfter }) });
      lastError = error;
      if (tried.size >= this.options.credentials.size) throw error;
    }
  }

  /** One account, one request (plus one retry after a refresh on 403), up to the first event. */
  private async exchange(lease: AccountLease, chatRequest: ChatRequest, prepared: Prepared, signal: AbortSignal, trace: RequestTrace): Promise<Accepted | Rejection> {
    // One signal for the call: the client going away, or Kiro not starting in time. (Linked by
    // hand: AbortSignal.any costs tens of microseconds per call in Node 20.)
    const call = new AbortController();
    const callSignal = call.signal;
    let timedOut = false;
    const onClientGone = () => call.abort(signal.reason);
    signal.addEventListener('abort', onClientGone, { once: true });
    let handedOff = false;
    const timer = setTimeout(() => {
      timedOut = true;
      call.abort(new GatewayError('timeout', `Kiro did not start answering within ${Math.round(this.options.firstTokenTimeoutMs / 1000)} s.`, { code: 'upstream_timeout' }));
    }, this.options.firstTokenTimeoutMs);
    try {
      let credentials = lease.credentials;
      let response = await trace.waitFor(this.send(prepared, credentials, callSignal));
      if (response.statusCode === 403) {
        await response.body.dump();
        credentials = await trace.waitFor(lease.refresh());
        response = await trace.waitFor(this.send(prepared, credentials, callSignal));
        // Refused again with a fresh token: a Builder ID or IdC login the runtime host does not
        // serve. The legacy host does; the account stays there from now on.
        if (response.statusCode === 403) {
          const moved = await lease.useLegacyHost('the runtime host refused its token after a refresh');
          if (moved) {
            await response.body.dump();
            credentials = moved;
            response = await trace.waitFor(this.send(prepared, credentials, callSignal));
          }
        }
      }
      let text = response.statusCode === 200 ? '' : await trace.waitFor(response.body.text().catch(() => ''));
      if (response.statusCode === 400 && /THINKING_SIGNATURE_INVALID/.test(text) && prepared.payload.pastThinking) {
        // Kiro did not take a signature the client sent back (one from another gateway, or the
        // official API): the same request without earlier thinking, once.
        prepared = this.prepare(chatRequest, false);
        response = await trace.waitFor(this.send(prepared, credentials, callSignal));
        text = response.statusCode === 200 ? '' : await trace.waitFor(response.body.text().catch(() => ''));
      }
      if (response.statusCode !== 200) {
        const error = mapKiroHttpError(response.statusCode, text, response.headers['retry-after']);
        if (error.code === 'upstream_token_invalid' || error.code === 'insufficient_quota' || error.code === 'rate_limit_exceeded') return { kind: 'rejected', error };
        throw error;
      }
      const translator = this.translator(chatRequest, prepared);
      const events = this.events(response.body, translator, callSignal, trace, () => signal.removeEventListener('abort', onClientGone));
      const first = await events.next();
      // Counting the prompt waits for the first token, then runs beside the stream.
      translator.startCounting();
      handedOff = !first.done;
      return { kind: 'events', events: prepend(first, events) };
    } catch (error) {
      if (timedOut && !signal.aborted) throw callSignal.reason;
      throw error;
    } finally {
      clearTimeout(timer);
      // The event stream removes the listener when it ends; otherwise this attempt is over now.
      if (!handedOff) signal.removeEventListener('abort', onClientGone);
    }
  }

  /**
   * Runs one exchange for the breaker so that a request counts against an account at most once,
   * however often it is retried, and only with a failure that says the account or Kiro is unwell.
   * Failures the breaker must not count leave unmarked, and cockatiel passes those through.
   */
  private async chargedOnce<T>(account: string, trace: RequestTrace, exchange: () => Promise<T>): Promise<T> {
    try {
      return await exchange();
    } catch (error) {
      if (isGatewayError(error) && UNHEALTHY.has(error.code ?? '') && !trace.breakerCharged.has(account)) {
        trace.breakerCharged.add(account);
        BREAKER_FAILURES.add(error);
      }
      throw error;
    }
  }

  private breakerFor(account: string): CircuitBreakerPolicy {
    let breaker = this.breakers.get(account);
    if (!breaker) {
      breaker = circuitBreaker(handleWhen((error) => BREAKER_FAILURES.has(error)), { halfOpenAfter: this.options.breakerCooldownMs, breaker: new ConsecutiveBreaker(this.options.breakerThreshold) });
      // Open here is a rest everywhere: the other replicas skip the account for as long.
      breaker.onBreak(() => this.options.credentials.rest?.(account, Date.now() + this.options.breakerCooldownMs, 'Kiro kept failing for this account (circuit breaker open)'));
      this.breakers.set(account, breaker);
    }
    return breaker;
  }

  private async send({ payload }: Prepared, credentials: KiroCredentials, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const profileArn = credentials.profileArn && sendsProfile(credentials) ? credentials.profileArn : undefined;
    try {
      const response = await request(this.endpoints.chat(credentials), {
        method: 'POST',
        headers: kiroHeaders(credentials.accessToken, credentials.fingerprint),
        body: payload.body(profileArn),
        dispatcher: this.options.dispatcher,
        signal,
      });
      // Kiro answers 200 only once it has read the whole body: a reused buffer is free again.
      if (response.statusCode === 200) payload.release();
      return response;
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      throw mapTransportError(error);
    }
  }

  private translator(chatRequest: ChatRequest, { payload, promptTokens }: Prepared): KiroEventTranslator {
    return new KiroEventTranslator({
      promptTokens,
      toolNames: payload.toolNames,
      ...(chatRequest.reasoning && { thinking: this.thinkingOf(chatRequest.upstreamModel) }),
      limits: {
        ...(chatRequest.stop && { stop: chatRequest.stop }),
        ...(chatRequest.maxOutputTokens !== undefined && { maxTokens: chatRequest.maxOutputTokens }),
      },
    });
  }

  /**
   * Upstream bytes → frames → neutral events, one batch per network read. One loop, no stacked
   * generators: this runs for every chunk of every answer. Time spent waiting for Kiro is counted.
   */
  private async *events(body: ResponseBody, translator: KiroEventTranslator, signal: AbortSignal, trace: RequestTrace, done: () => void): AsyncGenerator<EventBatch> {
    const framer = new MessageFramer();
    const chunks = body[Symbol.asyncIterator]();
    try {
      for (;;) {
        const waitStarted = performance.now();
        const next = await chunks.next();
        trace.upstreamMs += performance.now() - waitStarted;
        if (next.done) break;
        let batch: ChatEvent[] = [];
        let turnStarted = performance.now();
        try {
          for (const message of framer.push(next.value as Buffer)) {
            batch.push(...translator.translate(decodeFrame(message)));
            if (translator.finished) break;
            // A read that holds thousands of frames is passed on in parts, with other requests'
            // turns between them.
            if (performance.now() - turnStarted > TURN_MS && batch.length > 0) {
              yield batch;
              batch = [];
              await new Promise((resolve) => setImmediate(resolve));
              turnStarted = performance.now();
            }
          }
        } catch (error) {
          // What arrived intact before a broken frame still goes out; then the error.
          if (batch.length > 0) yield batch;
          throw error;
        }
        if (translator.finished) {
          // The answer ended before the bytes did (a limit, or Kiro's length exception).
          batch.push(...(await translator.finish()));
          yield batch;
          return;
        }
        if (batch.length > 0) yield batch;
      }
      framer.end();
      yield await translator.finish();
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      throw isGatewayError(error) ? error : streamBroken(error);
    } finally {
      // Frees the socket at once when the consumer stops early (client gone) or we stop reading.
      if (!body.destroyed) body.destroy();
      done();
    }
  }

  async close(): Promise<void> {
    this.insights.close();
    await this.options.dispatcher.close();
  }
}

/** The results in Kiro's MCP answer: a JSON string in a text part, whose `results` are the pages. */
export function parseSearchResults(text: string): SearchResult[] {
  const fail = () => new GatewayError('upstream', 'Kiro\'s web search sent an answer that is not the expected JSON.', { code: 'upstream_error' });
  let inner: unknown;
  try {
    const answer = JSON.parse(text) as { result?: { content?: { type?: string; text?: string }[]; isError?: boolean }; error?: { message?: string } };
    if (answer.error || answer.result?.isError) throw new GatewayError('upstream', `Kiro's web search failed: ${answer.error?.message ?? 'error'}.`, { code: 'upstream_error' });
    inner = JSON.parse(answer.result?.content?.find((c) => c.type === 'text')?.text ?? '{}');
  } catch (error) {
    if (isGatewayError(error)) throw error;
    throw fail();
  }
  const results = (inner as { results?: unknown }).results;
  if (!Array.isArray(results)) return [];
  return results.flatMap((r: Record<string, unknown>) => {
    if (typeof r?.url !== 'string') return [];
    const published = typeof r.publishedDate === 'number' ? new Date(r.publishedDate).toUTCString().slice(5, 16) : typeof r.publishedDate === 'string' ? r.publishedDate : undefined;
    return [{ title: typeof r.title === 'string' ? r.title : r.url, url: r.url, snippet: typeof r.snippet === 'string' ? r.snippet : '', ...(published && { published }) }];
  });
}

/** A stable conversation id (a UUID) for a client session: Kiro's cache follows the conversation. */
export function conversationIdFor(session: string): string {
  const hex = createHash('sha256').update(`ki2api-session:${session}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** `first` (an already-read result of `rest`) followed by the rest, without another generator layer. */
function prepend<T>(first: IteratorResult<T>, rest: AsyncGenerator<T>): AsyncIterable<T> {
  let pending: IteratorResult<T> | undefined = first;
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => {
        if (!pending) return rest.next();
        const result = pending;
        pending = undefined;
        return Promise.resolve(result);
      },
      return: (value?: unknown) => rest.return(value),
    }),
  };
}

function streamBroken(error: unknown): GatewayError {
  const mapped = mapTransportError(error);
  if (mapped.kind === 'timeout') return new GatewayError('timeout', 'Kiro stopped sending mid-answer; the answer is incomplete.', { code: 'upstream_timeout' });
  return new GatewayError('upstream', 'The connection to Kiro broke mid-answer; the answer is incomplete.', {
    code: 'upstream_stream_broken',
    cause: error,
  });
}
