import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { ZodError, ZodIssue } from 'zod';
import { GatewayError, isGatewayError } from '../chat/errors.js';
import type { Logger } from '../logger.js';

// Every error the gateway answers goes through here. The envelope is the face's: each face says
// how a GatewayError looks in its API (status, JSON body, in-band stream event), and the request's
// face is known from its path before anything else runs.

/** How one face renders errors. */
export interface FaceErrors {
  /** The HTTP status of `error` in this face's API. */
  status(error: GatewayError): number;
  /** The JSON error body. */
  body(error: GatewayError): unknown;
  /** The server-sent event(s) that report `error` once a stream has started. */
  streamEvent(error: GatewayError): string;
}

/** The face errors of a request, set by `useFaceErrors` from its path. */
export const faceErrorsOf = (res: Response): FaceErrors => res.locals.faceErrors as FaceErrors;

/** Picks each request's error envelope from its path and headers (first match wins, else `fallback`). */
export function useFaceErrors(faces: readonly { matches: (req: Request) => boolean; errors: FaceErrors }[], fallback: FaceErrors): RequestHandler {
  return (req, res, next) => {
    res.locals.faceErrors = faces.find((face) => face.matches(req))?.errors ?? fallback;
    next();
  };
}

/** Anything thrown → a GatewayError fit for a client. Unexpected errors are logged, never shown. */
export function asGatewayError(error: unknown, logger: Logger): GatewayError {
  if (isGatewayError(error)) return error;
  logger.error({ err: error }, 'unexpected error');
  return new GatewayError('server', 'The gateway hit an unexpected error. It has been logged; please retry.', { code: 'internal_error' });
}

export function sendError(res: Response, error: GatewayError): void {
  const errors = faceErrorsOf(res);
  res.locals.errorCode = error.code ?? error.kind;
  res.locals.errorMessage = error.message;
  if (error.retryAfter !== undefined) res.setHeader('retry-after', String(error.retryAfter));
  if (error.allow) res.setHeader('allow', error.allow);
  res.status(errors.status(error)).json(errors.body(error));
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

/** What a path looks like in a message or a log line: short, printable. */
export const printablePath = (path: string): string => path.replace(/[^\x21-\x7e]/g, '?').slice(0, 200);

export function notFoundHandler(served: string): RequestHandler {
  return (req, res) => {
    res.locals.unmatched = true;
    sendError(res, new GatewayError('not_found', `Unknown route: ${req.method} ${printablePath(req.path)}. This gateway serves ${served}.`, { code: 'unknown_url' }));
  };
}

const isClientHttpError = (error: unknown): boolean => {
  const status = (error as { status?: unknown; statusCode?: unknown })?.status ?? (error as { statusCode?: unknown })?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500;
};

/** A body-parser style failure (ours mirrors its types) → the GatewayError a client should see. */
export function bodyError(error: unknown): GatewayError | undefined {
  const type = (error as { type?: string })?.type;
  if (type === 'entity.parse.failed') return new GatewayError('invalid_request', `The request body is not valid JSON: ${(error as Error).message}`, { code: 'invalid_json' });
  if (type === 'entity.too.large') {
    const limit = (error as { limit?: number }).limit;
    return new GatewayError('payload_too_large', `The request body is larger than the gateway's limit${limit ? ` of ${limit} bytes` : ''} (BODY_LIMIT).`, { code: 'request_too_large' });
  }
  if (type === 'entity.too.deep') return new GatewayError('invalid_request', (error as Error).message, { code: 'too_deeply_nested' });
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') return new GatewayError('invalid_request', (error as Error).message, { code: 'unsupported_encoding' });
  if (type === 'request.timeout') return new GatewayError('timeout', (error as Error).message, { code: 'request_timeout', status: 408 });
  return undefined;
}

/** Express's last handler: body failures and anything a route threw. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const known = bodyError(error);
    if (known) sendError(res, known);
    else if (!isGatewayError(error) && isClientHttpError(error)) {
      // Express flags the client's own mistakes (e.g. a malformed %-escape in the path).
      sendError(res, new GatewayError('invalid_request', `Bad request: ${(error as Error).message}`, { code: 'bad_request' }));
    } else {
      sendError(res, asGatewayError(error, logger));
    }
  };
}
