import { createHash } from 'node:crypto';
import { getTokenizer } from '@anthropic-ai/tokenizer';
import { LRUCache } from 'lru-cache';

// Anthropic's published Claude tokenizer (a BPE table run by tiktoken's WASM encoder).
// Building it costs ~100 ms, so it is built once per process, never per request:
// @anthropic-ai/tokenizer's own countTokens() rebuilds it on every call.
let tokenizer: ReturnType<typeof getTokenizer> | undefined;
const utf8 = new TextDecoder();

/** Build the tokenizer now (start-up), instead of on the first request. */
export function warmTokenizer(): ReturnType<typeof getTokenizer> {
  tokenizer ??= getTokenizer();
  return tokenizer;
}

// The table's own pre-tokenizer (claude.json `pat_str`). BPE never merges across its pieces, so a
// text's count is the sum of its pieces' counts — and pieces (words, mostly) repeat endlessly, so
// each is encoded once and then looked up. Exact, and about ten times cheaper than encoding.
const PIECES = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const SPECIAL = /<(?:EOT|META|META_START|META_END|SOS)>/;
/** A long text seen for the first time has many pieces never seen before: one whole encode is cheaper. */
const WHOLE_FROM = 4096;
const MAX_CACHED_PIECE = 24;
const MAX_PIECES = 100_000;
const pieceTokens = new Map<string, number>();

/** Claude tokens in `text`, as Anthropic's tokenizer counts them. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const t = warmTokenizer();
  const normalized = text.normalize('NFKC');
  if (normalized.length >= WHOLE_FROM || SPECIAL.test(normalized)) return t.encode(normalized, 'all').length;
  let total = 0;
  for (const match of normalized.matchAll(PIECES)) {
    const piece = match[0];
    let tokens = pieceTokens.get(piece);
    if (tokens === undefined) {
      tokens = t.encode(piece, 'all').length;
      if (piece.length <= MAX_CACHED_PIECE) {
        if (pieceTokens.size >= MAX_PIECES) pieceTokens.clear();
        pieceTokens.set(piece, tokens);
      }
    }
    total += tokens;
  }
  return total;
}

/** The first `tokens` tokens of `text`, as text. */
export function firstTokens(text: string, tokens: number): string {
  const t = warmTokenizer();
  return utf8.decode(t.decode(t.encode(text.normalize('NFKC'), 'all').slice(0, tokens)));
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
