/** Neutral error kinds; each face maps them to its own envelope. */
export type ErrorKind =
  | 'invalid_request'
  | 'authentication'
  | 'permission'
  | 'not_found'
  | 'payload_too_large'
  | 'context_length'
  | 'rate_limit'
  | 'quota'
  | 'upstream'
  | 'upstream_auth'
  | 'unavailable'
  | 'timeout'
  | 'server';

const STATUS: Record<ErrorKind, number> = {
  invalid_request: 400,
  context_length: 400,
  authentication: 401,
  permission: 403,
  not_found: 404,
  payload_too_large: 413,
  rate_limit: 429,
  quota: 429,
  server: 500,
  upstream: 502,
  upstream_auth: 503,
  unavailable: 503,
  timeout: 504,
};

export interface GatewayErrorOptions {
  code?: string | null;
  param?: string | null;
  /** Seconds, for 429/503. */
  retryAfter?: number;
  status?: number;
  /** The methods a 405 allows. */
  allow?: string;
  cause?: unknown;
}

/** An error a client should see, with a message that is safe to show (no secrets). */
export class GatewayError extends Error {
  readonly kind: ErrorKind;
  readonly status: number;
  readonly code: string | null;
  readonly param: string | null;
  readonly retryAfter: number | undefined;
  readonly allow: string | undefined;

  constructor(kind: ErrorKind, message: string, options: GatewayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.kind = kind;
    this.status = options.status ?? STATUS[kind];
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.retryAfter = options.retryAfter;
    this.allow = options.allow;
  }
}

export const isGatewayError = (error: unknown): error is GatewayError => error instanceof GatewayError;
