import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KiroAccount } from '../src/credentials/account.js';
import { AccountPool } from '../src/credentials/pool.js';
import { writeTokenFile } from '../src/credentials/token-file.js';
import { createLogger } from '../src/logger.js';
import { SIMULATOR_PROFILE_ARN } from '../src/simulator/server.js';
import { postChat, userMessage, withStack, type Stack } from './helpers.js';

const REFRESH = `aor-${'r'.repeat(120)}-REFRESH-SECRET`;
const CLIENT_SECRET = 'idc-client-secret-SECRET-7777';
const inMinutes = (m: number) => new Date(Date.now() + m * 60_000).toISOString();

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tokenDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ki2api-cred-'));
  dirs.push(dir);
  return dir;
}

function writeToken(path: string, fields: Record<string, unknown>): void {
  writeFileSync(path, JSON.stringify({ authMethod: 'social', provider: 'Google', region: 'us-east-1', ideOnlyField: { keep: true }, ...fields }, null, 2), { mode: 0o600 });
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
const bearer = (stack: Stack, i: number) => stack.sim.requests[i]!.headers.authorization;

/** A stack on this token file; its simulator accepts 'valid-at-start' and the tokens it issues itself. */
async function withFileStack(file: string, env: Record<string, string>, fn: (stack: Stack) => Promise<void>): Promise<void> {
  await withStack({ KIRO_ACCESS_TOKEN: undefined, KIRO_PROFILE_ARN: undefined, KIRO_TOKEN_FILE: file, ...env }, async (stack) => {
    stack.sim.validTokens = new Set(['valid-at-start']);
    await fn(stack);
  });
}

describe('credential refresh against the simulator', () => {
  it('refreshes once, ahead of expiry, and writes the token back merged, atomically, with the same permissions', async () => {
    const dir = tokenDir();
    const file = join(dir, 'kiro-auth-token.json');
    writeToken(file, { accessToken: 'about-to-expire', refreshToken: REFRESH, expiresAt: inMinutes(1), profileArn: 'arn:aws:codewhisperer:us-east-1:111111111111:profile/MINE' });
    await withFileStack(file, {}, async (stack) => {
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      assert.equal((await postChat(stack.url, userMessage('y'))).status, 200);
      assert.equal(stack.sim.refreshCalls.length, 1);
      assert.deepEqual(stack.sim.refreshCalls[0], { path: '/refreshToken', body: { refreshToken: REFRESH } });
      assert.equal(bearer(stack, 0), 'Bearer sim-access-1');
      const saved = readJson(file);
      assert.equal(saved.accessToken, 'sim-access-1');
      assert.equal(saved.refreshToken, REFRESH);
      assert.ok(Date.parse(saved.expiresAt as string) > Date.now() + 50 * 60_000);
      assert.deepEqual(saved.ideOnlyField, { keep: true });
      assert.equal(saved.profileArn, 'arn:aws:codewhisperer:us-east-1:111111111111:profile/MINE');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.deepEqual(readdirSync(dir), ['kiro-auth-token.json'], 'no temp file left behind');
    });
  });

  it('a 403 mid-session causes one refresh and a successful retry', async () => {
    const file = join(tokenDir(), 'kiro-auth-token.json');
    writeToken(file, { accessToken: 'revoked-early', refreshToken: REFRESH, expiresAt: inMinutes(60) });
    await withFileStack(file, {}, async (stack) => {
      const res = await postChat(stack.url, userMessage('x'));
      assert.equal(res.status, 200, res.text);
      assert.equal(stack.sim.refreshCalls.length, 1);
      assert.deepEqual([bearer(stack, 0), bearer(stack, 1)], ['Bearer revoked-early', 'Bearer sim-access-1']);
    });
  });

  it('50 concurrent requests on an expired token cause exactly one refresh', async () => {
    const file = join(tokenDir(), 'kiro-auth-token.json');
    writeToken(file, { accessToken: 'expired', refreshToken: REFRESH, expiresAt: inMinutes(-5) });
    await withFileStack(file, {}, async (stack) => {
      stack.sim.refresh = { delayMs: 100 };
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => postChat(stack.url, userMessage(`q${i}`))));
      assert.deepEqual([...new Set(results.map((r) => r.status))], [200]);
      assert.equal(stack.sim.refreshCalls.length, 1);
      assert.ok(stack.sim.requests.every((r) => r.headers.authorization === 'Bearer sim-access-1'));
    });
  });

  it('IdC logins refresh at the OIDC endpoint with the registration beside the token file, and find their profile ARN', async () => {
    const dir = tokenDir();
    const file = join(dir, 'kiro-auth-token.json');
    const hash = 'e878a1b2c3d4e5f60718293a4b5c6d7e8f90b433';
    writeToken(file, { accessToken: 'idc-expired', refreshToken: REFRESH, expiresAt: inMinutes(-1), authMethod: 'IdC', provider: 'Enterprise', clientIdHash: hash });
    writeFileSync(join(dir, `${hash}.json`), JSON.stringify({ clientId: 'idc-client-id', clientSecret: CLIENT_SECRET, expiresAt: inMinutes(60 * 24 * 30) }));
    await withFileStack(file, {}, async (stack) => {
      stack.sim.refresh = { rotate: true };
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      assert.deepEqual(stack.sim.refreshCalls, [{ path: '/token', body: { clientId: 'idc-client-id', clientSecret: CLIENT_SECRET, grantType: 'refresh_token', refreshToken: REFRESH } }]);
      assert.equal(stack.sim.profileCalls, 1);
      assert.equal((stack.sim.requests[0]!.body as { profileArn?: string }).profileArn, SIMULATOR_PROFILE_ARN);
      assert.equal(readJson(file).refreshToken, 'sim-refresh-1', 'a rotated refresh token is persisted');
      assert.equal(readJson(file).clientIdHash, hash);
      const health = await (await fetch(`${stack.url}/health`)).json();
      assert.equal(health.accounts[0].auth_method, 'idc');
    });
  });

  it('an IdC login without its registration file says what is missing', async () => {
    const file = join(tokenDir(), 'kiro-auth-token.json');
    writeToken(file, { accessToken: 'idc-expired', refreshToken: REFRESH, expiresAt: inMinutes(-1), authMethod: 'IdC', clientIdHash: 'abc' });
    await withFileStack(file, {}, async (stack) => {
      const res = await postChat(stack.url, userMessage('x'));
      assert.equal(res.status, 503);
      assert.match(res.text, /client registration \(abc\.json/);
    });
  });

  it('uses a token the IDE rotated into the file instead of refreshing', async () => {
    const file = join(tokenDir(), 'kiro-auth-token.json');
    writeToken(file, { accessToken: 'old-ide-token', refreshToken: REFRESH, expiresAt: inMinutes(60) });
    await withFileStack(file, {}, async (stack) => {
      // The IDE refreshes on its own and Kiro stops accepting the old token.
      writeToken(file, { accessToken: 'valid-at-start', refreshToken: `${REFRESH}-2`, expiresAt: inMinutes(60) });
      const res = await postChat(stack.url, userMessage('x'));
      assert.equal(res.status, 200, res.text);
      assert.equal(stack.sim.refreshCalls.length, 0);
      assert.equal(bearer(stack, stack.sim.requests.length - 1), 'Bearer valid-at-start');
    });
  });

  it('a dead refresh token is permanent: one attempt, a clear error, /health says to log in again — until the IDE logs in again', async () => {
    const file = join(tokenDir(), 'kiro-auth-token.json');
    writeToken(file, { accessToken: 'expired', refreshToken: REFRESH, expiresAt: inMinutes(-1) });
    await withFileStack(file, {}, async (stack) => {
      stack.sim.refresh = { deadRefreshToken: true };
      for (let i = 0; i < 3; i++) {
        const res = await postChat(stack.url, userMessage('x'));
        assert.equal(res.status, 503);
        assert.equal(JSON.parse(res.text).error.code, 'kiro_login_expired');
        assert.match(JSON.parse(res.text).error.message, /Log in to the Kiro IDE again/);
      }
      assert.equal(stack.sim.refreshCalls.length, 1);
      const health = await (await fetch(`${stack.url}/health`)).json();
      assert.equal(health.status, 'degraded');
      assert.equal(health.accounts[0].state, 'dead');
      stack.sim.refresh = {};
      await sleep(10);
      writeToken(file, { accessToken: 'valid-at-start', refreshToken: `${REFRESH}-new-login`, expiresAt: inMinutes(60) });
      await sleep(2100);
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
    });
  });

  it('a network failure during refresh is retried with backoff; a longer outage is a retryable 503, not a dead account', async () => {
    const file = join(tokenDir(), 'kiro-auth-token.json');
    writeToken(file, { accessToken: 'expired', refreshToken: REFRESH, expiresAt: inMinutes(-1) });
    await withFileStack(file, {}, async (stack) => {
      stack.sim.refresh = { failNext: 2 };
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      assert.equal(stack.sim.refreshCalls.length, 3);
    });
    await withFileStack(file, {}, async (outage) => {
      writeToken(file, { accessToken: 'expired', refreshToken: REFRESH, expiresAt: inMinutes(-1) });
      outage.sim.refresh = { failNext: 100 };
      const res = await postChat(outage.url, userMessage('x'));
      assert.equal(res.status, 503);
      assert.equal(JSON.parse(res.text).error.code, 'token_refresh_failed');
      assert.ok(res.headers.get('retry-after'));
      const health = await (await fetch(`${outage.url}/health`)).json();
      assert.notEqual(health.accounts[0].state, 'dead');
    });
  });

  it('KIRO_TOKEN_WRITEBACK=false keeps the file untouched', async () => {
    const file = join(tokenDir(), 'kiro-auth-token.json');
    writeToken(file, { accessToken: 'expired', refreshToken: REFRESH, expiresAt: inMinutes(-1) });
    const before = readFileSync(file, 'utf8');
    await withFileStack(file, { KIRO_TOKEN_WRITEBACK: 'false' }, async (stack) => {
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      assert.equal(stack.sim.refreshCalls.length, 1);
      assert.equal(readFileSync(file, 'utf8'), before);
    });
  });

  it('KIRO_REFRESH_TOKEN alone is enough: the first request refreshes', async () => {
    await withStack({ KIRO_ACCESS_TOKEN: undefined, KIRO_REFRESH_TOKEN: REFRESH }, async (stack) => {
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      assert.equal(stack.sim.refreshCalls.length, 1);
    });
  });
});

describe('account pool', () => {
  /** A stack on a folder of two token files (and one file that is not a token). */
  async function withPoolStack(fn: (stack: Stack) => Promise<void>): Promise<void> {
    const dir = tokenDir();
    writeToken(join(dir, 'a.json'), { accessToken: 'token-a', refreshToken: `${REFRESH}-a`, expiresAt: inMinutes(60) });
    writeToken(join(dir, 'b.json'), { accessToken: 'token-b', refreshToken: `${REFRESH}-b`, expiresAt: inMinutes(60) });
    writeFileSync(join(dir, 'notes.txt'), 'not a token');
    await withStack({ KIRO_ACCESS_TOKEN: undefined, KIRO_TOKEN_FILE: dir }, fn);
  }

  it('spreads requests over healthy accounts', async () => {
    await withPoolStack(async (stack) => {
      for (let i = 0; i < 4; i++) assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      assert.deepEqual(stack.sim.requests.map((r) => r.headers.authorization), ['Bearer token-a', 'Bearer token-b', 'Bearer token-a', 'Bearer token-b']);
      const health = await (await fetch(`${stack.url}/health`)).json();
      assert.equal(health.accounts.length, 2);
      assert.notEqual(health.accounts[0].fingerprint, health.accounts[1].fingerprint);
    });
  });

  for (const [name, scenarios] of [
    ['402 quota', [{ status: 402, errorBody: { message: 'limit', reason: 'MONTHLY_REQUEST_COUNT' } }]],
    ['429 throttling', [{ status: 429 }]],
    ['403 even after a refresh', [{ status: 403 }, { status: 403 }]],
  ] as const) {
    it(`fails over on ${name} without the client noticing, and rests that account`, async () => {
      await withPoolStack(async (stack) => {
        stack.sim.enqueue(...scenarios);
        const res = await postChat(stack.url, userMessage('x'));
        assert.equal(res.status, 200, res.text);
        assert.equal(stack.sim.requests.at(-1)!.headers.authorization, 'Bearer token-b');
        const health = await (await fetch(`${stack.url}/health`)).json();
        assert.equal(health.accounts[0].state, 'cooling_down');
        assert.equal(health.accounts[1].state, 'healthy');
        assert.equal((await postChat(stack.url, userMessage('y'))).status, 200);
        assert.equal(stack.sim.requests.at(-1)!.headers.authorization, 'Bearer token-b', 'the resting account is skipped');
      });
    });
  }

  it('answers 429 with retry-after only when every account rests', async () => {
    await withPoolStack(async (stack) => {
      stack.sim.enqueue({ status: 429, headers: { 'retry-after': '20' } }, { status: 429, headers: { 'retry-after': '30' } });
      const res = await postChat(stack.url, userMessage('x'));
      assert.equal(res.status, 429);
      const next = await postChat(stack.url, userMessage('x'));
      assert.equal(next.status, 429);
      assert.ok(Number(next.headers.get('retry-after')) <= 20);
    });
  });
});

describe('token file writes', () => {
  it('merge into the existing JSON and replace the file by rename', () => {
    const dir = tokenDir();
    const file = join(dir, 'kiro-auth-token.json');
    writeFileSync(file, JSON.stringify({ accessToken: 'a', other: 1 }), { mode: 0o640 });
    const inode = statSync(file).ino;
    writeTokenFile(file, { accessToken: 'b', expiresAt: 'x' });
    assert.deepEqual(readJson(file), { accessToken: 'b', other: 1, expiresAt: 'x' });
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.notEqual(statSync(file).ino, inode, 'a new file was renamed into place');
    assert.deepEqual(readdirSync(dir), ['kiro-auth-token.json']);
  });
});

describe('secrets', () => {
  it('no token, refresh token or client secret appears in logs, /health, or any error', async () => {
    const dir = tokenDir();
    const file = join(dir, 'kiro-auth-token.json');
    const hash = 'f00d';
    writeToken(file, { accessToken: 'ACCESS-SECRET-one', refreshToken: REFRESH, expiresAt: inMinutes(-1), authMethod: 'IdC', clientIdHash: hash });
    writeFileSync(join(dir, `${hash}.json`), JSON.stringify({ clientId: 'cid', clientSecret: CLIENT_SECRET }));
    await withFileStack(file, { LOG_LEVEL: 'trace' }, async (stack) => {
      const seen: string[] = [];
      stack.sim.refresh = { failNext: 1, rotate: true };
      seen.push((await postChat(stack.url, userMessage('x'))).text);
      stack.sim.enqueue({ status: 403 }, { status: 403 });
      seen.push((await postChat(stack.url, userMessage('x'))).text);
      stack.sim.refresh = { deadRefreshToken: true };
      stack.sim.enqueue({ status: 403 });
      seen.push((await postChat(stack.url, userMessage('x'))).text);
      seen.push(await (await fetch(`${stack.url}/health`)).text());
      seen.push(stack.logs());
      const everything = seen.join('\n');
      assert.ok(everything.length > 500);
      for (const secret of ['ACCESS-SECRET-one', REFRESH, 'sim-refresh-1', CLIENT_SECRET, 'sim-access-1', 'sim-access-2']) {
        assert.ok(!everything.includes(secret), `secret leaked: ${secret.slice(0, 12)}…`);
      }
    });
  });
});

describe('account pool timing', () => {
  it('serves with an account whose rest ends while the pool looks, and never calls it unusable', async () => {
    // Every look at the clock is 1 ms later: some rest length ends between two looks of one acquire().
    for (let restMs = 0; restMs < 16; restMs++) {
      let clock = 1_000_000;
      const now = () => clock++;
      const account = new KiroAccount(
        { kind: 'env', accessToken: 'token-a' },
        { authUrl: 'http://127.0.0.1:9', oidcUrl: 'http://127.0.0.1:9', managementUrl: 'http://127.0.0.1:9', profileArn: SIMULATOR_PROFILE_ARN, writeBack: false, refreshMarginMs: 0, logger: createLogger('silent'), now },
      );
      const pool = new AccountPool([account], undefined, now);
      account.coolDown(now() + restMs, 'throttled by Kiro (429)');
      try {
        assert.equal((await pool.acquire()).credentials.accessToken, 'token-a');
      } catch (error) {
        assert.equal((error as { code?: string }).code, 'rate_limit_exceeded', `rest of ${restMs} ms: ${String(error)}`);
      }
    }
  });
});

describe('account pool: live accounts', () => {
  it('liveFingerprints names exactly the accounts accounts() calls healthy or cooling down', () => {
    let clock = 1_000_000;
    const now = () => clock;
    const options = { authUrl: 'http://127.0.0.1:9', oidcUrl: 'http://127.0.0.1:9', managementUrl: 'http://127.0.0.1:9', profileArn: SIMULATOR_PROFILE_ARN, writeBack: false, refreshMarginMs: 0, logger: createLogger('silent'), now };
    const healthy = new KiroAccount({ kind: 'env', accessToken: 'token-a', refreshToken: 'r' }, options);
    const resting = new KiroAccount({ kind: 'env', accessToken: 'token-b', refreshToken: 'r' }, options);
    const other = new KiroAccount({ kind: 'env', accessToken: 'token-c' }, options);
    const pool = new AccountPool([healthy, resting, other], undefined, now);
    resting.coolDown(clock + 10_000, 'throttled by Kiro (429)');
    const live = () =>
      pool
        .accounts()
        .filter((a) => a.state === 'healthy' || a.state === 'cooling_down')
        .map((a) => a.fingerprint);
    assert.deepEqual(pool.liveFingerprints(), live());
    assert.ok(pool.liveFingerprints().includes(resting.fingerprint), 'a resting account is still live');
    (resting as unknown as { markDead(error: Error): void }).markDead(new Error('refresh token revoked'));
    assert.deepEqual(pool.liveFingerprints(), live());
    clock += 20_000;
    assert.deepEqual(pool.liveFingerprints(), live());
  });
});
