import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { saveAccount } from '../src/credentials/saved.js';
import { API_KEY, postChat, startStack, userMessage } from '../test/helpers.js';

// The README's dashboard screenshots: `npx tsx scripts/dashboard-screenshots.ts` (needs Debian's
// chromium). A gateway with three simulated accounts and some traffic, shot light, dark and on a
// phone into docs/.

const dir = mkdtempSync(join(tmpdir(), 'ki2api-shots-'));
const ADMIN_KEY = 'screenshot-admin-key-0123';
const stack = await startStack({ KIRO_ACCESS_TOKEN: undefined, KIRO_PROFILE_ARN: undefined, KIRO_TOKEN_FILE: join(dir, 'none.json'), KIRO_ACCOUNTS_DIR: dir, ADMIN_KEY, LOG_LEVEL: 'silent' }, { strict: true });
try {
  const accounts = [
    { kind: 'social' as const, usage: { used: 312.4, limit: 1000, plan: 'KIRO PRO' } },
    { kind: 'social' as const, usage: { used: 871.25, limit: 1000, plan: 'KIRO PRO' }, models: ['claude-sonnet-4.5', 'claude-haiku-4.5', 'claude-sonnet-4.6'] },
    { kind: 'social' as const, usage: { used: 50, limit: 50, plan: 'KIRO FREE' }, models: ['claude-sonnet-4.5', 'claude-haiku-4.5'] },
  ];
  for (const spec of accounts) {
    const created = stack.sim.accounts.add(spec);
    saveAccount(dir, { kind: 'social', accessToken: created.accessToken, refreshToken: created.refreshToken, expiresAt: new Date(Date.now() + 3_600_000).toISOString(), region: 'us-east-1', profileArn: created.account.profileArn! });
  }
  await new Promise((resolve) => setTimeout(resolve, 3000));
  for (let i = 0; i < 24; i++) await postChat(stack.url, { ...userMessage(`question ${i}`), model: i % 3 === 0 ? 'claude-haiku-4-5' : 'claude-sonnet-4-5-20250929' });
  await fetch(`${stack.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }) });
  await postChat(stack.url, { ...userMessage('x'), model: 'gpt-5' });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
  for (const [name, theme, viewport] of [
    ['dashboard.png', 'light', { width: 1280, height: 900 }],
    ['dashboard-dark.png', 'dark', { width: 1280, height: 900 }],
    ['dashboard-phone.png', 'dark', { width: 390, height: 844 }],
  ] as const) {
    const page = await browser.newPage({ viewport, deviceScaleFactor: 1, colorScheme: theme });
    await page.goto(`${stack.url}/dashboard`);
    await page.fill('#key', API_KEY);
    await page.click('#key-form button');
    await page.waitForSelector('[data-account]');
    await page.fill('#admin-key', ADMIN_KEY);
    await page.click('#admin-form button');
    await page.waitForTimeout(1200);
    await page.evaluate(() => scrollTo(0, 0));
    await page.screenshot({ path: join('docs', name), fullPage: name !== 'dashboard-phone.png' });
    await page.close();
  }
  await browser.close();
  console.log('wrote docs/dashboard.png, docs/dashboard-dark.png, docs/dashboard-phone.png');
} finally {
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
}
