import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, fsyncSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';

/** Where the Kiro IDE keeps its login, on every platform (%USERPROFILE% is the home dir on Windows). */
export const DEFAULT_TOKEN_FILE = join(homedir(), '.aws', 'sso', 'cache', 'kiro-auth-token.json');

/** The token file the Kiro IDE writes (kiro-protocol.md §7). Unknown fields are kept. */
export const KiroTokenFileSchema = z
  .object({
    accessToken: z.string().min(1).optional(),
    refreshToken: z.string().optional(),
    expiresAt: z.string().optional(),
    authMethod: z.string().optional(),
    provider: z.string().optional(),
    profileArn: z.string().optional(),
    region: z.string().optional(),
    clientIdHash: z.string().optional(),
  })
  .passthrough()
  .refine((t) => t.accessToken || t.refreshToken, 'no accessToken or refreshToken');
export type KiroTokenFile = z.infer<typeof KiroTokenFileSchema>;

/** The IdC client registration the IDE keeps beside the token file, `{clientIdHash}.json`. */
export const RegistrationSchema = z.object({ clientId: z.string().min(1), clientSecret: z.string().min(1), expiresAt: z.string().optional() }).passthrough();
export type Registration = z.infer<typeof RegistrationSchema>;

export type TokenFileRead =
  | { ok: true; token: KiroTokenFile; mtimeMs: number }
  | { ok: false; missing: boolean; problem: string };

/** Read and check a token file. Never throws; never puts a token in the problem text. */
export function readTokenFile(path: string): TokenFileRead {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(path).mtimeMs;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    return { ok: false, missing, problem: missing ? `no token file at ${path}` : `cannot read ${path} (${(error as NodeJS.ErrnoException).code})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, missing: false, problem: `${path} is not valid JSON` };
  }
  const parsed = KiroTokenFileSchema.safeParse(json);
  if (!parsed.success) return { ok: false, missing: false, problem: `${path} has no accessToken or refreshToken` };
  return { ok: true, token: parsed.data, mtimeMs };
}

/** A clientIdHash names a file beside the token file: a name, never a path. */
const CLIENT_ID_HASH = /^[A-Za-z0-9_-]{1,128}$/;

/** The IdC registration for a token file, if its clientIdHash names one (and nothing outside its folder). */
export function readRegistration(tokenPath: string, clientIdHash: string): Registration | undefined {
  if (!CLIENT_ID_HASH.test(clientIdHash)) return undefined;
  try {
    const parsed = RegistrationSchema.safeParse(JSON.parse(readFileSync(join(dirname(tokenPath), `${clientIdHash}.json`), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Merge `update` into the token file and replace it atomically: write a temp file beside it with
 * the same permissions, then rename over the original. A crash never leaves a half-written file,
 * and fields ki2api does not know (the IDE's own) survive.
 */
export function writeTokenFile(path: string, update: Record<string, unknown>): void {
  let current: Record<string, unknown> = {};
  let mode = 0o600;
  try {
    current = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    mode = statSync(path).mode & 0o777;
  } catch {
    // A missing or unreadable file is rewritten from the update alone.
  }
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    // On disk before the rename: a crash (or power loss) right after never leaves an empty file.
    const fd = openSync(temp, 'w', mode);
    try {
      writeSync(fd, `${JSON.stringify({ ...current, ...update }, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(temp, mode);
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // nothing to clean up
    }
    throw error;
  }
}

/** Token files named by KIRO_TOKEN_FILE: one file, several (comma-separated), or a directory of them. */
export function expandTokenFiles(spec: string): string[] {
  return spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)
    .flatMap((path) => {
      try {
        if (!statSync(path).isDirectory()) return [path];
      } catch {
        return [path];
      }
      return readdirSync(path)
        .filter((name) => name.endsWith('.json'))
        .map((name) => join(path, name))
        .filter(isKiroLogin)
        .sort();
    });
}

/**
 * Whether a file in a token folder is a Kiro login. The folder Kiro writes to, ~/.aws/sso/cache,
 * also holds the AWS CLI's SSO caches (accessToken, startUrl, no authMethod) and IdC client
 * registrations; only files with Kiro's own markers are taken.
 */
export function isKiroLogin(file: string): boolean {
  const read = readTokenFile(file);
  if (!read.ok) return false;
  const { authMethod, provider, profileArn } = read.token;
  return authMethod !== undefined || provider !== undefined || profileArn !== undefined;
}

/** A short one-way fingerprint: enough to tell accounts apart, useless to an attacker. */
export const fingerprint = (value: string): string => createHash('sha256').update(value).digest('hex').slice(0, 8);

/**
 * The kind of login a token file holds: social (Google, GitHub), AWS Builder ID (an IdC login to
 * Builder ID's own start URL, `provider: "BuilderId"`) or IAM Identity Center (`Enterprise`).
 */
export function loginKindOf(token: Pick<KiroTokenFile, 'authMethod' | 'clientIdHash' | 'provider'>): 'social' | 'builder-id' | 'idc' {
  if (normaliseAuthMethod(token) === 'social') return 'social';
  const said = `${token.provider ?? ''} ${token.authMethod ?? ''}`.toLowerCase().replace(/[^a-z ]/g, '');
  return /builderid/.test(said) ? 'builder-id' : 'idc';
}

/** `social` or `idc`, whatever spelling the file uses. */
export function normaliseAuthMethod(token: Pick<KiroTokenFile, 'authMethod' | 'clientIdHash'>): 'social' | 'idc' {
  const method = token.authMethod?.toLowerCase() ?? '';
  if (method === 'social') return 'social';
  if (method === 'idc' || method === 'builder-id' || method === 'builderid' || token.clientIdHash) return 'idc';
  return 'social';
}
