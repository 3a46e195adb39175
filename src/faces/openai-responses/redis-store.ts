import type { SharedRedis } from '../../shared/redis.js';
import { MemoryResponseStore, type Item, type ResponseStore, type StoredResponse } from './store.js';

// The Responses store in Redis (REDIS_URL), with its TTL, so a `previous_response_id` made on one
// replica continues on any other. While Redis is away it falls back to this replica's own memory
// (and says nothing more: the connection's outage warning has been logged once).

export class RedisResponseStore implements ResponseStore {
  private readonly local: MemoryResponseStore;

  constructor(
    private readonly redis: SharedRedis,
    private readonly ttlSeconds: number,
    maxStored: number,
  ) {
    this.local = new MemoryResponseStore(ttlSeconds, maxStored);
    // A delete on any replica deletes everywhere (this memory keeps what was made while Redis was away).
    redis.on('response-deleted', (message) => void this.local.delete(String(message.client), String(message.id)));
  }

  private responseKey = (client: string, id: string) => this.redis.key('resp', client, id);
  private itemKey = (client: string, id: string) => this.redis.key('item', client, id);

  async put(client: string, stored: StoredResponse): Promise<void> {
    await this.local.put(client, stored);
    await this.redis.run(async (r) => {
      const batch = r.multi().set(this.responseKey(client, stored.response.id), JSON.stringify(stored), 'EX', this.ttlSeconds);
      for (const item of [...stored.input, ...(stored.response.output as Item[])]) if (item.id) batch.set(this.itemKey(client, item.id), JSON.stringify(item), 'EX', this.ttlSeconds);
      await batch.exec();
    });
  }

  async get(client: string, id: string): Promise<StoredResponse | undefined> {
    const text = await this.redis.run((r) => r.get(this.responseKey(client, id)));
    // Not in Redis (or Redis away): one this replica made while Redis was away, if any.
    return text ? (JSON.parse(text) as StoredResponse) : this.local.get(client, id);
  }

  async item(client: string, id: string): Promise<Item | undefined> {
    const text = await this.redis.run((r) => r.get(this.itemKey(client, id)));
    return text ? (JSON.parse(text) as Item) : this.local.item(client, id);
  }

  async delete(client: string, id: string): Promise<boolean> {
    const removed = await this.redis.run((r) => r.del(this.responseKey(client, id)));
    const local = await this.local.delete(client, id);
    await this.redis.publish('response-deleted', { client, id });
    return (removed ?? 0) > 0 || local;
  }
}
