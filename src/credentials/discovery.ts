import type { Dispatcher } from 'undici';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { KiroAccount } from './account.js';
import { AccountPool } from './pool.js';
import { expandTokenFiles } from './token-file.js';

/**
 * Find the Kiro logins: KIRO_ACCESS_TOKEN / KIRO_REFRESH_TOKEN from the environment, or else the
 * token file(s) — by default the one the Kiro IDE writes. One login is the common case and needs
 * no configuration at all.
 */
export function discoverAccounts(config: Config, logger: Logger, dispatcher?: Dispatcher, onRefresh?: (result: 'ok' | 'failed' | 'dead') => void): AccountPool {
  const options = {
    authUrl: config.authUrl,
    oidcUrl: config.oidcUrl,
    managementUrl: config.managementUrl,
    writeBack: config.tokenWriteBack,
    refreshMarginMs: config.refreshMarginSeconds * 1000,
    ...(config.profileArn && { profileArn: config.profileArn }),
    logger,
    ...(dispatcher && { dispatcher }),
    ...(onRefresh && { onRefresh }),
  };
  if (config.accessToken || config.refreshToken) {
    return new AccountPool([
      new KiroAccount({ kind: 'env', ...(config.accessToken && { accessToken: config.accessToken }), ...(config.refreshToken && { refreshToken: config.refreshToken }) }, options),
    ]);
  }
  // A file that does not exist yet is watched all the same: logging in to the IDE after starting
  // ki2api works without a restart.
  const files = expandTokenFiles(config.tokenFile);
  return new AccountPool(files.map((path) => new KiroAccount({ kind: 'file', path }, options)), `no token file at ${config.tokenFile}`);
}
