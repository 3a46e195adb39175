import express, { type Request, type RequestHandler, type Response } from 'express';
import { MAX_JSON_DEPTH, nestedDeeperThan } from '../chat/json-depth.js';
import { bodyError as toGatewayError } from './errors.js';
import { bodyBuffers, POOLED_FROM } from '../buffers.js';
import { answerUnread } from './early-answer.js';
import { parseJsonBytes } from './json-pieces.js';

/** What JSON counts as white space (and body-parser skips before the first token). */
const JSON_SPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** An error shaped like body-parser's, so the error handler maps both the same way. */
const bodyError = (status: number, type: string, message: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), { status, statusCode: status, expose: true, type, ...extra });

const tooLarge = (limit: number, length: number) => bodyError(413, 'entity.too.large', 'request entity too large', { limit, length });
const tooDeep = () => bodyError(400, 'entity.too.deep', `The request body nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep.`);

/** A charset other than UTF-8 (JSON has no other since RFC 8259, but body-parser knows what to say). */
const OTHER_CHARSET = /;\s*charset\s*=\s*"?(?!utf-?8\b)/i;

export interface JsonBodyOptions {
  /** Largest body, in bytes (after decompression). */
  limit: number;
  /** The whole body must have arrived this long after the request started. */
  timeoutMs: number;
}

/**
 * JSON request bodies, whatever the content type says (`curl -d` sends form-urlencoded). The plain
 * case — an uncompressed UTF-8 body — is read and parsed here; compressed bodies, other charsets and
 * bodiless requests go to body-parser (express.json), whose errors this one mirrors. Why not
 * body-parser for everything: its per-request machinery (content-type parsing, a charset decoder,
 * five stream listeners) measured ~30 µs of the ~450 µs the gateway spends on a whole request.
 *
 * Whichever reads it, a body must arrive within `timeoutMs` (a stalled client is answered 408 and
 * let go), stay under `limit` (413, which the client gets to read), and nest no deeper than
 * MAX_JSON_DEPTH (400).
 */
export function jsonBody(options: JsonBodyOptions): RequestHandler {
  const { limit } = options;
  const general = express.json({ limit, type: () => true });
  // A client sending too much is let finish sending (up to 4× the limit) so it can read its 413.
  const refuseLarge = (req: Request, res: Response, error: Error) => answerUnread(req, res, toGatewayError(error)!, { maxBytes: 4 * limit, ms: options.timeoutMs });

  return (req, res, next) => {
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const bodiless = !chunked && (length === undefined || length === '0');
    if (!bodiless && length !== undefined && Number(length) > limit) return refuseLarge(req, res, tooLarge(limit, Number(length)));

    let settled = false;
    /** Stops whichever reader runs (it sets this). */
    let stopReading = () => undefined as void;
    const deadline = bodiless
      ? undefined
      : setTimeout(() => {
          if (settled) return;
          settled = true;
          stopReading();
          res.setHeader('connection', 'close');
          next(bodyError(408, 'request.timeout', `The request body did not arrive within ${Math.round(options.timeoutMs / 1000)} s (REQUEST_TIMEOUT_MS).`));
        }, options.timeoutMs);
    deadline?.unref();
    const done = (error?: unknown) => {
      clearTimeout(deadline);
      if (error) return next(error);
      if (nestedDeeperThan(req.body)) return next(tooDeep());
      next();
    };

    if (bodiless || req.headers['content-encoding'] || OTHER_CHARSET.test(req.headers['content-type'] ?? '')) {
      stopReading = () => void req.unpipe();
      return general(req, res, (error?: unknown) => {
        if (settled) return;
        settled = true;
        if ((error as { type?: string } | undefined)?.type === 'entity.too.large') {
          clearTimeout(deadline);
          return refuseLarge(req, res, error as Error);
        }
        done(error);
      });
    }

    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (error?: unknown) => {
      if (settled) return;
      settled = true;
      req.off('data', onData).off('end', onEnd).off('error', settle).off('aborted', onAborted);
      if (error && (error as { type?: string }).type === 'entity.too.large') {
        clearTimeout(deadline);
        return refuseLarge(req, res, error as Error);
      }
      // Stop reading what is left; the answer is an error anyway.
      if (error) req.resume();
      done(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle(tooLarge(limit, size));
      else chunks.push(chunk);
    };
    const onEnd = () => {
      const lease = chunks.length > 1 && size >= POOLED_FROM ? bodyBuffers.concat(chunks, size) : undefined;
      let bytes = lease?.bytes ?? (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
      try {
        if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = bytes.subarray(3);
        // As body-parser's strict mode: an empty body is {}, and only an object or an array is JSON here.
        let at = 0;
        while (at < bytes.length && JSON_SPACE.has(bytes[at]!)) at++;
        if (at === bytes.length) {
          req.body = {};
          return settle();
        }
        if (bytes[at] !== 0x7b && bytes[at] !== 0x5b) {
          const first = String.fromCodePoint(bytes.toString('utf8', at, at + 4).codePointAt(0)!);
          return settle(bodyError(400, 'entity.parse.failed', `Unexpected token "${first}": the body must be a JSON object`));
        }
        try {
          req.body = parseJsonBytes(bytes);
        } catch (error) {
          return settle(bodyError(400, 'entity.parse.failed', (error as Error).message));
        }
      } finally {
        lease?.release();
      }
      settle();
    };
    const onAborted = () => settle(bodyError(400, 'request.aborted', 'request aborted'));
    stopReading = () => void req.off('data', onData).off('end', onEnd).off('error', settle).off('aborted', onAborted);
    req.on('data', onData).on('end', onEnd).on('error', settle).on('aborted', onAborted);
  };
}

/**
 * Lets go of the parsed body once the route has its validated copy. The request object lives as
 * long as the answer does (a stream, for minutes), and the parsed body is the whole conversation:
 * kept there, a 400 KB agent request stays on the heap — and is copied by every scavenge — while
 * Kiro answers.
 */
export function releaseBody(req: Request): void {
  req.body = undefined;
}
