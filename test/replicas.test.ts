import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { KiroSimulator } from '../src/simulator/server.js';
import { API_KEY, simulatorEnv, userMessage } from './helpers.js';

// Several replicas sharing their state through a real Redis (Debian's redis-server, started here
// on a free port), each a real gateway process, all in front of one simulator: one refresh for
// all of them, a dead lock holder that blocks nobody for long, limits that hold across them, an
// account one of them rested that none uses, a conversation that moves between them, and a Redis
// that goes away and comes back.

const REDIS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path));
const SKIP = REDIS ? false : 'No redis-server (apt-get install -y redis-server; .ci/run installs it): the replica tests are skipped';
if (SKIP) console.log(`# ${SKIP}`);

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

async function until(what: string, probe: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

interface RedisServer {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

async function redisServer(): Promise<RedisServer> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  // A PING by hand: the server is up when it answers.
  const pong = () =>
    new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once('error', () => resolve(false));
      socket.once('data', (data) => {
        socket.destroy();
        resolve(data.toString().startsWith('+PONG'));
      });
      socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    });
  const server = {
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(REDIS!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await until('redis-server', pong);
    },
    async stop() {
      if (!child) return;
      const gone = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
      child = undefined;
    },
  };
  await server.start();
  return server;
}


interface Replica {
  id: string;
  url: string;
  child: ChildProcess;
  output: () => string;
  kill(): Promise<void>;
}

/** One gateway process, as `npm start` runs it (through tsx here), with the simulator as Kiro. */
async function replica(id: string, sim: KiroSimulator, env: Record<string, string>): Promise<Replica> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: '127.0.0.1',
      API_KEY,
      REPLICA_ID: id,
      ...simulatorEnv(sim),
      UPSTREAM_RETRIES: '0',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  await until(`replica ${id}`, async () => {
    if (child.exitCode !== null) throw new Error(`replica ${id} exited: ${output}`);
    return fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
  }, 30_000);
  return {
    id,
    url,
    child,
    output: () => output,
    kill: async () => {
      // A process killed by a signal has a signalCode and no exitCode.
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await gone;
    },
  };
}

const chat = (replica: Replica, body: unknown = userMessage('hello'), key = API_KEY) =>
  fetch(`${replica.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const health = async (replica: Replica) =>
  (await (await fetch(`${replica.url}/health`, { headers: { authorization: `Bearer ${API_KEY}` } })).json()) as { status: string; cluster: { redis: string; replica: string }; accounts: { fingerprint: string; state: string }[] };

const tokenFile = (dir: string, name: string, fields: Record<string, unknown>) => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ authMethod: 'social', provider: 'Google', profileArn: 'arn:aws:codewhisperer:us-east-1:000000000000:profile/SIMULATOR', ...fields }));
  return path;
};

describe('several replicas sharing state in Redis', { skip: SKIP }, () => {
  let redis: RedisServer;
  let sim: KiroSimulator;
  const dirs: string[] = [];
  const replicas: Replica[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'ki2api-replicas-'));
    dirs.push(dir);
    return dir;
  };
  const three = async (prefix: string, env: Record<string, string>) => {
    const set = await Promise.all(['r1', 'r2', 'r3'].map((id) => replica(`${prefix}-${id}`, sim, { REDIS_URL: redis.url, REDIS_PREFIX: `${prefix}:`, ...env })));
    replicas.push(...set);
    return set;
  };
  const stopAll = async (set: Replica[]) => Promise.all(set.map((r) => r.kill()));

  before(async () => {
    redis = await redisServer();
    sim = await new KiroSimulator({ strict: true }).start();
  });
  after(async () => {
    await Promise.all(replicas.map((r) => r.kill()));
    await sim?.close();
    await redis?.stop();

    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('60 concurrent requests over three replicas on an expired, rotating token: one refresh, 60 answers, the file written once', async () => {
    const dir = tempDir();
    const account = sim.accounts.add({ kind: 'social' });
    const file = tokenFile(dir, 'kiro-auth-token.json', { accessToken: 'aoa-expired', refreshToken: account.refreshToken, expiresAt: new Date(Date.now() - 60_000).toISOString() });
    sim.refresh = { rotate: true };
    const refreshesBefore = sim.refreshCalls.length;
    const set = await three('refresh', { KIRO_TOKEN_FILE: file, REDIS_LOCK_MS: '5000' });
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => chat(set[i % 3]!)));
    assert.deepEqual(
      answers.map((a) => a.status),
      answers.map(() => 200),
    );
    assert.equal(sim.refreshCalls.length - refreshesBefore, 1, 'exactly one refresh for all three replicas');
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { refreshToken: string; accessToken: string };
    assert.equal(saved.refreshToken, [...account.account.refreshTokens][0], 'the rotated refresh token is in the file');
    const tokens = new Set(sim.requests.slice(-60).map((r) => r.headers.authorization));
    assert.equal(tokens.size, 1, 'every replica used the one new token');
    await stopAll(set);
    sim.refresh = {};
  });

  it('a replica killed while it holds the refresh lock: another refreshes after the lock expires, nothing hangs', async () => {
    const dir = tempDir();
    const account = sim.accounts.add({ kind: 'social' });
    const file = tokenFile(dir, 'kiro-auth-token.json', { accessToken: 'aoa-expired', refreshToken: account.refreshToken, expiresAt: new Date(Date.now() - 60_000).toISOString() });
    const env = { REDIS_URL: redis.url, REDIS_PREFIX: 'lock:', KIRO_TOKEN_FILE: file, REDIS_LOCK_MS: '2000' };
    // The first replica refreshes the expired token as it starts; Kiro hangs; it dies holding the lock.
    sim.refresh = { delayMs: 60_000 };
    const calls = sim.refreshCalls.length;
    const first = await replica('lock-r1', sim, env);
    replicas.push(first);
    await until('the first refresh to start', () => sim.refreshCalls.length > calls);
    await first.kill();
    sim.refresh = {};
    const started = Date.now();
    const [second, third] = await Promise.all([replica('lock-r2', sim, env), replica('lock-r3', sim, env)]);
    replicas.push(second, third);
    const answers = await Promise.all([chat(second), chat(third), chat(second)]);
    const took = Date.now() - started;
    assert.deepEqual(answers.map((a) => a.status), [200, 200, 200]);
    assert.ok(took < 15_000, `answered in ${took} ms`);
    assert.equal(sim.refreshCalls.length - calls, 2, 'the dead replica\'s refresh (never answered), then exactly one more');
    await stopAll([second, third]);
  });

  it('RATE_LIMIT_RPM=10 across three replicas: exactly 10 of 30 succeed', async () => {
    const dir = tempDir();
    const account = sim.accounts.add({ kind: 'social' });
    const file = tokenFile(dir, 'kiro-auth-token.json', { accessToken: account.accessToken, refreshToken: account.refreshToken, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
    const set = await three('rate', { KIRO_TOKEN_FILE: file, RATE_LIMIT_RPM: '10' });
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => chat(set[i % 3]!)));
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 200).length, 10, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 429).length, 20);
    await stopAll(set);
  });

  describe('with two accounts', () => {
    let set: Replica[];
    let dir: string;
    let accounts: ReturnType<KiroSimulator['accounts']['add']>[];
    before(async () => {
      dir = tempDir();
      const folder = join(dir, 'logins');
      mkdirSync(folder);
      accounts = [sim.accounts.add({ kind: 'social' }), sim.accounts.add({ kind: 'social' })];
      accounts.forEach((a, i) => tokenFile(folder, `account-${i}.json`, { accessToken: a.accessToken, refreshToken: a.refreshToken, expiresAt: new Date(Date.now() + 3_600_000).toISOString() }));
      set = await three('pool', { KIRO_TOKEN_FILE: folder });
    });
    after(() => stopAll(set));

    const usedBy = (index: number) => (r: { headers: Record<string, unknown> }) => r.headers.authorization === `Bearer ${accounts[index]!.accessToken}`;

    it('a 402 seen by one replica: no other replica sends to that account', async () => {
      for (const r of set) assert.equal((await chat(r)).status, 200);
      sim.enqueue({ status: 402, errorBody: { message: 'limit', reason: 'MONTHLY_REQUEST_COUNT' } });
      const before = sim.requests.length;
      assert.equal((await chat(set[0]!)).status, 200, 'the first replica moved on to the other account');
      const [refused] = sim.requests.slice(before);
      const spent = usedBy(0)(refused as never) ? 0 : 1;
      await sleep(100);
      const after402 = sim.requests.length;
      for (let i = 0; i < 24; i++) assert.equal((await chat(set[1 + (i % 2)]!)).status, 200);
      assert.equal(sim.requests.slice(after402).filter(usedBy(spent)).length, 0, 'nobody sent to the spent account');
      const states = await Promise.all(set.map(async (r) => (await health(r)).accounts.map((a) => a.state).sort().join(',')));
      assert.deepEqual(states, ['cooling_down,healthy', 'cooling_down,healthy', 'cooling_down,healthy']);
    });

    it('a previous_response_id made on one replica continues on another, and reads back on the third', async () => {
      const clients = set.map((r) => new OpenAI({ apiKey: API_KEY, baseURL: `${r.url}/v1`, maxRetries: 0 }));
      const first = await clients[0]!.responses.create({ model: 'claude-sonnet-4-5-20250929', input: 'Remember the word teapot.' });
      const next = await clients[1]!.responses.create({ model: 'claude-sonnet-4-5-20250929', previous_response_id: first.id, input: 'Which word?' });
      assert.equal(next.status, 'completed');
      assert.match(JSON.stringify(sim.requests.at(-1)!.body), /Remember the word teapot/);
      assert.equal((await clients[2]!.responses.retrieve(next.id)).previous_response_id, first.id);
      const health0 = await health(set[0]!);
      assert.deepEqual([health0.status, health0.cluster.redis, health0.cluster.replica], ['ok', 'connected', 'pool-r1']);
      const metrics = await (await fetch(`${set[1]!.url}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
      assert.match(metrics, /ki2api_requests_total\{[^}]*replica="pool-r2"/);
    });

    it('Redis stopped mid-run: every request still answered, /health degraded, one warning; shared again once it is back', async () => {
      await redis.stop();
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => chat(set[i % 3]!)));
      assert.deepEqual(answers.map((a) => a.status), answers.map(() => 200));
      for (const r of set) {
        await until(`${r.id} to see Redis gone`, async () => (await health(r)).cluster.redis === 'unreachable', 5000);
        assert.equal((await health(r)).status, 'degraded');
      }
      for (let i = 0; i < 6; i++) assert.equal((await chat(set[i % 3]!)).status, 200);
      for (const r of set) assert.equal((r.output().match(/Redis is unreachable/g) ?? []).length, 1, `${r.id} warned once:\n${r.output().slice(-2000)}`);
      await redis.start();
      for (const r of set) await until(`${r.id} to reconnect`, async () => (await health(r)).cluster.redis === 'connected', 15_000);
      assert.equal((await health(set[2]!)).status, 'ok');
      // Shared again: a conversation moves between replicas.
      const clients = set.map((r) => new OpenAI({ apiKey: API_KEY, baseURL: `${r.url}/v1`, maxRetries: 0 }));
      const first = await clients[2]!.responses.create({ model: 'claude-sonnet-4-5-20250929', input: 'After the outage.' });
      const next = await clients[0]!.responses.create({ model: 'claude-sonnet-4-5-20250929', previous_response_id: first.id, input: 'Still there?' });
      assert.equal(next.status, 'completed');
    });
  });
});
