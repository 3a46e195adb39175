import { PassThrough } from 'node:stream';
import type { Response } from 'express';

export interface SseOptions {
  /** Send a `: keep-alive` comment after this long without any other write. */
  keepAliveMs: number;
  /** Turns an error thrown by `sseText` into the JSON of one in-band `data:` event. */
  errorEvent: (error: unknown) => unknown;
  /** Called once the stream is over, however it ended. */
  onEnd?: (outcome: 'done' | 'error' | 'client_closed') => void;
}

const DONE = 'data: [DONE]\n\n';
const KEEP_ALIVE = ': keep-alive\n\n';

/**
 * Writes `sseText` (ready `data: …\n\n` events) as a server-sent-event stream and returns the body
 * stream for ts-rest, which pipes it into `res`. Each piece leaves as soon as it is produced, in
 * one write; backpressure from a slow client pauses the producer. After the last piece comes
 * `data: [DONE]`; an error becomes one in-band `data: {"error":…}` event. If the client goes away,
 * `onClientClose` runs (to abort the upstream) and nothing more is written.
 */
export function sseBody(res: Response, sseText: AsyncIterable<string>, options: SseOptions, onClientClose: () => void): PassThrough {
  res.setHeader('content-type', 'text/event-stream; charset=utf-8');
  res.setHeader('cache-control', 'no-cache, no-transform');
  res.setHeader('connection', 'keep-alive');
  res.setHeader('x-accel-buffering', 'no');
  res.flushHeaders();

  const body = new PassThrough();
  let closed = false;
  let lastWrite = Date.now();
  const write = async (text: string) => {
    lastWrite = Date.now();
    if (body.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        body.off('drain', done).off('close', done);
        resolve();
      };
      body.on('drain', done).on('close', done);
    });
  };
  const keepAlive = setInterval(() => {
    if (!closed && Date.now() - lastWrite >= options.keepAliveMs) void write(KEEP_ALIVE);
  }, Math.max(10, Math.floor(options.keepAliveMs / 2)));
  keepAlive.unref();

  res.once('close', () => {
    if (res.writableFinished) return;
    closed = true;
    onClientClose();
    body.destroy();
  });

  void (async () => {
    let outcome: 'done' | 'error' | 'client_closed' = 'done';
    try {
      for await (const text of sseText) {
        if (closed) break;
        await write(text);
      }
      if (!closed) await write(DONE);
    } catch (error) {
      outcome = 'error';
      if (!closed) await write(`data: ${JSON.stringify(options.errorEvent(error))}\n\n`).catch(() => undefined);
    } finally {
      clearInterval(keepAlive);
      if (closed) outcome = 'client_closed';
      body.end();
      options.onEnd?.(outcome);
    }
  })();
  return body;
}
