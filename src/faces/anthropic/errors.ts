import type { AnthropicErrorResponse } from '../../../contract/index.js';
import { GatewayError, type ErrorKind } from '../../chat/errors.js';
import type { FaceErrors } from '../../http/errors.js';

// Anthropic's error envelope, `{"type":"error","error":{"type","message"}}`, with the statuses
// and types Claude Code and the Anthropic SDKs react to: 529 overloaded_error is retried with
// backoff, 429 rate_limit_error honours retry-after, 401/403 send the user to /login — so Kiro's
// own account trouble is a 503 api_error, never a 401 or 403 that would send them there for nothing.

const TYPE: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  context_length: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  payload_too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  quota: 'rate_limit_error',
  upstream: 'api_error',
  upstream_auth: 'api_error',
  unavailable: 'api_error',
  timeout: 'timeout_error',
  server: 'api_error',
};

/** Kiro out of capacity: Anthropic's "overloaded", which clients back off and retry. */
const OVERLOADED = new Set(['upstream_overloaded', 'upstream_unavailable']);

export const anthropicStatus = (error: GatewayError): number => (OVERLOADED.has(error.code ?? '') ? 529 : error.status);

export function toAnthropicError(error: GatewayError): AnthropicErrorResponse {
  return { type: 'error', error: { type: OVERLOADED.has(error.code ?? '') ? 'overloaded_error' : TYPE[error.kind], message: error.message } };
}

export const anthropicErrors: FaceErrors = {
  status: anthropicStatus,
  body: toAnthropicError,
  streamEvent: (error) => `event: error\ndata: ${JSON.stringify(toAnthropicError(error))}\n\n`,
};

/**
 * A conversation Kiro finds too long, worded the one way Claude Code recognises — `prompt is too
 * long: <N> tokens > <M> maximum` — so it compacts its context and goes on; Kiro's own wording
 * follows. N is the gateway's count of what it sent; Kiro refused it, so it is never shown below
 * the window (Kiro's real limit sits under the nominal one).
 */
export function promptTooLong(error: GatewayError, promptTokens: number, contextWindow: number): GatewayError {
  const shown = Math.max(promptTokens, contextWindow + 1);
  return new GatewayError('context_length', `prompt is too long: ${shown} tokens > ${contextWindow} maximum. ${error.message}`, {
    code: error.code ?? 'context_length_exceeded',
    param: error.param,
  });
}
