import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ImageFetcher, imageFromDataUri, sniffImageType } from '../src/chat/images.js';

import { PNG_1X1 } from './fixtures/images.js';
const JPEG_HEAD = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10, 0x4a, 0x46, 0x49, 0x46]);
const GIF_HEAD = Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1');
const WEBP_HEAD = Buffer.concat([Buffer.from('RIFF'), Buffer.from([4, 0, 0, 0]), Buffer.from('WEBPVP8 ')]);

describe('image bytes', () => {
  it('are recognised by their magic numbers', () => {
    assert.equal(sniffImageType(Buffer.from(PNG_1X1, 'base64')), 'image/png');
    assert.equal(sniffImageType(JPEG_HEAD), 'image/jpeg');
    assert.equal(sniffImageType(GIF_HEAD), 'image/gif');
    assert.equal(sniffImageType(WEBP_HEAD), 'image/webp');
    assert.equal(sniffImageType(Buffer.from('hello world')), undefined);
  });

  it('a declared type that does not match the bytes is corrected', () => {
    assert.deepEqual(imageFromDataUri(`data:image/jpeg;base64,${PNG_1X1}`, 'p'), { mediaType: 'image/png', data: PNG_1X1 });
  });

  it('non-images and bad base64 are a 400 naming the parameter', () => {
    assert.throws(() => imageFromDataUri('data:image/png;base64,aGVsbG8=', 'messages.0.content.1.image_url.url'), (e: Error & { param?: string; code?: string }) => e.param === 'messages.0.content.1.image_url.url' && e.code === 'invalid_image' && /declared as image\/png/.test(e.message));
    assert.throws(() => imageFromDataUri('data:image/png;base64,%%%', 'p'), /valid base64/);
    assert.throws(() => imageFromDataUri('data:image/png,rawbytes', 'p'), /data:image\/png;base64/);
  });
});

describe('image URLs', () => {
  let url = '';
  const server = createServer((req, res) => {
    if (req.url === '/pic.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.from(PNG_1X1, 'base64'));
    if (req.url === '/big.png') return res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(5000, 1));
    if (req.url === '/chunked') {
      res.writeHead(200, { 'content-type': 'image/png' });
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(1000, 1));
      return res.end();
    }
    if (req.url === '/slow') return void setTimeout(() => res.end(), 2000);
    res.writeHead(404).end();
  });
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  // The test server is on loopback, which only IMAGE_URL_ALLOW_PRIVATE lets a download reach.
  const fetcher = new ImageFetcher({ maxBytes: 4096, timeoutMs: 300, maxPerRequest: 10, maxTotalBytes: 1 << 20, allowPrivate: true });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await fetcher.close();
  });
  const load = (target: string, param: string) => fetcher.forRequest(new AbortController().signal)(target, param);

  it('are downloaded and checked', async () => {
    assert.deepEqual(await load(`${url}/pic.png`, 'p'), { mediaType: 'image/png', data: PNG_1X1 });
  });

  it('over the size cap, missing, or slow are a 400 that says why', async () => {
    await assert.rejects(load(`${url}/big.png`, 'p'), (e: Error & { code?: string }) => e.code === 'image_too_large');
    await assert.rejects(load(`${url}/chunked`, 'p'), (e: Error & { code?: string }) => e.code === 'image_too_large');
    await assert.rejects(load(`${url}/missing.png`, 'p'), /HTTP 404/);
    await assert.rejects(load(`${url}/slow`, 'p'), /no answer within 300 ms|timeout/);
  });
});
