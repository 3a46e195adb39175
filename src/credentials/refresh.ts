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
    // invalid_grant (and 400/401 in general) means this refresh token will never work again.
    const dead = /invalid_grant|invalid refresh token/i.test(text) || response.statusCode === 400 || response.statusCode === 401;
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

/** ListAvailableProfiles (§1.3): how an IdC login, whose file carries no profile ARN, finds one. */
export async function listProfileArn(managementUrl: string, accessToken: string, dispatcher?: Dispatcher, timeoutMs = 15_000): Promise<string | undefined> {
  try {
    const response = await request(`${managementUrl}/listAvailableProfiles`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(timeoutMs),
      ...(dispatcher && { dispatcher }),
    });
    const text = await response.body.text();
    if (response.statusCode !== 200) return undefined;
    const profiles = (JSON.parse(text) as { profiles?: { arn?: string; status?: string }[] }).profiles ?? [];
    return (profiles.find((p) => p.status === undefined || p.status === 'ACTIVE') ?? profiles[0])?.arn;
  } catch {
    return undefined;
  }
}
