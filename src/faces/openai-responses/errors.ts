import type { GatewayError } from '../../chat/errors.js';
import type { FaceErrors } from '../../http/errors.js';
import { toOpenAIError } from '../openai-envelope.js';

// The Responses face speaks OpenAI's envelope, with the one code Codex compacts on: any
// conversation too long for Kiro — Kiro's own refusal, or the gateway's size check — is
// `context_length_exceeded`.

const named = (error: GatewayError) => {
  const body = toOpenAIError(error);
  if (error.kind === 'context_length') body.error.code = 'context_length_exceeded';
  return body;
};

export const responsesErrors: FaceErrors = {
  status: (error) => error.status,
  body: named,
  streamEvent: (error) => `event: error\ndata: ${JSON.stringify({ type: 'error', code: named(error).error.code, message: error.message, param: error.param, sequence_number: 0 })}\n\n`,
};
