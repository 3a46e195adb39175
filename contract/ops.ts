import { extendApi } from '@anatine/zod-openapi';
import { z } from 'zod';

const CredentialHealthSchema = z.object({
  found: z.boolean().describe('Whether any Kiro credentials were found.'),
  usable: z.boolean().describe('Whether they can be used right now (present and not known to be expired or dead).'),
  source: z.string().nullable().describe('Where they came from: `env` or the token file path.'),
  auth_method: z.string().nullable().describe('`social` or `idc`, when known.'),
  expires_at: z.string().nullable().describe('Access-token expiry (ISO 8601), when known.'),
  problem: z.string().nullable().describe('What is wrong, when not usable.'),
  fix: z.string().nullable().describe('How to fix it, when not usable.'),
});

const AccountUsageSchema = z
  .object({
    used: z.number().describe('Credits used this period (to 0.01; free trial and bonuses included).'),
    limit: z.number(),
    plan: z.string().nullable().describe('The plan, as Kiro names it (e.g. `KIRO PRO`).'),
    resets_at: z.string().nullable().describe('When the period resets (ISO 8601).'),
    overage: z.boolean().describe('Past the limit the account keeps working, billed as overage.'),
  })
  .describe('From Kiro\'s getUsageLimits, every 10 minutes and after a 402.');

export const AccountHealthSchema = z.object({
  fingerprint: z.string().describe('A short one-way hash that tells accounts apart; never the token.'),
  source: z.string().describe('`env` or the token file path.'),
  auth_method: z.string().nullable(),
  login_kind: z.enum(['social', 'builder-id', 'idc']).nullable().describe('Social (Google, GitHub), AWS Builder ID, or IAM Identity Center.'),
  endpoint: z.string().nullable().describe('The Kiro host that serves it: runtime.{region}.kiro.dev, or the legacy q.{region}.amazonaws.com for logins runtime does not serve.'),
  region: z.string().nullable().describe('Its API region (from the profile ARN when there is one).'),
  state: z.enum(['healthy', 'cooling_down', 'dead', 'unusable']).describe('`dead`: the refresh token was rejected; log in again.'),
  expires_at: z.string().nullable(),
  cooldown_until: z.string().nullable().describe('When a resting account (quota, throttling, credits spent) is used again.'),
  problem: z.string().nullable(),
  fix: z.string().nullable(),
  usage: AccountUsageSchema.nullable().describe('Its credits, once Kiro has said.'),
  models: z.array(z.string()).nullable().describe('The Kiro model ids it may use (ListAvailableModels), once Kiro has said.'),
});

export const HealthSchema = extendApi(
  z.object({
    status: z.enum(['ok', 'degraded']).describe('`degraded` when chat requests cannot succeed (e.g. no usable credentials), or Redis is unreachable (requests are still served).'),
    version: z.string(),
    uptime_seconds: z.number().int(),
    upstream: z.string().describe('Which upstream serves chat (`kiro`).'),
    credentials: CredentialHealthSchema,
    accounts: z.array(AccountHealthSchema).describe('Every Kiro account of the pool (one in the common case).'),
    cluster: z
      .object({
        redis: z.enum(['off', 'connecting', 'connected', 'unreachable']).describe('`off`: one process (no REDIS_URL). `unreachable`: serving with this replica\'s own state until Redis is back.'),
        replica: z.string().nullable().describe('This replica\'s id (REPLICA_ID), when there are several.'),
      })
      .describe('Shared state across replicas.'),
  }),
  {
    title: 'HealthResponse',
    example: {
      status: 'ok',
      version: '0.1.0',
      uptime_seconds: 42,
      upstream: 'kiro',
      credentials: {
        found: true,
        usable: true,
        source: '~/.aws/sso/cache/kiro-auth-token.json',
        auth_method: 'social',
        expires_at: '2026-11-21T12:00:00.000Z',
        problem: null,
        fix: null,
      },
      accounts: [
        {
          fingerprint: '3f9a1c2e',
          source: '~/.aws/sso/cache/kiro-auth-token.json',
          auth_method: 'social',
          login_kind: 'social',
          endpoint: 'runtime.us-east-1.kiro.dev',
          region: 'us-east-1',
          state: 'healthy',
          expires_at: '2026-11-21T12:00:00.000Z',
          cooldown_until: null,
          problem: null,
          fix: null,
          usage: { used: 695.17, limit: 1000, plan: 'KIRO PRO', resets_at: '2026-12-01T00:00:00.000Z', overage: false },
          models: ['claude-sonnet-4.5', 'claude-sonnet-4.6', 'claude-haiku-4.5'],
        },
      ],
      cluster: { redis: 'off', replica: null },
    },
  },
);
export type Health = z.infer<typeof HealthSchema>;

export const ReadySchema = extendApi(
  z.object({
    ready: z.boolean().describe('Whether a chat request can be served now.'),
    problem: z.string().nullable().describe('Why not, when not ready.'),
  }),
  { title: 'ReadyResponse', example: { ready: true, problem: null } },
);
export type Ready = z.infer<typeof ReadySchema>;
