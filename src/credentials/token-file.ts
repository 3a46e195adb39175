import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/** Where the Kiro IDE keeps its login, on every platform (%USERPROFILE% is the home dir on Windows). */
export const DEFAULT_TOKEN_FILE = join(homedir(), '.aws', 'sso', 'cache', 'kiro-auth-token.json');

/** The token file the Kiro IDE writes (kiro-protocol.md §7). Unknown fields are kept. */
export const KiroTokenFileSchema = z
  .object({
    accessToken: z.string().min(1),
    refreshToken: z.string().optional(),
    expiresAt: z.string().optional(),
    authMethod: z.string().optional(),
    provider: z.string().optional(),
    profileArn: z.string().optional(),
    region: z.string().optional(),
    clientIdHash: z.string().optional(),
  })
  .passthrough();
export type KiroTokenFile = z.infer<typeof KiroTokenFileSchema>;

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
  if (!parsed.success) return { ok: false, missing: false, problem: `${path} has no accessToken` };
  return { ok: true, token: parsed.data, mtimeMs };
}

/** A short one-way fingerprint of a secret: enough to tell accounts apart, useless to an attacker. */
export const fingerprint = (secret: string): string => createHash('sha256').update(secret).digest('hex').slice(0, 8);

/** `social` or `idc`, whatever spelling the file uses. */
export function normaliseAuthMethod(token: Pick<KiroTokenFile, 'authMethod' | 'clientIdHash'>): 'social' | 'idc' {
  const method = token.authMethod?.toLowerCase() ?? '';
  if (method === 'social') return 'social';
  if (method === 'idc' || method === 'builder-id' || token.clientIdHash) return 'idc';
  return 'social';
}
