import type { AccountStatus, CredentialStatus } from '../chat/types.js';

/** What a Kiro call needs from a login. */
export interface KiroCredentials {
  accessToken: string;
  profileArn?: string;
  /** A short, one-way fingerprint of the account, safe for logs and /health. */
  fingerprint: string;
}

/** How a call with an account went, so the pool can cool the account down or fail over. */
export type AccountOutcome =
  | { kind: 'ok' }
  /** Kiro said the token is invalid (403): refresh once and retry. */
  | { kind: 'auth_rejected' }
  /** Out of monthly quota (402). */
  | { kind: 'quota' }
  /** Throttled (429). */
  | { kind: 'throttled'; retryAfterSeconds?: number };

/** One account's credentials for one call. */
export interface AccountLease {
  credentials: KiroCredentials;
  /** Force a refresh now (after Kiro rejected the token); resolves with fresh credentials. */
  refresh(): Promise<KiroCredentials>;
  report(outcome: AccountOutcome): void;
}

export type AccountHealth = AccountStatus;

/** "Give me a valid access token and profile ARN" — for one of possibly several accounts. */
export interface CredentialProvider {
  /**
   * A usable account, refreshed if its token is about to expire. `exclude` skips accounts a
   * request already tried; `affinity` (a client session) gets the account it had last time, while
   * that one can serve. Throws a GatewayError when no account can serve.
   */
  acquire(exclude?: ReadonlySet<string>, affinity?: string): Promise<AccountLease>;
  /** How many accounts there are (failover stops after trying each once). */
  readonly size: number;
  status(): CredentialStatus;
  accounts(): AccountHealth[];
}
