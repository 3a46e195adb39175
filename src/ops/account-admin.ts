import { randomBytes } from 'node:crypto';
import type { LoginState } from '../../contract/index.js';
import { GatewayError } from '../chat/errors.js';
import { checkLogin } from '../credentials/import.js';
import { BUILDER_ID_START_URL, deviceLogin, finishSocialLogin, LoginError, startSocialLogin, type SocialLoginStart } from '../credentials/login.js';
import { removeSaved, saveAccount, type SavedLogin } from '../credentials/saved.js';

// Account management from the dashboard: the same logins and imports as `ki2api login` /
// `ki2api import`, run by the gateway for the page. A device-code login keeps polling by itself
// once started; the page asks how it is going. Logins are forgotten after 20 minutes.

export interface AccountAdminOptions {
  accountsDir: string;
  /** Host templates (`{region}` is the login's region) and KIRO_REGION. */
  authUrl: string;
  oidcUrl: string;
  region: string;
  /** Renew an account's token and ask for its models and credits again; false if there is no such account. */
  refreshAccount(fingerprint: string): Promise<boolean>;
  /** Device-code polling waits (tests make it quick). */
  sleep?: (ms: number) => Promise<void>;
}

const FORGET_MS = 20 * 60_000;

interface Login {
  state: LoginState;
  createdAt: number;
  social?: SocialLoginStart;
}

/** A login that could not go on: the service out of reach is a 502, anything else the admin's to fix. */
const failed = (message: string) => (/^Could not reach/.test(message) ? new GatewayError('upstream', message, { code: 'login_failed', status: 502 }) : new GatewayError('invalid_request', message, { code: 'login_failed' }));

export class AccountAdmin {
  private readonly logins = new Map<string, Login>();

  constructor(private readonly options: AccountAdminOptions) {}

  private urls() {
    return { authUrl: this.options.authUrl, oidcUrl: this.options.oidcUrl, region: this.options.region };
  }

  private remember(kind: LoginState['kind'], fields: Partial<LoginState>, social?: SocialLoginStart): Login {
    const now = Date.now();
    for (const [id, login] of this.logins) if (now - login.createdAt > FORGET_MS) this.logins.delete(id);
    const state: LoginState = {
      login_id: `login_${randomBytes(12).toString('hex')}`,
      kind,
      state: 'waiting',
      verification_url: null,
      user_code: null,
      login_url: null,
      expires_at: null,
      account_id: null,
      message: null,
      ...fields,
    };
    const login: Login = { state, createdAt: now, ...(social && { social }) };
    this.logins.set(state.login_id, login);
    return login;
  }

  private async save(login: Login, found: SavedLogin): Promise<void> {
    const checked = await checkLogin(found, this.urls());
    login.state.account_id = saveAccount(this.options.accountsDir, checked).id;
    login.state.state = 'done';
  }

  private fail(login: Login, error: unknown): void {
    login.state.state = 'failed';
    login.state.message = error instanceof LoginError ? error.message : `The login failed: ${(error as Error).message}`;
  }

  /** Starts a device-code login; resolves as soon as there is a URL and a code to show. */
  startDevice(startUrl?: string, region?: string): Promise<LoginState> {
    const kind = startUrl && startUrl !== BUILDER_ID_START_URL ? 'idc' : 'builder-id';
    const loginRegion = region ?? (kind === 'idc' ? this.options.region : 'us-east-1');
    return new Promise((resolve, reject) => {
      let login: Login | undefined;
      deviceLogin({
        oidcUrl: this.options.oidcUrl.replaceAll('{region}', loginRegion),
        startUrl: startUrl ?? BUILDER_ID_START_URL,
        ...(this.options.sleep && { sleep: this.options.sleep }),
        show: (url, code) => {
          login = this.remember(kind, { verification_url: url, user_code: code, expires_at: new Date(Date.now() + 10 * 60_000).toISOString() });
          resolve(structuredClone(login.state));
        },
      })
        .then(({ tokens, client }) => this.save(login!, { kind, ...tokens, region: loginRegion, startUrl: startUrl ?? BUILDER_ID_START_URL, client }))
        .catch((error: unknown) => {
          if (login) this.fail(login, error);
          else reject(failed(error instanceof LoginError ? error.message : (error as Error).message));
        });
    });
  }

  startSocial(idp: 'google' | 'github'): LoginState {
    const start = startSocialLogin(this.options.authUrl.replaceAll('{region}', this.options.region), idp === 'google' ? 'Google' : 'Github');
    return structuredClone(this.remember('social', { login_url: start.url, expires_at: new Date(Date.now() + 10 * 60_000).toISOString() }, start).state);
  }

  async finishSocial(id: string, callback: string): Promise<LoginState> {
    const login = this.logins.get(id);
    if (!login?.social) throw new GatewayError('not_found', `No social login ${id} is waiting (logins are forgotten after 20 minutes). Start a new one.`, { code: 'login_not_found' });
    if (login.state.state !== 'waiting') return structuredClone(login.state);
    try {
      const tokens = await finishSocialLogin(this.options.authUrl.replaceAll('{region}', this.options.region), login.social, callback);
      await this.save(login, { kind: 'social', ...tokens, region: this.options.region, provider: login.social.url.includes('idp=Github') ? 'Github' : 'Google' });
    } catch (error) {
      // A pasted URL that is not the right one can be pasted again; anything else ends the login.
      if (error instanceof LoginError && /not a URL|not the URL|another login attempt/.test(error.message)) throw failed(error.message);
      this.fail(login, error);
    }
    return structuredClone(login.state);
  }

  state(id: string): LoginState {
    const login = this.logins.get(id);
    if (!login) throw new GatewayError('not_found', `No login ${id} (logins are forgotten after 20 minutes).`, { code: 'login_not_found' });
    return structuredClone(login.state);
  }

  async importRefreshToken(input: { refresh_token: string; kind: 'social' | 'idc'; client_id?: string | undefined; client_secret?: string | undefined; region?: string | undefined }): Promise<string> {
    if (input.refresh_token.includes('...')) throw failed('That refresh token is truncated (it contains "..."): copy the whole token.');
    const region = input.region ?? this.options.region;
    const expired = new Date(Date.now() - 60_000).toISOString();
    let login: SavedLogin;
    if (input.kind === 'idc') {
      if (!input.client_id || !input.client_secret) throw failed('An IdC refresh token needs its client id and client secret (the OIDC client registration it was made with).');
      login = { kind: 'idc', accessToken: '', refreshToken: input.refresh_token, expiresAt: expired, region, client: { clientId: input.client_id, clientSecret: input.client_secret, expiresAt: new Date(Date.now() + 90 * 86_400_000).toISOString() } };
    } else {
      login = { kind: 'social', accessToken: '', refreshToken: input.refresh_token, expiresAt: expired, region };
    }
    try {
      return saveAccount(this.options.accountsDir, await checkLogin(login, this.urls())).id;
    } catch (error) {
      if (error instanceof LoginError) throw failed(error.message);
      throw error;
    }
  }

  remove(id: string): string {
    const removed = removeSaved(this.options.accountsDir, id);
    if (!removed) {
      throw new GatewayError('not_found', `No saved account ${id} in ${this.options.accountsDir}: only accounts saved here or by \`ki2api login\` / \`ki2api import\` can be removed (the Kiro IDE's own login stays).`, {
        code: 'account_not_found',
      });
    }
    return removed;
  }

  async refresh(id: string): Promise<void> {
    if (!(await this.options.refreshAccount(id))) throw new GatewayError('not_found', `No usable account ${id}.`, { code: 'account_not_found' });
  }
}
