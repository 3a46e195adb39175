import { createHash, randomBytes } from 'node:crypto';

// The simulator's Kiro accounts: who a token belongs to, what kind of login it is, what it may
// use (models, credits, which host), and the two ways a new one is made — AWS SSO OIDC's
// device-code flow (Builder ID, IAM Identity Center) and Kiro's social login with PKCE
// (anthropic-and-responses.md §4.1–4.2). A token no account knows is the "anyone" account of
// earlier tests: a social login with the simulator's profile, every model, credits to spare.

export type SimLoginKind = 'social' | 'builder-id' | 'idc';

export const SIMULATOR_PROFILE_ARN = 'arn:aws:codewhisperer:us-east-1:000000000000:profile/SIMULATOR';
export const BUILDER_ID_START_URL = 'https://view.awsapps.com/start';

export interface SimUsage {
  /** Credits used, to 0.01. */
  used: number;
  limit: number;
  /** Unix seconds. */
  resetsAt: number;
  plan: string;
  /** Past the limit, an overage-enabled account keeps working (and is billed). */
  overage?: boolean;
}

export interface SimModel {
  modelId: string;
  modelName: string;
  maxInputTokens: number;
  /** Native reasoning (the additionalModelRequestFieldsSchema with `thinking`). */
  thinking: boolean;
}

/** The models Kiro lists for an ordinary paid account. */
export const SIM_MODELS: readonly SimModel[] = [
  { modelId: 'auto', modelName: 'Auto', maxInputTokens: 200_000, thinking: false },
  { modelId: 'claude-sonnet-4.5', modelName: 'Claude Sonnet 4.5', maxInputTokens: 200_000, thinking: false },
  { modelId: 'claude-sonnet-4', modelName: 'Claude Sonnet 4', maxInputTokens: 200_000, thinking: false },
  { modelId: 'claude-haiku-4.5', modelName: 'Claude Haiku 4.5', maxInputTokens: 200_000, thinking: false },
  { modelId: 'claude-opus-4.5', modelName: 'Claude Opus 4.5', maxInputTokens: 200_000, thinking: false },
  { modelId: 'claude-sonnet-4.6', modelName: 'Claude Sonnet 4.6', maxInputTokens: 1_000_000, thinking: true },
  { modelId: 'claude-opus-4.6', modelName: 'Claude Opus 4.6', maxInputTokens: 1_000_000, thinking: true },
  { modelId: 'claude-opus-4.7', modelName: 'Claude Opus 4.7', maxInputTokens: 1_000_000, thinking: true },
  { modelId: 'claude-opus-4.8', modelName: 'Claude Opus 4.8', maxInputTokens: 1_000_000, thinking: true },
  { modelId: 'claude-sonnet-5', modelName: 'Claude Sonnet 5', maxInputTokens: 1_000_000, thinking: true },
];

export interface SimAccountSpec {
  kind?: SimLoginKind;
  /** Social and IdC accounts have one (null: an IdC org without a profile); Builder ID never does. */
  profileArn?: string | null;
  /** The upstream model ids ListAvailableModels lists (default: all of SIM_MODELS). */
  models?: string[];
  usage?: Partial<SimUsage>;
  /** Whether runtime.{region}.kiro.dev takes its tokens (Builder ID: never; some IdC orgs: not either). */
  runtime?: boolean;
  /** IdC: the OIDC client the login was made with; refreshes must come from it. */
  clientId?: string;
}

export interface SimAccount {
  id: string;
  kind: SimLoginKind;
  profileArn: string | undefined;
  models: string[];
  usage: SimUsage;
  runtime: boolean;
  clientId: string | undefined;
  accessTokens: Set<string>;
  refreshTokens: Set<string>;
}

const inDays = (days: number) => Math.floor(Date.now() / 1000) + days * 86_400;

function account(id: string, spec: SimAccountSpec): SimAccount {
  const kind = spec.kind ?? 'social';
  return {
    id,
    kind,
    profileArn: kind === 'builder-id' ? undefined : spec.profileArn === null ? undefined : (spec.profileArn ?? SIMULATOR_PROFILE_ARN),
    models: spec.models ?? SIM_MODELS.map((m) => m.modelId),
    usage: { used: 0, limit: 1000, resetsAt: inDays(12), plan: 'KIRO PRO', ...spec.usage },
    runtime: spec.runtime ?? kind !== 'builder-id',
    clientId: spec.clientId,
    accessTokens: new Set(),
    refreshTokens: new Set(),
  };
}

export interface DeviceBehaviour {
  /** The user declines in the browser: access_denied. */
  deny?: boolean;
  /** The device code has expired by the first poll: expired_token. */
  expire?: boolean;
  /** Answer slow_down to this many polls first. */
  slowDown?: number;
  /** The account an approved IdC login gets (default: a profile, runtime allowed). */
  idc?: SimAccountSpec;
}

interface DeviceGrant {
  clientId: string;
  startUrl: string;
  userCode: string;
  approved: boolean;
  polls: number;
}

type OidcAnswer = { status: number; body: Record<string, unknown> };

export class SimAccounts {
  /** The account any token nobody registered belongs to. */
  readonly anyone: SimAccount = account('anyone', {});
  private readonly all = new Map<string, SimAccount>();
  private readonly byAccess = new Map<string, SimAccount>();
  private readonly byRefresh = new Map<string, SimAccount>();
  private readonly clients = new Map<string, { secret: string }>();
  private readonly devices = new Map<string, DeviceGrant>();
  private readonly socialCodes = new Map<string, { challenge: string; redirectUri: string }>();
  device: DeviceBehaviour = {};
  private serial = 0;

  /** A new account with a token pair. */
  add(spec: SimAccountSpec = {}): { account: SimAccount; accessToken: string; refreshToken: string } {
    const created = account(`acct-${++this.serial}`, spec);
    this.all.set(created.id, created);
    return { account: created, ...this.issue(created) };
  }

  list(): SimAccount[] {
    return [...this.all.values()];
  }

  /** A fresh token pair for `account` (its old access tokens keep working until they would expire). */
  issue(target: SimAccount, rotate = true): { accessToken: string; refreshToken: string } {
    const prefix = target.kind === 'social' ? 'aoa' : 'ida';
    const accessToken = `${prefix}-sim-${target.id}-${randomBytes(8).toString('hex')}`;
    target.accessTokens.add(accessToken);
    this.byAccess.set(accessToken, target);
    let refreshToken = [...target.refreshTokens].at(-1);
    if (rotate || !refreshToken) {
      // A rotated refresh token replaces the old one: using the old one again is invalid_grant.
      for (const old of target.refreshTokens) this.byRefresh.delete(old);
      target.refreshTokens.clear();
      refreshToken = `${target.kind === 'social' ? 'aorAAAAAG' : 'idr'}-sim-${target.id}-${randomBytes(24).toString('hex')}`;
      target.refreshTokens.add(refreshToken);
      this.byRefresh.set(refreshToken, target);
    }
    return { accessToken, refreshToken };
  }

  /** Whose access token this is (the "anyone" account for a token nobody registered). */
  ofAccess(token: string | undefined): SimAccount {
    return (token && this.byAccess.get(token)) || this.anyone;
  }

  /** The registered account a token belongs to, if any. */
  knownAccess(token: string | undefined): SimAccount | undefined {
    return token ? this.byAccess.get(token) : undefined;
  }

  ofRefresh(token: string): SimAccount | undefined {
    return this.byRefresh.get(token);
  }

  /** A refresh token this account had once, but no longer (rotated away). */
  retired(token: string): boolean {
    return token.includes('-sim-acct-') && !this.byRefresh.has(token);
  }

  // ------------------------------------------------------------------ AWS SSO OIDC (device code)

  register(body: Record<string, unknown>): OidcAnswer {
    if (body.clientType !== 'public' || !Array.isArray(body.scopes)) return { status: 400, body: { error: 'invalid_request', error_description: 'clientType and scopes are required' } };
    const clientId = `sim-client-${randomBytes(8).toString('hex')}`;
    const clientSecret = `sim-secret-${randomBytes(24).toString('hex')}`;
    this.clients.set(clientId, { secret: clientSecret });
    const now = Math.floor(Date.now() / 1000);
    return { status: 200, body: { clientId, clientSecret, clientIdIssuedAt: now, clientSecretExpiresAt: now + 90 * 86_400 } };
  }

  private clientOk(body: Record<string, unknown>): boolean {
    return typeof body.clientId === 'string' && this.clients.get(body.clientId)?.secret === body.clientSecret;
  }

  startDevice(body: Record<string, unknown>, baseUrl: string): OidcAnswer {
    if (!this.clientOk(body)) return { status: 400, body: { error: 'invalid_client', error_description: 'Invalid client' } };
    if (typeof body.startUrl !== 'string' || !/^https:\/\//.test(body.startUrl)) return { status: 400, body: { error: 'invalid_request', error_description: 'startUrl is required' } };
    const deviceCode = randomBytes(24).toString('base64url');
    const userCode = `${randomBytes(2).toString('hex').toUpperCase()}-${randomBytes(2).toString('hex').toUpperCase()}`;
    this.devices.set(deviceCode, { clientId: body.clientId as string, startUrl: body.startUrl, userCode, approved: false, polls: 0 });
    return {
      status: 200,
      body: { deviceCode, userCode, verificationUri: `${baseUrl}/device`, verificationUriComplete: `${baseUrl}/device?user_code=${userCode}`, expiresIn: 600, interval: 1 },
    };
  }

  /** The user opened the verification page and allowed the login. */
  approve(userCode: string): boolean {
    for (const grant of this.devices.values()) {
      if (grant.userCode === userCode) {
        grant.approved = true;
        return true;
      }
    }
    return false;
  }

  /** POST /token with the device-code grant: pending until approved, then a new account's tokens. */
  pollDevice(body: Record<string, unknown>): OidcAnswer {
    if (!this.clientOk(body)) return { status: 400, body: { error: 'invalid_client', error_description: 'Invalid client' } };
    const grant = typeof body.deviceCode === 'string' ? this.devices.get(body.deviceCode) : undefined;
    if (!grant || grant.clientId !== body.clientId) return { status: 400, body: { error: 'invalid_grant', error_description: 'Invalid device code' } };
    grant.polls++;
    const behaviour = this.device;
    if (behaviour.expire) return { status: 400, body: { error: 'expired_token', error_description: 'The device code has expired' } };
    if (behaviour.deny) return { status: 400, body: { error: 'access_denied', error_description: 'The user denied the request' } };
    if (behaviour.slowDown && grant.polls <= behaviour.slowDown) return { status: 400, body: { error: 'slow_down', error_description: 'Slow down' } };
    if (!grant.approved) return { status: 400, body: { error: 'authorization_pending', error_description: 'Authorization is pending' } };
    this.devices.delete(body.deviceCode as string);
    const builderId = grant.startUrl === BUILDER_ID_START_URL;
    const { account: created } = this.add(builderId ? { kind: 'builder-id', clientId: grant.clientId } : { kind: 'idc', ...behaviour.idc, clientId: grant.clientId });
    const tokens = { accessToken: [...created.accessTokens][0]!, refreshToken: [...created.refreshTokens][0]! };
    return { status: 200, body: { ...tokens, expiresIn: 3600, tokenType: 'Bearer', idToken: 'sim-id-token' } };
  }

  /** An IdC refresh: the refresh token must be this client's. Undefined: not a known account (old behaviour). */
  refreshIdc(body: Record<string, unknown>): OidcAnswer | undefined {
    const target = typeof body.refreshToken === 'string' ? this.byRefresh.get(body.refreshToken) : undefined;
    if (!target) return undefined;
    if (target.clientId && (body.clientId !== target.clientId || !this.clientOk(body))) return { status: 400, body: { error: 'invalid_client', error_description: 'Invalid client' } };
    const { accessToken } = this.issue(target, false);
    return { status: 200, body: { accessToken, expiresIn: 3600, tokenType: 'Bearer' } };
  }

  // ------------------------------------------------------------------ Kiro social login (PKCE)

  /** GET /login: where the browser ends after the user signs in — Kiro's own kiro:// redirect. */
  socialLogin(query: URLSearchParams): { location: string } | { status: number; message: string } {
    const redirectUri = query.get('redirect_uri') ?? '';
    const challenge = query.get('code_challenge') ?? '';
    const state = query.get('state') ?? '';
    if (!['Google', 'Github'].includes(query.get('idp') ?? '')) return { status: 400, message: 'unknown idp' };
    if (!redirectUri.startsWith('kiro://')) return { status: 400, message: 'redirect_uri is not allowed: only kiro:// is' };
    if (query.get('code_challenge_method') !== 'S256' || !challenge) return { status: 400, message: 'PKCE (S256) is required' };
    const code = randomBytes(16).toString('hex');
    this.socialCodes.set(code, { challenge, redirectUri });
    return { location: `${redirectUri}?code=${code}&state=${encodeURIComponent(state)}` };
  }

  /** POST /oauth/token: the code, with the verifier whose hash was the challenge. */
  socialToken(body: Record<string, unknown>): OidcAnswer {
    const pending = typeof body.code === 'string' ? this.socialCodes.get(body.code) : undefined;
    if (!pending) return { status: 400, body: { error: 'invalid_grant', message: 'Invalid authorization code' } };
    const verifier = typeof body.code_verifier === 'string' ? body.code_verifier : '';
    if (createHash('sha256').update(verifier).digest('base64url') !== pending.challenge) return { status: 400, body: { error: 'invalid_grant', message: 'PKCE verification failed' } };
    if (body.redirect_uri !== pending.redirectUri) return { status: 400, body: { error: 'invalid_grant', message: 'redirect_uri mismatch' } };
    this.socialCodes.delete(body.code as string);
    const { account: created, accessToken, refreshToken } = this.add({ kind: 'social' });
    return { status: 200, body: { accessToken, refreshToken, profileArn: created.profileArn, expiresIn: 3600 } };
  }

  // ------------------------------------------------------------------ management

  /** ListAvailableModels, as Kiro pages it. */
  models(target: SimAccount, query: URLSearchParams): Record<string, unknown> {
    const all = SIM_MODELS.filter((m) => target.models.includes(m.modelId));
    const pageSize = Math.max(1, Math.min(Number(query.get('maxResults') ?? 50) || 50, 50));
    const start = Number(query.get('nextToken') ?? 0) || 0;
    const page = all.slice(start, start + pageSize).map((m) => ({
      modelId: m.modelId,
      modelName: m.modelName,
      description: `${m.modelName} on Kiro (simulated)`,
      supportedInputTypes: ['TEXT', 'IMAGE'],
      rateMultiplier: 1,
      rateUnit: 'credit',
      tokenLimits: { maxInputTokens: m.maxInputTokens, maxOutputTokens: 64_000 },
      promptCaching: { supportsPromptCaching: true },
      ...(m.thinking && { additionalModelRequestFieldsSchema: { type: 'object', properties: { thinking: { type: 'object' }, output_config: { type: 'object' } } } }),
    }));
    return { models: page, ...(start + pageSize < all.length && { nextToken: String(start + pageSize) }) };
  }

  /** getUsageLimits, with the fields real Kiro sends (values are the account's). */
  usageLimits(target: SimAccount): Record<string, unknown> {
    const { used, limit, resetsAt, plan, overage } = target.usage;
    return {
      usageBreakdownList: [
        { resourceType: 'AGENTIC_REQUEST', displayName: 'Requests', currentUsage: 3, currentUsageWithPrecision: 3, usageLimit: 50, usageLimitWithPrecision: 50, nextDateReset: resetsAt },
        {
          resourceType: 'CREDIT',
          displayName: 'Credits',
          unit: 'INVOCATIONS',
          currency: 'USD',
          currentUsage: Math.floor(used),
          currentUsageWithPrecision: used,
          usageLimit: Math.floor(limit),
          usageLimitWithPrecision: limit,
          overageRate: 0.04,
          overageCharges: 0,
          nextDateReset: resetsAt + 0.5,
        },
      ],
      nextDateReset: resetsAt + 0.5,
      daysUntilReset: Math.max(0, Math.round((resetsAt - Date.now() / 1000) / 86_400)),
      subscriptionInfo: { subscriptionName: plan, subscriptionTitle: plan, subscriptionType: 'PRO', status: 'ACTIVE', upgradeCapability: 'UPGRADE_CAPABLE' },
      overageConfiguration: { overageStatus: overage ? 'ENABLED' : 'DISABLED' },
      userInfo: { email: `${target.id}@example.com`, userId: `user-${target.id}` },
    };
  }

  /** A chat answer cost this many credits: counted against the account, as Kiro does. */
  charge(target: SimAccount, credits: number): void {
    target.usage.used = Math.round((target.usage.used + credits) * 100) / 100;
  }

  /** Out of credits and not allowed to go over: Kiro answers 402. */
  exhausted(target: SimAccount): boolean {
    return target.usage.used >= target.usage.limit && !target.usage.overage;
  }
}
