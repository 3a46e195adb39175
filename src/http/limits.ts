import type { Request, RequestHandler, Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import { GatewayError } from '../chat/errors.js';
import { sendError } from './errors.js';

/** The client a request counts against: set by authenticate() (a key's hash, or the address when auth is off). */
const clientOf = (req: Request): string => ((req.res as Response | undefined)?.locals.client as string | undefined) ?? `ip:${req.socket.remoteAddress ?? 'unknown'}`;

/** At most `perMinute` requests per client and minute; over that, 429 with retry-after in the face's shape. */
export const requestsPerMinute = (perMinute: number): RequestHandler => requestsPerWindow(perMinute, 60_000);

export function requestsPerWindow(limit: number, windowMs: number): RequestHandler {
  const per = windowMs === 60_000 ? 'minute' : `${windowMs} ms`;
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: clientOf,
    validate: false,
    handler: (req, res) => {
      const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const retryAfter = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : 60;
      sendError(res, new GatewayError('rate_limit', `Rate limit reached: ${limit} requests per ${per} for this API key (RATE_LIMIT_RPM). Retry in ${retryAfter} s.`, { code: 'rate_limit_exceeded', retryAfter }));
    },
  });
}

/** At most `max` open streams per client; the next one gets 429 until one ends. */
export function concurrentStreams(max: number): RequestHandler {
  const open = new Map<string, number>();
  return (req, res, next) => {
    if ((req.body as { stream?: unknown } | undefined)?.stream !== true) return next();
    const key = clientOf(req);
    const count = open.get(key) ?? 0;
    if (count >= max) {
      sendError(res, new GatewayError('rate_limit', `Too many open streams: at most ${max} at once for this API key (MAX_CONCURRENT_STREAMS).`, { code: 'concurrency_limit_exceeded', retryAfter: 1 }));
      return;
    }
    open.set(key, count + 1);
    res.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
    next();
  };
}
