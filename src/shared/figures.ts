import type { SharedFigures } from '../kiro/insights.js';
import type { SharedRedis } from './redis.js';

// Each account's models and credits as one replica last had them from Kiro, for the others to
// read instead of asking Kiro again (with the figure's own time to live).

export class RedisFigures implements SharedFigures {
  constructor(private readonly redis: SharedRedis) {}

  async get<T>(kind: 'models' | 'usage', fingerprint: string): Promise<{ value: T; at: number } | undefined> {
    const text = await this.redis.run((r) => r.get(this.redis.key(kind, fingerprint)));
    if (!text) return undefined;
    try {
      return JSON.parse(text) as { value: T; at: number };
    } catch {
      return undefined;
    }
  }

  put(kind: 'models' | 'usage', fingerprint: string, value: unknown, ttlMs: number): void {
    void this.redis.run((r) => r.set(this.redis.key(kind, fingerprint), JSON.stringify({ value, at: Date.now() }), 'PX', ttlMs));
  }
}
