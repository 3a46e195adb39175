import { GatewayError } from '../chat/errors.js';

/** Seconds from a `retry-after` header (seconds or HTTP date), if any. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - now) / 1000));
}

function readBody(text: string): { message: string; reason: string } {
  try {
    const body = JSON.parse(text) as { message?: unknown; Message?: unknown; reason?: unknown; error?: { reason?: unknown } };
    const message = typeof body.message === 'string' ? body.message : typeof body.Message === 'string' ? body.Message : '';
    const reason = typeof body.reason === 'string' ? body.reason : typeof body.error?.reason === 'string' ? body.error.reason : '';
    return { message, reason };
  } catch {
    return { message: text.slice(0, 300), reason: '' };
  }
}

/** A non-200 answer from generateAssistantResponse → the error a client should see (§6). */
export function mapKiroHttpError(status: number, bodyText: string, retryAfterHeader?: string | string[]): GatewayError {
  const { message, reason } = readBody(bodyText);
  const said = message ? ` Kiro said: "${message}"` : '';
  const retryAfter = parseRetryAfter(retryAfterHeader);

  if (reason === 'CONTENT_LENGTH_EXCEEDS_THRESHOLD' || /input is too long/i.test(message)) {
    return new GatewayError(
      'context_length',
      'The conversation is longer than the model\'s context window on Kiro. Shorten or compact the history and retry.' + said,
      { code: 'context_length_exceeded', param: 'messages' },
    );
  }
  if (/profileArn is required/i.test(message)) {
    return new GatewayError(
      'unavailable',
      'Kiro needs a profile ARN for this account. Set KIRO_PROFILE_ARN (arn:aws:codewhisperer:…:profile/…), or log in to the Kiro IDE so the token file carries one.',
      { code: 'profile_arn_required' },
    );
  }
  if (/INSUFFICIENT_MODEL_CAPACITY/.test(bodyText)) {
    return new GatewayError('unavailable', 'Kiro has no capacity for this model right now; retry shortly.' + said, {
      code: 'upstream_overloaded',
      retryAfter: retryAfter ?? 5,
    });
  }
  switch (status) {
    case 400:
      return new GatewayError('invalid_request', `Kiro rejected the request (${reason || 'no reason given'}).${said}`, {
        code: reason ? reason.toLowerCase() : 'upstream_bad_request',
      });
    case 401:
    case 403:
      return new GatewayError(
        'upstream_auth',
        'Kiro rejected the access token: it expired or was revoked, or the profile ARN does not belong to it. ' +
          'Log in to Kiro again (or check KIRO_PROFILE_ARN).',
        { code: 'upstream_token_invalid' },
      );
    case 402:
      return new GatewayError('quota', `The Kiro account is out of quota${reason ? ` (${reason})` : ''}; it resets with the billing period.`, {
        code: 'insufficient_quota',
      });
    case 429:
      return new GatewayError('rate_limit', 'Kiro is rate-limiting this account; retry after a pause.' + said, {
        code: 'rate_limit_exceeded',
        // Kiro's throttling is often per account and lasts; tell clients the same rest the pool takes.
        retryAfter: retryAfter ?? 10,
      });
    case 408:
    case 504:
      return new GatewayError('timeout', `Kiro timed out (HTTP ${status}).`, { code: 'upstream_timeout' });
    default:
      if (status === 502) {
        return new GatewayError('upstream', `Kiro's front door failed (HTTP 502).${said}`, { code: 'upstream_bad_gateway' });
      }
      if (status === 503) {
        return new GatewayError('unavailable', `Kiro is temporarily unavailable (HTTP 503).${said}`, {
          code: 'upstream_unavailable',
          retryAfter: retryAfter ?? 1,
        });
      }
      return new GatewayError('upstream', `Kiro answered HTTP ${status}.${said}`, { code: 'upstream_error' });
  }
}

/** A transport failure (no HTTP answer) → a client error. undici reports timeouts by code. */
export function mapTransportError(error: unknown): GatewayError {
  const code = (error as { code?: string })?.code ?? '';
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || (error as Error)?.name === 'TimeoutError') {
    return new GatewayError('timeout', 'Kiro did not answer in time.', { code: 'upstream_timeout', cause: error });
  }
  const detail = code || (error instanceof Error ? error.message : 'unknown error');
  return new GatewayError('upstream', `Could not reach Kiro (${detail}).`, { code: 'upstream_unreachable', cause: error });
}
