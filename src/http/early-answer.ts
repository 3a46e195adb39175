import type { Request, Response } from 'express';
import type { GatewayError } from '../chat/errors.js';
import { sendError } from './errors.js';

// Answering before the body has been read (no key, a body over the limit). Closing the connection
// at once would hand a client that is still sending a reset instead of the answer — the openai
// SDK then retries a "connection error" — so what it sends is read and dropped, up to a cap and a
// deadline, and only a client that goes past them is cut off.

export interface DrainLimits {
  /** Read and drop at most this many bytes… */
  maxBytes: number;
  /** …within this long; past either, the connection is cut. */
  ms: number;
}

/** True when the client is sending (or would send) a body that nobody has read. */
export const hasUnreadBody = (req: Request): boolean =>
  !req.complete && (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0'));

/** Send `error` for a request whose body was not read, draining what follows within `limits`. */
export function answerUnread(req: Request, res: Response, error: GatewayError, limits: DrainLimits): void {
  if (!hasUnreadBody(req)) return sendError(res, error);
  // A client waiting for `100 Continue` sends no body without it: close once answered.
  if (/100-continue/i.test(String(req.headers.expect ?? ''))) {
    res.setHeader('connection', 'close');
    return sendError(res, error);
  }
  let drained = 0;
  const cut = () => {
    clearTimeout(timer);
    req.socket.destroy();
  };
  const timer = setTimeout(cut, limits.ms);
  timer.unref();
  req.on('data', (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > limits.maxBytes) cut();
  });
  req.once('end', () => clearTimeout(timer));
  req.once('error', () => clearTimeout(timer));
  sendError(res, error);
}
