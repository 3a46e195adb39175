import { request, type Dispatcher } from 'undici';
import type { AccountUsage, ModelInfo } from '../chat/types.js';
import type { KiroCredentials } from '../credentials/types.js';
import { kiroHeaders } from './headers.js';
import { KIRO_MODELS } from './models.js';

// Kiro's management calls for one account (kiro-protocol.md §1.3, anthropic-and-responses.md
// §4.6–4.7): which models it may use (ListAvailableModels) and how many credits it has left
// (getUsageLimits). The parsers are pure; the calls go to the account's own host.

/** One model as an account's ListAvailableModels lists it. */
export interface ModelListing {
  upstreamId: string;
  name: string;
  contextWindow: number;
  /** Native reasoning: its request schema has `thinking`. */
  thinking: boolean;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : undefined);

/** One page of ListAvailableModels: the models, and the token for the next page. */
export function parseModelPage(json: unknown): { models: ModelListing[]; nextToken?: string } {
  if (!isObject(json) || !Array.isArray(json.models)) throw new Error('no models list');
  const models = json.models.flatMap((m): ModelListing[] => {
    if (!isObject(m) || typeof m.modelId !== 'string' || m.modelId === '') return [];
    const limits = isObject(m.tokenLimits) ? m.tokenLimits : {};
    const schema = isObject(m.additionalModelRequestFieldsSchema) ? m.additionalModelRequestFieldsSchema : {};
    return [
      {
        upstreamId: m.modelId,
        name: typeof m.modelName === 'string' && m.modelName ? m.modelName : m.modelId,
        contextWindow: num(limits.maxInputTokens) ?? 200_000,
        thinking: isObject(schema.properties) && 'thinking' in schema.properties,
      },
    ];
  });
  return { models, ...(typeof json.nextToken === 'string' && json.nextToken && { nextToken: json.nextToken }) };
}

/** `claude-sonnet-4.7` → `claude-sonnet-4-7`: the dashed form Claude Code and the Anthropic API use. */
const dashed = (upstreamId: string): string => upstreamId.replace(/(\d)\.(\d)/g, '$1-$2');

/**
 * What the gateway publishes for a listed model: the built-in entry (its public id, aliases, the
 * way it thinks) with the account's real context window, or — for a model the table does not
 * know yet — one made from the listing.
 */
export function modelInfoFor(listing: ModelListing): ModelInfo {
  const known = KIRO_MODELS.find((m) => m.upstreamId === listing.upstreamId);
  if (known) return { ...known, contextWindow: listing.contextWindow };
  const id = dashed(listing.upstreamId);
  return {
    id,
    upstreamId: listing.upstreamId,
    displayName: listing.name,
    thinking: listing.thinking ? 'native' : 'tags',
    created: 0,
    ownedBy: 'anthropic',
    contextWindow: listing.contextWindow,
    aliases: id === listing.upstreamId ? [] : [listing.upstreamId],
  };
}

/**
 * An account's credits from getUsageLimits. The CREDIT breakdown is picked by type, never by
 * position; the precise fields win (Kiro meters in 0.01 credit); an active free trial and active
 * bonuses add to both sides; the reset time may be a float of seconds. Undefined when the answer
 * has no credit breakdown at all.
 */
export function parseUsageLimits(json: unknown): AccountUsage | undefined {
  if (!isObject(json) || !Array.isArray(json.usageBreakdownList)) return undefined;
  const credit = json.usageBreakdownList.find((b): b is Json => isObject(b) && b.resourceType === 'CREDIT');
  if (!credit) return undefined;
  let used = num(credit.currentUsageWithPrecision) ?? num(credit.currentUsage) ?? 0;
  let limit = num(credit.usageLimitWithPrecision) ?? num(credit.usageLimit) ?? 0;
  const trial = isObject(credit.freeTrialInfo) ? credit.freeTrialInfo : undefined;
  if (trial?.freeTrialStatus === 'ACTIVE') {
    used += num(trial.currentUsageWithPrecision) ?? num(trial.currentUsage) ?? 0;
    limit += num(trial.usageLimitWithPrecision) ?? num(trial.usageLimit) ?? 0;
  }
  for (const bonus of Array.isArray(credit.bonuses) ? credit.bonuses : []) {
    if (!isObject(bonus) || (bonus.status !== undefined && bonus.status !== 'ACTIVE')) continue;
    used += num(bonus.currentUsage) ?? 0;
    limit += num(bonus.usageLimit) ?? 0;
  }
  const reset = num(credit.nextDateReset) ?? num(json.nextDateReset);
  const subscription = isObject(json.subscriptionInfo) ? json.subscriptionInfo : {};
  const plan = [subscription.subscriptionTitle, subscription.subscriptionName, subscription.subscriptionType].find((p): p is string => typeof p === 'string' && p !== '');
  const overage = isObject(json.overageConfiguration) && json.overageConfiguration.overageStatus === 'ENABLED';
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    used: round(used),
    limit: round(limit),
    plan: plan ?? null,
    resetsAt: reset !== undefined ? new Date(reset * 1000).toISOString() : null,
    overage,
  };
}

/** Whether an account has spent what it may: it would only get 402s until its reset. */
export const isExhausted = (usage: AccountUsage): boolean => !usage.overage && usage.limit > 0 && usage.used >= usage.limit;

/** Where an account's management calls go, and what they carry. */
export interface ManagementTarget {
  /** The account's management host (runtime accounts) or its legacy host. */
  baseUrl: string;
  credentials: KiroCredentials;
  /** Whether the profile ARN goes along (never to the legacy host for a login that is not social). */
  sendProfile: boolean;
}

async function getJson(target: ManagementTarget, path: string, query: Record<string, string>, dispatcher: Dispatcher | undefined, timeoutMs: number): Promise<unknown> {
  const { credentials } = target;
  const params = new URLSearchParams({ ...query, ...(target.sendProfile && credentials.profileArn && { profileArn: credentials.profileArn }) });
  const url = `${target.baseUrl}${path}?${params}`;
  let response: Dispatcher.ResponseData;
  try {
    response = await request(url, {
      method: 'GET',
      headers: { ...kiroHeaders(credentials.accessToken, credentials.fingerprint), accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      ...(dispatcher && { dispatcher }),
    });
  } catch (error) {
    throw new Error(`could not reach ${new URL(target.baseUrl).host} (${(error as { code?: string }).code ?? (error as Error).name})`);
  }
  const text = await response.body.text().catch(() => '');
  if (response.statusCode !== 200) throw new Error(`${new URL(target.baseUrl).host}${path} answered HTTP ${response.statusCode}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${path} sent an answer that is not JSON`);
  }
}

/** Every model the account may use, over all pages (at most 20). */
export async function listAvailableModels(target: ManagementTarget, dispatcher?: Dispatcher, timeoutMs = 15_000): Promise<ModelListing[]> {
  const all: ModelListing[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < 20; page++) {
    const answer = parseModelPage(await getJson(target, '/ListAvailableModels', { origin: 'AI_EDITOR', maxResults: '50', ...(nextToken && { nextToken }) }, dispatcher, timeoutMs));
    all.push(...answer.models);
    nextToken = answer.nextToken;
    if (!nextToken) break;
  }
  return all;
}

export async function getUsageLimits(target: ManagementTarget, dispatcher?: Dispatcher, timeoutMs = 15_000): Promise<AccountUsage> {
  const usage = parseUsageLimits(await getJson(target, '/getUsageLimits', { origin: 'AI_EDITOR', resourceType: 'AGENTIC_REQUEST', isEmailRequired: 'false' }, dispatcher, timeoutMs));
  if (!usage) throw new Error('getUsageLimits sent no credit figures');
  return usage;
}
