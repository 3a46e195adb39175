import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { EventStreamCodec, Int64, type MessageHeaders } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { decodeFrame, encodeEvent, encodeException, MessageFramer } from '../src/kiro/eventstream.js';
import { randomTexts, seededRandom } from './random.js';

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
    const random = seededRandom(7);
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

  // decodeFrame is our own reader (smithy's decode was the largest CPU cost of a stream); smithy's
  // codec, the reference implementation, writes the messages and says what they mean.
  const smithy = new EventStreamCodec(toUtf8, fromUtf8);
  const texts = randomTexts([...'ab "\\\n\t\u0000\u001f\u007f/é你🙂{}:,', ' ', 'content'], 400, 24, 3);

  /** What the frame means according to smithy's decoder. */
  function reference(message: Uint8Array) {
    const { headers, body } = smithy.decode(message);
    const text = (name: string) => (headers[name]?.type === 'string' ? (headers[name].value as string) : undefined);
    const parsed: unknown = body.length > 0 ? JSON.parse(toUtf8(body)) : {};
    return {
      messageType: text(':message-type') ?? 'event',
      eventType: text(':event-type'),
      exceptionType: text(':exception-type'),
      errorCode: text(':error-code'),
      payload: parsed && typeof parsed === 'object' ? parsed : {},
    };
  }

  function randomMessage(random: () => number): Uint8Array {
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const text = () => pick(texts);
    const headerValues: (() => MessageHeaders[string])[] = [
      () => ({ type: 'boolean', value: random() < 0.5 }),
      () => ({ type: 'byte', value: Math.floor(random() * 256) - 128 }),
      () => ({ type: 'short', value: Math.floor(random() * 65536) - 32768 }),
      () => ({ type: 'integer', value: Math.floor(random() * 2 ** 32) - 2 ** 31 }),
      () => ({ type: 'long', value: Int64.fromNumber(Math.floor(random() * 2 ** 40)) }),
      () => ({ type: 'binary', value: fromUtf8(text()) }),
      () => ({ type: 'string', value: text() }),
      () => ({ type: 'timestamp', value: new Date(Math.floor(random() * 2 ** 41)) }),
      () => ({ type: 'uuid', value: '0f8fad5b-d9cb-469f-a165-70867728950e' }),
    ];
    const headers: MessageHeaders = {};
    const names = [':message-type', ':event-type', ':exception-type', ':error-code', ':content-type', 'x-other', text()];
    for (let i = Math.floor(random() * 6); i > 0; i--) {
      const name = pick(names);
      // Kiro's four headers are strings; any other header may be of any type.
      headers[name] = name.startsWith(':') && name !== ':content-type' && random() < 0.8 ? { type: 'string', value: text() } : pick(headerValues)();
    }
    const payloads = [() => ({ content: text() }), () => ({ content: text(), followupPrompt: { content: text() } }), () => ({ name: text(), input: text(), stop: random() < 0.5 }), () => [text()], () => text(), () => null];
    const body = random() < 0.1 ? '' : random() < 0.2 ? `{"content":"${text().replace(/["\\\u0000-\u001f]/g, '')}"}` : JSON.stringify(pick(payloads)());
    return smithy.encode({ headers, body: fromUtf8(body) });
  }

  it('reads 5,000 random messages exactly as smithy decodes them: every header type, any payload', () => {
    const random = seededRandom(11);
    for (let i = 0; i < 5000; i++) {
      const message = randomMessage(random);
      assert.deepEqual(decodeFrame(message), reference(message), Buffer.from(message).toString('hex'));
    }
  });

  it('reads text deltas with quotes, backslashes and control characters exactly', () => {
    for (const content of [...texts, '', '"', '\\', '\\"', '\u0000', 'a\nb', '{"content":"x"}', '🙂', 'x"}']) {
      assert.deepEqual(decodeFrame(encodeEvent('assistantResponseEvent', { content })).payload, { content }, JSON.stringify(content));
    }
    // Not quite the plain shape: still read by the JSON parser.
    for (const body of ['{"content":"a" }', '{"content":"a","x":1}', '{ "content":"a"}', '{"content":"\\u0041"}']) {
      const message = smithy.encode({ headers: { ':event-type': { type: 'string', value: 'assistantResponseEvent' } }, body: fromUtf8(body) });
      assert.deepEqual(decodeFrame(message).payload, JSON.parse(body), body);
    }
  });

  /** A message with these header bytes and payload, and correct lengths and CRCs. */
  function rawMessage(headerBytes: Buffer, payload = Buffer.from('{}')): Buffer {
    const total = 16 + headerBytes.length + payload.length;
    const message = Buffer.alloc(total);
    message.writeUInt32BE(total, 0);
    message.writeUInt32BE(headerBytes.length, 4);
    message.writeUInt32BE(crc32(message.subarray(0, 8)), 8);
    headerBytes.copy(message, 12);
    payload.copy(message, 12 + headerBytes.length);
    message.writeUInt32BE(crc32(message.subarray(0, total - 4)), total - 4);
    return message;
  }

  it('rejects malformed headers behind valid CRCs as a corrupt stream', () => {
    const name = Buffer.from('\u000b:event-type');
    const cases = {
      'unknown header type': Buffer.concat([name, Buffer.from([10])]),
      'string longer than the headers': Buffer.concat([name, Buffer.from([7, 0, 50]), Buffer.from('short')]),
      'length prefix cut off': Buffer.concat([name, Buffer.from([7, 0])]),
      'name longer than the headers': Buffer.from([40, 0x3a, 0x65]),
      'integer cut off': Buffer.concat([name, Buffer.from([4, 0, 0])]),
    };
    for (const [label, headerBytes] of Object.entries(cases)) {
      assert.throws(() => decodeFrame(rawMessage(headerBytes)), (e: Error & { code?: string }) => e.code === 'upstream_stream_corrupt', label);
    }
    assert.throws(() => decodeFrame(rawMessage(Buffer.alloc(0), Buffer.from('{"content":'))), /not JSON/);
  });

  it('checks messages of every length from a few bytes to many kilobytes (table CRC below 256 bytes, zlib above)', () => {
    for (let length = 0; length < 4200; length += length < 400 ? 1 : 97) {
      const content = 'é'.repeat(length % 7) + 'x'.repeat(length);
      const message = Buffer.from(encodeEvent('assistantResponseEvent', { content }));
      assert.equal(decodeFrame(message).payload.content, content);
      for (const at of [9, 40, message.length - 6, message.length - 1]) {
        const flipped = Buffer.from(message);
        flipped[at]! ^= 0x10;
        assert.throws(() => decodeFrame(flipped), /corrupt/, `length ${length}, byte ${at}`);
      }
    }
  });

  it('turns every single flipped bit of a message into a corrupt-stream error', () => {
    const message = Buffer.from(encodeEvent('assistantResponseEvent', { content: 'Hi' }));
    for (let bit = 0; bit < message.length * 8; bit++) {
      const flipped = Buffer.from(message);
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      assert.throws(() => decodeFrame(flipped), (e: Error & { code?: string }) => e.code === 'upstream_stream_corrupt', `bit ${bit}`);
    }
  });
});
