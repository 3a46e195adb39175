// JSON.parse for large request bodies, a piece at a time. An agent's request is 100–600 KB, and
// JSON.parse needs it as one string first: over 128 KB, V8 puts a string in its large-object
// space, fresh memory from the kernel every time. On the machines measured that allocation, not
// the parsing, was most of the cost (a 415 KB string: 2.4 ms to allocate, 0.8 ms to parse; a
// 115 KB one: 0.01 ms). So a large body is walked here, from its bytes: objects and arrays larger
// than a piece are taken apart member by member, and every part no larger than a piece is handed
// to JSON.parse as its own small string. Only a single string value larger than a piece (one
// huge tool result) still becomes one large string, as it must.
//
// The walk finds where values end (strings by memchr for the closing quote, brackets by depth)
// and checks the punctuation between members; JSON.parse checks everything inside a piece. Any
// doubt — a syntax error anywhere, nesting too deep for the walk — and the whole body goes to
// JSON.parse instead, so errors read exactly as JSON.parse's. test/json-pieces.test.ts compares
// the two on generated documents; `npm run bench -- micro` measures the gain.

/** Values up to this many bytes are parsed whole. */
export const PIECE_BYTES = 32 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (c: number | undefined) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Thrown inside the walk: parse the whole body the ordinary way instead. */
class Doubt extends Error {}
const doubt = new Doubt();

/** The value of the JSON text in `bytes` (UTF-8), as JSON.parse(bytes.toString()) would give it. */
export function parseJsonBytes(bytes: Buffer, pieceBytes = PIECE_BYTES): unknown {
  const whole = () => JSON.parse(bytes.toString('utf8')) as unknown;
  if (bytes.length <= pieceBytes) return whole();
  try {
    const walk = new Walk(bytes, pieceBytes);
    const start = walk.space(0);
    const end = walk.valueEnd(start);
    if (walk.space(end) !== bytes.length) throw doubt;
    return walk.value(start, end);
  } catch {
    return whole();
  }
}

class Walk {
  constructor(
    private readonly bytes: Buffer,
    private readonly pieceBytes: number,
  ) {}

  space(at: number): number {
    const bytes = this.bytes;
    while (isSpace(bytes[at])) at++;
    return at;
  }

  /** Just past the string that opens at `at`. */
  private stringEnd(at: number): number {
    const bytes = this.bytes;
    let quote = at;
    for (;;) {
      quote = bytes.indexOf(QUOTE, quote + 1);
      if (quote < 0) throw doubt;
      let backslashes = 0;
      while (bytes[quote - 1 - backslashes] === BACKSLASH) backslashes++;
      if (backslashes % 2 === 0) return quote + 1;
    }
  }

  /** Just past the value that starts at `at`. */
  valueEnd(at: number): number {
    const bytes = this.bytes;
    const first = bytes[at];
    if (first === QUOTE) return this.stringEnd(at);
    if (first === 0x7b || first === 0x5b) {
      let depth = 0;
      for (let i = at; i < bytes.length; ) {
        const c = bytes[i]!;
        if (c === QUOTE) {
          i = this.stringEnd(i);
          continue;
        }
        if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === 0) return i + 1;
        }
        i++;
      }
      throw doubt;
    }
    // A number, true, false or null: up to the next delimiter.
    let i = at;
    while (i < bytes.length && !isSpace(bytes[i]) && bytes[i] !== 0x2c && bytes[i] !== 0x7d && bytes[i] !== 0x5d) i++;
    if (i === at) throw doubt;
    return i;
  }

  private parse(start: number, end: number): unknown {
    try {
      return JSON.parse(this.bytes.toString('utf8', start, end));
    } catch {
      throw doubt;
    }
  }

  /** The value in bytes [start, end), which valueEnd found. */
  value(start: number, end: number): unknown {
    const bytes = this.bytes;
    if (end - start <= this.pieceBytes) return this.parse(start, end);
    const first = bytes[start];
    if (first === 0x7b) return this.object(start, end);
    if (first === 0x5b) return this.array(start, end);
    return this.parse(start, end);
  }

  private object(start: number, end: number): Record<string, unknown> {
    const bytes = this.bytes;
    const result: Record<string, unknown> = {};
    let at = this.space(start + 1);
    if (bytes[at] === 0x7d && at === end - 1) return result;
    for (;;) {
      if (bytes[at] !== QUOTE) throw doubt;
      const keyEnd = this.stringEnd(at);
      const key = this.parse(at, keyEnd) as string;
      at = this.space(keyEnd);
      if (bytes[at] !== 0x3a) throw doubt;
      at = this.space(at + 1);
      const valueEnd = this.valueEnd(at);
      const value = this.value(at, valueEnd);
      // As JSON.parse does: "__proto__" is an own property, never the prototype.
      if (key === '__proto__') Object.defineProperty(result, key, { value, writable: true, enumerable: true, configurable: true });
      else result[key] = value;
      at = this.space(valueEnd);
      if (bytes[at] === 0x2c) at = this.space(at + 1);
      else if (bytes[at] === 0x7d && at === end - 1) return result;
      else throw doubt;
    }
  }

  private array(start: number, end: number): unknown[] {
    const bytes = this.bytes;
    const result: unknown[] = [];
    let at = this.space(start + 1);
    if (bytes[at] === 0x5d && at === end - 1) return result;
    for (;;) {
      const valueEnd = this.valueEnd(at);
      result.push(this.value(at, valueEnd));
      at = this.space(valueEnd);
      if (bytes[at] === 0x2c) at = this.space(at + 1);
      else if (bytes[at] === 0x5d && at === end - 1) return result;
      else throw doubt;
    }
  }
}
