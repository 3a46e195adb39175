import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { ChatCompletion, ChatCompletionRequest } from '../../../contract/index.js';

/**
 * Opt-in exact-match cache for non-streaming answers (CACHE_TTL_SECONDS). The key is a hash of the
 * client (its API key's hash) and the whole request as sent, so any difference — a message, a
 * parameter, the model name, the key — misses: one key's answers are never served to another.
 */
/** Where cached answers live: this process (CompletionCache) or Redis, shared by the replicas. */
export interface AnswerCache {
  key(body: ChatCompletionRequest, client: string): string;
  get(key: string): Promise<ChatCompletion | undefined>;
  set(key: string, completion: ChatCompletion): Promise<void>;
}

export class CompletionCache implements AnswerCache {
  private readonly entries: LRUCache<string, ChatCompletion>;

  constructor(ttlSeconds: number, maxEntries: number) {
    this.entries = new LRUCache({ max: maxEntries, ttl: ttlSeconds * 1000 });
  }

  key(body: ChatCompletionRequest, client: string): string {
    return createHash('sha256').update(client).update('\0').update(JSON.stringify(body)).digest('hex');
  }

  async get(key: string): Promise<ChatCompletion | undefined> {
    return this.entries.get(key);
  }

  async set(key: string, completion: ChatCompletion): Promise<void> {
    this.entries.set(key, completion);
  }
}
