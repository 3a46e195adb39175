import { createHash } from 'node:crypto';
import type { AccountNews, SharedAccountState } from '../credentials/types.js';
import type { SharedRedis } from './redis.js';

// Account state every replica must agree on (anthropic-and-responses.md §5.1): an account that
// rests (throttled, out of quota, rejected, circuit open) rests everywhere; a login moved to the
// legacy host is moved everywhere; a session keeps its account whichever replica it reaches.
// Announced at once (pub/sub), kept in Redis with the rest's own expiry, read back every few
// seconds in case an announcement was missed.

const STICKY_SECONDS = 3600;
const LEGACY_SECONDS = 86_400;

export class RedisAccountState implements SharedAccountState {
  private readonly handlers: ((fingerprint: string, news: AccountNews) => void)[] = [];

  constructor(private readonly redis: SharedRedis) {
    redis.on('account', (message) => {
      const news = message.news as AccountNews;
      for (const handler of this.handlers) handler(String(message.fingerprint), news);
    });
  }

  announce(fingerprint: string, news: AccountNews): void {
    void (async () => {
      const left = (news.cooldownUntil ?? 0) - Date.now();
      if (news.cooldownUntil !== undefined) {
        if (left > 0) await this.redis.run((r) => r.set(this.redis.key('cool', fingerprint), JSON.stringify({ until: news.cooldownUntil, reason: news.reason ?? '' }), 'PX', left));
        else await this.redis.run((r) => r.del(this.redis.key('cool', fingerprint)));
      }
      if (news.legacy) await this.redis.run((r) => r.set(this.redis.key('host', fingerprint), news.legacy!, 'EX', LEGACY_SECONDS));
      await this.redis.publish('account', { fingerprint, news });
    })();
  }

  onNews(handler: (fingerprint: string, news: AccountNews) => void): void {
    this.handlers.push(handler);
  }

  async current(fingerprints: readonly string[]): Promise<Map<string, AccountNews> | undefined> {
    if (fingerprints.length === 0) return new Map();
    const keys = fingerprints.flatMap((f) => [this.redis.key('cool', f), this.redis.key('host', f)]);
    const values = await this.redis.run((r) => r.mget(...keys));
    if (!values) return undefined;
    const out = new Map<string, AccountNews>();
    fingerprints.forEach((fingerprint, i) => {
      const news: AccountNews = {};
      const rest = values[i * 2];
      if (rest) {
        try {
          const parsed = JSON.parse(rest) as { until: number; reason: string };
          news.cooldownUntil = parsed.until;
          news.reason = parsed.reason;
        } catch {
          // Not ours: ignored.
        }
      }
      const legacy = values[i * 2 + 1];
      if (legacy) news.legacy = legacy;
      if (news.cooldownUntil !== undefined || news.legacy) out.set(fingerprint, news);
    });
    return out;
  }

  /** Sessions are hashed: a client's session id never sits in Redis as it is. */
  private stickyKey(session: string): string {
    return this.redis.key('sticky', createHash('sha256').update(session).digest('hex').slice(0, 32));
  }

  async sticky(session: string): Promise<string | undefined> {
    return (await this.redis.run((r) => r.get(this.stickyKey(session)))) ?? undefined;
  }

  stick(session: string, fingerprint: string): void {
    void this.redis.run((r) => r.set(this.stickyKey(session), fingerprint, 'EX', STICKY_SECONDS));
  }
}
