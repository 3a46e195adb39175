// The token counts of short pre-tokenizer pieces (words, mostly), looked up by a range of the text
// they are in rather than by a string of their own. Text is made of pieces that repeat endlessly,
// and a Map<string, number> would need each piece sliced out first: a new string (V8 copies
// slices under 13 characters) and its hash, ~80,000 of them in a 400 KB prompt. Here the counter
// hashes the piece's characters where they are and compares them with a copy kept in one
// Uint16Array, so a known piece costs no allocation at all, and the cache holds no strings (a
// slice of 13 characters or more would keep its whole prompt alive). test/piece-counts.test.ts
// checks it against a Map; `npm run bench -- micro` shows the gain.

/** Pieces up to this many UTF-16 units are remembered; longer ones are rare and counted each time. */
export const MAX_PIECE = 24;

const SLOTS = 1 << 18;
const MAX_ENTRIES = SLOTS >> 1;
const POOL_UNITS = 1 << 21;

/** FNV-1a over units[start, end). */
export function pieceHash(units: Uint16Array, start: number, end: number): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ units[i]!, 0x01000193);
  return hash;
}

/** Token counts of pieces, keyed by their UTF-16 units; forgets everything when full (words come back fast). */
export class PieceCounts {
  /** Open addressing: entry number + 1, or 0 for an empty slot. */
  private readonly slots = new Int32Array(SLOTS);
  private readonly hashes = new Int32Array(MAX_ENTRIES);
  private readonly starts = new Int32Array(MAX_ENTRIES);
  private readonly lengths = new Uint8Array(MAX_ENTRIES);
  private readonly tokens = new Uint8Array(MAX_ENTRIES);
  /** The pieces' characters, one after another. */
  private readonly pool = new Uint16Array(POOL_UNITS);
  private entries = 0;
  private used = 0;

  get size(): number {
    return this.entries;
  }

  /** The count of the piece units[start, end) (whose pieceHash is `hash`), or -1 if unknown. */
  get(units: Uint16Array, start: number, end: number, hash: number): number {
    const length = end - start;
    for (let slot = hash & (SLOTS - 1); ; slot = (slot + 1) & (SLOTS - 1)) {
      const entry = this.slots[slot]! - 1;
      if (entry < 0) return -1;
      if (this.hashes[entry] === hash && this.lengths[entry] === length && this.holds(entry, units, start, length)) return this.tokens[entry]!;
    }
  }

  /** Remembers the count of units[start, end) (at most MAX_PIECE units, not already known). */
  set(units: Uint16Array, start: number, end: number, hash: number, tokens: number): void {
    const length = end - start;
    if (length > MAX_PIECE || tokens > 255) return;
    if (this.entries === MAX_ENTRIES || this.used + length > POOL_UNITS) this.clear();
    let slot = hash & (SLOTS - 1);
    while (this.slots[slot] !== 0) slot = (slot + 1) & (SLOTS - 1);
    const entry = this.entries++;
    this.slots[slot] = entry + 1;
    this.hashes[entry] = hash;
    this.starts[entry] = this.used;
    this.lengths[entry] = length;
    this.tokens[entry] = tokens;
    for (let i = 0; i < length; i++) this.pool[this.used + i] = units[start + i]!;
    this.used += length;
  }

  clear(): void {
    this.slots.fill(0);
    this.entries = 0;
    this.used = 0;
  }

  private holds(entry: number, units: Uint16Array, start: number, length: number): boolean {
    const at = this.starts[entry]!;
    for (let i = 0; i < length; i++) if (this.pool[at + i] !== units[start + i]!) return false;
    return true;
  }
}
