import type { CredentialStatus } from '../chat/types.js';
import { GatewayError } from '../chat/errors.js';
import { fingerprint, normaliseAuthMethod, readTokenFile } from './token-file.js';
import type { CredentialProvider, KiroCredentials } from './types.js';

const LOGIN_FIX =
  'Log in to the Kiro IDE (it writes ~/.aws/sso/cache/kiro-auth-token.json), or set KIRO_ACCESS_TOKEN ' +
  '(with KIRO_PROFILE_ARN), or point KIRO_TOKEN_FILE at a token file. Then restart ki2api.';

/** Credentials from KIRO_ACCESS_TOKEN / KIRO_PROFILE_ARN. */
export class EnvCredentialProvider implements CredentialProvider {
  private readonly credentials: KiroCredentials;

  constructor(accessToken: string, profileArn: string | undefined) {
    this.credentials = { accessToken, ...(profileArn && { profileArn }), fingerprint: fingerprint(accessToken) };
  }

  async getCredentials(): Promise<KiroCredentials> {
    return this.credentials;
  }

  status(): CredentialStatus {
    return { found: true, usable: true, source: 'env', authMethod: null, expiresAt: null, problem: null, fix: null };
  }
}

/**
 * Credentials from the Kiro IDE's token file. The IDE rewrites the file when it refreshes its
 * login, so the file is re-read when its modification time changes (checked at most every 2 s).
 */
export class TokenFileCredentialProvider implements CredentialProvider {
  private current: KiroCredentials | undefined;
  private lastStatus: CredentialStatus;
  private mtimeMs = -1;
  private checkedAt = 0;

  constructor(
    private readonly path: string,
    private readonly profileArnOverride: string | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.lastStatus = this.load();
  }

  async getCredentials(): Promise<KiroCredentials> {
    this.reloadIfChanged();
    if (!this.current) {
      throw new GatewayError('unavailable', `No usable Kiro credentials: ${this.lastStatus.problem}. ${LOGIN_FIX}`, {
        code: 'no_credentials',
      });
    }
    return this.current;
  }

  status(): CredentialStatus {
    this.reloadIfChanged();
    const status = this.lastStatus;
    if (status.usable && status.expiresAt && Date.parse(status.expiresAt) <= this.now()) {
      return {
        ...status,
        usable: false,
        problem: `the access token expired at ${status.expiresAt}`,
        fix: 'Open the Kiro IDE so it refreshes its login (ki2api picks up the new token from the file).',
      };
    }
    return status;
  }

  private reloadIfChanged(): void {
    const now = this.now();
    if (now - this.checkedAt < 2000) return;
    this.checkedAt = now;
    const read = readTokenFile(this.path);
    if (read.ok && read.mtimeMs === this.mtimeMs) return;
    this.lastStatus = this.load();
  }

  private load(): CredentialStatus {
    const read = readTokenFile(this.path);
    this.checkedAt = this.now();
    if (!read.ok) {
      this.current = undefined;
      this.mtimeMs = -1;
      return { found: !read.missing, usable: false, source: this.path, authMethod: null, expiresAt: null, problem: read.problem, fix: LOGIN_FIX };
    }
    const { token } = read;
    this.mtimeMs = read.mtimeMs;
    const profileArn = this.profileArnOverride ?? token.profileArn;
    this.current = { accessToken: token.accessToken, ...(profileArn && { profileArn }), fingerprint: fingerprint(token.refreshToken ?? token.accessToken) };
    return {
      found: true,
      usable: true,
      source: this.path,
      authMethod: normaliseAuthMethod(token),
      expiresAt: token.expiresAt ?? null,
      problem: null,
      fix: null,
    };
  }
}
