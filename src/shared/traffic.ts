import { mergeTraffic, type FailedRequest, type MinuteBucket, type TrafficLog } from '../ops/traffic.js';
import type { SharedRedis } from './redis.js';

// The dashboard's traffic over all replicas: each replica puts its own last hour in Redis every
// few seconds with a short expiry (a replica that is gone drops out by itself), and the
// dashboard adds them up.

const EVERY_MS = 5000;
const KEEP_MS = 30_000;

type Part = { minutes: MinuteBucket[]; failures: FailedRequest[] };

export class SharedTraffic {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: SharedRedis,
    private readonly local: TrafficLog,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.publish(), EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private own(): Part {
    return { minutes: this.local.lastHour(), failures: this.local.failures() };
  }

  async publish(): Promise<void> {
    const now = Date.now();
    await this.redis.run((r) =>
      r
        .multi()
        .set(this.redis.key('traffic', this.redis.replica), JSON.stringify(this.own()), 'PX', KEEP_MS)
        .zadd(this.redis.key('replicas'), now, this.redis.replica)
        .zremrangebyscore(this.redis.key('replicas'), 0, now - KEEP_MS)
        .exec(),
    );
  }

  /** Every live replica's traffic added up (this one's as it is now); this one's alone while Redis is away. */
  async merged(): Promise<Part> {
    const others = await this.redis.run(async (r) => {
      const replicas = (await r.zrangebyscore(this.redis.key('replicas'), Date.now() - KEEP_MS, '+inf')).filter((id) => id !== this.redis.replica);
      if (replicas.length === 0) return [];
      const texts = await r.mget(...replicas.map((id) => this.redis.key('traffic', id)));
      return texts.flatMap((text) => {
        if (!text) return [];
        try {
          return [JSON.parse(text) as Part];
        } catch {
          return [];
        }
      });
    });
    return mergeTraffic([this.own(), ...(others ?? [])]);
  }
}
