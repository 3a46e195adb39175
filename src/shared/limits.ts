import { MemoryStore, type ClientRateLimitInfo, type IncrementResponse, type Options, type Store } from 'express-rate-limit';
import { RedisStore } from 'rate-limit-redis';
import { Semaphore } from 'redis-semaphore';
import type { StreamSlots } from '../http/limits.js';
import type { SharedRedis } from './redis.js';

// Client limits that hold across the replicas: RATE_LIMIT_RPM counted in Redis (rate-limit-redis,
// express-rate-limit's own Redis store) and MAX_CONCURRENT_STREAMS as a Redis semaphore per key
// (redis-semaphore: a slot expires unless its holder keeps it alive, so the slots of a replica
// that dies come free by themselves). While Redis is away, each replica counts alone.

/** The Redis store, with this replica's memory standing in while Redis is away. */
export class SharedRateStore implements Store {
  private readonly primary: RedisStore;
  private readonly backup = new MemoryStore();
  private options: Options | undefined;
  private primaryBroken = false;
  readonly prefix: string;

  constructor(private readonly redis: SharedRedis) {
    this.prefix = redis.key('rate', '');
    this.primary = new RedisStore({ prefix: this.prefix, sendCommand: (command: string, ...args: string[]) => redis.client.call(command, ...args) as never });
  }

  init(options: Options): void {
    this.options = options;
    this.backup.init(options);
    if (this.redis.available) void this.primary.init(options).catch(() => (this.primaryBroken = true));
    else this.primaryBroken = true;
  }

  private async use<T>(shared: () => Promise<T>, local: () => Promise<T> | T): Promise<T> {
    if (this.redis.available) {
      // Scripts not loaded (Redis was away when it started): load them now.
      if (this.primaryBroken && this.options) {
        this.primaryBroken = false;
        await this.primary.init(this.options).catch(() => (this.primaryBroken = true));
      }
      if (!this.primaryBroken) {
        try {
          return await shared();
        } catch {
          this.primaryBroken = !this.redis.available;
        }
      }
    }
    return local();
  }

  increment(key: string): Promise<IncrementResponse> {
    return this.use(
      () => this.primary.increment(key),
      () => this.backup.increment(key),
    );
  }

  decrement(key: string): Promise<void> {
    return this.use(
      () => this.primary.decrement(key),
      () => this.backup.decrement(key),
    );
  }

  resetKey(key: string): Promise<void> {
    return this.use(
      () => this.primary.resetKey(key),
      () => this.backup.resetKey(key),
    );
  }

  get(key: string): Promise<ClientRateLimitInfo | undefined> {
    return this.use(
      () => this.primary.get(key),
      () => this.backup.get(key),
    );
  }
}

/** Open-stream slots per client across the replicas; undefined (the caller counts locally) while Redis is away. */
export class SharedStreamSlots implements StreamSlots {
  constructor(
    private readonly redis: SharedRedis,
    private readonly max: number,
    private readonly slotMs = 30_000,
  ) {}

  async take(client: string): Promise<(() => void) | false | undefined> {
    if (!this.redis.available) return undefined;
    const slot = new Semaphore(this.redis.client, this.redis.key('streams', client), this.max, {
      lockTimeout: this.slotMs,
      acquireAttemptsLimit: 1,
      retryInterval: 10,
      // Kept alive while the stream is open; a lost slot only means the stream ends uncounted.
      onLockLost: () => undefined,
    });
    try {
      if (!(await slot.tryAcquire())) return false;
    } catch {
      return undefined;
    }
    return () => void slot.release().catch(() => undefined);
  }
}
