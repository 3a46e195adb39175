import type { Response } from 'express';
import { ExponentialBackoff, handleWhen, retry, TaskCancelledError, type IBackoff, type IBackoffFactory, type IRetryBackoffContext, type RetryPolicy } from 'cockatiel';
import type { Readable } from 'node:stream';
import { GatewayError, isGatewayError } from '../chat/errors.js';
import type { RequestTrace } from '../chat/trace.js';
import type { ChatRequest, ChatUpstream, EventBatch } from '../chat/types.js';
import { asGatewayError, faceErrorsOf } from '../http/errors.js';
import { clientSignal, traceOf } from '../http/observe.js';
import { joinSse, sseBody, type SseText } from '../http/sse.js';
import type { Logger } from '../logger.js';
import { isDirectSearch, searchingAnswer, withWebSearchTool, type WebSearchOptions } from './web-search.js';

/** Tools the gateway runs for the model, instead of the client. */
export interface ServerTools {
  webSearch?: WebSearchOptions;
}

// One request, whatever face it came through: open the upstream answer with retries while nothing
// has reached the client, hold a stream's commit for a moment so an early refusal is still a plain
// HTTP error, tie everything to the client's connection and to one total deadline, and note every
// batch on the request's trace. Faces only map requests in and events out.

export interface OrchestratorOptions {
  upstream: ChatUpstream;
  logger: Logger;
  /** How long a stream waits for the upstream before committing to a 200 (and the keep-alive interval). */
  keepAliveMs: number;
  /** The longest a whole request may take, stream included (KIRO_TOTAL_TIMEOUT_MS). */
  totalTimeoutMs: number;
  /** Extra attempts after a retryable failure, before anything reached the client. */
  retries: number;
  /** Longest wait before a retry; a longer retry-after is passed on to the client instead. */
  retryMaxWaitMs: number;
}

/** An answer under way. */
export interface Answer {
  /** Its events, noted on the trace as they pass. Throws a GatewayError when the answer fails. */
  events: AsyncIterable<EventBatch>;
  /** The upstream answered within the commit window: a stream's headers can leave with its first chunk. */
  answered: boolean;
}

/** How a face writes its stream. */
export interface SseEncoder {
  /** Text before the first batch (OpenAI's role chunk, Anthropic's message_start, which may wait for a count). */
  start(): SseText | Promise<SseText>;
  encode(batch: EventBatch): SseText | Promise<SseText>;
  /** The face's in-band error, when the encoder knows more than the face's errors do (the response so far). */
  error?(error: GatewayError): string;
  /** What keeps a silent stream alive. */
  keepAlive: string;
  /** Written after the last batch when all went well (OpenAI's `data: [DONE]`), or nothing. */
  end: string;
}

/** Failures worth another attempt: transient, and nothing has reached the client yet. */
function retryable(maxWaitMs: number) {
  return (error: Error): boolean => {
    if (!isGatewayError(error)) return false;
    if (error.code === 'request_deadline') return false;
    if (error.kind === 'rate_limit') return (error.retryAfter ?? 0) * 1000 <= maxWaitMs;
    if (error.kind === 'timeout') return true;
    if (error.kind === 'upstream') return error.code !== 'tool_input_truncated';
    return error.code === 'upstream_overloaded' || error.code === 'upstream_unavailable';
  };
}

type RetryContext = IRetryBackoffContext<unknown>;

/** Exponential backoff with jitter that also waits at least the upstream's retry-after. */
class RetryAfterBackoff implements IBackoffFactory<RetryContext> {
  constructor(
    private readonly inner: IBackoffFactory<RetryContext>,
    private readonly maxWaitMs: number,
  ) {}

  next(context: RetryContext): IBackoff<RetryContext> {
    const inner = this.inner.next(context);
    const error = 'error' in context.result ? context.result.error : undefined;
    const retryAfterMs = isGatewayError(error) && error.retryAfter !== undefined ? error.retryAfter * 1000 : 0;
    return { duration: Math.min(this.maxWaitMs, Math.max(inner.duration, retryAfterMs)), next: (c) => new RetryAfterBackoff(inner, this.maxWaitMs).next(c) };
  }
}

/** Wait for `promise` at most `ms`; true if it settled (fulfilled or rejected) in time. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export class Orchestrator {
  private readonly retryPolicy: RetryPolicy;

  constructor(private readonly options: OrchestratorOptions) {
    this.retryPolicy = retry(handleWhen(retryable(options.retryMaxWaitMs)), {
      maxAttempts: options.retries,
      backoff: new RetryAfterBackoff(new ExponentialBackoff<RetryContext>({ initialDelay: 200, maxDelay: options.retryMaxWaitMs }), options.retryMaxWaitMs),
    });
  }

  /** The prompt tokens of `request` as the upstream would get it. */
  countTokens(request: ChatRequest): Promise<number> {
    return this.options.upstream.countTokens(request);
  }

  /**
   * Start answering `request` for the client behind `res`. Without `stream`, resolves once the
   * upstream has started (or rejects with the error to send). With `stream`, resolves at the latest
   * after the commit window: an upstream that refuses within it still rejects here.
   */
  async open(res: Response, request: ChatRequest, stream: boolean, tools: ServerTools = {}): Promise<Answer> {
    const trace = traceOf(res);
    const controller = new AbortController();
    const { signal } = controller;
    const client = clientSignal(res);
    if (client.aborted) throw client.reason;
    client.addEventListener('abort', () => controller.abort(client.reason), { once: true });
    const deadline = setTimeout(() => {
      controller.abort(
        new GatewayError('timeout', `The request took longer than the gateway's limit of ${Math.round(this.options.totalTimeoutMs / 1000)} s (KIRO_TOTAL_TIMEOUT_MS); the answer is incomplete.`, {
          code: 'request_deadline',
        }),
      );
    }, this.options.totalTimeoutMs);
    deadline.unref();
    // Whatever the upstream throws (before or during the answer) is an upstream error, for the metrics.
    const fromUpstream = (error: unknown): never => {
      clearTimeout(deadline);
      res.locals.upstreamError = isGatewayError(error) ? error.kind : 'server';
      throw error;
    };
    // No closure made here refers to `request`: they live as long as the answer streams, and the
    // request (the whole conversation) is garbage once the upstream has started answering.
    const opened = (tools.webSearch ? this.searching(request, tools.webSearch, signal, trace) : this.attempts(request, signal, trace)).catch(fromUpstream);
    let answered = true;
    if (stream) {
      opened.catch(() => undefined);
      answered = await settlesWithin(opened, this.options.keepAliveMs);
    }
    if (answered) await opened;
    return { events: noted(opened, trace, () => clearTimeout(deadline), fromUpstream), answered };
  }

  /** The body of a streamed answer, in the face's own event format. */
  sse(res: Response, answer: Answer, encoder: SseEncoder): Readable {
    async function* text() {
      let pending: SseText = await encoder.start();
      for await (const batch of answer.events) {
        yield joinSse(pending, await encoder.encode(batch));
        pending = '';
      }
      if (pending.length > 0) yield pending;
    }
    return sseBody(
      res,
      text(),
      {
        keepAliveMs: this.options.keepAliveMs,
        keepAliveText: encoder.keepAlive,
        // Upstream still silent: the headers go now and keep-alives follow. Otherwise the headers
        // leave with the first chunk, in one write.
        headersFirst: !answer.answered,
        endText: encoder.end,
        errorEvent: (error) => {
          const gatewayError = asGatewayError(error, this.options.logger);
          res.locals.errorCode = gatewayError.code ?? gatewayError.kind;
          res.locals.errorMessage = gatewayError.message;
          res.locals.upstreamError ??= gatewayError.kind;
          return encoder.error ? encoder.error(gatewayError) : faceErrorsOf(res).streamEvent(gatewayError);
        },
      },
      () => undefined,
    );
  }

  /** An answer that may search the web (the server tool): searches run through the upstream between the model's turns. */
  private searching(request: ChatRequest, search: WebSearchOptions, signal: AbortSignal, trace: RequestTrace): Promise<AsyncIterable<EventBatch>> {
    const searching = withWebSearchTool(request, search);
    const searcher = (query: string) => {
      if (!this.options.upstream.webSearch) return Promise.reject(new GatewayError('unavailable', 'This upstream cannot search the web.', { code: 'web_search_unavailable' }));
      return trace.waitFor(this.options.upstream.webSearch(query, signal, request.session));
    };
    // Claude Code's search request is searched at once; any other asks the model first.
    const first = isDirectSearch(searching, search) ? Promise.resolve(undefined) : this.attempts(searching, signal, trace);
    return first.then((answer) => searchingAnswer(searching, answer, (next) => this.attempts(next, signal, trace), searcher, search));
  }

  private async attempts(request: ChatRequest, signal: AbortSignal, trace: RequestTrace): Promise<AsyncIterable<EventBatch>> {
    try {
      return await this.retryPolicy.execute(() => {
        trace.attempts++;
        return this.options.upstream.stream(request, signal, trace);
      }, signal);
    } catch (error) {
      if (error instanceof TaskCancelledError || signal.aborted) throw signal.reason ?? error;
      throw error;
    }
  }
}

/** The events of `opened`, each batch noted on the trace; `done` runs when they end, however. */
async function* noted(opened: Promise<AsyncIterable<EventBatch>>, trace: RequestTrace, done: () => void, onError: (error: unknown) => never): AsyncGenerator<EventBatch> {
  try {
    for await (const batch of await opened) {
      trace.note(batch);
      yield batch;
    }
  } catch (error) {
    onError(error);
  } finally {
    done();
  }
}
