import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { OidcClient } from './login.js';
import { fingerprint, readTokenFile, writeTokenFile } from './token-file.js';
import type { LoginKind } from './types.js';

// Accounts saved by `ki2api login` and `ki2api import`: token files in the Kiro IDE's own format
// (so any tool that reads the IDE's file reads these), plus the IdC client registration beside
// them, in KIRO_ACCOUNTS_DIR — the folder mode 700, the files 600.

export interface SavedLogin {
  kind: LoginKind;
  accessToken: string;
  refreshToken: string;
  /** ISO 8601 */
  expiresAt: string;
  profileArn?: string;
  /** The login's region (for IdC: the Identity Center region). */
  region: string;
  /** Social logins: Google or Github. */
  provider?: string;
  /** IdC and Builder ID: the start URL and the client registration the login refreshes with. */
  startUrl?: string;
  client?: OidcClient;
}

const PROVIDER: Record<LoginKind, string> = { social: 'Google', 'builder-id': 'BuilderId', idc: 'Enterprise' };

/** The fingerprint the gateway, /health and `ki2api accounts` show for the account in a file. */
export const accountId = (path: string): string => fingerprint(`file:${path}`);

/** Save a login; returns its file and the id the gateway will show for it. */
export function saveAccount(dir: string, login: SavedLogin): { path: string; id: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  // One file per login (a new refresh token is a new login); the name says what it is.
  const name = `${login.kind}-${createHash('sha256').update(login.refreshToken).digest('hex').slice(0, 12)}.json`;
  const path = join(dir, name);
  let clientIdHash: string | undefined;
  if (login.client) {
    // The IDE names the registration file after a 40-hex hash; any stable one will do.
    clientIdHash = createHash('sha1').update(JSON.stringify({ clientId: login.client.clientId, startUrl: login.startUrl ?? '' })).digest('hex');
    writeTokenFile(join(dir, `${clientIdHash}.json`), { clientId: login.client.clientId, clientSecret: login.client.clientSecret, expiresAt: login.client.expiresAt });
  }
  writeTokenFile(path, {
    accessToken: login.accessToken,
    refreshToken: login.refreshToken,
    expiresAt: login.expiresAt,
    authMethod: login.kind === 'social' ? 'social' : 'IdC',
    provider: login.provider ?? PROVIDER[login.kind],
    region: login.region,
    ...(login.profileArn && { profileArn: login.profileArn }),
    ...(clientIdHash && { clientIdHash }),
    ...(login.startUrl && { startUrl: login.startUrl }),
  });
  return { path, id: accountId(path) };
}

/** The saved accounts: every login file in the folder (registrations are not accounts). */
export function savedAccounts(dir: string): { path: string; id: string }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((name) => name.endsWith('.json'))
    .map((name) => join(dir, name))
    .filter((path) => {
      const read = readTokenFile(path);
      return read.ok && (read.token.authMethod !== undefined || read.token.provider !== undefined);
    })
    .sort()
    .map((path) => ({ path, id: accountId(path) }));
}

/** Remove a saved account by its id (or file name), and its registration when no other login uses it. */
export function removeSaved(dir: string, idOrName: string): string | undefined {
  const all = savedAccounts(dir);
  const target = all.find((a) => a.id === idOrName || basename(a.path) === idOrName || basename(a.path) === `${idOrName}.json`);
  if (!target) return undefined;
  const read = readTokenFile(target.path);
  unlinkSync(target.path);
  const hash = read.ok ? read.token.clientIdHash : undefined;
  if (hash && /^[A-Za-z0-9_-]+$/.test(hash)) {
    const shared = all.some((a) => a.path !== target.path && (() => {
      const other = readTokenFile(a.path);
      return other.ok && other.token.clientIdHash === hash;
    })());
    if (!shared) {
      try {
        unlinkSync(join(dir, `${hash}.json`));
      } catch {
        // Already gone.
      }
    }
  }
  return target.path;
}
