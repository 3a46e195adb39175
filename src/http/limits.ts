import type { Request, RequestHandler, Response } from 'express';
import { rateLimit, type Store } from 'express-rate-limit';
import { GatewayError } from '../chat/errors.js';
import { sendError } from './errors.js';

/** The client a request counts against: set by authenticate() (a key's hash, or the address when auth is off). */
const clientOf = (req: Request): string => ((req.res as Response | undefined)?.locals.client as string | undefined) ?? `ip:${req.socket.remoteAddress ?? 'unknown'}`;

/** At most `perMinute` requests per client and minute; over that, 429 with retry-after in the face's shape. */
export const requestsPerMinute = (perMinute: number, store?: Store): RequestHandler => requestsPerWindow(perMinute, 60_000, store);

/** `store`: where the counts live (this process by default; Redis when several replicas share them). */
export function requestsPerWindow(limit: number, windowMs: number, store?: Store): RequestHandler {
  const per = windowMs === 60_000 ? 'minute' : `${windowMs} ms`;
  return rateLimit({
    windowMs,
    limit,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: clientOf,
    validate: false,
    ...(store && { store }),
    handler: (req, res) => {
      const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
      const retryAfter = reset ? Math.max(1, Math.ceil((reset.getTime() - Date.now()) / 1000)) : 60;
      sendError(res, new GatewayError('rate_limit', `Rate limit reached: ${limit} requests per ${per} for this API key (RATE_LIMIT_RPM). Retry in ${retryAfter} s.`, { code: 'rate_limit_exceeded', retryAfter }));
    },
  });
}

/**
 * Open-stream slots shared by several replicas: a release function when one was free, false when
 * all are taken, undefined when the shared count cannot be reached (the replica counts alone).
 */
export interface StreamSlots {
  take(client: string): Promise<(() => void) | false | undefined>;
}

/** At most `max` open streams per client; the next one gets 429 until one ends. */
export function concurrentStreams(max: number, shared?: StreamSlots): RequestHandler {
  const open = new Map<string, number>();
  const refuse = (res: Response) =>
    sendError(res, new GatewayError('rate_limit', `Too many open streams: at most ${max} at once for this API key (MAX_CONCURRENT_STREAMS).`, { code: 'concurrency_limit_exceeded', retryAfter: 1 }));
  const local = (key: string): (() => void) | false => {
    const count = open.get(key) ?? 0;
    if (count >= max) return false;
    open.set(key, count + 1);
    return () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    };
  };
  return (req, res, next) => {
    if ((req.body as { stream?: unknown } | undefined)?.stream !== true) return next();
    const key = clientOf(req);
    const admit = (release: (() => void) | false) => {
      if (!release) return refuse(res);
      res.once('close', release);
      next();
    };
    if (!shared) return admit(local(key));
    shared.take(key).then(
      (release) => admit(release === undefined ? local(key) : release),
      () => admit(local(key)),
    );
  };
}
