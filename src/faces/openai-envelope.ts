import type { ErrorResponse } from '../../contract/index.js';
import type { ErrorKind, GatewayError } from '../chat/errors.js';
import type { FaceErrors } from '../http/errors.js';

// OpenAI's error envelope, `{"error":{"message","type","param","code"}}`: what the openai SDK,
// the AI SDK and every OpenAI tool parse. Shared by the two OpenAI faces (Chat Completions and
// Responses), which speak the same error language.

const OPENAI_TYPE: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  context_length: 'invalid_request_error',
  authentication: 'invalid_request_error',
  permission: 'permission_error',
  not_found: 'invalid_request_error',
  payload_too_large: 'invalid_request_error',
  rate_limit: 'rate_limit_error',
  quota: 'insufficient_quota',
  upstream: 'upstream_error',
  upstream_auth: 'upstream_error',
  unavailable: 'service_unavailable_error',
  timeout: 'timeout_error',
  server: 'server_error',
};

export function toOpenAIError(error: GatewayError): ErrorResponse {
  return { error: { message: error.message, type: OPENAI_TYPE[error.kind], param: error.param, code: error.code } };
}

/** OpenAI's statuses are the neutral ones; after a stream started, one `data: {"error":…}` event. */
export const openaiErrors: FaceErrors = {
  status: (error) => error.status,
  body: toOpenAIError,
  streamEvent: (error) => `data: ${JSON.stringify(toOpenAIError(error))}\n\n`,
};
