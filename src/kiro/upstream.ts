import { randomUUID } from 'node:crypto';
import { request, type Dispatcher } from 'undici';
import { GatewayError, isGatewayError } from '../chat/errors.js';
import { countTokens } from '../chat/tokens.js';
import type { ChatEvent, ChatRequest, ChatUpstream, CredentialStatus, ModelInfo } from '../chat/types.js';
import type { CredentialProvider } from '../credentials/types.js';
import { mapKiroHttpError, mapTransportError } from './errors.js';
import { decodeEventStream } from './eventstream.js';
import { KiroEventTranslator } from './events.js';
import { kiroHeaders, machineIdFor } from './headers.js';
import { KIRO_MODELS } from './models.js';
import { buildKiroRequest, kiroPromptText } from './request.js';

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

  async stream(chatRequest: ChatRequest, signal: AbortSignal): Promise<AsyncIterable<ChatEvent>> {
    const credentials = await this.options.credentials.getCredentials();
    const built = buildKiroRequest(chatRequest, { conversationId: randomUUID(), ...(credentials.profileArn && { profileArn: credentials.profileArn }) });
    let response: Dispatcher.ResponseData;
    try {
      response = await request(this.url, {
        method: 'POST',
        headers: kiroHeaders(credentials.accessToken, machineIdFor(credentials.fingerprint)),
        body: built.json,
        dispatcher: this.options.dispatcher,
        signal,
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason ?? error;
      throw mapTransportError(error);
    }
    if (response.statusCode !== 200) {
      const text = await response.body.text().catch(() => '');
      throw mapKiroHttpError(response.statusCode, text, response.headers['retry-after']);
    }
    const translator = new KiroEventTranslator({
      promptTokens: () => countTokens(kiroPromptText(built.body)),
      toolNames: built.toolNames,
      thinking: chatRequest.reasoning !== undefined,
      limits: {
        ...(chatRequest.stop && { stop: chatRequest.stop }),
        ...(chatRequest.maxOutputTokens !== undefined && { maxTokens: chatRequest.maxOutputTokens }),
      },
    });
    return this.events(response.body, translator, signal);
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
