import { Readable } from 'node:stream';
import type { Response } from 'express';

/**
 * Ready server-sent event text: a string, or pieces some of which are bytes already encoded —
 * what a stream repeats, such as the Responses echoes of an agent's 75 KB of instructions and
 * tools, is encoded once and written from the same bytes every time.
 */
export type SseText = string | readonly (string | Uint8Array)[];

/** `a` then `b`, as one SseText. */
export function joinSse(a: SseText, b: SseText): SseText {
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  return [...(typeof a === 'string' ? [a] : a), ...(typeof b === 'string' ? [b] : b)];
}

/** The SseText as one string (for what is not streamed, and for tests). */
export function sseString(text: SseText): string {
  return typeof text === 'string' ? text : text.map((piece) => (typeof piece === 'string' ? piece : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength).toString('utf8'))).join('');
}

export interface SseOptions {
  /** Send `keepAliveText` after this long without any other write. */
  keepAliveMs: number;
  /** What keeps a silent stream alive: a comment (OpenAI), or a ping event (Anthropic). */
  keepAliveText: string;
  /** Send the headers at once, instead of with the first piece (when that may take a while). */
  headersFirst: boolean;
  /** Written after the last piece when the stream ended well (OpenAI's `data: [DONE]`), or nothing. */
  endText: string;
  /** Turns an error thrown by `sseText` into the face's in-band error event(s). */
  errorEvent: (error: unknown) => string;
}

/**
 * The body ts-rest gets for a stream. ts-rest sends a Stream body with `body.pipe(res)`; instead
 * of feeding an intermediate stream, `pipe` hands over `res` and the writer writes to it
 * directly — one hop less for every chunk of every stream.
 */
class DirectSseBody extends Readable {
  constructor(private readonly begin: () => void) {
    super({ read() {} });
  }

  override pipe<T extends NodeJS.WritableStream>(destination: T): T {
    this.begin();
    return destination;
  }
}

/**
 * Streams `sseText` (ready server-sent event text) to `res`. Each piece leaves as soon as it is
 * produced, in one write; a slow client pauses the producer (backpressure). After the last piece
 * comes `endText`; an error becomes the face's in-band error event. A silent stream gets
 * keep-alives. If the client goes away, `onClientClose` runs (to abort the upstream) and nothing
 * more is written. A client that asked for `Connection: close` gets it after the stream.
 */
export function sseBody(res: Response, sseText: AsyncIterable<SseText>, options: SseOptions, onClientClose: () => void): Readable {
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache, no-transform');
  if (!/\bclose\b/i.test(String(res.req.headers.connection ?? ''))) res.setHeader('connection', 'keep-alive');
  res.setHeader('x-accel-buffering', 'no');

  let closed = false;
  let lastWrite = 0;
  const write = async (text: SseText) => {
    lastWrite = performance.now();
    let room = true;
    if (typeof text === 'string') room = res.write(text);
    else {
      // The pieces leave in one write to the socket.
      res.cork();
      for (const piece of text) room = res.write(piece);
      res.uncork();
    }
    if (room) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        res.off('drain', done).off('close', done);
        resolve();
      };
      res.on('drain', done).on('close', done);
    });
  };

  const run = async () => {
    if (options.headersFirst) res.flushHeaders();
    lastWrite = performance.now();
    const keepAlive = setInterval(() => {
      if (!closed && performance.now() - lastWrite >= options.keepAliveMs) void write(options.keepAliveText);
    }, Math.max(10, Math.floor(options.keepAliveMs / 2)));
    keepAlive.unref();
    res.once('close', () => {
      if (res.writableFinished) return;
      closed = true;
      onClientClose();
    });
    try {
      for await (const text of sseText) {
        if (closed) break;
        await write(text);
      }
      if (!closed && options.endText) await write(options.endText);
    } catch (error) {
      if (!closed) await write(options.errorEvent(error)).catch(() => undefined);
    } finally {
      clearInterval(keepAlive);
      if (!closed) res.end();
    }
  };
  return new DirectSseBody(() => void run());
}
