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

export const HealthSchema = extendApi(
  z.object({
    status: z.enum(['ok', 'degraded']).describe('`degraded` when chat requests cannot succeed (e.g. no usable credentials).'),
    version: z.string(),
    uptime_seconds: z.number().int(),
    upstream: z.string().describe('Which upstream serves chat (`kiro`).'),
    credentials: CredentialHealthSchema,
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
    },
  },
);
export type Health = z.infer<typeof HealthSchema>;
