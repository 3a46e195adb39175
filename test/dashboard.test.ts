import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { saveAccount } from '../src/credentials/saved.js';
import type { KiroSimulator } from '../src/simulator/server.js';
import { API_KEY, authHeaders, postChat, startStack, userMessage, type Stack } from './helpers.js';

// The dashboard: its JSON routes (every secret kept out, management behind ADMIN_KEY and POST),
// and the page itself in a real headless Chromium (Debian's), against the gateway and the
// simulator over loopback.

const ADMIN_KEY = 'admin-key-for-tests-0123456789';
const BROWSER = ['/usr/bin/chromium', '/usr/bin/chromium-browser', process.env.CHROMIUM_PATH].find((path): path is string => !!path && existsSync(path));
const SKIP = BROWSER ? false : 'No Chromium at /usr/bin/chromium (apt-get install -y chromium; .ci/run installs it): the dashboard\'s browser tests are skipped';
if (SKIP) console.log(`# ${SKIP}`);

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A gateway whose accounts are saved in a folder of its own, with (or without) ADMIN_KEY. */
async function dashboardStack(admin: boolean): Promise<{ stack: Stack; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'ki2api-dash-'));
  dirs.push(dir);
  const stack = await startStack(
    { KIRO_ACCESS_TOKEN: undefined, KIRO_PROFILE_ARN: undefined, KIRO_TOKEN_FILE: join(dir, 'no-ide.json'), KIRO_ACCOUNTS_DIR: dir, ...(admin && { ADMIN_KEY }) },
    { strict: true },
  );
  return { stack, dir };
}

function addAccount(sim: KiroSimulator, dir: string, spec: Parameters<KiroSimulator['accounts']['add']>[0]) {
  const created = sim.accounts.add(spec);
  return saveAccount(dir, { kind: 'social', accessToken: created.accessToken, refreshToken: created.refreshToken, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), region: 'us-east-1', ...(created.account.profileArn && { profileArn: created.account.profileArn }) });
}

type HealthAccount = { fingerprint: string; state: string; usage: { used: number; limit: number } | null };
const health = async (stack: Stack) => ((await (await fetch(`${stack.url}/health`, { headers: authHeaders })).json()) as { accounts: HealthAccount[] }).accounts;

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const dashboardApi = (stack: Stack, path: string, init: RequestInit = {}) => fetch(`${stack.url}/dashboard/api/${path}`, { ...init, headers: { ...authHeaders, ...(init.headers as Record<string, string>) } });

describe('the dashboard\'s JSON', () => {
  let stack: Stack;
  let dir: string;
  before(async () => {
    ({ stack, dir } = await dashboardStack(true));
    addAccount(stack.sim, dir, { usage: { used: 250.5, limit: 1000 } });
  });
  after(() => stack.close());

  it('overview and traffic need the API key, answer as the contract says, and hold no secret', async () => {
    assert.equal((await fetch(`${stack.url}/dashboard/api/overview`)).status, 401);
    await until('the account', async () => (await health(stack)).some((a) => a.usage));
    await postChat(stack.url, userMessage('hello'));
    await postChat(stack.url, { ...userMessage('x'), model: 'no-such-model' });
    const overview = (await (await dashboardApi(stack, 'overview')).json()) as { accounts: HealthAccount[]; admin: { enabled: boolean }; connect: { base_url: string; key_hint: string } };
    assert.equal(overview.admin.enabled, true);
    assert.equal(overview.connect.base_url, stack.url);
    assert.equal(overview.connect.key_hint, `${API_KEY.slice(0, 4)}…`);
    assert.deepEqual(overview.accounts.map((a) => a.usage?.used), [250.5]);
    const traffic = (await (await dashboardApi(stack, 'traffic')).json()) as { minutes: { requests: { chat: Record<string, number> } }[]; failures: { code: string; route: string }[] };
    assert.equal(traffic.minutes.length, 60);
    assert.equal(traffic.minutes.at(-1)!.requests.chat['2xx'], 1);
    assert.equal(traffic.minutes.at(-1)!.requests.chat['4xx'], 1);
    assert.deepEqual(traffic.failures.map((f) => [f.route, f.code]), [['/v1/chat/completions', 'model_not_found']]);
    const everything = JSON.stringify([overview, traffic]);
    for (const account of stack.sim.accounts.list()) for (const token of [...account.accessTokens, ...account.refreshTokens]) assert.ok(!everything.includes(token), 'no token in the dashboard\'s JSON');
    assert.ok(!everything.includes(ADMIN_KEY) && !everything.includes(API_KEY));
  });

  it('management needs ADMIN_KEY in x-admin-key, and only POST changes anything', async () => {
    const [account] = await health(stack);
    const refresh = (headers: Record<string, string> = {}) => dashboardApi(stack, `accounts/${account!.fingerprint}/refresh`, { method: 'POST', headers });
    const missing = await refresh();
    assert.equal(missing.status, 403);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'admin_key_invalid');
    assert.equal((await refresh({ 'x-admin-key': 'wrong-wrong-wrong-wrong' })).status, 403);
    const done = await refresh({ 'x-admin-key': ADMIN_KEY });
    assert.equal(done.status, 200, await done.clone().text());
    // A link (GET) changes nothing; a cross-site form can send neither the key header nor JSON.
    assert.equal((await dashboardApi(stack, `accounts/${account!.fingerprint}/remove`, { headers: { 'x-admin-key': ADMIN_KEY } })).status, 404);
    const form = await fetch(`${stack.url}/dashboard/api/accounts/${account!.fingerprint}/remove`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1' });
    assert.equal(form.status, 401);
    assert.equal((await health(stack)).length, 1, 'still there');
    const bad = await dashboardApi(stack, 'accounts/import', { method: 'POST', headers: { 'x-admin-key': ADMIN_KEY }, body: JSON.stringify({ refresh_token: 'aor...truncated-token-here' }) });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /truncated/);
  });

  it('without ADMIN_KEY, management says how to turn it on', async () => {
    const { stack: readOnly } = await dashboardStack(false);
    try {
      const refused = await dashboardApi(readOnly, 'logins/device', { method: 'POST', headers: { 'x-admin-key': 'anything-anything' }, body: '{}' });
      assert.equal(refused.status, 403);
      const error = ((await refused.json()) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'admin_disabled');
      assert.match(error.message, /Set ADMIN_KEY/);
    } finally {
      await readOnly.close();
    }
  });
});

describe('the dashboard in a browser', { skip: SKIP }, () => {
  let browser: Browser;
  before(async () => {
    browser = await chromium.launch({
      executablePath: BROWSER!,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(() => browser?.close());

  /** A page that records console errors and every request it makes. */
  async function open(stack: Stack): Promise<{ page: Page; errors: string[]; requests: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (message) => message.type() === 'error' && !/status of 401/.test(message.text()) && errors.push(message.text()));
    page.on('pageerror', (error) => errors.push(String(error)));
    page.on('request', (request) => requests.push(request.url()));
    await page.goto(`${stack.url}/dashboard`);
    return { page, errors, requests };
  }

  async function enterKey(page: Page, key: string) {
    await page.fill('#key', key);
    await page.click('#key-form button');
  }

  it('loads with no console error and nothing from another host; a wrong key says so; accounts and credit bars match /health', async () => {
    const { stack, dir } = await dashboardStack(true);
    try {
      addAccount(stack.sim, dir, { usage: { used: 312.4, limit: 1000, plan: 'KIRO PRO' } });
      addAccount(stack.sim, dir, { usage: { used: 950, limit: 1000, plan: 'KIRO PRO' } });
      const accounts = await until('both accounts with credits', async () => {
        const list = await health(stack);
        return list.length === 2 && list.every((a) => a.usage) && list;
      });
      const { page, errors, requests } = await open(stack);
      await enterKey(page, 'not-the-key');
      await page.waitForSelector('#key-error:not([hidden])');
      assert.match(await page.textContent('#key-error') ?? '', /That key is not accepted: Incorrect API key/);
      await enterKey(page, API_KEY);
      await page.waitForSelector('[data-account]');
      for (const account of accounts) {
        const card = page.locator(`[data-account="${account.fingerprint}"]`);
        assert.equal(await card.locator('[data-state]').getAttribute('data-state'), account.state);
        const share = Number(await card.locator('[role=meter]').getAttribute('data-share'));
        assert.ok(Math.abs(share - account.usage!.used / account.usage!.limit) < 0.001, `${share} for ${account.usage!.used}/${account.usage!.limit}`);
        assert.match((await card.textContent()) ?? '', new RegExp(`Credits ${account.usage!.used} / ${account.usage!.limit}`));
      }
      assert.deepEqual(errors, []);
      const elsewhere = requests.filter((url) => !url.startsWith(`${stack.url}/`) && !url.startsWith('data:'));
      assert.deepEqual(elsewhere, [], 'every request went to the gateway itself');
      // The key is kept for this tab only, never in a URL.
      assert.equal(await page.evaluate(() => sessionStorage.getItem('ki2api.key')), API_KEY);
      assert.ok(requests.every((url) => !url.includes(API_KEY)));
      await page.close();
    } finally {
      await stack.close();
    }
  });

  it('the traffic moves after requests, and a failed request shows in the list', async () => {
    const { stack, dir } = await dashboardStack(false);
    try {
      addAccount(stack.sim, dir, {});
      await until('the account serving', async () => (await postChat(stack.url, userMessage('warm up'))).status === 200);
      const { page, errors } = await open(stack);
      await enterKey(page, API_KEY);
      await page.waitForSelector('#traffic-summary[data-total]');
      const before = Number(await page.getAttribute('#traffic-summary', 'data-total'));
      for (let i = 0; i < 3; i++) await postChat(stack.url, userMessage('hello'));
      await postChat(stack.url, { ...userMessage('x'), model: 'no-such-model' });
      await page.waitForFunction((n) => Number(document.querySelector('#traffic-summary')?.getAttribute('data-total')) >= n + 4, before, { timeout: 15_000 });
      await page.waitForSelector('#failures tbody tr');
      const row = (await page.textContent('#failures tbody tr')) ?? '';
      assert.match(row, /POST \/v1\/chat\/completions/);
      assert.match(row, /404/);
      assert.match(row, /model_not_found/);
      // Charts drawn by uPlot, with the last minute's requests in them.
      assert.equal(await page.locator('#chart-requests .uplot').count(), 1);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await stack.close();
    }
  });

  it('adding an account by device code: the page shows the link and code, waits, and the account appears healthy', async () => {
    const { stack } = await dashboardStack(true);
    try {
      const { page, errors } = await open(stack);
      await enterKey(page, API_KEY);
      await page.waitForSelector('#admin-form:not([hidden])');
      await page.fill('#admin-key', ADMIN_KEY);
      await page.click('#admin-form button');
      await page.waitForSelector('#add-account:not([hidden])');
      await page.click('#add-account summary');
      await page.click('#add-builder');
      const link = await page.waitForSelector('[data-login=link]');
      const code = (await page.textContent('[data-login=code]'))!;
      const url = (await link.getAttribute('href'))!;
      assert.ok(url.endsWith(`user_code=${code}`), `${url} shows ${code}`);
      // The user opens the link and allows the login.
      assert.equal((await fetch(url)).status, 200);
      await page.waitForSelector('[data-login=done]', { timeout: 15_000 });
      const card = await page.waitForSelector('[data-account] [data-state=healthy]', { timeout: 10_000 });
      assert.ok(card);
      const [account] = await health(stack);
      assert.equal(account!.state, 'healthy');
      assert.match((await page.textContent(`[data-account="${account!.fingerprint}"]`)) ?? '', /builder-id/);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await stack.close();
    }
  });

  it('read-only without ADMIN_KEY: no management controls, and the page says how to enable them', async () => {
    const { stack, dir } = await dashboardStack(false);
    try {
      addAccount(stack.sim, dir, {});
      const { page, errors } = await open(stack);
      await enterKey(page, API_KEY);
      await page.waitForSelector('[data-account]');
      assert.equal(await page.locator('[data-action]').count(), 0);
      assert.equal(await page.isVisible('#admin'), false);
      assert.match((await page.textContent('#readonly-note')) ?? '', /Read-only: Set ADMIN_KEY/);
      assert.deepEqual(errors, []);
      await page.close();
    } finally {
      await stack.close();
    }
  });
});
