import type { AccountStatus, CredentialStatus } from '../chat/types.js';

export type LoginKind = 'social' | 'builder-id' | 'idc';

/**
 * Which Kiro host serves an account: `runtime` (runtime.{region}.kiro.dev, with a profile ARN) or
 * `legacy` (q.{region}.amazonaws.com, for Builder ID and IdC logins that runtime does not serve).
 */
export type KiroHost = 'runtime' | 'legacy';

/** What a Kiro call needs from a login. */
export interface KiroCredentials {
  accessToken: string;
  profileArn?: string;
  /** A short, one-way fingerprint of the account, safe for logs and /health. */
  fingerprint: string;
  loginKind: LoginKind;
  host: KiroHost;
  /** The API region (us-east-1 or eu-central-1), from the profile ARN when there is one. */
  region: string;
}

/** How a call with an account went, so the pool can cool the account down or fail over. */
export type AccountOutcome =
  | { kind: 'ok' }
  /** Kiro said the token is invalid (403): refresh once and retry. */
  | { kind: 'auth_rejected' }
  /** Out of monthly quota (402). */
  | { kind: 'quota' }
  /** Throttled (429). */
  | { kind: 'throttled'; retryAfterSeconds?: number }
  /** Has used all its credits: rest until the plan resets. */
  | { kind: 'exhausted'; untilMs: number; why: string };

/** One account's credentials for one call. */
export interface AccountLease {
  credentials: KiroCredentials;
  /** Force a refresh now (after Kiro rejected the token); resolves with fresh credentials. */
  refresh(): Promise<KiroCredentials>;
  /**
   * The runtime host refused this login even after a refresh: serve it from the legacy host from
   * now on (Builder ID and IdC logins only). Resolves with the credentials for that host, or
   * undefined when the login cannot move.
   */
  useLegacyHost(why: string): Promise<KiroCredentials | undefined>;
  report(outcome: AccountOutcome): void;
}

/** An account as the credential layer knows it; the upstream adds its endpoint, usage and models. */
export type AccountHealth = Omit<AccountStatus, 'endpoint' | 'usage' | 'models'> & { host: KiroHost; region: string };

/** How a request wants its account chosen, beyond "any that can serve". */
export interface AccountChoice {
  /** Only accounts that can (the upstream knows which models each may use). */
  eligible?(fingerprint: string): boolean;
  /** Higher first, among the eligible (credits left); ties go round-robin. */
  rank?(fingerprint: string): number;
}

/** "Give me a valid access token and profile ARN" — for one of possibly several accounts. */
export interface CredentialProvider {
  /**
   * A usable account, refreshed if its token is about to expire. `exclude` skips accounts a
   * request already tried; `affinity` (a client session) gets the account it had last time, while
   * that one can serve. Throws a GatewayError when no account can serve.
   */
  acquire(exclude?: ReadonlySet<string>, affinity?: string, choice?: AccountChoice): Promise<AccountLease>;
  /** One account by fingerprint, resting or not (for its management calls); undefined if it cannot be used at all. */
  lease(fingerprint: string): Promise<AccountLease | undefined>;
  /** An account's circuit breaker opened here: rest it on the other replicas too. */
  rest?(fingerprint: string, untilMs: number, reason: string): void;
  /** How many accounts there are (failover stops after trying each once). */
  readonly size: number;
  status(): CredentialStatus;
  accounts(): AccountHealth[];
  /** The accounts that are healthy or cooling down, as accounts() would say, without building it (asked on every request). */
  liveFingerprints?(): string[];
}

/** A login's tokens as the replicas share them; `version` rises with every refresh. */
export interface SharedToken {
  accessToken: string;
  refreshToken?: string;
  /** ms since epoch */
  expiresAt: number;
  profileArn?: string;
  version: number;
}

/**
 * Tokens shared by several replicas (Redis): the newest token of each account, and one refresh
 * at a time across all of them. Every method may answer undefined, meaning "no shared state
 * right now": the caller carries on with its own.
 */
export interface SharedLogins {
  /** Whether another replica may hold a newer token than `version` (cheap: no round trip). */
  maybeNewer(fingerprint: string, version: number): boolean;
  read(fingerprint: string): Promise<SharedToken | undefined>;
  /**
   * Under the account's lock across replicas: `refresh` runs only if no replica refreshed since
   * `version`; otherwise the newer token comes back. `ours`: this replica refreshed (and writes
   * the token file back).
   */
  refreshOnce(fingerprint: string, version: number, refresh: () => Promise<Omit<SharedToken, 'version'>>): Promise<{ token: SharedToken; ours: boolean } | undefined>;
}

/** What one replica learned about an account that the others must know at once. */
export interface AccountNews {
  /** Resting until (ms since epoch), and why; 0 ends a rest. */
  cooldownUntil?: number;
  reason?: string;
  /** The runtime host refused it: the legacy host serves it from now on. */
  legacy?: string;
}

/** Account state shared by the replicas: rests, hosts, session stickiness. */
export interface SharedAccountState {
  announce(fingerprint: string, news: AccountNews): void;
  /** What other replicas announce. */
  onNews(handler: (fingerprint: string, news: AccountNews) => void): void;
  /** The rests and hosts in force for these accounts (a backstop for missed announcements). */
  current(fingerprints: readonly string[]): Promise<Map<string, AccountNews> | undefined>;
  sticky(session: string): Promise<string | undefined>;
  stick(session: string, fingerprint: string): void;
}
