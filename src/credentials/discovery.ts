import type { Dispatcher } from 'undici';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { KiroAccount, type AccountOptions } from './account.js';
import { AccountPool } from './pool.js';
import type { SharedAccountState, SharedLogins } from './types.js';
import { statSync } from 'node:fs';
import { expandTokenFiles } from './token-file.js';

/** How often the token folders are looked at again for accounts that came or went. */
const RESCAN_MS = 2000;

/**
 * Find the Kiro logins: KIRO_ACCESS_TOKEN / KIRO_REFRESH_TOKEN from the environment, or else the
 * token file(s) — by default the one the Kiro IDE writes — and, either way, the accounts saved by
 * `ki2api login` / `ki2api import` in KIRO_ACCOUNTS_DIR. One login is the common case and needs
 * no configuration at all. Folders are looked at again every few seconds, so an account saved
 * while the gateway runs serves within seconds, and a removed one stops.
 */
/** What several replicas share (Redis): tokens and their refreshes, rests, hosts and sessions. */
export interface SharedCredentials {
  logins: SharedLogins;
  state: SharedAccountState;
}

export function discoverAccounts(
  config: Config,
  logger: Logger,
  dispatcher?: Dispatcher,
  onRefresh?: (result: 'ok' | 'failed' | 'dead') => void,
  now: () => number = Date.now,
  shared?: SharedCredentials,
): AccountPool {
  const options: AccountOptions = {
    authUrl: config.urlTemplates.auth,
    oidcUrl: config.urlTemplates.oidc,
    managementUrl: config.urlTemplates.management,
    region: config.region,
    writeBack: config.tokenWriteBack,
    refreshMarginMs: config.refreshMarginSeconds * 1000,
    logger,
    ...(dispatcher && { dispatcher }),
    ...(onRefresh && { onRefresh }),
    ...(shared && { shared: shared.logins }),
  };
  // KIRO_PROFILE_ARN is for the login it came with (the environment's, or the IDE's file), not
  // for accounts saved with their own.
  const configured: AccountOptions = { ...options, ...(config.profileArn && { profileArn: config.profileArn }) };
  const fixed: KiroAccount[] = [];
  // Folders are looked into again and again; a path named as a file stays that one account (a
  // file that does not exist yet, or cannot be read for a moment, is watched all the same:
  // logging in to the IDE after starting ki2api works without a restart).
  const folders: { path: string; options: AccountOptions }[] = [{ path: config.accountsDir, options }];
  if (config.accessToken || config.refreshToken) {
    fixed.push(new KiroAccount({ kind: 'env', ...(config.accessToken && { accessToken: config.accessToken }), ...(config.refreshToken && { refreshToken: config.refreshToken }) }, configured));
  } else {
    for (const path of config.tokenFile.split(',').map((p) => p.trim()).filter(Boolean)) {
      if (isFolder(path)) folders.unshift({ path, options: configured });
      else fixed.push(new KiroAccount({ kind: 'file', path }, configured));
    }
  }

  const byPath = new Map<string, KiroAccount>();
  let members: KiroAccount[] = [];
  let scannedAt = -Infinity;
  const scan = (): readonly KiroAccount[] => {
    if (now() - scannedAt < RESCAN_MS) return members;
    const first = scannedAt === -Infinity;
    scannedAt = now();
    const found: KiroAccount[] = [];
    for (const { path: folder, options: accountOptions } of folders) {
      // A folder that does not exist (yet) holds no account.
      for (const path of isFolder(folder) ? expandTokenFiles(folder) : []) {
        if (fixed.some((a) => a.source === path)) continue;
        let account = byPath.get(path);
        if (!account) {
          account = new KiroAccount({ kind: 'file', path }, accountOptions);
          byPath.set(path, account);
          if (!first) logger.info({ account: account.fingerprint, source: path }, 'new Kiro account found');
        }
        if (!found.includes(account)) found.push(account);
      }
    }
    for (const [path, account] of byPath) if (!found.includes(account)) byPath.delete(path);
    members = [...fixed, ...found];
    return members;
  };
  return new AccountPool(scan, `no token file at ${config.tokenFile} and no saved account in ${config.accountsDir}`, Date.now, shared?.state);
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
