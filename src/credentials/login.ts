import { createHash, randomBytes } from 'node:crypto';
import { request, type Dispatcher } from 'undici';

// Logging in without the Kiro IDE (anthropic-and-responses.md §4.1–4.2): AWS SSO OIDC's
// device-code flow for AWS Builder ID and IAM Identity Center, and Kiro's social login (Google,
// GitHub) with PKCE, whose only allowed redirect is Kiro's own kiro:// URL — so the user pastes
// the URL the browser ends on. Every failure is a LoginError that says what to do; no message
// ever holds a token, a code or a client secret.

export class LoginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoginError';
  }
}

export const BUILDER_ID_START_URL = 'https://view.awsapps.com/start';
const SCOPES = ['codewhisperer:completions', 'codewhisperer:analysis', 'codewhisperer:conversations'];
export const SOCIAL_REDIRECT_URI = 'kiro://kiro.kiroAgent/authenticate-success';

/** An OIDC client registration: what an IdC / Builder ID login refreshes with. */
export interface OidcClient {
  clientId: string;
  clientSecret: string;
  /** When the registration expires (ISO 8601); log in again after it. */
  expiresAt: string;
}

export interface LoginTokens {
  accessToken: string;
  refreshToken: string;
  /** ISO 8601 */
  expiresAt: string;
  profileArn?: string;
}

interface Http {
  dispatcher?: Dispatcher;
  timeoutMs?: number;
}

async function postJson(url: string, body: unknown, http: Http): Promise<{ status: number; json: Record<string, unknown> }> {
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(http.timeoutMs ?? 15_000),
      ...(http.dispatcher && { dispatcher: http.dispatcher }),
    });
  } catch (error) {
    throw new LoginError(`Could not reach ${new URL(url).host} (${(error as { code?: string }).code ?? (error as Error).name}). Check the network (or KIRO_OIDC_URL / KIRO_AUTH_URL) and try again.`);
  }
  const text = await response.body.text().catch(() => '');
  let json: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') json = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: the status says enough.
  }
  return { status: response.statusCode, json };
}

const expiry = (seconds: unknown): string => new Date(Date.now() + (typeof seconds === 'number' && seconds > 0 ? seconds : 3600) * 1000).toISOString();

/** Register an OIDC client, as the Kiro IDE does (step 1 of the device-code flow). */
export async function registerClient(oidcUrl: string, http: Http = {}): Promise<OidcClient> {
  const { status, json } = await postJson(`${oidcUrl}/client/register`, { clientName: 'ki2api', clientType: 'public', scopes: SCOPES, grantTypes: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'] }, http);
  if (status !== 200 || typeof json.clientId !== 'string' || typeof json.clientSecret !== 'string') {
    throw new LoginError(`The login service would not register a client (HTTP ${status}${typeof json.error === 'string' ? `, ${json.error}` : ''}). Try again later.`);
  }
  const expires = typeof json.clientSecretExpiresAt === 'number' ? new Date(json.clientSecretExpiresAt * 1000).toISOString() : expiry(90 * 86_400);
  return { clientId: json.clientId, clientSecret: json.clientSecret, expiresAt: expires };
}

export interface DeviceLoginOptions extends Http {
  oidcUrl: string;
  startUrl: string;
  /** Shown to the user: where to go and which code to check. */
  show(verificationUrl: string, userCode: string): void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The device-code flow: register, start, show the URL and code, and poll until the user allows
 * the login (authorization_pending: wait; slow_down: wait 5 s longer), declines, or lets the
 * code expire.
 */
export async function deviceLogin(options: DeviceLoginOptions): Promise<{ tokens: LoginTokens; client: OidcClient }> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const client = await registerClient(options.oidcUrl, options);
  const started = await postJson(`${options.oidcUrl}/device_authorization`, { clientId: client.clientId, clientSecret: client.clientSecret, startUrl: options.startUrl }, options);
  const { deviceCode, userCode, verificationUri, verificationUriComplete } = started.json as Record<string, string | undefined>;
  if (started.status !== 200 || !deviceCode || !userCode || !(verificationUriComplete ?? verificationUri)) {
    const why = typeof started.json.error === 'string' ? started.json.error : `HTTP ${started.status}`;
    throw new LoginError(`The login could not start (${why}).${options.startUrl === BUILDER_ID_START_URL ? '' : ` Check the start URL (${options.startUrl}) and its region (--region).`}`);
  }
  options.show(verificationUriComplete ?? verificationUri!, userCode);
  let intervalMs = (typeof started.json.interval === 'number' && started.json.interval > 0 ? started.json.interval : 5) * 1000;
  const deadline = Date.now() + (typeof started.json.expiresIn === 'number' ? started.json.expiresIn : 600) * 1000;
  for (;;) {
    await sleep(intervalMs);
    const polled = await postJson(`${options.oidcUrl}/token`, { clientId: client.clientId, clientSecret: client.clientSecret, deviceCode, grantType: 'urn:ietf:params:oauth:grant-type:device_code' }, options);
    if (polled.status === 200 && typeof polled.json.accessToken === 'string' && typeof polled.json.refreshToken === 'string') {
      return { tokens: { accessToken: polled.json.accessToken, refreshToken: polled.json.refreshToken, expiresAt: expiry(polled.json.expiresIn) }, client };
    }
    const error = typeof polled.json.error === 'string' ? polled.json.error : `HTTP ${polled.status}`;
    if (error === 'authorization_pending' && Date.now() < deadline) continue;
    if (error === 'slow_down') {
      intervalMs += 5000;
      continue;
    }
    if (error === 'authorization_pending' || error === 'expired_token') throw new LoginError('The code expired before the login was allowed. Run the login again and allow it within 10 minutes.');
    if (error === 'access_denied') throw new LoginError('The login was declined in the browser. Run it again and choose Allow.');
    if (error === 'invalid_client') throw new LoginError('The login service no longer knows this client registration. Run the login again.');
    throw new LoginError(`The login failed (${error}). Run it again.`);
  }
}

/** What a social login needs to remember between opening the URL and taking the code back. */
export interface SocialLoginStart {
  url: string;
  verifier: string;
  state: string;
}

/** The URL that starts a Google or GitHub login, with PKCE (S256) and a fresh state. */
export function startSocialLogin(authUrl: string, idp: 'Google' | 'Github'): SocialLoginStart {
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(16).toString('base64url');
  const query = new URLSearchParams({ idp, redirect_uri: SOCIAL_REDIRECT_URI, code_challenge: challenge, code_challenge_method: 'S256', state, prompt: 'select_account' });
  return { url: `${authUrl}/login?${query}`, verifier, state };
}

/** The code from the URL the browser ended on, checked against the state the login started with. */
export function codeFromCallback(callback: string, start: Pick<SocialLoginStart, 'state'>): string {
  let url: URL;
  try {
    url = new URL(callback.trim());
  } catch {
    throw new LoginError('That is not a URL. Paste the whole address the browser ended on (it starts with kiro://kiro.kiroAgent/authenticate-success).');
  }
  if (`${url.protocol}//${url.host}${url.pathname}` !== SOCIAL_REDIRECT_URI) {
    throw new LoginError('That is not the URL the login ends on. Paste the address the browser shows after you sign in: it starts with kiro://kiro.kiroAgent/authenticate-success.');
  }
  const error = url.searchParams.get('error');
  if (error) throw new LoginError(`The login was not completed (${error}). Run it again.`);
  const code = url.searchParams.get('code');
  if (!code) throw new LoginError('The URL has no code: the login did not finish. Run it again.');
  if (url.searchParams.get('state') !== start.state) throw new LoginError('The URL belongs to another login attempt (its state does not match). Use the URL of this run, or run the login again.');
  return code;
}

/** Exchange the code (with its PKCE verifier) for Kiro tokens. */
export async function finishSocialLogin(authUrl: string, start: SocialLoginStart, callback: string, http: Http = {}): Promise<LoginTokens> {
  const code = codeFromCallback(callback, start);
  const { status, json } = await postJson(`${authUrl}/oauth/token`, { code, code_verifier: start.verifier, redirect_uri: SOCIAL_REDIRECT_URI }, http);
  if (status !== 200 || typeof json.accessToken !== 'string' || typeof json.refreshToken !== 'string') {
    throw new LoginError(`Kiro would not exchange the login code (HTTP ${status}${typeof json.error === 'string' ? `, ${json.error}` : ''}); codes work once and for a few minutes. Run the login again.`);
  }
  return { accessToken: json.accessToken, refreshToken: json.refreshToken, expiresAt: expiry(json.expiresIn), ...(typeof json.profileArn === 'string' && { profileArn: json.profileArn }) };
}
