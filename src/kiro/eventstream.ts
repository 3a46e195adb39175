import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { GatewayError } from '../chat/errors.js';
import type { KiroFrame } from './wire.js';

// AWS event-stream messages: [total u32][headers u32][prelude crc][headers][payload][message crc].
// Smithy's codec decodes and CRC-checks one whole message; the framer below cuts the byte stream
// into whole messages first, because network chunks split messages anywhere (its own
// MessageDecoderStream assumes one message per chunk).

const MIN_MESSAGE = 16;
const MAX_MESSAGE = 16 * 1024 * 1024;

/**
 * Kiro's header names and values come from a handful of short strings (":event-type",
 * "assistantResponseEvent", ":content-type", …), decoded for every header of every frame: the ones
 * seen before are matched byte for byte and reused instead of decoded and allocated again. The table
 * only grows to MAX_INTERNED entries, so an upstream sending ever-new values cannot grow it.
 */
const MAX_INTERNED = 32;
const MAX_INTERNED_BYTES = 64;
const internedBytes: Uint8Array[] = [];
const internedText: string[] = [];

function headerUtf8(bytes: Uint8Array): string {
  const length = bytes.length;
  for (let i = 0; i < internedBytes.length; i++) {
    const known = internedBytes[i]!;
    if (known.length !== length) continue;
    let j = 0;
    while (j < length && known[j] === bytes[j]) j++;
    if (j === length) return internedText[i]!;
  }
  const text = toUtf8(bytes);
  if (length <= MAX_INTERNED_BYTES && internedBytes.length < MAX_INTERNED) {
    internedBytes.push(bytes.slice());
    internedText.push(text);
  }
  return text;
}

export const codec = new EventStreamCodec(headerUtf8, fromUtf8);

const corrupt = (detail: string) =>
  new GatewayError('upstream', `Kiro sent a corrupt event stream (${detail}); the answer is incomplete.`, {
    code: 'upstream_stream_corrupt',
  });

/** Cuts a byte stream into whole event-stream messages, however the chunks are split. */
export class MessageFramer {
  private pending: Buffer = Buffer.alloc(0);

  /** Feed one network chunk; returns the messages it completes (maybe none). */
  push(chunk: Uint8Array): Buffer[] {
    const buffer = this.pending.length === 0 ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    let offset = 0;
    while (buffer.length - offset >= 4) {
      const length = buffer.readUInt32BE(offset);
      if (length < MIN_MESSAGE || length > MAX_MESSAGE) throw corrupt(`impossible message length ${length}`);
      if (buffer.length - offset < length) break;
      messages.push(buffer.subarray(offset, offset + length));
      offset += length;
    }
    // Keep only the unfinished tail; copy it so the big chunk it came from can be freed.
    this.pending = offset === buffer.length ? Buffer.alloc(0) : Buffer.from(buffer.subarray(offset));
    return messages;
  }

  /** Call at end of stream: throws if a message was cut off. */
  end(): void {
    if (this.pending.length > 0) throw corrupt(`stream ended inside a message, ${this.pending.length} bytes left over`);
  }
}

const utf8 = new TextDecoder();

const headerString = (headers: Record<string, { type: string; value: unknown }>, name: string): string | undefined => {
  const header = headers[name];
  return header && header.type === 'string' ? (header.value as string) : undefined;
};

/** Decode one whole message: checks both CRCs and parses the JSON payload. */
export function decodeFrame(message: Uint8Array): KiroFrame {
  let decoded;
  try {
    decoded = codec.decode(message);
  } catch (error) {
    throw corrupt(error instanceof Error ? error.message : String(error));
  }
  const headers = decoded.headers as Record<string, { type: string; value: unknown }>;
  let payload: Record<string, unknown> = {};
  if (decoded.body.byteLength > 0) {
    try {
      const parsed: unknown = JSON.parse(utf8.decode(decoded.body));
      if (parsed && typeof parsed === 'object') payload = parsed as Record<string, unknown>;
    } catch {
      throw corrupt('a message payload is not JSON');
    }
  }
  return {
    messageType: headerString(headers, ':message-type') ?? 'event',
    eventType: headerString(headers, ':event-type'),
    exceptionType: headerString(headers, ':exception-type'),
    errorCode: headerString(headers, ':error-code'),
    payload,
  };
}

/** Encode one event message (used by the simulator and tests). */
export function encodeEvent(eventType: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** Encode one exception message, as Kiro sends mid-stream failures. */
export function encodeException(exceptionType: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: exceptionType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: fromUtf8(JSON.stringify({ message })),
  });
}
