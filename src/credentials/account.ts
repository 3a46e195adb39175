import type { Dispatcher } from 'undici';
import { GatewayError } from '../chat/errors.js';
import type { Logger } from '../logger.js';
import { lookUpProfile, RefreshError, refreshIdc, refreshSocial, type RefreshedTokens } from './refresh.js';
import { fingerprint, loginKindOf, normaliseAuthMethod, readRegistration, readTokenFile, writeTokenFile, type KiroTokenFile } from './token-file.js';
import type { AccountHealth, KiroCredentials, KiroHost, LoginKind, SharedLogins, SharedToken } from './types.js';

export interface AccountOptions {
  /** The hosts; `{region}` in them is the account's region (the SSO region for OIDC, else the API region). */
  authUrl: string;
  oidcUrl: string;
  managementUrl: string;
  /** KIRO_REGION: the API region of an account that says nothing about its own (default us-east-1). */
  region?: string;
  /** Write refreshed tokens back to the token file (KIRO_TOKEN_WRITEBACK). */
  writeBack: boolean;
  /** Refresh this long before the access token expires. */
  refreshMarginMs: number;
  /** KIRO_PROFILE_ARN, which wins over the file's. */
  profileArn?: string;
  logger: Logger;
  dispatcher?: Dispatcher;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told about every refresh attempt's result (for metrics). */
  onRefresh?: (result: 'ok' | 'failed' | 'dead') => void;
  /** Tokens shared with other replicas (Redis), when there are any. */
  shared?: SharedLogins;
}

export type AccountSource = { kind: 'file'; path: string } | { kind: 'env'; accessToken?: string; refreshToken?: string };

interface TokenState {
  accessToken?: string;
  refreshToken?: string;
  /** ms since epoch */
  expiresAt?: number;
  profileArn?: string;
  authMethod: 'social' | 'idc';
  loginKind: LoginKind;
  /** The login's own region (for IdC, the Identity Center region its OIDC host is in). */
  region?: string;
  clientIdHash?: string;
}

/**
 * The API region of an account: the profile ARN's (its 4th field) when there is one, else its
 * login region mapped onto the two regions Kiro serves (eu-* → eu-central-1, the rest →
 * us-east-1), else KIRO_REGION.
 */
export function apiRegion(profileArn: string | undefined, loginRegion: string | undefined, fallback: string): string {
  const fromArn = profileArn?.split(':')[3];
  if (fromArn && /^[a-z]{2}(-[a-z]+)+-\d$/.test(fromArn)) return fromArn;
  if (loginRegion && /^[a-z]{2}(-[a-z]+)+-\d$/.test(loginRegion)) return loginRegion.startsWith('eu-') ? 'eu-central-1' : 'us-east-1';
  return fallback;
}

const inRegion = (template: string, region: string) => template.replaceAll('{region}', region);

const RELOGIN_FIX = 'Log in to the Kiro IDE again; ki2api picks the new login up from the token file by itself.';
const PROFILE_FIX = 'Set KIRO_PROFILE_ARN (arn:aws:codewhisperer:<region>:<account>:profile/<id>, shown in the Kiro IDE), or log in again with `ki2api login`.';
const REFRESH_ATTEMPTS = 3;

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * One Kiro login. Keeps its access token fresh: refreshes before expiry and on demand, one refresh
 * at a time however many requests wait for it, re-reads its token file first (the IDE may have
 * rotated the token already), and writes refreshed tokens back so the IDE keeps working.
 */
export class KiroAccount {
  readonly fingerprint: string;
  readonly source: string;
  private token: TokenState | undefined;
  private mtimeMs = -1;
  private checkedAt = 0;
  private dead: string | undefined;
  private unusable: string | undefined;
  private missing = false;
  private cooldownUntil = 0;
  private cooldownReason: string | undefined;
  private refreshing: Promise<KiroCredentials> | undefined;
  private profileLookup: Promise<void> | undefined;
  /** Why the IdC profile lookup gave no ARN (none found, or failed), for /health. */
  private profileProblem: string | undefined;
  private profileRetryAt = 0;
  /** Kiro lists no profile for this IdC login: the legacy host serves it without one. */
  private noProfile = false;
  /** Why this login moved to the legacy host (the runtime host refused it), once it has. */
  private legacyBecause: string | undefined;
  /** The shared version of the token held (0: the file's or the environment's own). */
  private version = 0;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly from: AccountSource,
    private readonly options: AccountOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.source = from.kind === 'file' ? from.path : 'env';
    this.fingerprint = fingerprint(from.kind === 'file' ? `file:${from.path}` : `env:${from.refreshToken ?? from.accessToken ?? ''}`);
    if (from.kind === 'env') {
      this.token = {
        ...(from.accessToken && { accessToken: from.accessToken }),
        ...(from.refreshToken && { refreshToken: from.refreshToken }),
        authMethod: 'social',
        loginKind: 'social',
        ...(options.profileArn && { profileArn: options.profileArn }),
      };
    } else {
      this.load();
    }
  }

  /** Can take a request now (not dead, not cooling down, and holding a token or a way to get one). */
  available(): boolean {
    this.reloadIfChanged();
    return !this.dead && !this.unusable && this.cooldownUntil <= this.now() && this.token !== undefined;
  }

  /** True while its token file does not exist (it is picked up as soon as the IDE writes it). */
  isMissing(): boolean {
    this.reloadIfChanged();
    return this.missing;
  }

  /** ms until a cooling-down account is available again (0 when not cooling). */
  cooldownLeft(): number {
    return Math.max(0, this.cooldownUntil - this.now());
  }

  coolDown(untilMs: number, reason: string): void {
    this.cooldownUntil = Math.max(this.cooldownUntil, untilMs);
    this.cooldownReason = reason;
    this.options.logger.warn({ account: this.fingerprint, until: new Date(this.cooldownUntil).toISOString(), reason }, 'account cooling down');
  }

  /** Ends a rest; true when it was resting. */
  markHealthy(): boolean {
    const was = this.cooldownUntil > this.now();
    this.cooldownUntil = 0;
    this.cooldownReason = undefined;
    return was;
  }

  /** Credentials for a call, refreshed first when the access token is missing or about to expire. */
  async credentials(): Promise<KiroCredentials> {
    this.reloadIfChanged();
    if (this.token && this.options.shared?.maybeNewer(this.fingerprint, this.version)) await this.syncShared();
    this.assertUsable();
    const token = this.token!;
    if (!token.accessToken || (token.refreshToken && this.expiresSoon(token))) return this.refresh();
    return this.withProfile();
  }

  /**
   * Refresh (single-flight). `rejected`: the access token Kiro just refused, so even a token that
   * looks fresh must be replaced — unless the account already holds a newer one (a request that
   * was sent with the old token and refused after another one's refresh finished needs no second
   * refresh), or the token file does.
   */
  refresh(rejected?: string): Promise<KiroCredentials> {
    if (this.refreshing) return this.refreshing;
    const token = this.token;
    if (rejected !== undefined && token?.accessToken && token.accessToken !== rejected && !this.dead && !this.expiresSoon(token)) return this.withProfile();
    this.refreshing = this.doRefresh(rejected).finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private expiresSoon(token: TokenState): boolean {
    return token.expiresAt !== undefined && token.expiresAt - this.now() <= this.options.refreshMarginMs;
  }

  /** The account's state now, as health() reports it (the file re-read first when due). */
  private state(): AccountHealth['state'] {
    this.reloadIfChanged();
    if (this.dead) return 'dead';
    if (this.unusable || !this.token) return 'unusable';
    if (this.cooldownUntil > this.now()) return 'cooling_down';
    if (!this.token.refreshToken && this.token.expiresAt !== undefined && this.token.expiresAt <= this.now()) return 'unusable';
    return 'healthy';
  }

  /** True when health() would say healthy or cooling_down (cheap: no report is built; asked on every request). */
  isLive(): boolean {
    const state = this.state();
    return state === 'healthy' || state === 'cooling_down';
  }

  health(): AccountHealth {
    const state = this.state();
    const expiresAt = this.token?.expiresAt !== undefined ? new Date(this.token.expiresAt).toISOString() : null;
    const base = {
      fingerprint: this.fingerprint,
      source: this.source,
      authMethod: this.token?.authMethod ?? null,
      loginKind: this.token?.loginKind ?? null,
      host: this.host(),
      region: this.region(),
      expiresAt,
    };
    switch (state) {
      case 'dead':
        return { ...base, state, cooldownUntil: null, problem: this.dead!, fix: RELOGIN_FIX };
      case 'unusable': {
        const problem = this.unusable ?? (this.token ? `the access token expired at ${expiresAt} and there is no refresh token` : 'no token');
        return { ...base, state, cooldownUntil: null, problem, fix: RELOGIN_FIX };
      }
      case 'cooling_down':
        return { ...base, state, cooldownUntil: new Date(this.cooldownUntil).toISOString(), problem: this.cooldownReason ?? null, fix: null };
      case 'healthy':
        return { ...base, state, cooldownUntil: null, problem: this.profileProblem || null, fix: this.profileProblem ? PROFILE_FIX : null };
    }
  }

  private profileArn(): string | undefined {
    return this.options.profileArn ?? this.token?.profileArn;
  }

  /**
   * The host this login goes to, decided once and remembered: Builder ID logins have no profile
   * and go to the legacy host; so do IdC logins Kiro lists no profile for, and any login the
   * runtime host refused even after a refresh. Everyone else goes to runtime with a profile ARN.
   */
  host(): KiroHost {
    const kind = this.token?.loginKind;
    if (this.legacyBecause || kind === 'builder-id' || (kind === 'idc' && this.noProfile && !this.profileArn())) return 'legacy';
    return 'runtime';
  }

  region(): string {
    return apiRegion(this.profileArn(), this.token?.region, this.options.region ?? 'us-east-1');
  }

  private current(): KiroCredentials {
    const token = this.token!;
    const profileArn = token.loginKind === 'builder-id' ? undefined : this.profileArn();
    return { accessToken: token.accessToken!, ...(profileArn && { profileArn }), fingerprint: this.fingerprint, loginKind: token.loginKind, host: this.host(), region: this.region() };
  }

  /** The runtime host refused this login after a refresh: from now on it is served by the legacy host. */
  async useLegacyHost(why: string): Promise<KiroCredentials | undefined> {
    if (!this.token || this.token.loginKind === 'social' || this.host() === 'legacy') return undefined;
    this.legacyBecause = why;
    this.options.logger.warn({ account: this.fingerprint, kind: this.token.loginKind }, `the runtime host refused this login (${why}); it is served by the legacy host from now on`);
    return this.current();
  }

  private assertUsable(): void {
    if (this.dead) {
      throw new GatewayError('upstream_auth', `The Kiro login ${this.fingerprint} has expired: ${this.dead}. ${RELOGIN_FIX}`, { code: 'kiro_login_expired' });
    }
    if (this.unusable || !this.token) {
      throw new GatewayError('unavailable', `The Kiro credentials in ${this.source} cannot be used: ${this.unusable ?? 'no token'}. ${RELOGIN_FIX}`, { code: 'no_credentials' });
    }
  }

  /**
   * File accounts: pick up what the IDE wrote, at most every 2 s (a stat, no read, when unchanged)
   * — and at once after the file could not be read, which is usually a moment's trouble (the IDE
   * mid-write, permissions being changed).
   */
  private reloadIfChanged(): void {
    if (this.from.kind !== 'file' || (this.now() - this.checkedAt < 2000 && this.unusable === undefined)) return;
    this.load();
  }

  /** (Re)read the token file if it changed. Returns true when the stored login changed. */
  private load(): boolean {
    if (this.from.kind !== 'file') return false;
    this.checkedAt = this.now();
    const read = readTokenFile(this.from.path);
    this.missing = !read.ok && read.missing;
    if (!read.ok) {
      this.unusable = read.problem;
      return false;
    }
    // Readable again: whatever made it unusable is over, even if the file itself did not change.
    this.unusable = undefined;
    if (read.mtimeMs === this.mtimeMs && this.token) return false;
    this.mtimeMs = read.mtimeMs;
    const before = this.token;
    this.token = this.fromFile(read.token);
    const changed = before?.refreshToken !== this.token.refreshToken || before?.accessToken !== this.token.accessToken;
    // A new login in the file brings a dead account back to life.
    if (changed && this.dead && before?.refreshToken !== this.token.refreshToken) this.dead = undefined;
    return changed;
  }

  private fromFile(file: KiroTokenFile): TokenState {
    const expiresAt = file.expiresAt ? Date.parse(file.expiresAt) : undefined;
    return {
      ...(file.accessToken && { accessToken: file.accessToken }),
      ...(file.refreshToken && { refreshToken: file.refreshToken }),
      ...(expiresAt !== undefined && !Number.isNaN(expiresAt) && { expiresAt }),
      ...(file.profileArn && { profileArn: file.profileArn }),
      authMethod: normaliseAuthMethod(file),
      loginKind: loginKindOf(file),
      ...(file.region && { region: file.region }),
      ...(file.clientIdHash && { clientIdHash: file.clientIdHash }),
    };
  }

  private async doRefresh(rejectedToken: string | undefined): Promise<KiroCredentials> {
    // The IDE (or kiro-cli) may have refreshed already: a newer token in the file needs no refresh.
    if (this.from.kind === 'file' && this.load()) {
      const token = this.token!;
      const fresh = token.expiresAt === undefined || token.expiresAt - this.now() > this.options.refreshMarginMs;
      if (token.accessToken && token.accessToken !== rejectedToken && fresh) return this.withProfile();
    }
    this.assertUsable();
    if (!this.token!.refreshToken) {
      throw new GatewayError('upstream_auth', `Kiro rejected the access token of ${this.source} and there is no refresh token to renew it. ${RELOGIN_FIX}`, {
        code: 'upstream_token_invalid',
      });
    }
    const shared = this.options.shared;
    if (shared) {
      // One refresh across the replicas: under the shared lock, unless another replica has
      // refreshed since this one's token (then that token is taken, and nothing is written back).
      const outcome = await shared.refreshOnce(this.fingerprint, this.version, async () => {
        const fresh = await this.obtainRefresh();
        const profileArn = fresh.profileArn ?? this.token!.profileArn;
        return { accessToken: fresh.accessToken, refreshToken: fresh.refreshToken ?? this.token!.refreshToken!, expiresAt: fresh.expiresAt.getTime(), ...(profileArn && { profileArn }) };
      });
      if (outcome) {
        if (outcome.ours) {
          const { token } = outcome;
          this.adopt({ accessToken: token.accessToken, ...(token.refreshToken !== this.token!.refreshToken && token.refreshToken && { refreshToken: token.refreshToken }), expiresAt: new Date(token.expiresAt), ...(token.profileArn && { profileArn: token.profileArn }) });
        } else {
          this.adoptShared(outcome.token);
        }
        this.version = outcome.token.version;
        return this.withProfile();
      }
    }
    this.adopt(await this.obtainRefresh());
    return this.withProfile();
  }

  /** A token another replica refreshed: used as it is (that replica wrote the token file). */
  private adoptShared(shared: SharedToken): void {
    const token = this.token!;
    token.accessToken = shared.accessToken;
    if (shared.refreshToken) token.refreshToken = shared.refreshToken;
    token.expiresAt = shared.expiresAt;
    if (shared.profileArn && !token.profileArn) token.profileArn = shared.profileArn;
    this.version = shared.version;
    this.dead = undefined;
  }

  /** A replica that started later, or missed a refresh, takes the newest shared token. */
  private async syncShared(): Promise<void> {
    const shared = await this.options.shared?.read(this.fingerprint);
    if (shared && shared.version > this.version && this.token) this.adoptShared(shared);
  }

  /** Refreshed tokens from Kiro (with retries, and one more try with the file's token), or the reason why not. */
  private async obtainRefresh(): Promise<RefreshedTokens> {
    let refreshed: RefreshedTokens;
    try {
      refreshed = await this.refreshWithRetry();
    } catch (error) {
      if (!(error instanceof RefreshError) || !error.permanent) {
        throw new GatewayError('unavailable', `Could not refresh the Kiro login ${this.fingerprint}: ${(error as Error).message}. Retrying shortly.`, {
          code: 'token_refresh_failed',
          retryAfter: 5,
        });
      }
      // The IDE may have rotated the refresh token underneath us: try the file's once more.
      if (this.from.kind === 'file' && this.load() && this.token?.refreshToken) {
        try {
          refreshed = await this.refreshOnce();
        } catch (retryError) {
          this.markDead(retryError as Error);
          throw this.deadError();
        }
      } else {
        this.markDead(error);
        throw this.deadError();
      }
    }
    return refreshed;
  }

  private markDead(error: Error): void {
    this.dead = error.message;
    this.options.onRefresh?.('dead');
    this.options.logger.error({ account: this.fingerprint, source: this.source }, `Kiro login expired: ${error.message}. ${RELOGIN_FIX}`);
  }

  private deadError(): GatewayError {
    return new GatewayError('upstream_auth', `The Kiro login ${this.fingerprint} has expired: ${this.dead}. ${RELOGIN_FIX}`, { code: 'kiro_login_expired' });
  }

  private async refreshWithRetry(): Promise<RefreshedTokens> {
    for (let attempt = 1; ; attempt++) {
      try {
        const refreshed = await this.refreshOnce();
        this.options.onRefresh?.('ok');
        return refreshed;
      } catch (error) {
        if (!(error instanceof RefreshError) || !error.permanent) this.options.onRefresh?.('failed');
        if (!(error instanceof RefreshError) || error.permanent || attempt >= REFRESH_ATTEMPTS) throw error;
        const delay = 250 * 2 ** (attempt - 1) * (0.75 + Math.random() * 0.5);
        this.options.logger.warn({ account: this.fingerprint, attempt, delay_ms: Math.round(delay) }, `token refresh failed (${error.message}); retrying`);
        await this.sleep(delay);
      }
    }
  }

  private refreshOnce(): Promise<RefreshedTokens> {
    const token = this.token!;
    const refreshToken = token.refreshToken!;
    if (refreshToken.includes('...')) return Promise.reject(new RefreshError('the refresh token is truncated (it contains "...")', true));
    if (token.authMethod === 'idc') {
      const registration = this.from.kind === 'file' && token.clientIdHash ? readRegistration(this.from.path, token.clientIdHash) : undefined;
      if (!registration) {
        return Promise.reject(
          new RefreshError(`an IdC login needs its client registration (${token.clientIdHash ?? '<clientIdHash>'}.json beside the token file), which was not found`, true),
        );
      }
      return refreshIdc(inRegion(this.options.oidcUrl, token.region ?? this.options.region ?? 'us-east-1'), refreshToken, registration.clientId, registration.clientSecret, this.options.dispatcher);
    }
    return refreshSocial(inRegion(this.options.authUrl, this.options.region ?? 'us-east-1'), refreshToken, this.options.dispatcher);
  }

  private adopt(refreshed: RefreshedTokens): void {
    const token = this.token!;
    token.accessToken = refreshed.accessToken;
    if (refreshed.refreshToken) token.refreshToken = refreshed.refreshToken;
    token.expiresAt = refreshed.expiresAt.getTime();
    if (refreshed.profileArn && !token.profileArn) token.profileArn = refreshed.profileArn;
    this.dead = undefined;
    this.options.logger.info({ account: this.fingerprint, expires_at: refreshed.expiresAt.toISOString(), rotated: Boolean(refreshed.refreshToken) }, 'Kiro token refreshed');
    if (this.from.kind !== 'file' || !this.options.writeBack) return;
    try {
      writeTokenFile(this.from.path, {
        accessToken: token.accessToken,
        ...(refreshed.refreshToken && { refreshToken: refreshed.refreshToken }),
        expiresAt: refreshed.expiresAt.toISOString(),
        ...(refreshed.profileArn && { profileArn: token.profileArn }),
      });
      // Our own write is not news: remember its mtime so it is not re-read as the IDE's.
      const written = readTokenFile(this.from.path);
      if (written.ok) this.mtimeMs = written.mtimeMs;
    } catch (error) {
      this.options.logger.warn({ account: this.fingerprint, code: (error as NodeJS.ErrnoException).code }, `could not write the refreshed token back to ${this.from.path}; it lives in memory`);
    }
  }

  /**
   * A login without a profile ARN asks Kiro for one (ListAvailableProfiles, §1.3), once: IdC files
   * never carry one, and a social file may not. A lookup that found none is final — an IdC login
   * then goes to the legacy host, which wants none; a social one cannot be served, and says so. A
   * lookup that failed (network, 403, …) fails the request with the fix, and is tried again a
   * minute later: a request is never sent without the profile it needs. Builder ID has none.
   */
  private async withProfile(): Promise<KiroCredentials> {
    const token = this.token!;
    if (token.loginKind === 'builder-id' || this.profileArn() || this.host() === 'legacy') return this.current();
    if (this.noProfile) throw this.profileError('Kiro lists no profile for this login');
    if (this.now() < this.profileRetryAt) throw this.profileError(this.profileProblem ?? 'its profile lookup failed');
    const accessToken = token.accessToken!;
    this.profileLookup ??= lookUpProfile(inRegion(this.options.managementUrl, this.region()), accessToken, this.options.dispatcher)
      .then((result) => {
        if (result.kind === 'found') {
          token.profileArn = result.arn;
          this.profileProblem = undefined;
        } else if (result.kind === 'builder-id') {
          token.loginKind = 'builder-id';
        } else if (result.kind === 'none') {
          this.noProfile = true;
          this.profileProblem = undefined;
          if (token.loginKind === 'idc') this.options.logger.info({ account: this.fingerprint }, 'Kiro lists no profile for this IdC login; it is served by the legacy host');
        } else {
          this.profileProblem = `looking up its profile failed: ${result.why}`;
          this.profileRetryAt = this.now() + 60_000;
          this.options.logger.warn({ account: this.fingerprint }, `${this.profileProblem}. ${PROFILE_FIX}`);
        }
      })
      .finally(() => (this.profileLookup = undefined));
    await this.profileLookup;
    return this.withProfile();
  }

  private profileError(why: string): GatewayError {
    return new GatewayError('unavailable', `The Kiro login ${this.fingerprint} has no profile ARN (${why}), and Kiro needs one for it. ${PROFILE_FIX}`, {
      code: 'profile_unresolved',
      ...(this.profileRetryAt > this.now() && { retryAfter: Math.ceil((this.profileRetryAt - this.now()) / 1000) }),
    });
  }
}
