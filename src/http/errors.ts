import type { ErrorRequestHandler, RequestHandler, Response } from 'express';
import type { ZodError, ZodIssue } from 'zod';
import type { ErrorResponse } from '../../contract/index.js';
import { GatewayError, isGatewayError, type ErrorKind } from '../chat/errors.js';
import type { Logger } from '../logger.js';

// Every error the gateway answers goes through this file, so every one has OpenAI's envelope.

const OPENAI_TYPE: Record<ErrorKind, string> = {
  invalid_request: 'invalid_request_error',
  context_length: 'invalid_request_error',
  authentication: 'invalid_request_error',
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

export function toErrorResponse(error: GatewayError): ErrorResponse {
  return { error: { message: error.message, type: OPENAI_TYPE[error.kind], param: error.param, code: error.code } };
}

/** Anything thrown → a GatewayError fit for a client. Unexpected errors are logged, never shown. */
export function asGatewayError(error: unknown, logger: Logger): GatewayError {
  if (isGatewayError(error)) return error;
  logger.error({ err: error }, 'unexpected error');
  return new GatewayError('server', 'The gateway hit an unexpected error. It has been logged; please retry.', { code: 'internal_error' });
}

export function sendError(res: Response, error: GatewayError): void {
  res.locals.errorCode = error.code ?? error.kind;
  if (error.retryAfter !== undefined) res.setHeader('retry-after', String(error.retryAfter));
  res.status(error.status).json(toErrorResponse(error));
}

/** The most specific zod issue: union failures name the branch that came closest. */
function specificIssue(issue: ZodIssue): ZodIssue {
  if (issue.code !== 'invalid_union') return issue;
  const candidates = issue.unionErrors.flatMap((e) => e.issues).map(specificIssue);
  const best = candidates.sort((a, b) => b.path.length - a.path.length)[0];
  return best ?? issue;
}

export function validationError(zodError: ZodError, where: 'body' | 'query' | 'path' | 'headers'): GatewayError {
  const issue = specificIssue(zodError.issues[0]!);
  const param = issue.path.join('.') || null;
  const label = param ?? (where === 'body' ? 'request body' : where);
  return new GatewayError('invalid_request', `Invalid ${label}: ${issue.message}`, { param, code: 'invalid_value' });
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendError(
    res,
    new GatewayError('not_found', `Unknown route: ${req.method} ${req.path}. This gateway serves /v1/chat/completions, /v1/models, /health and /docs.`, {
      code: 'unknown_url',
    }),
  );
};

const isClientHttpError = (error: unknown): boolean => {
  const status = (error as { status?: unknown; statusCode?: unknown })?.status ?? (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
};

/** Express's last handler: body-parser failures and anything a route threw. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const type = (error as { type?: string })?.type;
    if (type === 'entity.parse.failed') {
      sendError(res, new GatewayError('invalid_request', `The request body is not valid JSON: ${(error as Error).message}`, { code: 'invalid_json' }));
    } else if (type === 'entity.too.large') {
      const limit = (error as { limit?: number }).limit;
      sendError(
        res,
        new GatewayError('payload_too_large', `The request body is larger than the gateway's limit${limit ? ` of ${limit} bytes` : ''} (BODY_LIMIT).`, {
          code: 'request_too_large',
        }),
      );
    } else if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      sendError(res, new GatewayError('invalid_request', (error as Error).message, { code: 'unsupported_encoding' }));
    } else if (!isGatewayError(error) && isClientHttpError(error)) {
      // Express and body-parser flag the client's own mistakes (e.g. a malformed %-escape in the path).
      sendError(res, new GatewayError('invalid_request', `Bad request: ${(error as Error).message}`, { code: 'bad_request' }));
    } else {
      sendError(res, asGatewayError(error, logger));
    }
  };
}
