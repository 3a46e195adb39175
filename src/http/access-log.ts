import type { RequestHandler } from 'express';
import type { Logger } from '../logger.js';

/** One log line per request, written when the response ends (or the client leaves). No headers, no bodies. */
export function accessLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('close', () => {
      const entry = {
        method: req.method,
        path: req.path,
        status: res.statusCode,
        duration_ms: Math.round((performance.now() - started) * 10) / 10,
        model: (req.body as { model?: unknown } | undefined)?.model,
        ...(res.locals.errorCode && { error: res.locals.errorCode }),
        ...(!res.writableFinished && { client_closed: true }),
      };
      if (res.statusCode >= 500) logger.warn(entry, 'request failed');
      else logger.info(entry, 'request');
    });
    next();
  };
}
