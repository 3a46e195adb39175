import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeEvent, encodeException } from '../kiro/eventstream.js';
import { SimAccounts, SIMULATOR_PROFILE_ARN, type SimAccount } from './accounts.js';
import type { RecordedRequest, Scenario, SimEvent } from './scenario.js';
import { loadDirective, simulatedAnswer } from './responder.js';
import { findViolation } from './strict.js';
import { ThinkingSigner } from './thinking.js';

export interface SimulatorOptions {
  port?: number;
  host?: string;
  /** Reject requests that break Kiro's hidden rules with Kiro's own 400. */
  strict?: boolean;
  /** Delay between frames of the default answer (the demo uses this to look like a live model). */
  answerDelayMs?: number;
  /** Keep at most this many recorded requests (default: all, as the tests want). */
  keepRequests?: number;
  /** Tokens no account knows may go over their credits (a long-running simulator: the bench sends millions of requests). */
  unmetered?: boolean;
}

export interface RefreshBehaviour {
  /** Answer 400 invalid_grant: the refresh token is dead. */
  deadRefreshToken?: boolean;
  /** Answer with this HTTP status (e.g. 500) instead… */
  status?: number;
  /** …and this body (e.g. a proxy's HTML page), with this content type. */
  body?: string;
  contentType?: string;
  /** Issue a new refresh token with every refresh. */
  rotate?: boolean;
  expiresIn?: number;
  delayMs?: number;
  /** Fail this many of the next refresh calls with HTTP 500 (a transient outage). */
  failNext?: number;
}

export interface McpBehaviour {
  /** Answer 403: the account may not search. */
  refuse?: boolean;
  /** The results of every search (default: two simulated pages about the query). */
  results?: { title: string; url: string; snippet: string; publishedDate: number | null; id: string; domain: string }[];
}

export { SIMULATOR_PROFILE_ARN };

/** The legacy host (q.{region}.amazonaws.com) lives under this path of the simulator: KIRO_Q_URL=<sim>/q. */
export const Q_HOST_PREFIX = '/q';

const INVALID_TOKEN = { message: 'The bearer token included in the request is invalid.', reason: null };

export function frameFor(event: SimEvent): Uint8Array {
  if ('raw' in event) return event.raw;
  if ('text' in event) return encodeEvent('assistantResponseEvent', { content: event.text });
  if ('toolUse' in event) return encodeEvent('toolUseEvent', event.toolUse);
  if ('reasoning' in event) return encodeEvent('reasoningContentEvent', { text: event.reasoning });
  if ('reasoningSignature' in event) return encodeEvent('reasoningContentEvent', { signature: event.reasoningSignature });
  if ('redactedReasoning' in event) return encodeEvent('reasoningContentEvent', { redactedContent: event.redactedReasoning });
  if ('tokenUsage' in event) return encodeEvent('metadataEvent', { tokenUsage: event.tokenUsage });
  if ('contextUsage' in event) return encodeEvent('contextUsageEvent', { contextUsagePercentage: event.contextUsage });
  if ('metering' in event) return encodeEvent('meteringEvent', { unit: 'credit', unitPlural: 'credits', usage: event.metering });
  return encodeException(event.exception, event.message ?? '');
}

function pieces(frames: Uint8Array[], split: Scenario['split']): Buffer[] {
  if (split === undefined || split === 'frame') return frames.map((f) => Buffer.from(f));
  const all = Buffer.concat(frames);
  if (split === 'whole') return [all];
  const cuts = typeof split === 'number' ? Array.from({ length: Math.ceil(all.length / split) - 1 }, (_, i) => (i + 1) * split) : split;
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < all.length).sort((a, b) => a - b), all.length]) {
    if (cut > start) out.push(all.subarray(start, cut));
    start = cut;
  }
  return out;
}

/**
 * A fake Kiro that speaks the real wire protocol: JSON in, AWS event-stream frames out. Also the
 * hosts around it: both token-refresh endpoints, AWS SSO OIDC's device-code login, Kiro's social
 * login, the management calls (profiles, models, usage limits) and the legacy q host under /q.
 * Scripted per call with `enqueue`, or answers on its own.
 */
export class KiroSimulator {
  readonly requests: RecordedRequest[] = [];
  readonly refreshCalls: { path: string; body: Record<string, unknown> }[] = [];
  refresh: RefreshBehaviour = {};
  /** When set, chat calls must carry one of these bearer tokens (or a registered account's) or get Kiro's 403. */
  validTokens: Set<string> | undefined;
  /** Who each token belongs to, and the logins that make new ones. */
  readonly accounts = new SimAccounts();
  /** Management calls (profiles, models, usage) answer this status instead (a broken control plane). */
  managementStatus: number | undefined;
  readonly managementCalls: { path: string; query: string; token: string | undefined }[] = [];
  profileCalls = 0;
  /** Signs the thinking it streams and checks the thinking sent back (kiro-protocol.md §9). */
  readonly signer = new ThinkingSigner();
  /** `[sim tool=…]` directives already followed, per conversation. */
  private readonly followedDirectives = new Set<string>();
  /** Kiro's MCP endpoint (web search): what it answers, and what it was asked. */
  mcp: McpBehaviour = {};
  readonly mcpCalls: { body: Record<string, unknown>; headers: Record<string, string | string[] | undefined>; legacy: boolean }[] = [];
  /** How ListAvailableProfiles answers: an error status, or this list (default: one active profile). */
  profiles: { status?: number; list?: object[] } = {};
  /** Connections whose response was closed before it finished (the client or gateway aborted). */
  abortedResponses = 0;
  strict: boolean;
  private readonly queue: Scenario[] = [];
  private server: Server | undefined;
  private issued = 0;

  constructor(private readonly options: SimulatorOptions = {}) {
    this.strict = options.strict ?? false;
    if (options.unmetered) this.accounts.anyone.usage.overage = true;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | undefined;
    if (!address) throw new Error('simulator not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Script the next calls, in order. Unscripted calls get the default simulated answer. */
  enqueue(...scenarios: Scenario[]): void {
    this.queue.push(...scenarios);
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 30_000;
    await new Promise<void>((resolve) => this.server!.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve));
    return this;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?') as [string, string?];
    const query = new URLSearchParams(rawQuery);
    // The legacy host: the same Kiro with its own rules for tokens and profile ARNs.
    const legacy = rawPath.startsWith(`${Q_HOST_PREFIX}/`);
    const path = legacy ? rawPath.slice(Q_HOST_PREFIX.length) : rawPath;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (req.method === 'GET') {
      if (path === '/device') return this.devicePage(res, query);
      if (path === '/login') return this.socialLogin(res, query);
      if (path === '/ListAvailableModels' || path === '/getUsageLimits') return this.management(res, path, query, token, legacy);
      return this.json(res, 404, { message: `no route ${req.method} ${path}` });
    }
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return this.json(res, 400, { message: 'Improperly formed request.', reason: null });
    }
    const fields = (body ?? {}) as Record<string, unknown>;
    if (req.method === 'POST' && path === '/generateAssistantResponse') return this.chat(req, res, body, legacy);
    if (req.method === 'POST' && path === '/mcp') return this.mcpCall(req, res, fields, legacy);
    if (req.method === 'POST' && path === '/client/register') return this.answer(res, this.accounts.register(fields));
    if (req.method === 'POST' && path === '/device_authorization') return this.answer(res, this.accounts.startDevice(fields, this.url));
    if (req.method === 'POST' && path === '/token' && fields.grantType === 'urn:ietf:params:oauth:grant-type:device_code') return this.answer(res, this.accounts.pollDevice(fields));
    if (req.method === 'POST' && path === '/oauth/token') return this.answer(res, this.accounts.socialToken(fields));
    if (req.method === 'POST' && (path === '/refreshToken' || path === '/token')) return this.refreshToken(res, path, fields);
    if (req.method === 'POST' && path === '/listAvailableProfiles') return this.listProfiles(res, token);
    return this.json(res, 404, { message: `no route ${req.method} ${path}` });
  }

  private answer(res: ServerResponse, answer: { status: number; body: unknown }): void {
    this.json(res, answer.status, answer.body);
  }

  /** The page the device-code login sends the user to: opening it (with the code) allows the login. */
  private devicePage(res: ServerResponse, query: URLSearchParams): void {
    const approved = this.accounts.approve(query.get('user_code') ?? '');
    res.writeHead(approved ? 200 : 404, { 'content-type': 'text/html' });
    res.end(approved ? '<p>Request approved. You can close this window.</p>' : '<p>Unknown code.</p>');
  }

  private socialLogin(res: ServerResponse, query: URLSearchParams): void {
    const result = this.accounts.socialLogin(query);
    if ('location' in result) {
      res.writeHead(302, { location: result.location });
      return void res.end();
    }
    this.json(res, result.status, { message: result.message });
  }

  private listProfiles(res: ServerResponse, token: string | undefined): void {
    this.profileCalls++;
    this.managementCalls.push({ path: '/listAvailableProfiles', query: '', token });
    if (this.managementStatus) return this.json(res, this.managementStatus, { message: `simulated HTTP ${this.managementStatus}` });
    if (this.profiles.status) return this.json(res, this.profiles.status, { message: `simulated HTTP ${this.profiles.status}` });
    const known = this.accounts.knownAccess(token);
    if (known?.kind === 'builder-id') return this.json(res, 403, { message: 'AWS Builder ID is not supported for this operation.' });
    if (known) return this.json(res, 200, { profiles: known.profileArn ? [{ arn: known.profileArn, profileName: known.id, profileType: 'Q_DEVELOPER', status: 'ACTIVE' }] : [] });
    return this.json(res, 200, { profiles: this.profiles.list ?? [{ arn: SIMULATOR_PROFILE_ARN, profileName: 'Simulator', profileType: 'Q_DEVELOPER', status: 'ACTIVE' }] });
  }

  /**
   * ListAvailableModels and getUsageLimits. Accounts with a profile name it; a Builder ID login
   * has none and asks the legacy host. A wrong or missing profile is Kiro's 403.
   */
  private management(res: ServerResponse, path: string, query: URLSearchParams, token: string | undefined, legacy: boolean): void {
    this.managementCalls.push({ path: `${legacy ? Q_HOST_PREFIX : ''}${path}`, query: query.toString(), token });
    if (this.managementStatus) return this.json(res, this.managementStatus, { message: `simulated HTTP ${this.managementStatus}` });
    if (!token || (this.validTokens && !this.validTokens.has(token) && !this.accounts.knownAccess(token))) return this.json(res, 403, INVALID_TOKEN);
    const target = this.accounts.ofAccess(token);
    const arn = query.get('profileArn');
    if (target.profileArn ? arn !== target.profileArn && !legacy : arn) return this.json(res, 403, { message: 'User is not authorized to make this call.' });
    if (path === '/getUsageLimits') return this.json(res, 200, this.accounts.usageLimits(target));
    return this.json(res, 200, this.accounts.models(target, query));
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private async chat(req: IncomingMessage, res: ServerResponse, body: unknown, legacy = false): Promise<void> {
    const recorded: RecordedRequest = { path: `${legacy ? Q_HOST_PREFIX : ''}/generateAssistantResponse`, headers: req.headers, body };
    this.requests.push(recorded);
    // A long-running simulator (the demo, the bench) keeps only the newest requests.
    if (this.requests.length > (this.options.keepRequests ?? Infinity)) this.requests.splice(0, this.requests.length - this.options.keepRequests!);
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const known = this.accounts.knownAccess(token);
    if (this.validTokens && (!token || (!this.validTokens.has(token) && !known))) return this.json(res, 403, INVALID_TOKEN);
    const hostRule = this.hostRefuses(known, (body as { profileArn?: unknown } | null)?.profileArn, legacy);
    if (hostRule) {
      recorded.violation = hostRule.violation;
      return this.json(res, hostRule.status, hostRule.body);
    }
    const target = known ?? this.accounts.anyone;
    if (this.accounts.exhausted(target)) return this.json(res, 402, { message: 'You have reached the limit for this billing period.', reason: 'MONTHLY_REQUEST_COUNT' });
    const modelId = ((body as { conversationState?: { currentMessage?: { userInputMessage?: { modelId?: unknown } } } } | null)?.conversationState?.currentMessage?.userInputMessage?.modelId ?? '') as string;
    if (known && !known.models.includes(modelId)) {
      recorded.violation = `model ${modelId} is not available for this account`;
      return this.json(res, 400, { message: `Invalid model. The model ${modelId} is not available for this account.`, reason: 'INVALID_MODEL_ID' });
    }
    if (this.strict) {
      const violation = findViolation(body);
      if (violation) {
        recorded.violation = violation;
        return this.json(res, 400, { message: 'Improperly formed request.', reason: null });
      }
    }
    const refused = this.signer.check(body);
    if (refused) {
      recorded.violation = refused.reason ?? refused.message;
      return this.json(res, 400, refused);
    }
    const scenario = this.queue.shift() ?? { events: simulatedAnswer(body, this.signer, this.followedDirectives), delayMs: loadDirective(body)?.delayMs ?? this.options.answerDelayMs ?? 0 };
    if (scenario.firstByteDelayMs) await sleep(scenario.firstByteDelayMs);
    if (scenario.status && scenario.status !== 200) {
      return this.json(res, scenario.status, scenario.errorBody ?? { message: `simulated HTTP ${scenario.status}`, reason: null }, scenario.headers);
    }
    // What the answer costs is counted against the account, as Kiro meters it.
    this.accounts.charge(target, (scenario.events ?? []).reduce((sum, event) => sum + ('metering' in event ? event.metering : 0), 0));
    res.on('close', () => {
      if (!res.writableFinished) this.abortedResponses++;
    });
    res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', ...scenario.headers });
    res.flushHeaders();
    const frames = (scenario.events ?? []).map(frameFor).map((frame, i) => {
      if (i !== scenario.corruptFrame) return frame;
      const copy = Buffer.from(frame);
      copy[copy.length - 1] = copy[copy.length - 1]! ^ 0xff;
      return copy;
    });
    let sent = 0;
    for (const [i, piece] of pieces(frames, scenario.split).entries()) {
      if (res.destroyed) return;
      if (i > 0 && scenario.delayMs) await sleep(scenario.delayMs);
      if (scenario.cutAfterBytes !== undefined && sent + piece.length > scenario.cutAfterBytes) {
        res.write(piece.subarray(0, scenario.cutAfterBytes - sent));
        await sleep(5);
        res.socket?.destroy();
        return;
      }
      res.write(piece);
      sent += piece.length;
    }
    if (scenario.hang) return;
    res.end();
  }

  /**
   * The two hosts' rules (kiro-protocol.md §1.1, anthropic-and-responses.md §4.5): runtime wants a
   * profile ARN (strict mode) and refuses the tokens of logins it does not serve (Builder ID, some
   * IdC orgs) as invalid; the legacy host serves those without an ARN and refuses one sent along.
   */
  private hostRefuses(known: SimAccount | undefined, profileArn: unknown, legacy: boolean): { status: number; body: object; violation: string } | undefined {
    if (legacy) {
      if (known && known.kind !== 'social' && profileArn !== undefined) return { status: 403, body: { message: 'User is not authorized to make this call.', reason: null }, violation: 'a profile ARN sent to the legacy host for a non-social login' };
      return undefined;
    }
    if (known && !known.runtime) return { status: 403, body: INVALID_TOKEN, violation: `the runtime host does not serve ${known.kind} login ${known.id}` };
    if (this.strict && typeof profileArn !== 'string') return { status: 400, body: { message: 'profileArn is required for this request.', reason: null }, violation: 'no profileArn on the runtime host' };
    return undefined;
  }

  /**
   * Kiro's MCP endpoint: JSON-RPC `tools/list` and `tools/call` of `web_search`, whose result is a
   * JSON string inside a text content part (kiro-protocol.md, anthropic-and-responses.md §1.11).
   * The runtime host wants the profile ARN in the body; an account that may not search gets 403.
   */
  private mcpCall(req: IncomingMessage, res: ServerResponse, body: Record<string, unknown>, legacy = false): void {
    this.mcpCalls.push({ body, headers: req.headers, legacy });
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const known = this.accounts.knownAccess(token);
    if (!token || (this.validTokens && !this.validTokens.has(token) && !known)) return this.json(res, 403, INVALID_TOKEN);
    if (this.mcp.refuse) return this.json(res, 403, { message: 'User is not authorized to make this call.', reason: null });
    const hostRule = this.hostRefuses(known, body.profileArn, legacy);
    if (hostRule) return this.json(res, hostRule.status, hostRule.body);
    const params = (body.params ?? {}) as { name?: string; arguments?: { query?: unknown } };
    if (body.method === 'tools/list') {
      return this.json(res, 200, { jsonrpc: '2.0', id: body.id, result: { tools: [{ name: 'web_search', description: 'Search the web.', inputSchema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } }] } });
    }
    if (body.method !== 'tools/call' || params.name !== 'web_search' || typeof params.arguments?.query !== 'string') {
      return this.json(res, 200, { jsonrpc: '2.0', id: body.id, error: { code: -32602, message: 'Invalid params' } });
    }
    const query = params.arguments.query;
    const results = this.mcp.results ?? [
      { title: `Simulated result for ${query}`, url: `https://example.com/search?q=${encodeURIComponent(query)}`, snippet: `A simulated page about ${query}.`, publishedDate: Date.UTC(2026, 10, 1), id: 'r1', domain: 'example.com' },
      { title: `More about ${query}`, url: 'https://example.org/more', snippet: 'Another simulated page.', publishedDate: null, id: 'r2', domain: 'example.org' },
    ];
    this.json(res, 200, { jsonrpc: '2.0', id: body.id, result: { content: [{ type: 'text', text: JSON.stringify({ results, totalResults: results.length, query }) }], isError: false } });
  }

  private async refreshToken(res: ServerResponse, path: string, body: Record<string, unknown>): Promise<void> {
    this.refreshCalls.push({ path, body });
    const behaviour = this.refresh;
    let gone = false;
    const left = new AbortController();
    res.once('close', () => {
      gone = !res.writableFinished;
      if (gone) left.abort();
    });
    if (behaviour.delayMs) await sleep(behaviour.delayMs, undefined, { signal: left.signal }).catch(() => undefined);
    // The caller went away while Kiro thought (a replica killed mid-refresh): nothing was issued.
    if (gone || res.destroyed) return;
    if (behaviour.failNext) {
      behaviour.failNext--;
      return this.json(res, 500, { message: 'simulated outage' });
    }
    if (behaviour.status && behaviour.body !== undefined) {
      res.writeHead(behaviour.status, { 'content-type': behaviour.contentType ?? 'text/html' });
      return void res.end(behaviour.body);
    }
    if (behaviour.status) return this.json(res, behaviour.status, { message: `simulated HTTP ${behaviour.status}` });
    if (behaviour.deadRefreshToken) {
      return this.json(res, 400, { error: 'invalid_grant', error_description: 'Invalid refresh token provided', message: 'Invalid refresh token provided' });
    }
    const refreshToken = typeof body.refreshToken === 'string' ? body.refreshToken : '';
    if (!refreshToken) return this.json(res, 400, { error: 'invalid_request', message: 'refreshToken is required' });
    // A registered account's refresh token renews that account (an IdC one only from its own client).
    const owner = this.accounts.ofRefresh(refreshToken);
    if (!owner && this.accounts.retired(refreshToken)) {
      return this.json(res, 400, { error: 'invalid_grant', error_description: 'Invalid refresh token provided', message: 'Invalid refresh token provided' });
    }
    if (owner) {
      if (path === '/token') return this.answer(res, this.accounts.refreshIdc(body)!);
      const { accessToken, refreshToken: rotated } = this.accounts.issue(owner, behaviour.rotate === true);
      return this.json(res, 200, { accessToken, ...(behaviour.rotate && { refreshToken: rotated }), profileArn: owner.profileArn, expiresIn: behaviour.expiresIn ?? 3600 });
    }
    this.issued++;
    const accessToken = `sim-access-${this.issued}`;
    this.validTokens?.add(accessToken);
    const answer: Record<string, unknown> = { accessToken, expiresIn: behaviour.expiresIn ?? 3600 };
    if (behaviour.rotate) answer.refreshToken = `sim-refresh-${this.issued}`;
    if (path === '/refreshToken') answer.profileArn = SIMULATOR_PROFILE_ARN;
    else answer.tokenType = 'Bearer';
    return this.json(res, 200, answer);
  }
}
