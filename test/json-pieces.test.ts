import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BodyBuffers } from '../src/buffers.js';
import { parseJsonBytes } from '../src/http/json-pieces.js';
import { jsonPieces } from '../src/kiro/request.js';

// The hand-written paths that keep agent-sized bodies out of V8's large-object space, each
// checked against the library call it replaces: parseJsonBytes against JSON.parse, jsonPieces
// against JSON.stringify. Small piece sizes make the generated documents split at every level.

/** What JSON.parse gives, or the fact that it throws. */
const outcome = (parse: () => unknown) => {
  try {
    return { value: parse() };
  } catch {
    return { threw: true };
  }
};

/** JSON text with white space sprinkled between tokens, as hand-written bodies have it. */
const spaced = (text: string, seed: number) => {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '"' && text[i - 1] !== '\\') inString = !inString;
    out += c;
    if (!inString && (c === ',' || c === ':' || c === '[' || c === '{') && (seed + i) % 3 === 0) out += ['\n', ' ', '\t ', '\r\n  '][(seed + i) % 4];
  }
  return out;
};

describe('parseJsonBytes: JSON.parse a piece at a time', () => {
  it('gives what JSON.parse gives on generated documents, keys in the same order, at every piece size', () => {
    fc.assert(
      fc.property(fc.json({ stringUnit: 'binary', maxDepth: 6 }), fc.nat(1000), fc.constantFrom(1, 4, 16, 64), (text, seed, piece) => {
        const body = spaced(text, seed);
        const bytes = Buffer.from(body);
        const expected = JSON.parse(body) as unknown;
        const got = parseJsonBytes(bytes, piece);
        assert.deepStrictEqual(got, expected);
        assert.equal(JSON.stringify(got), JSON.stringify(expected));
      }),
      { numRuns: 1500 },
    );
  });

  it('fails exactly when JSON.parse fails, on documents with a byte changed or cut', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 5 }), fc.nat(), fc.constantFrom(0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x20, 0x61, 0x30, 0xff), fc.boolean(), (text, at, byte, cut) => {
        const bytes = Buffer.from(text);
        if (bytes.length === 0) return;
        const i = at % bytes.length;
        const broken = cut ? bytes.subarray(0, i) : Buffer.from(bytes);
        if (!cut) broken[i] = byte;
        const expected = outcome(() => JSON.parse(broken.toString('utf8')));
        const got = outcome(() => parseJsonBytes(broken, 4));
        assert.deepStrictEqual(got, expected, broken.toString('utf8'));
      }),
      { numRuns: 3000 },
    );
  });

  it('keeps "__proto__" an own property, takes the last of duplicate keys, and decodes UTF-8 split across pieces', () => {
    const text = '{"__proto__": {"polluted": true}, "a": [1, 2, {"a": "é😀漢"}], "a": "last", "long": "' + 'ü'.repeat(100) + '"}';
    const got = parseJsonBytes(Buffer.from(text), 8) as Record<string, unknown>;
    assert.deepStrictEqual(got, JSON.parse(text));
    assert.equal(Object.getPrototypeOf(got), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('falls back to JSON.parse when nesting is too deep for the walk', () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    let value = parseJsonBytes(Buffer.from(deep), 1);
    let depth = 0;
    while (Array.isArray(value) && value.length > 0) (value = value[0]), depth++;
    assert.equal(depth, 19_999);
  });
});

describe('jsonPieces: JSON.stringify in pieces', () => {
  it('joins to exactly what JSON.stringify writes', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.option(fc.constant(undefined)), fc.nat(4), (value, missing, depth) => {
        const withUndefined = value && typeof value === 'object' && !Array.isArray(value) ? { ...value, gone: missing } : value;
        assert.equal(jsonPieces(withUndefined, depth).join(''), JSON.stringify(withUndefined));
      }),
      { numRuns: 1500 },
    );
  });
});

describe('BodyBuffers', () => {
  it('reuses a returned buffer, never one still out, and keeps no more than it may', () => {
    const buffers = new BodyBuffers();
    const text = (fill: string, length: number) => {
      const lease = buffers.take(length);
      lease.bytes.write(fill.repeat(length));
      return lease;
    };
    const first = text('x', 40_000);
    const second = text('y', 40_000);
    assert.notEqual(first.bytes.buffer, second.bytes.buffer, 'two leases out at once never share memory');
    first.release();
    first.release();
    assert.equal(buffers.idleBytes, 64 * 1024);
    const third = text('z', 50_000);
    assert.equal(third.bytes.buffer, first.bytes.buffer, 'the returned buffer is used again');
    assert.equal(third.bytes.toString(), 'z'.repeat(50_000));
    assert.equal(buffers.idleBytes, 0);
    for (let i = 0; i < 40; i++) buffers.take(1024 * 1024).release();
    const many = Array.from({ length: 40 }, () => buffers.take(1024 * 1024));
    for (const lease of many) lease.release();
    assert.ok(buffers.idleBytes <= 16 * 1024 * 1024, `${buffers.idleBytes} idle bytes`);
  });
});
