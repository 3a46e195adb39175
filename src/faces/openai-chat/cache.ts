import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ChatCompletion, ChatCompletionRequest } from '../../../contract/index.js';

/**
 * Opt-in exact-match cache for non-streaming answers (CACHE_TTL_SECONDS). The key is a hash of the
 * client (its API key's hash) and the whole request as sent, so any difference — a message, a
 * parameter, the model name, the key — misses: one key's answers are never served to another.
 */
export class CompletionCache {
  private readonly entries: LRUCache<string, ChatCompletion>;

  constructor(ttlSeconds: number, maxEntries: number) {
    this.entries = new LRUCache({ max: maxEntries, ttl: ttlSeconds * 1000 });
  }

  key(body: ChatCompletionRequest, client: string): string {
    return createHash('sha256').update(client).update('\0').update(JSON.stringify(body)).digest('hex');
  }

  get(key: string): ChatCompletion | undefined {
    return this.entries.get(key);
  }

  set(key: string, completion: ChatCompletion): void {
    this.entries.set(key, completion);
  }
}
