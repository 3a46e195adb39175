import type { ChatCompletion, ChatCompletionRequest } from '../../../contract/index.js';
import type { SharedRedis } from '../../shared/redis.js';
import { CompletionCache, type AnswerCache } from './cache.js';

// The answer cache in Redis (REDIS_URL), with its TTL, so a cached answer is a hit on every
// replica. While Redis is away it falls back to this replica's own memory.

export class RedisAnswerCache implements AnswerCache {
  private readonly local: CompletionCache;

  constructor(
    private readonly redis: SharedRedis,
    private readonly ttlSeconds: number,
    maxEntries: number,
  ) {
    this.local = new CompletionCache(ttlSeconds, maxEntries);
  }

  key(body: ChatCompletionRequest, client: string): string {
    return this.local.key(body, client);
  }

  async get(key: string): Promise<ChatCompletion | undefined> {
    const text = await this.redis.run((r) => r.get(this.redis.key('answer', key)));
    if (text === undefined) return this.local.get(key);
    return text ? (JSON.parse(text) as ChatCompletion) : undefined;
  }

  async set(key: string, completion: ChatCompletion): Promise<void> {
    await this.local.set(key, completion);
    await this.redis.run((r) => r.set(this.redis.key('answer', key), JSON.stringify(completion), 'EX', this.ttlSeconds));
  }
}
