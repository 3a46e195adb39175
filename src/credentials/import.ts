import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import initSqlJs from 'sql.js';
import type { Dispatcher } from 'undici';
import { BUILDER_ID_START_URL, LoginError, type OidcClient } from './login.js';
import { RefreshError, refreshIdc, refreshSocial } from './refresh.js';
import type { SavedLogin } from './saved.js';
import { readRegistration } from './token-file.js';

// Logins made elsewhere, taken over: kiro-cli's SQLite store (kiro-protocol.md §7,
// anthropic-and-responses.md §4.3), a token file (the IDE's camelCase one, or kiro-cli's
// snake_case JSON), or a bare refresh token. Each is checked by refreshing it once.

/** Where kiro-cli keeps its logins. */
export function defaultKiroCliStore(): string {
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'kiro-cli', 'data.sqlite3');
  return join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'kiro-cli', 'data.sqlite3');
}

type Json = Record<string, unknown>;
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** kiro-cli's `expires_at` (RFC 3339 with microseconds) as ISO 8601; an hour ago when missing, so it refreshes. */
function isoOf(value: unknown): string {
  const parsed = typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value * 1000 : NaN;
  return new Date(Number.isNaN(parsed) ? Date.now() - 3_600_000 : parsed).toISOString();
}

const regionOf = (startRegion: unknown): string => str(startRegion) ?? 'us-east-1';

/** A snake_case (kiro-cli) or camelCase (IDE) login record, with its registration if it has one. */
function loginFrom(token: Json, client: OidcClient | undefined, profileArn: string | undefined): SavedLogin {
  const refreshToken = str(token.refresh_token) ?? str(token.refreshToken);
  if (!refreshToken) throw new LoginError('The login holds no refresh token: it cannot be renewed. Log in again in that tool, or use `ki2api login`.');
  const accessToken = str(token.access_token) ?? str(token.accessToken) ?? '';
  const arn = str(token.profile_arn) ?? str(token.profileArn) ?? profileArn;
  const startUrl = str(token.start_url) ?? str(token.startUrl);
  const method = `${str(token.authMethod) ?? ''} ${str(token.provider) ?? ''}`.toLowerCase();
  const scopes = Array.isArray(token.scopes);
  const social = method.includes('social') || (!client && !scopes && !startUrl && !method.includes('idc'));
  if (social) {
    return { kind: 'social', accessToken, refreshToken, expiresAt: isoOf(token.expires_at ?? token.expiresAt), region: regionOf(token.region), ...(arn && { profileArn: arn }), ...(str(token.provider) && { provider: str(token.provider) }) };
  }
  if (!client) throw new LoginError('This is an IAM Identity Center / Builder ID login, and its client registration (client id and secret) was not found with it. Pass --client-id and --client-secret, or log in with `ki2api login`.');
  const builderId = startUrl === BUILDER_ID_START_URL || method.includes('builderid');
  return {
    kind: builderId ? 'builder-id' : 'idc',
    accessToken,
    refreshToken,
    expiresAt: isoOf(token.expires_at ?? token.expiresAt),
    region: regionOf(token.region),
    ...(!builderId && arn && { profileArn: arn }),
    ...(startUrl && { startUrl }),
    client,
  };
}

function clientFrom(record: Json | undefined): OidcClient | undefined {
  const clientId = str(record?.client_id) ?? str(record?.clientId);
  const clientSecret = str(record?.client_secret) ?? str(record?.clientSecret);
  if (!clientId || !clientSecret) return undefined;
  const expires = record?.client_secret_expires_at ?? record?.expiresAt;
  return { clientId, clientSecret, expiresAt: isoOf(typeof expires === 'number' || typeof expires === 'string' ? expires : Date.now() / 1000 + 90 * 86_400) };
}

/**
 * The logins in a kiro-cli store: its social login and its IdC / Builder ID login (the newer
 * `kirocli:` keys first, then the older `codewhisperer:` ones). Read only; the file is never
 * written.
 */
export async function readKiroCliStore(path: string): Promise<SavedLogin[]> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LoginError(code === 'ENOENT' ? `No kiro-cli store at ${path}. Log in with kiro-cli first, or pass the store's path: --kiro-cli <path>.` : `Cannot read ${path} (${code}).`);
  }
  const SQL = await initSqlJs();
  let rows: Map<string, string>;
  let profile: string | undefined;
  try {
    const db = new SQL.Database(bytes);
    try {
      rows = new Map((db.exec('SELECT key, value FROM auth_kv')[0]?.values ?? []).map(([key, value]) => [String(key), String(value)]));
      try {
        const state = db.exec("SELECT value FROM state WHERE key = 'api.codewhisperer.profile'")[0]?.values[0]?.[0];
        profile = typeof state === 'string' ? str((JSON.parse(state) as Json).arn) : undefined;
      } catch {
        // No state table, or no profile in it: the gateway looks the profile up.
      }
    } finally {
      db.close();
    }
  } catch (error) {
    throw new LoginError(`${path} is not a kiro-cli store this version can read (${(error as Error).message}). Check the path, or log in with \`ki2api login\`.`);
  }
  const json = (key: string): Json | undefined => {
    const text = rows.get(key);
    if (!text) return undefined;
    try {
      return JSON.parse(text) as Json;
    } catch {
      throw new LoginError(`The kiro-cli store's ${key} entry is not valid JSON.`);
    }
  };
  const logins: SavedLogin[] = [];
  const social = json('kirocli:social:token');
  if (social) logins.push(loginFrom({ ...social, authMethod: 'social' }, undefined, profile));
  const odic = json('kirocli:odic:token') ?? json('codewhisperer:odic:token');
  if (odic) {
    const client = clientFrom(json('kirocli:odic:device-registration') ?? json('codewhisperer:odic:device-registration'));
    logins.push(loginFrom({ ...odic, authMethod: 'IdC' }, client, profile));
  }
  if (logins.length === 0) throw new LoginError(`${path} holds no kiro-cli login (no kirocli:social:token or kirocli:odic:token). Log in with kiro-cli first.`);
  return logins;
}

/** A login from a JSON file: the IDE's token file (its registration read from beside it) or kiro-cli's snake_case record. */
export function readLoginFile(path: string, client?: OidcClient): SavedLogin {
  let json: Json;
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as Json;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new LoginError(code ? `Cannot read ${path} (${code}).` : `${path} is not valid JSON.`);
  }
  if (!json || typeof json !== 'object') throw new LoginError(`${path} does not hold a login.`);
  const hash = str(json.clientIdHash);
  const beside = hash ? readRegistration(path, hash) : undefined;
  const registration = client ?? clientFrom(json) ?? (beside && { clientId: beside.clientId, clientSecret: beside.clientSecret, expiresAt: isoOf(beside.expiresAt) });
  return loginFrom(json, registration, undefined);
}

export interface CheckUrls {
  /** `{region}` in them is the login's region. */
  authUrl: string;
  oidcUrl: string;
  /** KIRO_REGION, for the social host. */
  region: string;
}

/** Refresh the login once: proof it works, and fresh tokens to save. */
export async function checkLogin(login: SavedLogin, urls: CheckUrls, dispatcher?: Dispatcher): Promise<SavedLogin> {
  try {
    const refreshed =
      login.kind === 'social'
        ? await refreshSocial(urls.authUrl.replaceAll('{region}', urls.region), login.refreshToken, dispatcher)
        : await refreshIdc(urls.oidcUrl.replaceAll('{region}', login.region), login.refreshToken, login.client!.clientId, login.client!.clientSecret, dispatcher);
    return {
      ...login,
      accessToken: refreshed.accessToken,
      ...(refreshed.refreshToken && { refreshToken: refreshed.refreshToken }),
      expiresAt: refreshed.expiresAt.toISOString(),
      ...(refreshed.profileArn && login.kind === 'social' && { profileArn: refreshed.profileArn }),
    };
  } catch (error) {
    if (error instanceof RefreshError && error.permanent) {
      throw new LoginError('Kiro refused the refresh token (invalid_grant): the login has expired, or another tool has used and replaced it. Log in again (`ki2api login …`), or import a fresh copy.');
    }
    throw new LoginError(`Could not check the login by refreshing it: ${(error as Error).message}. Try again in a moment.`);
  }
}


