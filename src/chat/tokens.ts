import { getTokenizer } from '@anthropic-ai/tokenizer';

// Anthropic's published Claude tokenizer (a BPE table run by tiktoken's WASM encoder).
// Building it costs ~100 ms, so it is built once per process, never per request:
// @anthropic-ai/tokenizer's own countTokens() rebuilds it on every call.
let tokenizer: ReturnType<typeof getTokenizer> | undefined;

/** Build the tokenizer now (start-up), instead of on the first request. */
export function warmTokenizer(): void {
  tokenizer ??= getTokenizer();
}

/** Claude tokens in `text`, as Anthropic's tokenizer counts them. */
export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  warmTokenizer();
  return tokenizer!.encode(text.normalize('NFKC'), 'all').length;
}
