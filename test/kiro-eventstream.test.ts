import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { decodeFrame, encodeEvent, encodeException, MessageFramer } from '../src/kiro/eventstream.js';

// The worked example of kiro-protocol.md §5.1 (verified there with botocore's decoder).
const WORKED_EXAMPLE =
  '0000007c0000005c3bddcf780b3a6576656e742d74797065070016617373697374616e74526573706f6e73654576656e740d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d747970650700056576656e747b22636f6e74656e74223a224869227db02babdc';

const sample = (): Buffer =>
  Buffer.concat([
    encodeEvent('assistantResponseEvent', { content: 'Hello' }),
    encodeEvent('assistantResponseEvent', { content: ', wörld ✓' }),
    encodeEvent('toolUseEvent', { name: 'get_weather', toolUseId: 't1', input: '{"city":' }),
    encodeEvent('toolUseEvent', { name: 'get_weather', toolUseId: 't1', input: '"Paris"}', stop: true }),
    encodeEvent('contextUsageEvent', { contextUsagePercentage: 2.5 }),
  ]);

/** What the adapter does with each network chunk: frame it, then decode (CRC-check) each whole message. */
async function decodeAll(buffers: Buffer[]) {
  const framer = new MessageFramer();
  const frames = buffers.flatMap((chunk) => framer.push(chunk).map(decodeFrame));
  framer.end();
  return frames;
}

describe('AWS event-stream framing', () => {
  it('decodes the worked example byte for byte', () => {
    const frame = decodeFrame(Buffer.from(WORKED_EXAMPLE, 'hex'));
    assert.equal(frame.messageType, 'event');
    assert.equal(frame.eventType, 'assistantResponseEvent');
    assert.deepEqual(frame.payload, { content: 'Hi' });
  });

  it('encodes exactly the worked example, with standard CRC-32 (zlib)', () => {
    const bytes = Buffer.from(encodeEvent('assistantResponseEvent', { content: 'Hi' }));
    // Header order on the wire follows insertion order; the example's is event-type, content-type, message-type.
    assert.equal(bytes.toString('hex'), WORKED_EXAMPLE);
    assert.equal(crc32(bytes.subarray(0, 8)), bytes.readUInt32BE(8));
    assert.equal(crc32(bytes.subarray(0, bytes.length - 4)), bytes.readUInt32BE(bytes.length - 4));
  });

  it('re-frames a stream split at every single offset', async () => {
    const bytes = sample();
    const expected = await decodeAll([bytes]);
    assert.equal(expected.length, 5);
    for (let cut = 1; cut < bytes.length; cut++) {
      const frames = await decodeAll([bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.deepEqual(frames, expected, `split at ${cut}`);
    }
  });

  it('re-frames one byte at a time and under random multi-splits', async () => {
    const bytes = sample();
    const expected = await decodeAll([bytes]);
    const oneByOne = [...bytes].map((b) => Buffer.from([b]));
    assert.deepEqual(await decodeAll(oneByOne), expected);
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let run = 0; run < 200; run++) {
      const cuts = Array.from({ length: 1 + Math.floor(random() * 12) }, () => Math.floor(random() * bytes.length)).sort((a, b) => a - b);
      const pieces: Buffer[] = [];
      let start = 0;
      for (const cut of [...cuts, bytes.length]) {
        pieces.push(bytes.subarray(start, cut));
        start = cut;
      }
      assert.deepEqual(await decodeAll(pieces), expected, `cuts ${cuts.join(',')}`);
    }
  });

  it('rejects a corrupted message CRC', async () => {
    const bytes = sample();
    const firstLength = bytes.readUInt32BE(0);
    bytes[firstLength - 1]! ^= 0xff;
    await assert.rejects(decodeAll([bytes]), (e: Error & { code?: string }) => e.code === 'upstream_stream_corrupt' && /checksum/i.test(e.message));
  });

  it('rejects a corrupted prelude CRC and a corrupted payload', async () => {
    const prelude = Buffer.from(encodeEvent('assistantResponseEvent', { content: 'x' }));
    prelude[9]! ^= 0x01;
    await assert.rejects(decodeAll([prelude]), /corrupt/);
    const payload = Buffer.from(encodeEvent('assistantResponseEvent', { content: 'xyz' }));
    payload[payload.length - 8]! ^= 0x01;
    await assert.rejects(decodeAll([payload]), /corrupt/);
  });

  it('treats a stream that ends inside a message as an error, never as a short answer', async () => {
    const bytes = sample();
    await assert.rejects(decodeAll([bytes.subarray(0, bytes.length - 3)]), /stream ended inside a message/);
  });

  it('rejects impossible message lengths', () => {
    const framer = new MessageFramer();
    assert.throws(() => framer.push(Buffer.from([0, 0, 0, 5, 1, 2, 3, 4])), /impossible message length 5/);
  });

  it('decodes exception frames with their type', () => {
    const frame = decodeFrame(encodeException('ContentLengthExceededException', 'too long'));
    assert.equal(frame.messageType, 'exception');
    assert.equal(frame.exceptionType, 'ContentLengthExceededException');
    assert.deepEqual(frame.payload, { message: 'too long' });
  });

  it('decodes every header value right, however many distinct values of the same length arrive', () => {
    // Header strings are remembered and matched byte for byte: equal lengths must never be confused.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 100; i++) {
        const eventType = `event${String(i).padStart(3, '0')}x`;
        assert.equal(decodeFrame(encodeEvent(eventType, { content: 'x' })).eventType, eventType);
        assert.equal(decodeFrame(encodeException(`Ex${String(i).padStart(3, '0')}ception`, 'm')).exceptionType, `Ex${String(i).padStart(3, '0')}ception`);
      }
    }
    assert.equal(decodeFrame(encodeEvent('assistantResponseEvent', { content: 'ünïcode' })).payload.content, 'ünïcode');
  });
});
