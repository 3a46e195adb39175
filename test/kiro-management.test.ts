import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ModelCatalog } from '../src/chat/models.js';
import type { ModelInfo } from '../src/chat/types.js';
import { apiRegion } from '../src/credentials/account.js';
import { codeFromCallback, deviceLogin, LoginError, startSocialLogin } from '../src/credentials/login.js';
import { loginKindOf } from '../src/credentials/token-file.js';
import { KiroEndpoints, sendsProfile } from '../src/kiro/endpoints.js';
import { isExhausted, modelInfoFor, parseModelPage, parseUsageLimits } from '../src/kiro/management.js';
import { KIRO_MODELS } from '../src/kiro/models.js';
import { KiroSimulator } from '../src/simulator/server.js';

describe('ListAvailableModels → models', () => {
  it('reads each listing: id, name, window, native reasoning; skips junk; keeps the page token', () => {
    const page = parseModelPage({
      models: [
        { modelId: 'claude-sonnet-4.6', modelName: 'Claude Sonnet 4.6', tokenLimits: { maxInputTokens: 1_000_000, maxOutputTokens: 64_000 }, additionalModelRequestFieldsSchema: { properties: { thinking: {} } } },
        { modelId: 'claude-haiku-4.5', tokenLimits: { maxInputTokens: '200000' } },
        { modelName: 'no id' },
        'junk',
      ],
      nextToken: 'p2',
    });
    assert.deepEqual(page, {
      models: [
        { upstreamId: 'claude-sonnet-4.6', name: 'Claude Sonnet 4.6', contextWindow: 1_000_000, thinking: true },
        { upstreamId: 'claude-haiku-4.5', name: 'claude-haiku-4.5', contextWindow: 200_000, thinking: false },
      ],
      nextToken: 'p2',
    });
    assert.throws(() => parseModelPage({ nothing: true }), /no models list/);
  });

  it('a known model keeps its public id and aliases with the account\'s window; a new one gets a dashed id and its own facts', () => {
    const known = modelInfoFor({ upstreamId: 'claude-sonnet-4.5', name: 'x', contextWindow: 123_456, thinking: false });
    assert.deepEqual([known.id, known.contextWindow, known.aliases.includes('gpt-4o')], ['claude-sonnet-4-5-20250929', 123_456, true]);
    assert.deepEqual(modelInfoFor({ upstreamId: 'claude-opus-5.1', name: 'Claude Opus 5.1', contextWindow: 2_000_000, thinking: true }), {
      id: 'claude-opus-5-1',
      upstreamId: 'claude-opus-5.1',
      displayName: 'Claude Opus 5.1',
      thinking: 'native',
      created: 0,
      ownedBy: 'anthropic',
      contextWindow: 2_000_000,
      aliases: ['claude-opus-5.1'],
    });
    assert.deepEqual(modelInfoFor({ upstreamId: 'auto', name: 'Auto', contextWindow: 200_000, thinking: false }).aliases, []);
  });
});

describe('getUsageLimits → credits', () => {
  const answer = (credit: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    usageBreakdownList: [{ resourceType: 'AGENTIC_REQUEST', currentUsage: 3, usageLimit: 50 }, { resourceType: 'CREDIT', ...credit }],
    subscriptionInfo: { subscriptionTitle: 'KIRO PRO' },
    ...extra,
  });

  it('the CREDIT breakdown by type, precise figures, the reset as a float of seconds', () => {
    assert.deepEqual(parseUsageLimits(answer({ currentUsage: 695, currentUsageWithPrecision: 695.17, usageLimit: 1000, usageLimitWithPrecision: 1000.0, nextDateReset: 1767225600.5 })), {
      used: 695.17,
      limit: 1000,
      plan: 'KIRO PRO',
      resetsAt: new Date(1767225600500).toISOString(),
      overage: false,
    });
  });

  it('an active free trial and active bonuses add up; expired ones do not; overage is read', () => {
    const usage = parseUsageLimits(
      answer(
        {
          currentUsageWithPrecision: 10,
          usageLimitWithPrecision: 50,
          freeTrialInfo: { freeTrialStatus: 'ACTIVE', currentUsageWithPrecision: 12.5, usageLimitWithPrecision: 500 },
          bonuses: [{ status: 'ACTIVE', currentUsage: 1, usageLimit: 100 }, { status: 'EXPIRED', currentUsage: 9, usageLimit: 900 }],
        },
        { overageConfiguration: { overageStatus: 'ENABLED' }, nextDateReset: '1767225600' },
      ),
    )!;
    assert.deepEqual([usage.used, usage.limit, usage.overage, usage.resetsAt], [23.5, 650, true, new Date(1767225600000).toISOString()]);
    assert.equal(isExhausted({ ...usage, used: 700 }), false, 'overage keeps it usable');
    assert.equal(isExhausted({ ...usage, used: 650, overage: false }), true);
    const expired = parseUsageLimits(answer({ currentUsage: 5, usageLimit: 50, freeTrialInfo: { freeTrialStatus: 'EXPIRED', usageLimitWithPrecision: 500 } }))!;
    assert.deepEqual([expired.used, expired.limit], [5, 50]);
  });

  it('no credit breakdown: nothing to say', () => {
    assert.equal(parseUsageLimits({ usageBreakdownList: [{ resourceType: 'AGENTIC_REQUEST' }] }), undefined);
    assert.equal(parseUsageLimits('nope'), undefined);
  });
});

describe('which host, which region, which kind', () => {
  it('the API region: the profile ARN\'s, else the login region mapped to Kiro\'s two, else KIRO_REGION', () => {
    assert.equal(apiRegion('arn:aws:codewhisperer:eu-central-1:1:profile/X', 'us-east-1', 'us-east-1'), 'eu-central-1');
    assert.equal(apiRegion(undefined, 'eu-west-1', 'us-east-1'), 'eu-central-1');
    assert.equal(apiRegion(undefined, 'ap-southeast-2', 'eu-central-1'), 'us-east-1');
    assert.equal(apiRegion('not-an-arn', undefined, 'eu-central-1'), 'eu-central-1');
  });

  it('the kind of login a token file holds', () => {
    assert.equal(loginKindOf({ authMethod: 'social', provider: 'Google' }), 'social');
    assert.equal(loginKindOf({ authMethod: 'IdC', provider: 'BuilderId' }), 'builder-id');
    assert.equal(loginKindOf({ authMethod: 'builder-id' }), 'builder-id');
    assert.equal(loginKindOf({ authMethod: 'IdC', provider: 'Enterprise' }), 'idc');
    assert.equal(loginKindOf({ clientIdHash: 'abc' }), 'idc');
  });

  it('URLs per host and region; the ARN goes to runtime always, to the legacy host only for social logins', () => {
    const endpoints = new KiroEndpoints({ runtime: 'https://runtime.{region}.kiro.dev', legacy: 'https://q.{region}.amazonaws.com', management: 'https://management.{region}.kiro.dev' });
    assert.equal(endpoints.chat({ host: 'runtime', region: 'eu-central-1' }), 'https://runtime.eu-central-1.kiro.dev/generateAssistantResponse');
    assert.equal(endpoints.mcp({ host: 'legacy', region: 'us-east-1' }), 'https://q.us-east-1.amazonaws.com/mcp');
    assert.equal(endpoints.management({ host: 'runtime', region: 'us-east-1' }), 'https://management.us-east-1.kiro.dev');
    assert.equal(endpoints.management({ host: 'legacy', region: 'us-east-1' }), 'https://q.us-east-1.amazonaws.com');
    assert.equal(endpoints.hostName({ host: 'legacy', region: 'eu-central-1' }), 'q.eu-central-1.amazonaws.com');
    assert.equal(sendsProfile({ host: 'runtime', loginKind: 'idc' }), true);
    assert.equal(sendsProfile({ host: 'legacy', loginKind: 'idc' }), false);
    assert.equal(sendsProfile({ host: 'legacy', loginKind: 'social' }), true);
  });
});

describe('login flows', () => {
  it('a social callback: the code when state matches; a clear error for anything else', () => {
    const start = startSocialLogin('https://auth.example', 'Google');
    assert.match(start.url, /^https:\/\/auth\.example\/login\?idp=Google&redirect_uri=kiro%3A%2F%2Fkiro\.kiroAgent%2Fauthenticate-success&code_challenge=[\w-]{43}&code_challenge_method=S256&state=/);
    assert.equal(codeFromCallback(`kiro://kiro.kiroAgent/authenticate-success?code=abc&state=${start.state}`, start), 'abc');
    const refused = (url: string, pattern: RegExp) => assert.throws(() => codeFromCallback(url, start), (e: Error) => e instanceof LoginError && pattern.test(e.message));
    refused('not a url', /not a URL/);
    refused('https://kiro.dev/?code=1', /not the URL the login ends on/);
    refused('kiro://kiro.kiroAgent/authenticate-success?error=access_denied', /not completed \(access_denied\)/);
    refused(`kiro://kiro.kiroAgent/authenticate-success?state=${start.state}`, /no code/);
    refused('kiro://kiro.kiroAgent/authenticate-success?code=abc&state=old', /another login attempt/);
  });

  it('device code: waits the interval, 5 s longer after slow_down, until the user allows', async () => {
    const sim = await new KiroSimulator().start();
    try {
      sim.accounts.device = { slowDown: 1 };
      const waits: number[] = [];
      let shown = '';
      const result = await deviceLogin({
        oidcUrl: sim.url,
        startUrl: 'https://view.awsapps.com/start',
        show: (url) => (shown = url),
        sleep: async (ms) => {
          waits.push(ms);
          // slow_down, then authorization_pending, then the user allows the login during the third wait.
          if (waits.length === 3) await fetch(shown);
        },
      });
      assert.deepEqual(waits, [1000, 6000, 6000]);
      assert.match(result.tokens.refreshToken, /^idr-sim-/);
      assert.match(result.client.clientId, /^sim-client-/);
      assert.equal(sim.accounts.list().at(-1)!.kind, 'builder-id');
    } finally {
      await sim.close();
    }
  });
});

describe('the model catalog follows the accounts', () => {
  it('rebuilds when the list changes; an unknown name is a 404 that names what there is', () => {
    let models: readonly ModelInfo[] = KIRO_MODELS.slice(0, 2);
    const catalog = new ModelCatalog(() => models, { fast: 'claude-sonnet-4' });
    assert.equal(catalog.resolve('fast')?.id, 'claude-sonnet-4-20250514');
    assert.equal(catalog.resolve('claude-haiku-4-5'), undefined);
    models = KIRO_MODELS;
    assert.equal(catalog.resolve('claude-haiku-4-5')?.id, 'claude-haiku-4-5-20251001');
    models = KIRO_MODELS.slice(0, 1);
    assert.equal(catalog.resolve('fast'), undefined, 'an alias to a model no account has selects nothing');
    assert.throws(() => catalog.require('claude-haiku-4-5'), (e: Error & { code?: string }) => e.code === 'model_not_found' && /Available: claude-sonnet-4-5-20250929 \(GET \/v1\/models/.test(e.message));
    assert.throws(() => new ModelCatalog(KIRO_MODELS, { x: 'nope' }), /alias "x" points to "nope"/);
  });
});
