import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { Response } from 'express';
import { joinSse, sseBody, sseString, type SseText } from '../src/http/sse.js';
import { countAllTokensAsync, promptCounter } from '../src/chat/tokens.js';

describe('SSE text in pieces', () => {
  const bytes = Buffer.from('data: {"echo":"漢字 😀"}\n\n');

  it('joins and reads back text and ready bytes in order', () => {
    assert.equal(joinSse('a', 'b'), 'ab');
    assert.equal(joinSse('', ['x', bytes]).length, 2);
    assert.equal(sseString(joinSse(['x', bytes], 'y')), `x${bytes.toString()}y`);
    assert.equal(sseString(joinSse('a', [bytes.subarray(6, 12)])), `a${bytes.subarray(6, 12).toString()}`, 'a view reads only its own bytes');
  });

  it('writes the pieces to the client exactly, one event after another', async () => {
    const events: SseText[] = ['event: a\ndata: 1\n\n', ['event: b\ndata: ', bytes], ['', bytes, 'event: c\n\n']];
    const server = createServer((_req, res) => {
      async function* text() {
        yield* events;
      }
      sseBody(res as unknown as Response, text(), { keepAliveMs: 60_000, keepAliveText: ': ka\n\n', headersFirst: false, endText: 'data: [DONE]\n\n', errorEvent: () => '' }, () => undefined).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
      assert.equal(await response.text(), events.map(sseString).join('') + 'data: [DONE]\n\n');
    } finally {
      server.close();
    }
  });
});

describe('promptCounter: counts known texts at once, the rest when asked', () => {
  it('gives what countAllTokensAsync gives, for texts the cache knows and texts it does not', async () => {
    const known = `${'A sentence the cache will know. '.repeat(40)}${Date.now()}`;
    await countAllTokensAsync([known]);
    const fresh = `${'Something nobody counted yet, '.repeat(30)}${Math.random()}`;
    const texts = [known, fresh, 'short', '', known];
    const count = promptCounter(texts);
    const expected = await countAllTokensAsync([known, fresh, 'short', '', known]);
    assert.equal(await count(), expected);
    assert.equal(count(), count(), 'counted once, however often asked');
  });
});
