import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import initSqlJs from 'sql.js';
import { saveAccount } from '../src/credentials/saved.js';
import { SIMULATOR_PROFILE_ARN } from '../src/simulator/accounts.js';
import type { KiroSimulator } from '../src/simulator/server.js';
import { authHeaders, postChat, startStack, userMessage, type Stack } from './helpers.js';

// Accounts without the Kiro IDE: `ki2api login` (device code for Builder ID and IAM Identity
// Center, Google/GitHub with a pasted callback), `ki2api import` (kiro-cli's SQLite store, token
// files, refresh tokens), `ki2api accounts`; the right host for each login; each account's own
// models and credits. The CLI runs as a real process against the simulator, and the running
// gateway picks what it saves up by itself.

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Everything the CLI runs print, to check no secret ever shows. */
const printed: string[] = [];

interface Cli {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** `ki2api <args>` as a process, its hosts at the simulator and its accounts in `accountsDir`. */
function cli(args: string[], sim: KiroSimulator, accountsDir: string, env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: accountsDir,
      KIRO_OIDC_URL: sim.url,
      KIRO_AUTH_URL: sim.url,
      KIRO_MANAGEMENT_URL: sim.url,
      KIRO_BASE_URL: sim.url,
      KIRO_Q_URL: `${sim.url}/q`,
      KIRO_ACCOUNTS_DIR: accountsDir,
      KIRO_TOKEN_FILE: join(accountsDir, 'no-ide-login.json'),
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => {
      printed.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    }),
  );
  return {
    child,
    output: () => stdout + stderr,
    done,
    async waitFor(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = pattern.exec(stdout + stderr);
        if (match) return match;
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`never printed ${pattern}: ${stdout}${stderr}`);
        await sleep(25);
      }
    },
  };
}

const gateways: Stack[] = [];

/** A gateway with no IDE login, reading saved accounts from `accountsDir`. */
async function gatewayFor(accountsDir: string, env: Record<string, string | undefined> = {}): Promise<Stack> {
  const stack = await startStack({ KIRO_ACCESS_TOKEN: undefined, KIRO_PROFILE_ARN: undefined, KIRO_TOKEN_FILE: join(accountsDir, 'no-ide-login.json'), KIRO_ACCOUNTS_DIR: accountsDir, ...env }, { strict: true });
  gateways.push(stack);
  return stack;
}

type HealthAccount = { fingerprint: string; login_kind: string; endpoint: string; region: string; state: string; problem: string | null; cooldown_until: string | null; usage: { used: number; limit: number; plan: string; resets_at: string } | null; models: string[] | null };
const healthOf = async (stack: Stack) => ((await (await fetch(`${stack.url}/health`, { headers: authHeaders })).json()) as { accounts: HealthAccount[] }).accounts;

/** Waits until the running gateway serves a chat answer (it picks saved accounts up by itself). */
async function answersWithin(stack: Stack, ms: number, model = 'claude-sonnet-4-5-20250929') {
  const deadline = Date.now() + ms;
  for (;;) {
    const response = await postChat(stack.url, { ...userMessage('hello'), model });
    if (response.status === 200 || Date.now() > deadline) return response;
    await sleep(200);
  }
}

describe('ki2api login', () => {
  it('Builder ID: from `ki2api login --builder-id` to an answer from that account, by the legacy host, in a gateway already running', async () => {
    const accounts = tempDir('ki2api-login-');
    const stack = await gatewayFor(accounts);
    try {
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 503, 'no account yet');
      const login = cli(['login', '--builder-id'], stack.sim, accounts);
      const [, url, code] = await login.waitFor(/(http:\S+\/device\?user_code=(\S+))/);
      assert.match(login.output(), new RegExp(`shows the code ${code}`));
      // The user opens the page and allows the login.
      assert.equal((await fetch(url!)).status, 200);
      const { code: exit, stdout } = await login.done;
      assert.equal(exit, 0, login.output());
      assert.match(stdout, /Saved builder-id account [0-9a-f]{8} to /);
      // The folder and the files are private.
      assert.equal(statSync(accounts).mode & 0o777, 0o700);
      for (const name of readdirSync(accounts)) assert.equal(statSync(join(accounts, name)).mode & 0o777, 0o600, name);
      const saved = readdirSync(accounts).find((n) => n.startsWith('builder-id-'))!;
      const file = JSON.parse(readFileSync(join(accounts, saved), 'utf8')) as Record<string, string>;
      assert.deepEqual([file.authMethod, file.provider, file.region, file.profileArn], ['IdC', 'BuilderId', 'us-east-1', undefined]);
      assert.ok(existsSync(join(accounts, `${file.clientIdHash}.json`)), 'the client registration beside it');

      const answer = await answersWithin(stack, 5000);
      assert.equal(answer.status, 200, answer.text);
      const sent = stack.sim.requests.at(-1)!;
      assert.equal(sent.path, '/q/generateAssistantResponse');
      assert.equal((sent.body as { profileArn?: string }).profileArn, undefined, 'no profile for Builder ID');
      const [account] = await healthOf(stack);
      assert.deepEqual([account!.login_kind, account!.state, account!.endpoint], ['builder-id', 'healthy', new URL(stack.sim.url).host]);
    } finally {
      await stack.close();
    }
  });

  it('IAM Identity Center in its own region: the OIDC host of that region, the profile\'s region for the API', async () => {
    const accounts = tempDir('ki2api-idc-');
    const stack = await gatewayFor(accounts);
    try {
      const euProfile = 'arn:aws:codewhisperer:eu-central-1:111122223333:profile/EUORG';
      stack.sim.accounts.device = { idc: { profileArn: euProfile } };
      const login = cli(['login', '--idc', 'https://d-1234567890.awsapps.com/start', '--region', 'eu-west-1'], stack.sim, accounts);
      const [, url] = await login.waitFor(/(http:\S+\/device\?user_code=\S+)/);
      await fetch(url!);
      assert.equal((await login.done).code, 0, login.output());
      const saved = readdirSync(accounts).find((n) => n.startsWith('idc-'))!;
      const file = JSON.parse(readFileSync(join(accounts, saved), 'utf8')) as Record<string, string>;
      assert.deepEqual([file.provider, file.region, file.startUrl], ['Enterprise', 'eu-west-1', 'https://d-1234567890.awsapps.com/start']);
      assert.equal((await answersWithin(stack, 5000)).status, 200);
      const sent = stack.sim.requests.at(-1)!;
      assert.deepEqual([sent.path, (sent.body as { profileArn?: string }).profileArn], ['/generateAssistantResponse', euProfile]);
      const [account] = await healthOf(stack);
      assert.deepEqual([account!.login_kind, account!.region], ['idc', 'eu-central-1']);
    } finally {
      await stack.close();
    }
  });

  it('Google with the pasted callback URL: PKCE, state checked, the account on the runtime host with its profile', async () => {
    const accounts = tempDir('ki2api-social-');
    const stack = await gatewayFor(accounts);
    try {
      const login = cli(['login', '--social', 'google'], stack.sim, accounts);
      const [, url] = await login.waitFor(/(http:\S+\/login\?\S+)/);
      const query = new URL(url!).searchParams;
      assert.deepEqual([query.get('idp'), query.get('redirect_uri'), query.get('code_challenge_method')], ['Google', 'kiro://kiro.kiroAgent/authenticate-success', 'S256']);
      await login.waitFor(/paste the address/);
      // The browser ends on kiro://…, which it cannot open; the user copies it into the prompt.
      const location = (await fetch(url!, { redirect: 'manual' })).headers.get('location')!;
      assert.match(location, /^kiro:\/\/kiro\.kiroAgent\/authenticate-success\?code=/);
      login.child.stdin.write(`${location}\n`);
      assert.equal((await login.done).code, 0, login.output());
      assert.equal((await answersWithin(stack, 5000)).status, 200);
      const sent = stack.sim.requests.at(-1)!;
      assert.deepEqual([sent.path, (sent.body as { profileArn?: string }).profileArn], ['/generateAssistantResponse', SIMULATOR_PROFILE_ARN]);
      assert.equal((await healthOf(stack))[0]!.login_kind, 'social');
    } finally {
      await stack.close();
    }
  });

  it('every failure says what to do: declined, expired, a wrong callback, a state from another run', async () => {
    const accounts = tempDir('ki2api-fail-');
    const stack = await gatewayFor(accounts);
    try {
      const device = async (behaviour: typeof stack.sim.accounts.device) => {
        stack.sim.accounts.device = behaviour;
        const login = cli(['login', '--builder-id'], stack.sim, accounts);
        const [, url] = await login.waitFor(/(http:\S+\/device\?user_code=\S+)/);
        await fetch(url!);
        return login.done;
      };
      const denied = await device({ deny: true });
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, /declined in the browser\. Run it again and choose Allow/);
      const expired = await device({ expire: true });
      assert.match(expired.stderr, /code expired before the login was allowed\. Run the login again/);

      const [wrong, stale, usage, unreachable] = await Promise.all([
        cli(['login', '--social', 'github', '--callback', 'https://example.com/?code=1'], stack.sim, accounts).done,
        cli(['login', '--social', 'github', '--callback', 'kiro://kiro.kiroAgent/authenticate-success?code=abc&state=another-run'], stack.sim, accounts).done,
        cli(['login'], stack.sim, accounts).done,
        cli(['login', '--builder-id'], stack.sim, accounts, { KIRO_OIDC_URL: 'http://127.0.0.1:9' }).done,
      ]);
      assert.equal(wrong.code, 1);
      assert.match(wrong.stderr, /not the URL the login ends on\. Paste the address the browser shows after you sign in/);
      assert.match(stale.stderr, /another login attempt .* run the login again/i);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /choose one of --builder-id, --idc <start URL>, --social google\|github/);
      assert.match(unreachable.stderr, /Could not reach 127\.0\.0\.1:9 .*Check the network/);
      assert.deepEqual(readdirSync(accounts), [], 'nothing saved by a failed login');
    } finally {
      await stack.close();
    }
  });

  it('--help on each command; `ki2api accounts` with nothing saved says how to add one', async () => {
    const accounts = tempDir('ki2api-help-');
    const stack = await gatewayFor(accounts);
    try {
      const commands = ['login', 'import', 'accounts'];
      const [main, none, ...helps] = await Promise.all([cli(['--help'], stack.sim, accounts).done, cli(['accounts'], stack.sim, accounts).done, ...commands.map((command) => cli([command, '--help'], stack.sim, accounts).done)]);
      for (const [i, help] of helps.entries()) {
        assert.equal(help.code, 0);
        assert.match(help.stdout, new RegExp(`Usage:\\n  ki2api ${commands[i]}`));
      }
      assert.match(main.stdout, /Commands:\n  serve \(default\)/);
      assert.match(none.stdout, /No accounts yet\. Log in with `ki2api login --builder-id`/);
    } finally {
      await stack.close();
    }
  });
});

describe('ki2api import', () => {
  /** A kiro-cli store as kiro-cli writes it: auth_kv with snake_case JSON, the profile in state. */
  async function kiroCliStore(path: string, entries: Record<string, unknown>, profile?: string) {
    const SQL = await initSqlJs();
    const db = new SQL.Database();
    db.run('CREATE TABLE auth_kv (key TEXT PRIMARY KEY, value TEXT)');
    db.run('CREATE TABLE state (key TEXT PRIMARY KEY, value BLOB)');
    db.run('CREATE TABLE conversations (key TEXT PRIMARY KEY, value TEXT)');
    for (const [key, value] of Object.entries(entries)) db.run('INSERT INTO auth_kv VALUES (?, ?)', [key, JSON.stringify(value)]);
    if (profile) db.run('INSERT INTO state VALUES (?, ?)', ['api.codewhisperer.profile', JSON.stringify({ arn: profile, profile_name: 'Org' })]);
    writeFileSync(path, db.export());
    db.close();
  }

  it('a kiro-cli store: its social and its IdC login, each refreshed once and saved; both then serve', async () => {
    const accounts = tempDir('ki2api-import-');
    const stack = await gatewayFor(accounts);
    try {
      const social = stack.sim.accounts.add({ kind: 'social' });
      const client = stack.sim.accounts.register({ clientType: 'public', scopes: [] }).body as { clientId: string; clientSecret: string };
      const idc = stack.sim.accounts.add({ kind: 'idc', clientId: client.clientId });
      const store = join(tempDir('ki2api-cli-store-'), 'data.sqlite3');
      await kiroCliStore(
        store,
        {
          'kirocli:social:token': { access_token: social.accessToken, refresh_token: social.refreshToken, expires_at: '2026-01-24T02:29:46.233105Z', profile_arn: SIMULATOR_PROFILE_ARN, provider: 'Github' },
          'kirocli:odic:token': { access_token: idc.accessToken, refresh_token: idc.refreshToken, expires_at: '2026-01-24T02:29:46.233105Z', region: 'us-east-1', start_url: 'https://d-9999999999.awsapps.com/start', oauth_flow: 'DeviceCode', scopes: ['codewhisperer:completions'] },
          'kirocli:odic:device-registration': { client_id: client.clientId, client_secret: client.clientSecret, client_secret_expires_at: 1893456000, region: 'us-east-1', scopes: [], oauth_flow: 'DeviceCode' },
        },
        SIMULATOR_PROFILE_ARN,
      );
      const refreshes = stack.sim.refreshCalls.length;
      const imported = await cli(['import', '--kiro-cli', store], stack.sim, accounts).done;
      assert.equal(imported.code, 0, imported.stderr);
      assert.match(imported.stdout, /Found 2 logins in .*: social, idc\./);
      assert.equal(stack.sim.refreshCalls.length - refreshes, 2, 'each checked by one refresh');
      assert.deepEqual(readdirSync(accounts).filter((n) => /^(social|idc)-/.test(n)).map((n) => n.split('-')[0]).sort(), ['idc', 'social']);
      // Both serve: once the gateway knows their credits (equal), it spreads requests over them.
      await answersWithin(stack, 5000);
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline && !(await healthOf(stack)).every((a) => a.usage)) await sleep(100);
      for (let i = 0; i < 4; i++) assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      const kinds = (await healthOf(stack)).map((a) => a.login_kind).sort();
      assert.deepEqual(kinds, ['idc', 'social']);
      const tokens = new Set(stack.sim.requests.slice(-4).map((r) => r.headers.authorization));
      assert.equal(tokens.size, 2);
    } finally {
      await stack.close();
    }
  });

  it('a refresh token, a token file; and failures that name the fix: a corrupt store, a missing one, a dead token, an IdC token without its client', async () => {
    const accounts = tempDir('ki2api-import2-');
    const stack = await gatewayFor(accounts);
    try {
      const one = stack.sim.accounts.add({ kind: 'social' });
      const byToken = await cli(['import', '--refresh-token', one.refreshToken], stack.sim, accounts).done;
      assert.equal(byToken.code, 0, byToken.stderr);
      const two = stack.sim.accounts.add({ kind: 'social' });
      const file = join(tempDir('ki2api-file-'), 'kiro-auth-token.json');
      writeFileSync(file, JSON.stringify({ accessToken: two.accessToken, refreshToken: two.refreshToken, expiresAt: '2026-01-01T00:00:00.000Z', authMethod: 'social', provider: 'Google', profileArn: SIMULATOR_PROFILE_ARN }));
      assert.equal((await cli(['import', '--file', file], stack.sim, accounts).done).code, 0);
      assert.equal(readdirSync(accounts).filter((n) => n.startsWith('social-')).length, 2);

      const corrupt = join(tempDir('ki2api-corrupt-'), 'data.sqlite3');
      writeFileSync(corrupt, 'this is not a database at all, just text that goes on for a while to fill a page'.repeat(60));
      const [bad, missing, noClient, truncated] = await Promise.all([
        cli(['import', '--kiro-cli', corrupt], stack.sim, accounts).done,
        cli(['import', '--kiro-cli', join(accounts, 'nope.sqlite3')], stack.sim, accounts).done,
        cli(['import', '--refresh-token', `idr-${'y'.repeat(40)}`, '--idc'], stack.sim, accounts).done,
        cli(['import', '--refresh-token', 'aor...cut'], stack.sim, accounts).done,
      ]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /is not a kiro-cli store this version can read .*Check the path, or log in with `ki2api login`/);
      assert.match(missing.stderr, /No kiro-cli store at .*Log in with kiro-cli first, or pass the store's path/);
      assert.equal(noClient.code, 2);
      assert.match(noClient.stderr, /needs --client-id and --client-secret/);
      assert.match(truncated.stderr, /truncated or too short/);
      stack.sim.refresh = { deadRefreshToken: true };
      const dead = await cli(['import', '--refresh-token', `aorAAAAAG-${'x'.repeat(40)}`], stack.sim, accounts).done;
      assert.match(dead.stderr, /refused the refresh token \(invalid_grant\).*Log in again/);
      stack.sim.refresh = {};
    } finally {
      await stack.close();
    }
  });
});

describe('the right host, models and credits for each account', () => {
  /** Saves sim accounts as if logged in, into a fresh accounts folder. */
  function saveSim(accountsDir: string, created: ReturnType<KiroSimulator['accounts']['add']>, extra: { client?: { clientId: string; clientSecret: string } } = {}) {
    const { account } = created;
    return saveAccount(accountsDir, {
      kind: account.kind,
      accessToken: created.accessToken,
      refreshToken: created.refreshToken,
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      region: 'us-east-1',
      ...(account.kind === 'social' && account.profileArn && { profileArn: account.profileArn }),
      ...(extra.client && { client: { ...extra.client, expiresAt: new Date(Date.now() + 86_400_000).toISOString() }, startUrl: 'https://d-1.awsapps.com/start' }),
    });
  }

  it('an IdC login the runtime host refuses moves to the legacy host and stays there, while a social one stays on runtime', async () => {
    const accounts = tempDir('ki2api-hosts-');
    const stack = await gatewayFor(accounts);
    try {
      const client = stack.sim.accounts.register({ clientType: 'public', scopes: [] }).body as { clientId: string; clientSecret: string };
      const idc = stack.sim.accounts.add({ kind: 'idc', runtime: false, clientId: client.clientId });
      const social = stack.sim.accounts.add({ kind: 'social' });
      const idcFile = saveSim(accounts, idc, { client });
      saveSim(accounts, social);
      await answersWithin(stack, 5000);
      for (let i = 0; i < 6; i++) assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      const pathsOf = (id: string) => stack.sim.requests.filter((r) => (r.headers.authorization as string).includes(`-${id}-`)).map((r) => r.path);
      const idcPaths = pathsOf(idc.account.id);
      // Refused on runtime (and once more after a refresh), then always the legacy host.
      assert.deepEqual(idcPaths.slice(0, 3), ['/generateAssistantResponse', '/generateAssistantResponse', '/q/generateAssistantResponse']);
      assert.ok(idcPaths.slice(3).length >= 2 && idcPaths.slice(3).every((p) => p === '/q/generateAssistantResponse'), idcPaths.join(','));
      const socialPaths = pathsOf(social.account.id);
      assert.ok(socialPaths.length >= 2 && socialPaths.every((p) => p === '/generateAssistantResponse'), socialPaths.join(','));
      const health = await healthOf(stack);
      const idcHealth = health.find((a) => a.fingerprint === idcFile.id)!;
      assert.deepEqual([idcHealth.login_kind, idcHealth.state, idcHealth.endpoint], ['idc', 'healthy', new URL(stack.sim.url).host]);
      assert.ok(stack.sim.requests.filter((r) => r.path.startsWith('/q/')).every((r) => (r.body as { profileArn?: string }).profileArn === undefined), 'no ARN to the legacy host for IdC');
    } finally {
      await stack.close();
    }
  });

  it('models per account: /v1/models is their union, a model goes only to accounts that have it, one nobody has is a 404 listing what there is', async () => {
    const accounts = tempDir('ki2api-models-');
    const stack = await gatewayFor(accounts);
    try {
      const everything = stack.sim.accounts.add({ kind: 'social', models: ['claude-sonnet-4.5', 'claude-opus-4.6', 'claude-opus-4.8'] });
      const basic = stack.sim.accounts.add({ kind: 'social', models: ['claude-sonnet-4.5', 'claude-haiku-4.5'] });
      saveSim(accounts, everything);
      saveSim(accounts, basic);
      // The gateway lists each account's models when it finds the account.
      const deadline = Date.now() + 10_000;
      let ids: string[] = [];
      while (Date.now() < deadline) {
        ids = ((await (await fetch(`${stack.url}/v1/models`, { headers: authHeaders })).json()) as { data: { id: string }[] }).data.map((m) => m.id);
        if (!ids.includes('claude-sonnet-4-6') && ids.includes('claude-opus-4-8')) break;
        await sleep(200);
      }
      for (const id of ['claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001', 'claude-opus-4-6', 'claude-opus-4-8']) assert.ok(ids.includes(id), `${id} in ${ids.join(',')}`);
      for (const id of ['claude-sonnet-4-6', 'claude-opus-4-7', 'claude-sonnet-5']) assert.ok(!ids.includes(id), `${id} not listed`);
      const calls = stack.sim.managementCalls.filter((c) => c.path === '/ListAvailableModels');
      assert.ok(calls.every((c) => new URLSearchParams(c.query).get('profileArn') === SIMULATOR_PROFILE_ARN && new URLSearchParams(c.query).get('origin') === 'AI_EDITOR'));
      // Strict Kiro refuses a model the account does not have: routing never sends it there.
      for (let i = 0; i < 4; i++) {
        assert.equal((await postChat(stack.url, { ...userMessage('x'), model: 'claude-opus-4-6' })).status, 200);
        assert.equal((await postChat(stack.url, { ...userMessage('x'), model: 'claude-haiku-4-5' })).status, 200);
      }
      assert.deepEqual(stack.sim.requests.map((r) => r.violation).filter(Boolean), []);
      const missing = await postChat(stack.url, { ...userMessage('x'), model: 'claude-sonnet-4-6' });
      assert.equal(missing.status, 404);
      const error = (JSON.parse(missing.text) as { error: { code: string; message: string } }).error;
      assert.equal(error.code, 'model_not_found');
      assert.match(error.message, /no Kiro account of this gateway may use it\. Available: claude-sonnet-4-5-20250929, .*claude-opus-4-6/);
      const health = await healthOf(stack);
      assert.deepEqual(health.map((a) => a.models?.length).sort(), [2, 3]);
    } finally {
      await stack.close();
    }
  });

  it('credits in /health and /metrics; the account with more left is preferred; a spent one rests until its reset; a 402 rereads the figures', async () => {
    const accounts = tempDir('ki2api-credits-');
    const stack = await gatewayFor(accounts);
    try {
      const resetsAt = Math.floor(Date.now() / 1000) + 5 * 86_400;
      const rich = stack.sim.accounts.add({ kind: 'social', usage: { used: 100, limit: 1000, resetsAt, plan: 'KIRO PRO+' } });
      const poor = stack.sim.accounts.add({ kind: 'social', usage: { used: 990.5, limit: 1000, resetsAt, plan: 'KIRO PRO' } });
      const spent = stack.sim.accounts.add({ kind: 'social', usage: { used: 50, limit: 50, resetsAt, plan: 'KIRO FREE' } });
      const [richFile, poorFile, spentFile] = [saveSim(accounts, rich), saveSim(accounts, poor), saveSim(accounts, spent)];
      const deadline = Date.now() + 10_000;
      let health = await healthOf(stack);
      while (Date.now() < deadline && !(health.length === 3 && health.every((a) => a.usage))) {
        await sleep(200);
        health = await healthOf(stack);
      }
      const of = (id: string) => health.find((a) => a.fingerprint === id)!;
      assert.deepEqual(of(richFile.id).usage, { used: 100, limit: 1000, plan: 'KIRO PRO+', resets_at: new Date((resetsAt + 0.5) * 1000).toISOString(), overage: false });
      assert.equal(of(spentFile.id).state, 'cooling_down');
      assert.equal(of(spentFile.id).cooldown_until, new Date((resetsAt + 0.5) * 1000).toISOString());
      assert.match(of(spentFile.id).problem!, /out of quota: used 50 of 50 credits; resets/);
      const metrics = await (await fetch(`${stack.url}/metrics`, { headers: authHeaders })).text();
      assert.match(metrics, new RegExp(`ki2api_account_credits_used\\{account="${poorFile.id}"\\} 990\\.5`));
      assert.match(metrics, new RegExp(`ki2api_account_credits_limit\\{account="${richFile.id}"\\} 1000`));
      // Every request goes to the account with the most credits left; none to the spent one.
      const before = stack.sim.requests.length;
      for (let i = 0; i < 4; i++) assert.equal((await postChat(stack.url, userMessage('x'))).status, 200);
      const used = new Set(stack.sim.requests.slice(before).map((r) => (r.headers.authorization as string).match(/-(acct-\d+)-/)?.[1]));
      assert.deepEqual([...used], [rich.account.id]);
      // Kiro says 402 for the rich one (its credits went elsewhere): the gateway rereads them, and rests it until the reset.
      rich.account.usage.used = 1000;
      const after402 = await postChat(stack.url, userMessage('x'));
      assert.equal(after402.status, 200, 'served by the next account');
      const deadline2 = Date.now() + 5000;
      while (Date.now() < deadline2 && of(richFile.id).cooldown_until !== new Date((resetsAt + 0.5) * 1000).toISOString()) {
        await sleep(100);
        health = await healthOf(stack);
      }
      assert.equal(of(richFile.id).cooldown_until, new Date((resetsAt + 0.5) * 1000).toISOString());
      assert.equal(of(richFile.id).usage!.used, 1000);
    } finally {
      await stack.close();
    }
  });

  it('`ki2api accounts` lists kind, state, expiry, plan and credits, and removes a saved account; the gateway lets it go', async () => {
    const accounts = tempDir('ki2api-list-');
    const stack = await gatewayFor(accounts);
    try {
      const one = stack.sim.accounts.add({ kind: 'social', usage: { used: 12.5, limit: 1000, plan: 'KIRO PRO' } });
      const saved = saveSim(accounts, one);
      const listed = await cli(['accounts'], stack.sim, accounts).done;
      assert.equal(listed.code, 0, listed.stderr);
      const [header, row] = listed.stdout.trim().split('\n');
      assert.match(header!, /^ID\s+KIND\s+STATE\s+TOKEN EXPIRES\s+PLAN\s+CREDITS\s+HOST\s+SOURCE$/);
      assert.match(row!, new RegExp(`^${saved.id}\\s+social\\s+healthy\\s+\\S+Z\\s+KIRO PRO\\s+12\\.5 / 1000\\s+`));
      const json = JSON.parse((await cli(['accounts', '--json'], stack.sim, accounts).done).stdout) as { fingerprint: string; usage: { used: number } }[];
      assert.equal(json[0]!.usage.used, 12.5);
      await answersWithin(stack, 5000);
      const removed = await cli(['accounts', 'remove', saved.id], stack.sim, accounts).done;
      assert.equal(removed.code, 0, removed.stderr);
      assert.match(removed.stdout, /Removed .*social-/);
      assert.ok(!existsSync(saved.path));
      await sleep(2200);
      assert.equal((await postChat(stack.url, userMessage('x'))).status, 503, 'the gateway let the account go');
      const unknown = await cli(['accounts', 'remove', 'ffffffff'], stack.sim, accounts).done;
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /No saved account ffffffff in .*`ki2api accounts` lists them/);
    } finally {
      await stack.close();
    }
  });

  it('an unreachable management host: the built-in models, no credits shown, chat still served', async () => {
    const accounts = tempDir('ki2api-nomgmt-');
    const stack = await gatewayFor(accounts, { KIRO_MANAGEMENT_URL: 'http://127.0.0.1:9' });
    try {
      const one = stack.sim.accounts.add({ kind: 'social', models: ['claude-sonnet-4.5'] });
      saveSim(accounts, one);
      assert.equal((await answersWithin(stack, 5000)).status, 200);
      const ids = ((await (await fetch(`${stack.url}/v1/models`, { headers: authHeaders })).json()) as { data: { id: string }[] }).data.map((m) => m.id);
      assert.ok(ids.includes('claude-opus-4-6'), 'the built-in table stands in');
      const [account] = await healthOf(stack);
      assert.deepEqual([account!.state, account!.usage, account!.models], ['healthy', null, null]);
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline && !/could not list the account's models/.test(stack.logs())) await sleep(100);
      assert.match(stack.logs(), /could not list the account's models \(could not reach 127\.0\.0\.1:9 .*\); using the built-in table/);
    } finally {
      await stack.close();
    }
  });
});

describe('secrets', () => {
  it('no command printed, and no gateway logged, a token, a refresh token, a login code or a client secret', () => {
    const all = printed.join('\n');
    assert.ok(all.length > 1000, 'the commands above printed their output');
    const logs = gateways.map((stack) => stack.logs()).join('\n');
    assert.ok(logs.length > 1000, 'the gateways above logged');
    for (const text of [all, logs]) {
      for (const pattern of [/aoa-sim-/, /ida-sim-/, /aorAAAAAG-sim/, /idr-sim-/, /sim-secret-/, /code_verifier/, /code=[0-9a-f]{32}/, /"accessToken"/, /"refreshToken"/]) assert.doesNotMatch(text, pattern);
    }
  });
});
