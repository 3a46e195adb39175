import { request, type Dispatcher } from 'undici';
import { z } from 'zod';

// The two ways a Kiro login is refreshed (kiro-protocol.md §1.2). Both take camelCase JSON.

export interface RefreshedTokens {
  accessToken: string;
  /** Present when the server rotated the refresh token. */
  refreshToken?: string;
  expiresAt: Date;
  profileArn?: string;
}

/** `permanent`: the refresh token is dead (log in again); otherwise worth retrying later. */
export class RefreshError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'RefreshError';
  }
}

const Answer = z
  .object({ accessToken: z.string().min(1), refreshToken: z.string().min(1).optional(), expiresIn: z.number().positive().optional(), profileArn: z.string().optional() })
  .passthrough();

/**
 * Only the token service's own JSON answer saying `invalid_grant` (or "Invalid refresh token")
 * means the login is dead for good. Anything else — an HTML page from a proxy or a captive portal,
 * a 5xx, an answer without that error — is a failure worth retrying later.
 */
export function saysInvalidGrant(status: number, text: string): boolean {
  if (status !== 400 && status !== 401) return false;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return false;
  }
  if (!body || typeof body !== 'object') return false;
  const { error, message, error_description: description } = body as { error?: unknown; message?: unknown; error_description?: unknown };
  return error === 'invalid_grant' || [message, description].some((m) => typeof m === 'string' && /invalid refresh token/i.test(m));
}

async function post(url: string, body: unknown, headers: Record<string, string>, dispatcher: Dispatcher | undefined, timeoutMs: number): Promise<RefreshedTokens> {
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
      ...(dispatcher && { dispatcher }),
    });
  } catch (error) {
    throw new RefreshError(`could not reach the token service (${(error as { code?: string }).code ?? (error as Error).name})`, false);
  }
  const text = await response.body.text().catch(() => '');
  if (response.statusCode !== 200) {
    const dead = saysInvalidGrant(response.statusCode, text);
    throw new RefreshError(dead ? 'the refresh token was rejected (invalid_grant): the login has expired' : `the token service answered HTTP ${response.statusCode}`, dead);
  }
  let parsed;
  try {
    parsed = Answer.safeParse(JSON.parse(text));
  } catch {
    parsed = undefined;
  }
  if (!parsed?.success) throw new RefreshError('the token service sent an answer without an accessToken', false);
  const { accessToken, refreshToken, expiresIn, profileArn } = parsed.data;
  return {
    accessToken,
    ...(refreshToken && { refreshToken }),
    // Access tokens last about an hour when the answer does not say (§1.2).
    expiresAt: new Date(Date.now() + (expiresIn ?? 3600) * 1000),
    ...(profileArn && { profileArn }),
  };
}

/** Social login (Google/GitHub): POST {authUrl}/refreshToken. */
export function refreshSocial(authUrl: string, refreshToken: string, dispatcher?: Dispatcher, timeoutMs = 15_000): Promise<RefreshedTokens> {
  return post(`${authUrl}/refreshToken`, { refreshToken }, { 'user-agent': 'KiroIDE' }, dispatcher, timeoutMs);
}

/** IdC / Builder ID (AWS SSO OIDC): POST {oidcUrl}/token with the IDE's client registration. */
export function refreshIdc(oidcUrl: string, refreshToken: string, clientId: string, clientSecret: string, dispatcher?: Dispatcher, timeoutMs = 15_000): Promise<RefreshedTokens> {
  return post(
    `${oidcUrl}/token`,
    { clientId, clientSecret, grantType: 'refresh_token', refreshToken },
    { 'x-amz-user-agent': 'aws-sdk-js/3.738.0 KiroIDE', 'user-agent': 'node' },
    dispatcher,
    timeoutMs,
  );
}

/** What ListAvailableProfiles said: a profile, none at all, or no answer (and why). */
export type ProfileLookup = { kind: 'found'; arn: string } | { kind: 'none' } | { kind: 'builder-id' } | { kind: 'failed'; why: string };

/** ListAvailableProfiles (§1.3): how an IdC login, whose file carries no profile ARN, finds one. */
export async function lookUpProfile(managementUrl: string, accessToken: string, dispatcher?: Dispatcher, timeoutMs = 15_000): Promise<ProfileLookup> {
  let response: Dispatcher.ResponseData;
  try {
    response = await request(`${managementUrl}/listAvailableProfiles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(timeoutMs),
      ...(dispatcher && { dispatcher }),
    });
  } catch (error) {
    return { kind: 'failed', why: `could not reach ${new URL(managementUrl).host} (${(error as { code?: string }).code ?? (error as Error).name})` };
  }
  const text = await response.body.text().catch(() => '');
  // A Builder ID login has no profiles and is told so: it is not a failure.
  if (response.statusCode === 403 && /Builder ID is not supported/i.test(text)) return { kind: 'builder-id' };
  if (response.statusCode !== 200) return { kind: 'failed', why: `${new URL(managementUrl).host} answered HTTP ${response.statusCode}` };
  let profiles: { arn?: unknown; status?: unknown }[];
  try {
    profiles = ((JSON.parse(text) as { profiles?: unknown }).profiles ?? []) as { arn?: unknown; status?: unknown }[];
    if (!Array.isArray(profiles)) throw new Error();
  } catch {
    return { kind: 'failed', why: 'the answer was not the expected JSON' };
  }
  const usable = profiles.filter((p) => typeof p?.arn === 'string');
  const arn = (usable.find((p) => p.status === undefined || p.status === 'ACTIVE') ?? usable[0])?.arn as string | undefined;
  return arn ? { kind: 'found', arn } : { kind: 'none' };
}
