import { Readable } from 'node:stream';
import type { Response } from 'express';

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
export function sseBody(res: Response, sseText: AsyncIterable<string>, options: SseOptions, onClientClose: () => void): Readable {
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache, no-transform');
  if (!/\bclose\b/i.test(String(res.req.headers.connection ?? ''))) res.setHeader('connection', 'keep-alive');
  res.setHeader('x-accel-buffering', 'no');

  let closed = false;
  let lastWrite = 0;
  const write = async (text: string) => {
    lastWrite = performance.now();
    if (res.write(text)) return;
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
