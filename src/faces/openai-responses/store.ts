import { LRUCache } from 'lru-cache';
import type { Response } from '../../../contract/index.js';

// Stored responses (`store: true`, the default): what `previous_response_id`, `item_reference`,
// GET /v1/responses/{id} and its input_items read. In memory with a TTL and a size cap, least
// recently used first; per client (API key), so no key ever sees another's responses. Async, so
// a shared store (Redis) can stand in for it.

export type Item = Record<string, unknown> & { type: string; id?: string };

export interface StoredResponse {
  response: Response;
  /** The input items, as resolved (references and previous responses expanded), each with an id. */
  input: Item[];
  /** The client asked for reasoning.encrypted_content: GET shows it too. */
  includeEncrypted: boolean;
}

export interface ResponseStore {
  put(client: string, stored: StoredResponse): Promise<void>;
  get(client: string, id: string): Promise<StoredResponse | undefined>;
  item(client: string, id: string): Promise<Item | undefined>;
  delete(client: string, id: string): Promise<boolean>;
}

export class MemoryResponseStore implements ResponseStore {
  private readonly responses: LRUCache<string, StoredResponse>;
  private readonly items: LRUCache<string, Item>;

  constructor(ttlSeconds: number, maxStored: number) {
    this.responses = new LRUCache({ max: maxStored, ttl: ttlSeconds * 1000 });
    // An item lives as long as a response that holds it could; a conversation holds many.
    this.items = new LRUCache({ max: maxStored * 64, ttl: ttlSeconds * 1000 });
  }

  async put(client: string, stored: StoredResponse): Promise<void> {
    this.responses.set(`${client}:${stored.response.id}`, stored);
    for (const item of [...stored.input, ...(stored.response.output as Item[])]) if (item.id) this.items.set(`${client}:${item.id}`, item);
  }

  async get(client: string, id: string): Promise<StoredResponse | undefined> {
    return this.responses.get(`${client}:${id}`);
  }

  async item(client: string, id: string): Promise<Item | undefined> {
    return this.items.get(`${client}:${id}`);
  }

  async delete(client: string, id: string): Promise<boolean> {
    return this.responses.delete(`${client}:${id}`);
  }
}
