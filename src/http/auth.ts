import { hash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import { GatewayError } from '../chat/errors.js';
import { answerUnread } from './early-answer.js';

const digest = (key: string) => hash('sha256', key, 'buffer');

/** The key a client presented: `Authorization: Bearer <key>` or `x-api-key: <key>`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (authorization) {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    return match ? match[1]!.trim() : authorization.trim();
  }
  const apiKey = headers['x-api-key'];
  return Array.isArray(apiKey) ? apiKey[0] : apiKey;
}

export type KeyChecker = (headers: IncomingHttpHeaders) => GatewayError | undefined;

/**
 * A checker for the configured keys. Compares SHA-256 digests with timingSafeEqual against every
 * key, without stopping at the first match, so the time taken says nothing about the keys.
 * `keys === null` means auth is off.
 */
export function createKeyChecker(keys: readonly string[] | null): KeyChecker {
  if (keys === null) return () => undefined;
  const digests = keys.map(digest);
  return (headers) => {
    const key = presentedKey(headers);
    if (!key) {
      return new GatewayError('authentication', 'Missing API key. Send it as "Authorization: Bearer <key>" or "x-api-key: <key>" (the gateway\'s API_KEY).', {
        code: 'invalid_api_key',
      });
    }
    const presented = digest(key);
    let ok = false;
    for (const d of digests) ok = timingSafeEqual(d, presented) || ok;
    return ok ? undefined : new GatewayError('authentication', 'Incorrect API key provided. Use one of the keys in the gateway\'s API_KEY.', { code: 'invalid_api_key' });
  };
}

/**
 * Who a request is, for per-client limits and caches: a hash of its API key (never the key), or
 * its address when auth is off — then any client can send any key, and a key would let it dodge
 * its limits.
 */
export function clientIdentity(req: IncomingMessage, authOff: boolean): string {
  const key = authOff ? undefined : presentedKey(req.headers);
  return key ? `key:${hash('sha256', key, 'hex').slice(0, 16)}` : `ip:${req.socket.remoteAddress ?? 'unknown'}`;
}

export interface AuthOptions {
  keys: readonly string[] | null;
  /** Requests that need no key (health, docs, …). */
  isPublic: (req: Request) => boolean;
  /** Failed key checks allowed per address and minute before 429 (0: no limit). */
  failuresPerMinute: number;
  /** How long a refused client may go on sending its body (a megabyte at most) before it is cut off. */
  drainMs: number;
}

/**
 * Runs before the body is read: a request without a valid key is answered 401 at once, and its
 * body is never parsed (only drained a little, so the client can read the answer). Too many
 * failures from one address get 429. Marks `res.locals.authenticated` (a public route shows more to
 * a caller with a key) and `res.locals.client`.
 */
export function authenticate(options: AuthOptions): RequestHandler {
  const check = createKeyChecker(options.keys);
  const drain = { maxBytes: 1024 * 1024, ms: options.drainMs };
  const authOff = options.keys === null;
  const failures = options.failuresPerMinute > 0
    ? rateLimit({
        windowMs: 60_000,
        limit: options.failuresPerMinute,
        standardHeaders: false,
        legacyHeaders: false,
        keyGenerator: (req) => `ip:${req.socket.remoteAddress ?? 'unknown'}`,
        validate: false,
        handler: (req, res) => {
          const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
          const retryAfter = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : 60;
          answerUnread(req, res, new GatewayError('rate_limit', `Too many requests without a valid API key from this address; retry in ${retryAfter} s.`, { code: 'rate_limit_exceeded', retryAfter }), drain);
        },
      })
    : undefined;
  return (req, res, next) => {
    res.locals.client = clientIdentity(req, authOff);
    const failure = check(req.headers);
    res.locals.authenticated = failure === undefined;
    if (!failure || options.isPublic(req)) return next();
    const refuse = () => answerUnread(req, res, failure, drain);
    if (failures) failures(req, res, refuse);
    else refuse();
  };
}
