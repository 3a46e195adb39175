import { extendApi } from '@anatine/zod-openapi';
import { z } from 'zod';
import { AccountHealthSchema } from './ops.js';

// The dashboard's data: what the page at /dashboard shows, as JSON any client can read with an
// API key. Account management (adding, removing, refreshing accounts) also needs ADMIN_KEY, sent
// as `x-admin-key`, and is POST only. Nothing here ever holds a token, a code or a key.

const Counts = z.object({ '2xx': z.number().int(), '4xx': z.number().int(), '5xx': z.number().int() });
const Spread = z.object({ p50: z.number(), p95: z.number() }).nullable();

export const DashboardOverviewSchema = extendApi(
  z.object({
    version: z.string(),
    started_at: z.string().describe('When the gateway started (ISO 8601).'),
    uptime_seconds: z.number().int(),
    admin: z.object({
      enabled: z.boolean().describe('Whether accounts can be managed from the dashboard (ADMIN_KEY is set).'),
      how: z.string().describe('How to turn it on, or what it needs.'),
    }),
    connect: z
      .object({
        base_url: z.string().describe('This gateway as the request reached it, e.g. `http://localhost:8989`.'),
        key_hint: z.string().describe('The first characters of the key this request used, e.g. `ki2a…`.'),
      })
      .describe('What to paste into Claude Code, Codex, Cline and the openai SDK.'),
    settings: z
      .object({
        rate_limit_rpm: z.number().int(),
        max_concurrent_streams: z.number().int(),
        body_limit_bytes: z.number().int(),
        upstream_retries: z.number().int(),
        cache_ttl_seconds: z.number().int(),
        responses_ttl_seconds: z.number().int(),
        accounts_dir: z.string().describe('Where logins made here (and by `ki2api login`) are saved.'),
      })
      .describe('The configuration that matters when something goes wrong.'),
    accounts: z.array(AccountHealthSchema),
  }),
  {
    title: 'DashboardOverview',
    example: {
      version: '0.1.0',
      started_at: '2026-12-01T09:00:00.000Z',
      uptime_seconds: 3600,
      admin: { enabled: false, how: 'Set ADMIN_KEY (a secret of your own) and restart to add, remove and refresh accounts from the dashboard.' },
      connect: { base_url: 'http://localhost:8989', key_hint: 'ki2a…' },
      settings: { rate_limit_rpm: 0, max_concurrent_streams: 0, body_limit_bytes: 20971520, upstream_retries: 2, cache_ttl_seconds: 0, responses_ttl_seconds: 3600, accounts_dir: '/home/me/.ki2api/accounts' },
      accounts: [
        {
          fingerprint: '3f9a1c2e',
          source: '/home/me/.ki2api/accounts/social-1a2b3c4d5e6f.json',
          auth_method: 'social',
          login_kind: 'social',
          endpoint: 'runtime.us-east-1.kiro.dev',
          region: 'us-east-1',
          state: 'healthy',
          expires_at: '2026-12-01T10:00:00.000Z',
          cooldown_until: null,
          problem: null,
          fix: null,
          usage: { used: 312.4, limit: 1000, plan: 'KIRO PRO', resets_at: '2026-12-14T00:00:00.000Z', overage: false },
          models: ['claude-sonnet-4.5', 'claude-haiku-4.5'],
        },
      ],
    },
  },
);
export type DashboardOverview = z.infer<typeof DashboardOverviewSchema>;

export const MinuteBucketSchema = extendApi(
  z.object({
    start: z.string().describe('The minute (ISO 8601).'),
    requests: z.object({ chat: Counts, messages: Counts, responses: Counts }).describe('Requests by face and status class; a stream that failed after its 200 counts as 5xx.'),
    latency_ms: Spread.describe('Whole-request time.'),
    ttft_ms: Spread.describe('Time to the first token of an answer.'),
    tokens_in: z.number().int(),
    tokens_out: z.number().int(),
    credits: z.number().describe('Kiro credits the answers cost, as Kiro reported them.'),
  }),
  { title: 'TrafficMinute' },
);

export const FailedRequestSchema = extendApi(
  z.object({
    at: z.string(),
    method: z.string(),
    route: z.string(),
    model: z.string().nullable(),
    account: z.string().nullable().describe('The account fingerprint, when one was used.'),
    status: z.number().int(),
    code: z.string(),
    message: z.string().describe('The error message the client got (at most 300 characters); never the prompt.'),
  }),
  { title: 'FailedRequest' },
);

export const DashboardTrafficSchema = extendApi(
  z.object({
    minutes: z.array(MinuteBucketSchema).describe('The last hour, oldest first, one entry per minute.'),
    failures: z.array(FailedRequestSchema).describe('The last 50 failed API requests, newest first.'),
  }),
  {
    title: 'DashboardTraffic',
    example: {
      minutes: [
        {
          start: '2026-12-01T09:59:00.000Z',
          requests: { chat: { '2xx': 12, '4xx': 1, '5xx': 0 }, messages: { '2xx': 30, '4xx': 0, '5xx': 1 }, responses: { '2xx': 4, '4xx': 0, '5xx': 0 } },
          latency_ms: { p50: 1840.2, p95: 9120.5 },
          ttft_ms: { p50: 610.4, p95: 1502.3 },
          tokens_in: 412000,
          tokens_out: 9100,
          credits: 2.35,
        },
      ],
      failures: [
        { at: '2026-12-01T09:59:12.000Z', method: 'POST', route: '/v1/chat/completions', model: null, account: null, status: 404, code: 'model_not_found', message: 'The model `gpt-5` does not exist, or no Kiro account of this gateway may use it.' },
      ],
    },
  },
);
export type DashboardTraffic = z.infer<typeof DashboardTrafficSchema>;

export const LoginStateSchema = extendApi(
  z.object({
    login_id: z.string(),
    kind: z.enum(['social', 'builder-id', 'idc']),
    state: z.enum(['waiting', 'done', 'failed']).describe('`waiting`: for the user to allow the login (device code) or paste the callback (social).'),
    verification_url: z.string().nullable().describe('Device code: where the user allows the login.'),
    user_code: z.string().nullable().describe('Device code: the code that page shows.'),
    login_url: z.string().nullable().describe('Social: where the user signs in.'),
    expires_at: z.string().nullable(),
    account_id: z.string().nullable().describe('Once done: the new account\'s fingerprint.'),
    message: z.string().nullable().describe('Once failed: what went wrong and what to do.'),
  }),
  {
    title: 'DashboardLogin',
    example: {
      login_id: 'login_4f1c2b9a8d7e6f5a4b3c2d1e',
      kind: 'builder-id',
      state: 'waiting',
      verification_url: 'https://view.awsapps.com/start/#/device?user_code=ABCD-EFGH',
      user_code: 'ABCD-EFGH',
      login_url: null,
      expires_at: '2026-12-01T10:10:00.000Z',
      account_id: null,
      message: null,
    },
  },
);
export type LoginState = z.infer<typeof LoginStateSchema>;

export const DeviceLoginRequestSchema = extendApi(
  z.object({
    start_url: z.string().url().optional().describe('An IAM Identity Center start URL; without it, AWS Builder ID.'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).optional().describe('The Identity Center region.'),
  }),
  { title: 'DashboardDeviceLoginRequest' },
);

export const SocialLoginRequestSchema = extendApi(z.object({ idp: z.enum(['google', 'github']) }), { title: 'DashboardSocialLoginRequest' });
export const SocialCallbackRequestSchema = extendApi(z.object({ callback: z.string().min(1).max(4096).describe('The kiro://… address the browser ended on.') }), {
  title: 'DashboardSocialCallback',
});

export const ImportRequestSchema = extendApi(
  z.object({
    refresh_token: z.string().min(20).max(8192),
    kind: z.enum(['social', 'idc']).default('social'),
    client_id: z.string().optional(),
    client_secret: z.string().optional(),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/).optional(),
  }),
  { title: 'DashboardImportRequest' },
);

export const AccountActionSchema = extendApi(z.object({ account_id: z.string(), done: z.string().describe('What happened.') }), {
  title: 'DashboardAccountAction',
  example: { account_id: '3f9a1c2e', done: 'Its token was renewed, and Kiro asked again for its models and credits.' },
});
