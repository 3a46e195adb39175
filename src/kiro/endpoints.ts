import type { KiroCredentials } from '../credentials/types.js';

// Which URL each Kiro call of an account goes to. Since May 2026 inference lives on
// runtime.{region}.kiro.dev and the control plane on management.{region}.kiro.dev; the legacy
// q.{region}.amazonaws.com still serves the Builder ID and IdC logins runtime refuses — chat,
// MCP, models and usage alike (kiro-protocol.md §1.1, anthropic-and-responses.md §4.4–4.5).
// `{region}` in a template is the account's API region.

export interface KiroHostTemplates {
  runtime: string;
  legacy: string;
  management: string;
}

type Where = Pick<KiroCredentials, 'host' | 'region'>;

export class KiroEndpoints {
  constructor(private readonly templates: KiroHostTemplates) {}

  private base(where: Where): string {
    return (where.host === 'legacy' ? this.templates.legacy : this.templates.runtime).replaceAll('{region}', where.region);
  }

  chat(where: Where): string {
    return `${this.base(where)}/generateAssistantResponse`;
  }

  mcp(where: Where): string {
    return `${this.base(where)}/mcp`;
  }

  /** ListAvailableModels and getUsageLimits: the management host, or the legacy host for its logins. */
  management(where: Where): string {
    return where.host === 'legacy' ? this.base(where) : this.templates.management.replaceAll('{region}', where.region);
  }

  /** The host name an account's chat goes to, for /health. */
  hostName(where: Where): string {
    return new URL(this.base(where)).host;
  }
}

/**
 * Whether a request body carries the profile ARN: always on the runtime host; on the legacy host
 * only for social logins — it refuses one from a Builder ID or IdC login with 403.
 */
export const sendsProfile = (credentials: Pick<KiroCredentials, 'host' | 'loginKind'>): boolean => credentials.host === 'runtime' || credentials.loginKind === 'social';
