import { randomUUID } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { GatewayError, isGatewayError } from '../chat/errors.js';
import { countTokens } from '../chat/tokens.js';
import type { AccountStatus, ChatEvent, ChatRequest, ChatUpstream, CredentialStatus, ModelInfo } from '../chat/types.js';
import type { AccountLease, CredentialProvider, KiroCredentials } from '../credentials/types.js';
import { mapKiroHttpError, mapTransportError } from './errors.js';
import { decodeEventStream } from './eventstream.js';
import { KiroEventTranslator } from './events.js';
import { kiroHeaders, machineIdFor } from './headers.js';
import { KIRO_MODELS } from './models.js';
import { buildKiroRequest, kiroPromptText, type BuiltKiroRequest } from './request.js';

export interface KiroUpstreamOptions {
  /** e.g. https://runtime.us-east-1.kiro.dev */
  baseUrl: string;
  credentials: CredentialProvider;
  /** The one connection pool every Kiro call goes through (built once, at start-up). */
  dispatcher: Dispatcher;
}

type ResponseBody = Dispatcher.ResponseData['body'];

/** The Kiro adapter: neutral request → generateAssistantResponse → neutral events. */
export class KiroUpstream implements ChatUpstream {
  readonly name = 'kiro';
  readonly models: readonly ModelInfo[] = KIRO_MODELS;
  private readonly url: string;

  constructor(private readonly options: KiroUpstreamOptions) {
    this.url = `${options.baseUrl.replace(/\/+$/, '')}/generateAssistantResponse`;
  }

  credentialStatus(): CredentialStatus {
    return this.options.credentials.status();
  }

  accounts(): AccountStatus[] {
    return this.options.credentials.accounts();
  }

  /**
   * Sends the request with a healthy account. A 403 (token rejected) gets one refresh and one
   * retry; quota (402), throttling (429) and a second 403 rest that account and move on to the
   * next, so the client only sees an error when no account can serve.
   */
  async stream(chatRequest: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<ChatEvent>> {
    const built = buildKiroRequest(chatRequest, { conversationId: randomUUID() });
    const tried = new Set<string>();
    let lastError: GatewayError | undefined;
    for (;;) {
      let lease: AccountLease;
      try {
        lease = await this.options.credentials.acquire(tried);
      } catch (error) {
        throw lastError ?? error;
      }
      tried.add(lease.credentials.fingerprint);
      let response = await this.send(built, lease.credentials, signal);
      if (response.statusCode === 403) {
        await response.body.dump();
        let fresh: KiroCredentials;
        try {
          fresh = await lease.refresh();
        } catch (error) {
          if (!isGatewayError(error)) throw error;
          lastError = error;
          if (tried.size >= this.options.credentials.size) throw error;
          continue;
        }
        response = await this.send(built, fresh, signal);
      }
      if (response.statusCode === 200) {
        lease.report({ kind: 'ok' });
        return this.events(response.body, this.translator(chatRequest, built), signal);
      }
      const text = await response.body.text().catch(() => '');
      const error = mapKiroHttpError(response.statusCode, text, response.headers['retry-after']);
      if (error.code === 'upstream_token_invalid') lease.report({ kind: 'auth_rejected' });
      else if (error.code === 'insufficient_quota') lease.report({ kind: 'quota' });
      else if (error.code === 'rate_limit_exceeded') lease.report({ kind: 'throttled', ...(error.retryAfter !== undefined && { retryAfterSeconds: error.retryAfter }) });
      else throw error;
      lastError = error;
      if (tried.size >= this.options.credentials.size) throw error;
    }
  }

  private async send(built: BuiltKiroRequest, credentials: KiroCredentials, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    const body = credentials.profileArn ? JSON.stringify({ ...built.body, profileArn: credentials.profileArn }) : built.json;
    try {
      return await request(this.url, {
        method: 'POST',
        headers: kiroHeaders(credentials.accessToken, machineIdFor(credentials.fingerprint)),
        body,
        dispatcher: this.options.dispatcher,
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      throw mapTransportError(error);
    }
  }

  private translator(chatRequest: ChatRequest, built: BuiltKiroRequest): KiroEventTranslator {
    return new KiroEventTranslator({
      promptTokens: () => countTokens(kiroPromptText(built.body)),
      toolNames: built.toolNames,
      thinking: chatRequest.reasoning !== undefined,
      limits: {
        ...(chatRequest.stop && { stop: chatRequest.stop }),
        ...(chatRequest.maxOutputTokens !== undefined && { maxTokens: chatRequest.maxOutputTokens }),
      },
    });
  }

  private async *events(body: ResponseBody, translator: KiroEventTranslator, signal: AbortSignal): AsyncGenerator<ChatEvent> {
    try {
      for await (const frame of decodeEventStream(body)) {
        yield* translator.translate(frame);
        if (translator.finished) return;
      }
      yield* translator.finish();
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      throw isGatewayError(error) ? error : streamBroken(error);
    } finally {
      // Frees the socket at once when the consumer stops early (client gone) or we stop reading.
      if (!body.destroyed) body.destroy();
    }
  }

  async close(): Promise<void> {
    await this.options.dispatcher.close();
  }
}

function streamBroken(error: unknown): GatewayError {
  const mapped = mapTransportError(error);
  if (mapped.kind === 'timeout') return new GatewayError('timeout', 'Kiro stopped sending mid-answer; the answer is incomplete.', { code: 'upstream_timeout' });
  return new GatewayError('upstream', 'The connection to Kiro broke mid-answer; the answer is incomplete.', {
    code: 'upstream_stream_broken',
    cause: error,
  });
}
