import { Mutex } from 'redis-semaphore';
import type { SharedLogins, SharedToken } from '../credentials/types.js';
import type { Logger } from '../logger.js';
import type { SharedRedis } from './redis.js';

// One refresh per account across the replicas (anthropic-and-responses.md §5.2): a lock per
// account (redis-semaphore's Mutex: an expiry, kept alive while its holder lives, so a replica
// that dies mid-refresh blocks the others no longer than the expiry), the new token written under
// a version check (the fencing: a holder whose lock expired cannot overwrite a newer token) and
// published, so every replica takes it at once. A replica that starts later reads it from here.

/** Writes the token only if the stored version is still the one the writer saw. */
const WRITE_IF_VERSION = `
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'accessToken', ARGV[2], 'refreshToken', ARGV[3], 'expiresAt', ARGV[4], 'profileArn', ARGV[5], 'version', current + 1)
return current + 1
`;

export class RedisLogins implements SharedLogins {
  /** Fingerprint → the newest version this replica has heard of. */
  private readonly heard = new Map<string, number>();
  /** Accounts read since the last (re)connect: the others may be newer in Redis. */
  private readonly checked = new Set<string>();

  constructor(
    private readonly redis: SharedRedis,
    private readonly logger: Logger,
    /** How long a refresh lock lives without its holder (REDIS_LOCK_MS). */
    private readonly lockMs: number,
  ) {
    redis.on('token', (message) => {
      const fingerprint = String(message.fingerprint);
      this.heard.set(fingerprint, Math.max(this.heard.get(fingerprint) ?? 0, Number(message.version) || 0));
    });
    // Anything may have changed while Redis was away.
    redis.onReconnect(() => this.checked.clear());
  }

  maybeNewer(fingerprint: string, version: number): boolean {
    if (!this.redis.available) return false;
    return !this.checked.has(fingerprint) || (this.heard.get(fingerprint) ?? 0) > version;
  }

  async read(fingerprint: string): Promise<SharedToken | undefined> {
    const fields = await this.redis.run((redis) => redis.hgetall(this.redis.key('token', fingerprint)));
    if (fields === undefined) return undefined;
    this.checked.add(fingerprint);
    const token = toToken(fields);
    if (token) this.heard.set(fingerprint, Math.max(this.heard.get(fingerprint) ?? 0, token.version));
    return token;
  }

  async refreshOnce(fingerprint: string, version: number, refresh: () => Promise<Omit<SharedToken, 'version'>>): Promise<{ token: SharedToken; ours: boolean } | undefined> {
    if (!this.redis.available) return undefined;
    let lost = false;
    const lock = new Mutex(this.redis.client, this.redis.key('lock', 'refresh', fingerprint), {
      lockTimeout: this.lockMs,
      // Long enough to outwait one holder that dies (its lock expires) and the refresh of the next.
      acquireTimeout: this.lockMs * 3,
      retryInterval: 50,
      onLockLost: () => (lost = true),
    });
    try {
      await lock.acquire();
    } catch (error) {
      this.logger.warn({ account: fingerprint, err: (error as Error).message }, 'could not take the shared refresh lock; refreshing locally');
      return undefined;
    }
    try {
      const stored = await this.read(fingerprint);
      // Someone refreshed while this replica waited (or before it looked): theirs is the token.
      if (stored && stored.version > version && stored.expiresAt > Date.now()) return { token: stored, ours: false };
      const fresh = await refresh();
      const expected = stored?.version ?? 0;
      const written = await this.redis.run((redis) =>
        redis.eval(WRITE_IF_VERSION, 1, this.redis.key('token', fingerprint), String(expected), fresh.accessToken, fresh.refreshToken ?? '', String(fresh.expiresAt), fresh.profileArn ?? ''),
      );
      const next = Number(written ?? 0);
      if (next === 0 || lost) {
        // The lock expired under a slow refresh and another replica wrote first (or Redis went
        // away): keep this token here; the shared one is whoever's landed.
        this.logger.warn({ account: fingerprint }, 'the shared token changed during this replica\'s refresh; keeping its own');
        return { token: { ...fresh, version }, ours: true };
      }
      this.heard.set(fingerprint, next);
      await this.redis.publish('token', { fingerprint, version: next });
      return { token: { ...fresh, version: next }, ours: true };
    } finally {
      await lock.release().catch(() => undefined);
    }
  }
}

function toToken(fields: Record<string, string>): SharedToken | undefined {
  if (!fields.accessToken || !fields.version) return undefined;
  return {
    accessToken: fields.accessToken,
    ...(fields.refreshToken && { refreshToken: fields.refreshToken }),
    expiresAt: Number(fields.expiresAt) || 0,
    ...(fields.profileArn && { profileArn: fields.profileArn }),
    version: Number(fields.version),
  };
}
