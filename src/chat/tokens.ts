import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';
import { LRUCache } from 'lru-cache';

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

/** The table's pre-tokenizer pattern, with \s and \S meaning what they mean to tiktoken. */
function preTokenizer(patStr: string): RegExp {
  const source = patStr
    .replaceAll('[^\\s', `[^${WHITE_SPACE}`)
    .replaceAll('\\S', `[^${WHITE_SPACE}]`)
    .replaceAll('\\s', `[${WHITE_SPACE}]`);
  return new RegExp(source, 'gu');
}

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

// The pre-tokenizer's character classes, for ASCII text: most text is ASCII, and there a char-code
// loop finds the pieces several times faster than the pattern, whose \p{L} and \p{N} classes are
// slow to match. Other text takes the pattern; the tests check both against the reference.
const LETTER = 1;
const DIGIT = 2;
const SPACE = 3;
const OTHER = 4;
const ASCII_CLASS = Uint8Array.from({ length: 128 }, (_, c) =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) ? LETTER : c >= 48 && c <= 57 ? DIGIT : (c >= 9 && c <= 13) || c === 32 ? SPACE : OTHER,
);
const NOT_ASCII = /[^\x00-\x7f]/;

/** Where the piece that starts at `i` ends: the pattern's alternatives, in the pattern's order. */
function asciiPieceEnd(text: string, i: number): number {
  const n = text.length;
  const c = text.charCodeAt(i);
  // 's 't 're 've 'm 'll 'd
  if (c === 0x27 && i + 1 < n) {
    const d = text.charCodeAt(i + 1);
    if (d === 0x73 || d === 0x74 || d === 0x6d || d === 0x64) return i + 2;
    const e = i + 2 < n ? text.charCodeAt(i + 2) : 0;
    if ((d === 0x72 && e === 0x65) || (d === 0x76 && e === 0x65) || (d === 0x6c && e === 0x6c)) return i + 3;
  }
  // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a run of one class, maybe after one space.
  let start = i;
  if (c === 0x20 && i + 1 < n && ASCII_CLASS[text.charCodeAt(i + 1)] !== SPACE) start = i + 1;
  const kind = ASCII_CLASS[text.charCodeAt(start)];
  let end = start + 1;
  while (end < n && ASCII_CLASS[text.charCodeAt(end)] === kind) end++;
  // `\s+(?!\S)` then `\s+`: a run of white space leaves its last character to the piece after it.
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
  /** The pre-tokenizer: BPE never merges across its pieces. */
  readonly pieces: RegExp;
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
    this.pieces = preTokenizer(table.pat_str);
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

  /** Walks `text` (NFKC-normalised): each pre-tokenizer piece to `onPiece`, each special token to `onSpecial`. */
  walk(text: string, onPiece: (piece: string) => void, onSpecial: (rank: number) => void): void {
    const parts = text.includes('<') ? text.split(this.specials) : [text];
    parts.forEach((part, index) => (index % 2 === 1 ? onSpecial(this.specialRanks.get(part)!) : this.walkPieces(part, onPiece)));
  }

  private walkPieces(text: string, onPiece: (piece: string) => void): void {
    if (!NOT_ASCII.test(text)) {
      for (let i = 0, end = 0; i < text.length; i = end) {
        end = asciiPieceEnd(text, i);
        onPiece(text.slice(i, end));
      }
      return;
    }
    const pieces = this.pieces;
    pieces.lastIndex = 0;
    for (let match = pieces.exec(text); match !== null; match = pieces.exec(text)) onPiece(match[0]);
  }

  /** All tokens of `text` (NFKC-normalised), special tokens included. */
  encode(text: string): number[] {
    const out: number[] = [];
    this.walk(text, (piece) => this.encodePiece(piece, out), (rank) => out.push(rank));
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
// each is encoded once and then looked up.
const MAX_CACHED_PIECE = 24;
const MAX_PIECES = 100_000;
const pieceTokens = new Map<string, number>();
const scratch: number[] = [];

/** NFKC, as the tokenizer expects its input; ASCII text is left as it is (NFKC would not change it). */
const normalize = (text: string) => (NOT_ASCII.test(text) ? text.normalize('NFKC') : text);

/** Claude tokens in `text`, as Anthropic's tokenizer counts them. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const encoder = bpe();
  let total = 0;
  const countPiece = (piece: string) => {
    let tokens = pieceTokens.get(piece);
    if (tokens === undefined) {
      scratch.length = 0;
      encoder.encodePiece(piece, scratch);
      tokens = scratch.length;
      if (piece.length <= MAX_CACHED_PIECE) {
        if (pieceTokens.size >= MAX_PIECES) pieceTokens.clear();
        pieceTokens.set(piece, tokens);
      }
    }
    total += tokens;
  };
  encoder.walk(normalize(text), countPiece, () => total++);
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
 * 600 KB prompt (or answer) of text that repeats little takes about half a second to count, which
 * would otherwise stall every other request of the process for as long.
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
  const rest: string[] = [];
  for (const text of texts) {
    const tokens = text.length < CACHE_FROM ? undefined : counted.get(text);
    if (tokens === undefined) rest.push(text);
    else known += tokens;
  }
  let total: Promise<number> | undefined;
  return () => (total ??= rest.length === 0 ? Promise.resolve(known) : countAllTokensAsync(rest).then((tokens) => known + tokens));
}
