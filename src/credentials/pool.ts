import { LRUCache } from 'lru-cache';
import { GatewayError } from '../chat/errors.js';
import type { CredentialStatus } from '../chat/types.js';
import type { KiroAccount } from './account.js';
import type { AccountChoice, AccountHealth, AccountLease, AccountNews, AccountOutcome, CredentialProvider, SharedAccountState } from './types.js';

const LOGIN_FIX =
  'Log in to the Kiro IDE (it writes ~/.aws/sso/cache/kiro-auth-token.json), or set KIRO_ACCESS_TOKEN / KIRO_REFRESH_TOKEN ' +
  '(with KIRO_PROFILE_ARN), or point KIRO_TOKEN_FILE at a token file, several (comma-separated), or a folder of them.';

/**
 * How long an account rests after each kind of trouble. Nothing disables an account for good: an
 * account out of quota is probed again hourly (a plan upgrade or reset is picked up), a throttled
 * one after Kiro's retry-after.
 */
export const THROTTLE_COOLDOWN_MS = 10_000;
export const QUOTA_COOLDOWN_MS = 60 * 60_000;
export const AUTH_COOLDOWN_MS = 5 * 60_000;

/**
 * One or several Kiro accounts. Requests go round-robin over the healthy ones; an account that is
 * out of quota, throttled, or rejected even after a refresh rests for a while, and the request
 * moves on to the next account (the upstream adapter does the retry).
 */
/** How long a session keeps its account without a request. */
const STICKY_MS = 60 * 60_000;

/** The accounts of a pool, now: a fixed list, or a folder that gains and loses token files. */
export type Members = readonly KiroAccount[] | (() => readonly KiroAccount[]);

export class AccountPool implements CredentialProvider {
  private next = 0;
  /** Session → the fingerprint of the account that served it last (Kiro's prompt cache is per account). */
  private readonly sticky = new LRUCache<string, string>({ max: 10_000, ttl: STICKY_MS, updateAgeOnGet: true });
  private readonly list: () => readonly KiroAccount[];
  private syncedAt = -Infinity;

  constructor(
    members: Members,
    private readonly missing: string | undefined = undefined,
    private readonly now: () => number = Date.now,
    /** Rests, hosts and sessions shared with other replicas (Redis), when there are any. */
    private readonly shared?: SharedAccountState,
  ) {
    this.list = typeof members === 'function' ? members : () => members;
    shared?.onNews((fingerprint, news) => this.apply(fingerprint, news));
  }

  /** What another replica learned about an account, applied here. */
  private apply(fingerprint: string, news: AccountNews): void {
    const account = this.list().find((a) => a.fingerprint === fingerprint);
    if (!account) return;
    if (news.cooldownUntil !== undefined) {
      if (news.cooldownUntil > this.now()) {
        // Read back every few seconds: only a rest longer than the one it has is news.
        if (this.now() + account.cooldownLeft() < news.cooldownUntil - 10) account.coolDown(news.cooldownUntil, news.reason ?? 'resting (another replica said so)');
      } else account.markHealthy();
    }
    if (news.legacy) void account.useLegacyHost(news.legacy);
  }

  /** Every few seconds, the shared rests and hosts read back (an announcement may have been missed). */
  private syncShared(members: readonly KiroAccount[]): void {
    if (!this.shared || this.now() - this.syncedAt < 2000) return;
    this.syncedAt = this.now();
    void this.shared.current(members.map((a) => a.fingerprint)).then((current) => {
      for (const [fingerprint, news] of current ?? []) this.apply(fingerprint, news);
    });
  }

  /** The accounts; a named token file that does not exist is left out once other accounts exist. */
  private get members(): readonly KiroAccount[] {
    const all = this.list();
    this.syncShared(all);
    return all.length > 1 && all.some((a) => !a.isMissing()) ? all.filter((a) => !a.isMissing()) : all;
  }

  get size(): number {
    return this.members.length;
  }

  async acquire(exclude: ReadonlySet<string> = new Set(), affinity?: string, choice: AccountChoice = {}): Promise<AccountLease> {
    const start = this.next++;
    const failed = new Set<KiroAccount>();
    let lastError: unknown;
    const members = this.members;
    const usable = (account: KiroAccount) => !exclude.has(account.fingerprint) && !failed.has(account) && (choice.eligible?.(account.fingerprint) ?? true) && account.available();
    // A session that reached another replica before keeps its account here too.
    if (affinity !== undefined && this.shared && members.length > 1 && !this.sticky.has(affinity)) {
      const fingerprint = await this.shared.sticky(affinity);
      if (fingerprint) this.sticky.set(affinity, fingerprint);
    }
    for (;;) {
      const account = this.stuck(members, affinity, usable) ?? this.pick(members, start, usable, choice);
      if (!account) {
        const error = lastError ?? this.noAccountError(exclude);
        if (error) throw error;
        continue;
      }
      try {
        const lease = await this.leaseOf(account);
        if (affinity !== undefined && members.length > 1 && this.sticky.get(affinity) !== account.fingerprint) {
          this.sticky.set(affinity, account.fingerprint);
          this.shared?.stick(affinity, account.fingerprint);
        }
        return lease;
      } catch (error) {
        lastError = error;
        failed.add(account);
      }
    }
  }

  async lease(fingerprint: string): Promise<AccountLease | undefined> {
    const account = this.members.find((a) => a.fingerprint === fingerprint);
    if (!account || account.isMissing()) return undefined;
    try {
      return await this.leaseOf(account);
    } catch {
      return undefined;
    }
  }

  private async leaseOf(account: KiroAccount): Promise<AccountLease> {
    const credentials = await account.credentials();
    return {
      credentials,
      refresh: () => account.refresh(credentials.accessToken),
      useLegacyHost: async (why) => {
        const moved = await account.useLegacyHost(why);
        if (moved) this.shared?.announce(account.fingerprint, { legacy: why });
        return moved;
      },
      report: (outcome) => this.record(account, outcome),
    };
  }

  /** The account a session had, while it can serve. */
  private stuck(members: readonly KiroAccount[], affinity: string | undefined, usable: (a: KiroAccount) => boolean): KiroAccount | undefined {
    if (affinity === undefined || members.length < 2) return undefined;
    const fingerprint = this.sticky.get(affinity);
    const account = fingerprint === undefined ? undefined : members.find((a) => a.fingerprint === fingerprint);
    return account && usable(account) ? account : undefined;
  }

  /**
   * The best usable account: the highest ranked (most credits left) when the request ranks them,
   * round robin from `start` among equals.
   */
  private pick(members: readonly KiroAccount[], start: number, usable: (a: KiroAccount) => boolean, choice: AccountChoice): KiroAccount | undefined {
    let best: KiroAccount | undefined;
    let bestRank = -Infinity;
    for (let i = 0; i < members.length; i++) {
      const account = members[(start + i) % members.length]!;
      if (!usable(account)) continue;
      const rank = choice.rank?.(account.fingerprint) ?? 0;
      if (rank > bestRank) {
        best = account;
        bestRank = rank;
      }
    }
    return best;
  }

  /** This replica's circuit breaker opened for an account: the others rest it as long (this one has its breaker). */
  rest(fingerprint: string, untilMs: number, reason: string): void {
    this.shared?.announce(fingerprint, { cooldownUntil: untilMs, reason });
  }

  private record(account: KiroAccount, outcome: AccountOutcome): void {
    const now = this.now();
    const rested = (until: number, reason: string) => {
      account.coolDown(until, reason);
      this.shared?.announce(account.fingerprint, { cooldownUntil: until, reason });
    };
    switch (outcome.kind) {
      case 'ok':
        // Only the end of a rest is news for the other replicas.
        if (account.markHealthy()) this.shared?.announce(account.fingerprint, { cooldownUntil: 0 });
        break;
      case 'quota':
        rested(now + QUOTA_COOLDOWN_MS, 'out of monthly quota (MONTHLY_REQUEST_COUNT)');
        break;
      case 'throttled':
        rested(now + (outcome.retryAfterSeconds !== undefined ? outcome.retryAfterSeconds * 1000 : THROTTLE_COOLDOWN_MS), 'throttled by Kiro (429)');
        break;
      case 'auth_rejected':
        rested(now + AUTH_COOLDOWN_MS, 'Kiro rejected the token even after a refresh (wrong profile ARN?)');
        break;
      case 'exhausted':
        rested(outcome.untilMs, `out of quota: ${outcome.why}`);
        break;
    }
  }

  /**
   * Why nothing can serve: resting accounts say when to retry; dead ones say to log in again.
   * Undefined when an account can serve after all: a rest can end between pick() and this look
   * (a retry that waited exactly Kiro's retry-after lands on that edge).
   */
  private noAccountError(exclude: ReadonlySet<string>): GatewayError | undefined {
    if (this.members.every((a) => a.isMissing())) {
      return new GatewayError('unavailable', `No Kiro credentials found: ${this.status().problem}. ${LOGIN_FIX}`, { code: 'no_credentials' });
    }
    const resting = this.members.filter((a) => !exclude.has(a.fingerprint) && a.cooldownLeft() > 0);
    if (resting.length > 0) {
      const wait = Math.ceil(Math.min(...resting.map((a) => a.cooldownLeft())) / 1000);
      const quota = resting.every((a) => a.health().problem?.includes('quota'));
      return quota
        ? new GatewayError('quota', `Every Kiro account is out of its monthly quota; the next resets in ${wait} s.`, { code: 'insufficient_quota', retryAfter: wait })
        : new GatewayError('rate_limit', `Every Kiro account is resting after throttling or errors; retry in ${wait} s.`, { code: 'rate_limit_exceeded', retryAfter: wait });
    }
    // Looked at after the rests above: a rest that had ended then has still ended now.
    if (this.members.some((a) => !exclude.has(a.fingerprint) && a.available())) return undefined;
    const first = this.members.map((a) => a.health()).find((h) => h.problem);
    return new GatewayError('upstream_auth', `No usable Kiro account: ${first?.problem ?? 'all accounts failed'}. ${first?.fix ?? LOGIN_FIX}`, {
      code: first?.state === 'dead' ? 'kiro_login_expired' : 'no_credentials',
    });
  }

  accounts(): AccountHealth[] {
    return this.members.map((a) => a.health());
  }

  liveFingerprints(): string[] {
    return this.members.filter((a) => a.isLive()).map((a) => a.fingerprint);
  }

  status(): CredentialStatus {
    if (this.members.every((a) => a.isMissing())) {
      const where = this.members.length > 0 ? this.members.map((a) => a.source).join(', ') : (this.missing ?? 'nothing configured');
      return { found: false, usable: false, source: null, authMethod: null, expiresAt: null, problem: `no Kiro credentials found (no token file at ${where})`, fix: LOGIN_FIX };
    }
    const accounts = this.accounts();
    const usable = accounts.find((a) => a.state === 'healthy');
    const shown = usable ?? accounts[0]!;
    return {
      found: true,
      usable: usable !== undefined,
      source: accounts.length === 1 ? shown.source : `${accounts.length} accounts`,
      authMethod: shown.authMethod,
      expiresAt: shown.expiresAt,
      problem: usable ? null : (shown.problem ?? 'no account is usable'),
      fix: usable ? null : shown.fix,
    };
  }
}
