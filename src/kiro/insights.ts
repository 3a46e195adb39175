import type { Dispatcher } from 'undici';
import type { AccountUsage, ModelInfo } from '../chat/types.js';
import type { AccountLease, CredentialProvider } from '../credentials/types.js';
import type { Logger } from '../logger.js';
import { KiroEndpoints, sendsProfile } from './endpoints.js';
import { getUsageLimits, isExhausted, listAvailableModels, modelInfoFor, type ModelListing } from './management.js';
import { KIRO_MODELS } from './models.js';

// What each account may use and has left: its models (ListAvailableModels, hourly and at start)
// and its credits (getUsageLimits, every 10 minutes, after a 402, and on demand). The gateway
// publishes the union of the models, routes a request only to accounts that have its model,
// prefers the accounts with the most credits left, and rests an account that has spent its
// credits until its plan resets instead of sending it requests that can only fail.

/** Figures shared by the replicas (Redis): one replica asks Kiro, the others read its answer. */
export interface SharedFigures {
  get<T>(kind: 'models' | 'usage', fingerprint: string): Promise<{ value: T; at: number } | undefined>;
  put(kind: 'models' | 'usage', fingerprint: string, value: unknown, ttlMs: number): void;
}

export interface InsightOptions {
  shared?: SharedFigures;
  credentials: CredentialProvider;
  endpoints: KiroEndpoints;
  dispatcher?: Dispatcher;
  logger: Logger;
  modelsEveryMs?: number;
  usageEveryMs?: number;
  now?: () => number;
}

interface Known {
  /** Undefined until ListAvailableModels answered: the built-in table stands in. */
  models?: ModelListing[];
  modelsAt: number;
  usage?: AccountUsage;
  usageAt: number;
  /** The account was rested for having spent its credits. */
  exhausted: boolean;
}

const BUILT_IN: readonly ModelListing[] = KIRO_MODELS.map((m) => ({ upstreamId: m.upstreamId, name: m.displayName, contextWindow: m.contextWindow, thinking: m.thinking === 'native' }));

export class AccountInsights {
  private readonly known = new Map<string, Known>();
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private listed: { key: string; models: readonly ModelInfo[] } | undefined;
  /** Rises with every model list that came in: the published list is rebuilt after it. */
  private version = 0;
  private readonly now: () => number;

  constructor(private readonly options: InsightOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Looks at every account now, then keeps looking at what falls due. */
  start(): void {
    void this.refreshDue();
    // Often, and cheap: only accounts that are due (or new) are asked.
    this.timer = setInterval(() => void this.refreshDue(), 5_000);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** The accounts that can be asked: not dead, holding a token. */
  private live(): string[] {
    const credentials = this.options.credentials;
    if (credentials.liveFingerprints) return credentials.liveFingerprints();
    return credentials
      .accounts()
      .filter((a) => a.state === 'healthy' || a.state === 'cooling_down')
      .map((a) => a.fingerprint);
  }

  private entry(fingerprint: string): Known {
    let known = this.known.get(fingerprint);
    if (!known) {
      known = { modelsAt: -Infinity, usageAt: -Infinity, exhausted: false };
      this.known.set(fingerprint, known);
    }
    return known;
  }

  /** Every account whose models or usage are due, one call at a time. */
  refreshDue(): Promise<void> {
    this.running ??= (async () => {
      for (const fingerprint of this.live()) {
        const known = this.entry(fingerprint);
        const modelsDue = this.now() - known.modelsAt >= (this.options.modelsEveryMs ?? 3_600_000);
        const usageDue = this.now() - known.usageAt >= (this.options.usageEveryMs ?? 600_000);
        if (!modelsDue && !usageDue) continue;
        const lease = await this.options.credentials.lease(fingerprint);
        if (!lease) continue;
        if (modelsDue) await this.fetchModels(fingerprint, lease, false);
        if (usageDue) await this.fetchUsage(fingerprint, lease, false);
      }
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  /** A request used this account: one the gateway has not asked about yet is asked now. */
  noticed(fingerprint: string): void {
    if (!this.known.has(fingerprint)) void this.refreshDue();
  }

  /** An account's models and usage now (someone asked). */
  async refreshAccount(fingerprint: string): Promise<boolean> {
    const lease = await this.options.credentials.lease(fingerprint);
    if (!lease) return false;
    await this.fetchModels(fingerprint, lease, true);
    await this.fetchUsage(fingerprint, lease, true);
    return true;
  }

  /** An account's usage now (after a 402, or when someone asks). */
  async refreshUsage(fingerprint: string): Promise<AccountUsage | undefined> {
    const lease = await this.options.credentials.lease(fingerprint);
    if (lease) await this.fetchUsage(fingerprint, lease, true);
    return this.known.get(fingerprint)?.usage;
  }

  private target(lease: AccountLease) {
    const { credentials } = lease;
    return { baseUrl: this.options.endpoints.management(credentials), credentials, sendProfile: sendsProfile(credentials) };
  }

  /** What another replica asked Kiro for lately, if it did. */
  private async fromShared<T>(kind: 'models' | 'usage', fingerprint: string, maxAgeMs: number): Promise<T | undefined> {
    const shared = await this.options.shared?.get<T>(kind, fingerprint);
    return shared && this.now() - shared.at < maxAgeMs ? shared.value : undefined;
  }

  private async fetchModels(fingerprint: string, lease: AccountLease, force: boolean): Promise<void> {
    const known = this.entry(fingerprint);
    known.modelsAt = this.now();
    const every = this.options.modelsEveryMs ?? 3_600_000;
    const shared = force ? undefined : await this.fromShared<ModelListing[]>('models', fingerprint, every);
    if (shared) {
      known.models = shared;
      this.version++;
      return;
    }
    try {
      known.models = await listAvailableModels(this.target(lease), this.options.dispatcher);
      this.version++;
      this.options.shared?.put('models', fingerprint, known.models, every);
    } catch (error) {
      // Kept as they were (or the built-in table), and asked again at the next turn.
      this.options.logger.warn({ account: fingerprint }, `could not list the account's models (${(error as Error).message}); using ${known.models ? 'the last list' : 'the built-in table'}`);
    }
  }

  private async fetchUsage(fingerprint: string, lease: AccountLease, force: boolean): Promise<void> {
    const known = this.entry(fingerprint);
    known.usageAt = this.now();
    const every = this.options.usageEveryMs ?? 600_000;
    let usage: AccountUsage | undefined = force ? undefined : await this.fromShared<AccountUsage>('usage', fingerprint, every);
    if (!usage) {
      try {
        usage = await getUsageLimits(this.target(lease), this.options.dispatcher);
      } catch (error) {
        this.options.logger.warn({ account: fingerprint }, `could not read the account's usage limits (${(error as Error).message})`);
        return;
      }
      this.options.shared?.put('usage', fingerprint, usage, every);
    }
    known.usage = usage;
    if (isExhausted(usage)) {
      known.exhausted = true;
      const until = usage.resetsAt ? Date.parse(usage.resetsAt) : this.now() + 3_600_000;
      lease.report({ kind: 'exhausted', untilMs: until, why: `used ${usage.used} of ${usage.limit} credits${usage.resetsAt ? `; resets ${usage.resetsAt}` : ''}` });
    } else if (known.exhausted) {
      known.exhausted = false;
      lease.report({ kind: 'ok' });
    }
  }

  private listings(fingerprint: string): readonly ModelListing[] {
    return this.known.get(fingerprint)?.models ?? BUILT_IN;
  }

  /** Whether an account may use a model (an account that has not said yet is taken at its word: the built-in table). */
  serves(fingerprint: string, upstreamId: string): boolean {
    return this.listings(fingerprint).some((m) => m.upstreamId === upstreamId);
  }

  /** Whether any live account may use it. */
  anyServes(upstreamId: string): boolean {
    const live = this.live();
    return live.length === 0 || live.some((fingerprint) => this.serves(fingerprint, upstreamId));
  }

  /**
   * How much an account is preferred for its credits left, in coarse steps (each a doubling): an
   * account with 900 left is preferred to one with 9, but two with 900 and 990 take turns, so
   * traffic still spreads. An account that has not said ranks below any that has credits left.
   */
  creditRank(fingerprint: string): number {
    const usage = this.known.get(fingerprint)?.usage;
    if (!usage) return 0;
    if (usage.overage) return 64;
    return 1 + Math.floor(Math.log2(Math.max(0, usage.limit - usage.used) + 1));
  }

  usage(fingerprint: string): AccountUsage | null {
    return this.known.get(fingerprint)?.usage ?? null;
  }

  models(fingerprint: string): string[] | null {
    return this.known.get(fingerprint)?.models?.map((m) => m.upstreamId) ?? null;
  }

  /**
   * What /v1/models lists: the union of the live accounts' models, each with the largest context
   * window an account has for it, in the built-in table's order and then Kiro's; the built-in
   * table when no account is live.
   */
  modelList(): readonly ModelInfo[] {
    const live = this.live();
    const key = `${this.version}:${live.join(',')}`;
    if (this.listed?.key === key) return this.listed.models;
    const merged = new Map<string, ModelListing>();
    for (const listing of live.length === 0 ? [BUILT_IN] : live.map((f) => this.listings(f))) {
      for (const model of listing) {
        const seen = merged.get(model.upstreamId);
        if (!seen || model.contextWindow > seen.contextWindow) merged.set(model.upstreamId, model);
      }
    }
    const order = (m: ModelListing) => {
      const index = KIRO_MODELS.findIndex((k) => k.upstreamId === m.upstreamId);
      return index === -1 ? KIRO_MODELS.length : index;
    };
    const models = [...merged.values()].sort((a, b) => order(a) - order(b)).map(modelInfoFor);
    this.listed = { key, models };
    return models;
  }
}
