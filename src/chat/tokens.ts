import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import { LRUCache } from 'lru-cache';
import { MAX_PIECE, PieceCounts, pieceHash } from './piece-counts.js';

// Anthropic's published Claude tokenizer table (claude.json in @anthropic-ai/tokenizer), run by the
// byte-pair encoder below. Why not the package's own encoder: it is tiktoken's WASM build, which
// holds ~40 MB resident (a third of an idle gateway) for a table that fits in ~5 MB as a JS Map,
// and pays a WASM boundary crossing per call where we encode short pieces. js-tiktoken, the pure-JS
// port, keeps every token twice, as a byte array and a string key (~65 MB resident). The algorithm
// is tiktoken's, step for step; test/output-shaping.test.ts checks every count against the WASM
// build on fixed and random texts.

interface TiktokenTable {
  /** "! <first rank> <base64 token> <base64 token> …": ranks run on consecutively, one line per run. */
  bpe_ranks: string;
  special_tokens: Record<string, number>;
  pat_str: string;
}

/** Unicode White_Space, which tiktoken's Rust regex means by \s. JS's \s adds U+FEFF and lacks U+0085. */
const WHITE_SPACE = '\\t-\\r \\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000';

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const NOT_A_TOKEN = Number.POSITIVE_INFINITY;
/** Pieces up to this many bytes merge the simple (quadratic) way, longer ones through a heap. */
export const SHORT_PIECE = 128;
/** Heap keys are rank × PART_SPAN + start: exact in a double for ranks < 2^21 and pieces < 2^32 bytes. */
const PART_SPAN = 2 ** 32;

/** A binary min-heap of numbers. */
class MinHeap {
  private items: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.items = new Float64Array(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.size === this.items.length) {
      const grown = new Float64Array(this.items.length * 2);
      grown.set(this.items);
      this.items = grown;
    }
    const items = this.items;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items[--this.size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && items[child + 1]! < items[child]!) child++;
      if (items[child]! >= last) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}

// The pre-tokenizer (the table's pat_str, PATTERN below) as a char-code scanner: the pattern's
// \p{L} and \p{N} classes make it slow to match — 13 ms for the 300 KB of a Claude Code prompt that
// hold a non-ASCII character — and every match is a new string. The scanner looks each code
// point's class up in a table, filled from the same classes as the pattern's the first time the
// code point is seen. The tests check its counts against the reference tokenizer on fixed, random
// and random-Unicode texts.
const LETTER = 1;
const DIGIT = 2;
const SPACE = 3;
const OTHER = 4;
const PATTERN = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";
const IS_LETTER = /^\p{L}$/u;
const IS_DIGIT = /^\p{N}$/u;
const IS_WHITE_SPACE = new RegExp(`^[${WHITE_SPACE}]$`, 'u');
const classOf = (char: string) => (IS_LETTER.test(char) ? LETTER : IS_DIGIT.test(char) ? DIGIT : IS_WHITE_SPACE.test(char) ? SPACE : OTHER);
/** The class of each UTF-16 unit outside the surrogates, 0 until first seen. */
const UNIT_CLASS = new Uint8Array(0x10000);
for (let c = 0; c < 128; c++) UNIT_CLASS[c] = classOf(String.fromCharCode(c));
const ASTRAL_CLASS = new Map<number, number>();

/** The class of the code point at units[i] (a lone surrogate is OTHER, as it is to the pattern) times 4, plus its length in units. */
function classAt(units: Uint16Array, i: number, n: number): number {
  const c = units[i]!;
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
    const low = units[i + 1]!;
    if (low >= 0xdc00 && low <= 0xdfff) {
      const point = (c - 0xd800) * 0x400 + (low - 0xdc00) + 0x10000;
      let kind = ASTRAL_CLASS.get(point);
      if (kind === undefined) ASTRAL_CLASS.set(point, (kind = classOf(String.fromCodePoint(point))));
      return kind * 4 + 2;
    }
  }
  let kind = UNIT_CLASS[c]!;
  if (kind === 0) UNIT_CLASS[c] = kind = c >= 0xd800 && c <= 0xdfff ? OTHER : classOf(String.fromCharCode(c));
  return kind * 4 + 1;
}

// The scanner reads a text's UTF-16 units from a typed array: V8 copies a string into one natively
// (Buffer.write), and reading it is several times cheaper than charCodeAt, which must look through
// the string's representation (sliced, two-byte, …) on every call.
const REUSED_UNITS = 1 << 16;
const unitBytes = Buffer.allocUnsafeSlow(2 * REUSED_UNITS);
const unitView = new Uint16Array(unitBytes.buffer, unitBytes.byteOffset, REUSED_UNITS);
const BIG_ENDIAN = endianness() === 'BE';

/** The UTF-16 units of `text` (its first text.length entries), valid until the next call. */
function unitsOf(text: string): Uint16Array {
  let bytes = unitBytes;
  let view = unitView;
  if (text.length > REUSED_UNITS) {
    // Longer texts (counted whole, not in slices) get a buffer of their own, not kept.
    bytes = Buffer.allocUnsafeSlow(2 * text.length);
    view = new Uint16Array(bytes.buffer, bytes.byteOffset, text.length);
  }
  bytes.write(text, 0, 'utf16le');
  if (BIG_ENDIAN) bytes.subarray(0, 2 * text.length).swap16();
  return view;
}

/** Where the piece that starts at `i` ends: the pattern's alternatives, in the pattern's order. */
function pieceEnd(units: Uint16Array, i: number, n: number): number {
  const c = units[i]!;
  // 's 't 're 've 'm 'll 'd
  if (c === 0x27 && i + 1 < n) {
    const d = units[i + 1]!;
    if (d === 0x73 || d === 0x74 || d === 0x6d || d === 0x64) return i + 2;
    const e = i + 2 < n ? units[i + 2]! : 0;
    if ((d === 0x72 && e === 0x65) || (d === 0x76 && e === 0x65) || (d === 0x6c && e === 0x6c)) return i + 3;
  }
  // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a run of one class, maybe after one space.
  let start = i;
  if (c === 0x20 && i + 1 < n && classAt(units, i + 1, n) >> 2 !== SPACE) start = i + 1;
  const first = classAt(units, start, n);
  const kind = first >> 2;
  let end = start + (first & 3);
  while (end < n) {
    const d = units[end]!;
    if (d < 128) {
      if (UNIT_CLASS[d] !== kind) break;
      end++;
    } else {
      const next = classAt(units, end, n);
      if (next >> 2 !== kind) break;
      end += next & 3;
    }
  }
  // `\s+(?!\S)` then `\s+`: a run of white space leaves its last character to the piece after it
  // (white space is all in the BMP: units are characters here).
  if (kind === SPACE && end < n && end - i >= 2) return end - 1;
  return end;
}

class BytePairEncoder {
  /** Token bytes (one char per byte: a latin1 "binary string") → rank. */
  private readonly ranks = new Map<string, number>();
  /** Rank → token bytes. */
  private readonly bytesOf: string[] = [];
  private readonly specialRanks = new Map<string, number>();
  /** Splits a text around special tokens: the odd entries of `text.split(specials)` are special tokens. */
  readonly specials: RegExp;
  /** Bytes of the longest token: no merge can make a longer one. */
  private longestToken = 0;

  constructor(table: TiktokenTable) {
    for (const line of table.bpe_ranks.split('\n')) {
      if (!line) continue;
      const [, first, ...tokens] = line.split(' ');
      let rank = Number(first);
      for (const token of tokens) {
        const bytes = atob(token);
        this.ranks.set(bytes, rank);
        this.bytesOf[rank] = bytes;
        if (bytes.length > this.longestToken) this.longestToken = bytes.length;
        rank++;
      }
    }
    for (const [token, rank] of Object.entries(table.special_tokens)) {
      this.specialRanks.set(token, rank);
      this.bytesOf[rank] = Buffer.from(token, 'utf8').toString('latin1');
    }
    this.specials = new RegExp(`(${Object.keys(table.special_tokens).map(escapeRegExp).join('|')})`);
    if (table.pat_str !== PATTERN) throw new Error(`the tokenizer table's pre-tokenizer is not the one pieceEnd() implements: ${table.pat_str}`);
  }

  /** Appends the tokens of one pre-tokenizer piece to `out`. */
  encodePiece(piece: string, out: number[]): void {
    const bytes = Buffer.byteLength(piece) === piece.length ? piece : Buffer.from(piece, 'utf8').toString('latin1');
    const whole = this.ranks.get(bytes);
    if (whole !== undefined) {
      out.push(whole);
      return;
    }
    if (bytes.length <= SHORT_PIECE) this.mergeShort(bytes, out);
    else this.mergeLong(bytes, out);
  }

  /**
   * tiktoken's byte_pair_merge: keep the parts' start offsets and the rank of merging each part
   * with the next; merge the lowest-ranked pair (the first, on ties) until no pair is a token.
   * Quadratic in the piece's length, and the fastest way for the short pieces text is made of.
   */
  private mergeShort(bytes: string, out: number[]): void {
    const starts: number[] = [];
    const pairRanks: number[] = [];
    for (let i = 0; i < bytes.length - 1; i++) {
      starts.push(i);
      pairRanks.push(this.ranks.get(bytes.slice(i, i + 2)) ?? NOT_A_TOKEN);
    }
    starts.push(bytes.length - 1, bytes.length);
    pairRanks.push(NOT_A_TOKEN, NOT_A_TOKEN);
    for (;;) {
      let lowest = NOT_A_TOKEN;
      let at = -1;
      for (let i = 0; i < pairRanks.length - 1; i++) {
        if (pairRanks[i]! < lowest) {
          lowest = pairRanks[i]!;
          at = i;
        }
      }
      if (at < 0) break;
      if (at > 0) pairRanks[at - 1] = this.rankOfMerge(bytes, starts, at - 1);
      pairRanks[at] = this.rankOfMerge(bytes, starts, at);
      starts.splice(at + 1, 1);
      pairRanks.splice(at + 1, 1);
    }
    for (let i = 0; i < starts.length - 1; i++) out.push(this.tokenOf(bytes.slice(starts[i], starts[i + 1])));
  }

  /** Rank of part i merged with the two after it (i+1 is about to be merged into i), if a token. */
  private rankOfMerge(bytes: string, starts: number[], i: number): number {
    return i + 3 < starts.length ? (this.ranks.get(bytes.slice(starts[i], starts[i + 3])) ?? NOT_A_TOKEN) : NOT_A_TOKEN;
  }

  /**
   * The same merges as mergeShort, in O(n log n): the parts are a linked list and the candidate
   * pairs sit in a min-heap keyed by (rank, start), so "lowest rank, first on ties" is the heap's
   * top. Entries go stale when a merge changes a part; they are checked when popped, not removed.
   * A word of 300,000 letters (one piece) took minutes the quadratic way; this takes milliseconds.
   */
  private mergeLong(bytes: string, out: number[]): void {
    const n = bytes.length;
    // Part k covers bytes [k, next[k]); rankAt[k] is the rank of merging it with the part after it.
    const next = new Int32Array(n);
    const prev = new Int32Array(n);
    const rankAt = new Float64Array(n);
    const heap = new MinHeap(n);
    for (let i = 0; i < n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
    }
    const rankOf = (start: number, end: number) => (end - start > this.longestToken ? NOT_A_TOKEN : (this.ranks.get(bytes.slice(start, end)) ?? NOT_A_TOKEN));
    const consider = (k: number) => {
      const after = next[k]!;
      rankAt[k] = after < n ? rankOf(k, next[after]!) : NOT_A_TOKEN;
      if (rankAt[k]! !== NOT_A_TOKEN) heap.push(rankAt[k]! * PART_SPAN + k);
    };
    for (let i = 0; i < n; i++) consider(i);
    while (heap.size > 0) {
      const key = heap.pop();
      const rank = Math.floor(key / PART_SPAN);
      const k = key - rank * PART_SPAN;
      if (rankAt[k] !== rank) continue; // stale: the part changed (or was merged away) since
      const absorbed = next[k]!;
      next[k] = next[absorbed]!;
      if (next[k]! < n) prev[next[k]!] = k;
      rankAt[absorbed] = Number.NaN;
      consider(k);
      if (prev[k]! >= 0) consider(prev[k]!);
    }
    for (let k = 0; k < n; k = next[k]!) out.push(this.tokenOf(bytes.slice(k, next[k])));
  }

  private tokenOf(bytes: string): number {
    const rank = this.ranks.get(bytes);
    // Every single byte is a token in a byte-level table, so this fires only on a broken table.
    if (rank === undefined) throw new Error('tokenizer table lacks a single-byte token');
    return rank;
  }

  /** `text` cut around its special tokens: the odd entries are special tokens, the even ones the text between them. */
  splitSpecials(text: string): string[] {
    return text.includes('<') ? text.split(this.specials) : [text];
  }

  specialRank(token: string): number {
    return this.specialRanks.get(token)!;
  }

  /** The number of tokens of one pre-tokenizer piece. */
  countPiece(piece: string): number {
    scratch.length = 0;
    this.encodePiece(piece, scratch);
    return scratch.length;
  }

  /** All tokens of `text` (NFKC-normalised), special tokens included. */
  encode(text: string): number[] {
    const out: number[] = [];
    this.splitSpecials(text).forEach((part, index) => {
      if (index % 2 === 1) out.push(this.specialRank(part));
      else {
        const units = unitsOf(part);
        for (let i = 0, end = 0; i < part.length; i = end) this.encodePiece(part.slice(i, (end = pieceEnd(units, i, part.length))), out);
      }
    });
    return out;
  }

  /** The bytes of `ranks`. */
  decode(ranks: number[]): Buffer {
    return Buffer.from(ranks.map((rank) => this.bytesOf[rank]).join(''), 'latin1');
  }
}

let encoder: BytePairEncoder | undefined;

/** Build the encoder now (start-up, ~50 ms), instead of on the first request. */
export function warmTokenizer(): void {
  if (encoder) return;
  const path = createRequire(import.meta.url).resolve('@anthropic-ai/tokenizer/claude.json');
  encoder = new BytePairEncoder(JSON.parse(readFileSync(path, 'utf8')) as TiktokenTable);
}

function bpe(): BytePairEncoder {
  warmTokenizer();
  return encoder!;
}

// A text's count is the sum of its pieces' counts, and pieces (words, mostly) repeat endlessly:
// each is encoded once and then looked up, where it is in the text (PieceCounts).
const pieceCounts = new PieceCounts();
const scratch: number[] = [];

const NOT_ASCII = /[^\x00-\x7f]/;
/** NFKC, as the tokenizer expects its input; ASCII text is left as it is (NFKC would not change it). */
const normalize = (text: string) => (NOT_ASCII.test(text) ? text.normalize('NFKC') : text);

/** Claude tokens in `text`, as Anthropic's tokenizer counts them. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const encoder = bpe();
  const parts = encoder.splitSpecials(normalize(text));
  let total = (parts.length - 1) / 2; // each special token is one token
  for (let p = 0; p < parts.length; p += 2) total += countPieces(encoder, parts[p]!);
  return total;
}

/** The tokens of `text`, which holds no special token. */
function countPieces(encoder: BytePairEncoder, text: string): number {
  const units = unitsOf(text);
  const n = text.length;
  let total = 0;
  for (let i = 0, end = 0; i < n; i = end) {
    end = pieceEnd(units, i, n);
    if (end - i > MAX_PIECE) {
      total += encoder.countPiece(text.slice(i, end));
      continue;
    }
    const hash = pieceHash(units, i, end);
    let tokens = pieceCounts.get(units, i, end, hash);
    if (tokens < 0) {
      tokens = encoder.countPiece(text.slice(i, end));
      pieceCounts.set(units, i, end, hash, tokens);
    }
    total += tokens;
  }
  return total;
}

/** The first `tokens` tokens of `text`, as text; a character the cut falls inside is left out. */
export function firstTokens(text: string, tokens: number): string {
  const encoder = bpe();
  return new StringDecoder('utf8').write(encoder.decode(encoder.encode(normalize(text)).slice(0, tokens)));
}

/** Texts at least this long are worth a cache entry (shorter ones are counted from the piece cache). */
const CACHE_FROM = 64;
/**
 * Counts of whole texts, keyed by the text itself. Not by a digest: hashing a string with
 * node:crypto first converts it to UTF-8 — a copy of every prompt on every request — while a Map
 * keyed by a long string costs V8 next to nothing (it hashes strings over 16 K characters by their
 * length alone, then compares contents, a memcmp). The price is holding the texts: at most
 * MAX_CACHED_CHARS characters of them.
 */
const MAX_CACHED_CHARS = 8_000_000;
const counted = new LRUCache<string, number>({ max: 50_000, maxSize: MAX_CACHED_CHARS, sizeCalculation: (_tokens, text) => text.length });

/**
 * countTokens, remembering texts: agents resend the whole conversation every turn, so without
 * this a 100 k-token history would be re-counted on every request.
 */
export function countTokensCached(text: string): number {
  if (text.length < CACHE_FROM) return countTokens(text);
  let tokens = counted.get(text);
  if (tokens === undefined) {
    tokens = countTokens(text);
    if (text.length <= MAX_CACHED_CHARS / 4) counted.set(text, tokens);
  }
  return tokens;
}

// ---------------------------------------------------------------- counting without holding others up

/**
 * Long texts are counted a slice at a time, and between slices other requests get their turn: a
 * 600 KB prompt (or answer) of words that never repeat takes ~45 ms to count (every piece through
 * the byte-pair merges), which would otherwise stall every other request of the process as long.
 */
const SLICE_CHARS = 2048;
/** The longest the counting runs before it lets the event loop go round. */
const TURN_MS = 4;

const WHITE_SPACE_CHAR = new RegExp(`[${WHITE_SPACE}]`);
const isWhiteSpace = (code: number) => code === 32 || (code >= 9 && code <= 13) || (code > 127 && WHITE_SPACE_CHAR.test(String.fromCharCode(code)));

/**
 * Where `text` can be cut near `at` without changing its tokens: before a space that follows a
 * non-space, or after a lone line break or tab between non-spaces — the pre-tokenizer always ends
 * a piece there, and groups the pieces on either side the same in a slice as in the whole. A single word longer than a slice has no such place; it is cut at `at`
 * (outside a surrogate pair), and its count may then differ from the tokenizer's by a token or so
 * per slice. No real text has such words; a 300,000-letter one does.
 */
function cutNear(text: string, from: number, at: number): number {
  for (let i = at; i > from + SLICE_CHARS / 2; i--) {
    const here = text.charCodeAt(i);
    const before = text.charCodeAt(i - 1);
    if (here === 32 && !isWhiteSpace(before)) return i;
    // A lone line break or tab between non-spaces: where a longer run of white space ends, the
    // pieces group differently at the end of a slice than in the whole text.
    if ((before === 10 || before === 13 || before === 9) && !isWhiteSpace(here) && !isWhiteSpace(text.charCodeAt(i - 2))) return i;
  }
  const code = text.charCodeAt(at - 1);
  return code >= 0xd800 && code <= 0xdbff ? at - 1 : at;
}

/** Counts texts in slices, letting the event loop go round whenever TURN_MS have passed. */
class TurnTaker {
  private turnStarted = performance.now();

  /** A promise to await when the turn is over; undefined (nothing to await) while it is not. */
  private turnOver(): Promise<void> | undefined {
    if (performance.now() - this.turnStarted < TURN_MS) return undefined;
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => void (this.turnStarted = performance.now()));
  }

  async count(text: string): Promise<number> {
    let total = 0;
    for (let from = 0; from < text.length; ) {
      const to = from + SLICE_CHARS >= text.length ? text.length : cutNear(text, from, from + SLICE_CHARS);
      total += countTokens(from === 0 && to === text.length ? text : text.slice(from, to));
      from = to;
      const over = this.turnOver();
      if (over) await over;
    }
    return total;
  }

  async countCached(text: string): Promise<number> {
    if (text.length < CACHE_FROM) return this.count(text);
    let tokens = counted.get(text);
    if (tokens === undefined) {
      tokens = await this.count(text);
      if (text.length <= MAX_CACHED_CHARS / 4) counted.set(text, tokens);
    }
    return tokens;
  }
}

/** countTokens for a text of any size, without stalling other requests. */
export function countTokensAsync(text: string): Promise<number> {
  return new TurnTaker().count(text);
}

/** The tokens of all `texts` (each long one remembered, as countTokensCached), without stalling other requests. */
export async function countAllTokensAsync(texts: readonly string[]): Promise<number> {
  const turns = new TurnTaker();
  let total = 0;
  for (const text of texts) total += await turns.countCached(text);
  return total;
}

/**
 * The tokens of all `texts` (as countAllTokensAsync), in two steps: long texts the cache knows are
 * summed now and let go; the others are kept and counted when the count is first asked for. A
 * request keeps its count while it streams: this way a session's request, whose texts are all
 * known but the newest, keeps next to nothing.
 */
export function promptCounter(texts: readonly string[]): () => Promise<number> {
  let known = 0;
  let rest: string[] | undefined = [];
  for (const text of texts) {
    const tokens = text.length < CACHE_FROM ? undefined : counted.get(text);
    if (tokens === undefined) rest.push(text);
    else known += tokens;
  }
  let total: Promise<number> | undefined;
  return () => {
    if (rest) {
      // The texts go with the counting: the counter itself lives as long as its request.
      total = rest.length === 0 ? Promise.resolve(known) : countAllTokensAsync(rest).then((tokens) => known + tokens);
      rest = undefined;
    }
    return total!;
  };
}
