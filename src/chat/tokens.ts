import { createHash } from 'node:crypto';
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

  constructor(table: TiktokenTable) {
    for (const line of table.bpe_ranks.split('\n')) {
      if (!line) continue;
      const [, first, ...tokens] = line.split(' ');
      let rank = Number(first);
      for (const token of tokens) {
        const bytes = atob(token);
        this.ranks.set(bytes, rank);
        this.bytesOf[rank] = bytes;
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
    // tiktoken's byte_pair_merge: keep the parts' start offsets and the rank of merging each part
    // with the next; merge the lowest-ranked pair (the first, on ties) until no pair is a token.
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
    for (let i = 0; i < starts.length - 1; i++) {
      const rank = this.ranks.get(bytes.slice(starts[i], starts[i + 1]));
      // Every single byte is a token in a byte-level table, so this fires only on a broken table.
      if (rank === undefined) throw new Error('tokenizer table lacks a single-byte token');
      out.push(rank);
    }
  }

  /** Rank of part i merged with the two after it (i+1 is about to be merged into i), if a token. */
  private rankOfMerge(bytes: string, starts: number[], i: number): number {
    return i + 3 < starts.length ? (this.ranks.get(bytes.slice(starts[i], starts[i + 3])) ?? NOT_A_TOKEN) : NOT_A_TOKEN;
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

/** Texts at least this long are worth a cache entry (hashing them is far cheaper than counting). */
const CACHE_FROM = 512;
const counted = new LRUCache<string, number>({ max: 20_000 });

/**
 * countTokens, remembering long texts: agents resend the whole conversation every turn, so
 * without this a 100 k-token history would be re-counted on every request.
 */
export function countTokensCached(text: string): number {
  if (text.length < CACHE_FROM) return countTokens(text);
  const key = createHash('sha1').update(text).digest('base64');
  let tokens = counted.get(key);
  if (tokens === undefined) {
    tokens = countTokens(text);
    counted.set(key, tokens);
  }
  return tokens;
}
