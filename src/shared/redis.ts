import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../logger.js';

// The one connection to Redis that several replicas share their state through (REDIS_URL), and
// the rule that keeps a Redis outage from becoming a gateway outage: every command fails fast
// while Redis is away (no offline queue, one attempt), the caller falls back to its local state,
// a warning is logged once per outage (not per request), and the connection keeps trying in the
// background. Keys live under REDIS_PREFIX, so several deployments can share one Redis.

export type RedisState = 'connecting' | 'connected' | 'unreachable';

export interface SharedRedisOptions {
  url: string;
  prefix: string;
  replica: string;
  logger: Logger;
}

type Handler = (message: Record<string, unknown>) => void;

/** A replica's id: REPLICA_ID, else host and process, made unique. */
export const defaultReplicaId = (): string => `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;

export class SharedRedis {
  readonly client: Redis;
  readonly prefix: string;
  readonly replica: string;
  private readonly subscriber: Redis;
  private readonly handlers = new Map<string, Handler[]>();
  private readonly reconnected: (() => void)[] = [];
  private current: RedisState = 'connecting';
  private warned = false;
  private closed = false;

  constructor(private readonly options: SharedRedisOptions) {
    this.prefix = options.prefix;
    this.replica = options.replica;
    const common = {
      // Fail at once while disconnected: the caller serves from local state instead of waiting.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      commandTimeout: 1500,
      retryStrategy: (times: number) => Math.min(2000, 100 * times),
      lazyConnect: false,
    };
    this.client = new Redis(options.url, common);
    // A subscriber connection can do nothing else; pub/sub needs its own.
    this.subscriber = new Redis(options.url, { ...common, commandTimeout: undefined });
    this.client.on('ready', () => this.up());
    this.client.on('error', (error: Error) => this.down(error));
    this.client.on('close', () => this.down(new Error('connection closed')));
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('ready', () => void this.subscriber.subscribe(this.key('events')).catch(() => undefined));
    this.subscriber.on('message', (_channel: string, text: string) => this.dispatch(text));
  }

  get state(): RedisState {
    return this.current;
  }

  get available(): boolean {
    return this.current === 'connected';
  }

  key(...parts: string[]): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  private up(): void {
    const was = this.current;
    this.current = 'connected';
    if (was === 'unreachable') {
      this.options.logger.info('Redis is reachable again: shared state is used again');
      for (const hook of this.reconnected) hook();
    }
    this.warned = false;
  }

  private down(error: Error): void {
    if (this.closed) return;
    if (this.current === 'connected' || this.current === 'connecting') this.current = 'unreachable';
    if (!this.warned) {
      this.warned = true;
      this.options.logger.warn({ err: error.message }, 'Redis is unreachable: serving with this replica\'s own state until it is back');
    }
  }

  /** Runs a Redis operation; undefined (and local state for the caller) when Redis is away or fails. */
  async run<T>(operation: (redis: Redis) => Promise<T>): Promise<T | undefined> {
    if (!this.available) return undefined;
    try {
      return await operation(this.client);
    } catch (error) {
      if (!this.available) return undefined;
      this.options.logger.debug({ err: (error as Error).message }, 'a Redis command failed; local state used');
      return undefined;
    }
  }

  /** Tells every replica (this one included) something happened. */
  async publish(type: string, fields: Record<string, unknown>): Promise<void> {
    await this.run((redis) => redis.publish(this.key('events'), JSON.stringify({ ...fields, type, from: this.replica })));
  }

  /** Handles what other replicas publish of `type`. */
  on(type: string, handler: Handler): void {
    this.handlers.set(type, [...(this.handlers.get(type) ?? []), handler]);
  }

  /** Called when Redis comes back after an outage (to load what was missed). */
  onReconnect(hook: () => void): void {
    this.reconnected.push(hook);
  }

  private dispatch(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (message.from === this.replica) return;
    for (const handler of this.handlers.get(String(message.type)) ?? []) handler(message);
  }

  /** Waits (briefly) for the first connection, so a replica starts with the shared state. */
  async ready(timeoutMs = 2000): Promise<boolean> {
    if (this.available) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.available;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.disconnect();
    this.subscriber.disconnect();
  }
}
